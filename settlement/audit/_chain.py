"""Read-only access to the contract's own views, for cross-checking the index.

Only ``eth_call``, ``eth_getBalance``, ``eth_getCode`` and block headers: the auditor holds no
keys and sends no transactions.
Calls are pinned to a block (the index cursor) so the comparison is like for like even while the
chain moves on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import BlockIdentifier

from settlement._types import ZERO_ADDRESS, Profile, RoundState
from settlement.audit._events import load_abi


def _view(name: str, inputs: list[str], output: str) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "stateMutability": "view",
        "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(inputs)],
        "outputs": [{"name": "", "type": output}],
    }


#: the ERC-20 views the auditor reads (symbol and decimals are optional in ERC-20)
_ERC20_ABI = [
    _view("balanceOf", ["address"], "uint256"),
    _view("symbol", [], "string"),
    _view("decimals", [], "uint8"),
]


class ChainReader:
    """The settlement contract's view functions at a chosen block.

    Parameters
    ----------
    w3 : Web3
        Connection to a node of the chain.
    contract : str
        The contract address.
    abi : list of dict, optional
        Contract ABI; default: the shipped artifact.
    """

    def __init__(self, w3: Web3, contract: str, abi: Sequence[Mapping[str, Any]] | None = None):
        self.w3 = w3
        self.address = to_checksum_address(contract)
        self._c = w3.eth.contract(
            address=self.address, abi=list(abi if abi is not None else load_abi())
        )

    def head(self) -> int:
        """The node's latest block number."""
        return int(self.w3.eth.block_number)

    def round_count(self, block: BlockIdentifier = "latest") -> int:
        return int(self._c.functions.roundCount().call(block_identifier=block))

    def round_state(self, round_id: int, block: BlockIdentifier = "latest") -> RoundState:
        """``roundState(roundId)`` as a value object."""
        raw = self._c.functions.roundState(round_id).call(block_identifier=block)
        return RoundState.from_abi(raw)

    def profile(self, round_id: int, index: int, block: BlockIdentifier = "latest") -> Profile:
        """``profileRecord(roundId, index)`` as a value object."""
        raw = self._c.functions.profileRecord(round_id, index).call(block_identifier=block)
        return Profile.from_abi(raw)

    def liabilities(self, block: BlockIdentifier = "latest", token: str = ZERO_ADDRESS) -> int:
        """``liabilities(token)``: owed to depositors over all rounds, in ETH (default) or a token."""
        fn = self._c.functions.liabilities(to_checksum_address(token))
        return int(fn.call(block_identifier=block))

    def balance(self, block: BlockIdentifier = "latest") -> int:
        """The contract's ether balance in wei."""
        return int(self.w3.eth.get_balance(self.address, block_identifier=block))

    def token_balance(self, token: str, block: BlockIdentifier = "latest") -> int:
        """The contract's balance of an ERC-20 ``token`` (``balanceOf(contract)``)."""
        erc20 = self.w3.eth.contract(address=to_checksum_address(token), abi=_ERC20_ABI)
        return int(erc20.functions.balanceOf(self.address).call(block_identifier=block))

    def token_info(self, token: str) -> tuple[str | None, int | None]:
        """``(symbol, decimals)`` of an ERC-20; None for what the token does not answer."""
        erc20 = self.w3.eth.contract(address=to_checksum_address(token), abi=_ERC20_ABI)
        out: list[Any] = []
        for fn in ("symbol", "decimals"):
            try:
                out.append(getattr(erc20.functions, fn)().call())
            except Exception:  # optional in ERC-20; a node error also leaves it unknown
                out.append(None)
        symbol, decimals = out
        return (None if symbol is None else str(symbol)), (
            None if decimals is None else int(decimals)
        )

    def code(self, block: BlockIdentifier = "latest") -> bytes:
        """The contract's runtime code."""
        return bytes(self.w3.eth.get_code(self.address, block_identifier=block))


def find_deployment_block(w3: Web3, address: str, head: int) -> int | None:
    """The first block at which ``address`` has code (binary search over ``eth_getCode``).

    Returns None when the node cannot answer for old blocks (a pruned, non-archive node) or the
    address has no code at ``head``.
    """
    try:
        if not bytes(w3.eth.get_code(to_checksum_address(address), block_identifier=head)):
            return None
        lo, hi = 0, head
        while lo < hi:
            mid = (lo + hi) // 2
            if bytes(w3.eth.get_code(to_checksum_address(address), block_identifier=mid)):
                hi = mid
            else:
                lo = mid + 1
    except Exception:  # a node without the historical state
        return None
    return lo
