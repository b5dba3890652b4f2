"""A small typed client of an ERC-20 (with EIP-2612 permit): balances, approvals, permits."""

from __future__ import annotations

from typing import Any, cast

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from settlement._artifacts import load_artifact
from settlement._backends.base import ChainBackend
from settlement._errors import ConfigError, ErrorDecoder
from settlement._transact import NonceManager, Receipt, Transactor
from settlement._types import Address, Wei, to_address

#: the ABI source: the test stablecoin has the whole ERC-20 + ERC-2612 + ERC-5267 interface
_ABI_SOURCE = "TestToken"


class TokenClient:
    """Typed access to an ERC-20 token.

    Parameters
    ----------
    chain : ChainBackend or Web3
    address : str
        The token contract.
    nonces : NonceManager, optional
        Share the settlement client's so transactions from one account never collide.
    """

    def __init__(
        self, chain: ChainBackend | Web3, address: str, *, nonces: NonceManager | None = None
    ):
        self.w3: Web3 = chain.web3() if isinstance(chain, ChainBackend) else chain
        self.address: Address = to_address(address, "token")
        self.artifact = load_artifact(_ABI_SOURCE)
        self.contract: Contract = self.w3.eth.contract(
            address=cast(Any, self.address), abi=self.artifact.abi
        )
        self._tx = Transactor(
            self.w3, ErrorDecoder(self.artifact.abi), nonces or NonceManager(self.w3), lambda _: ()
        )

    @classmethod
    def deploy(
        cls,
        chain: ChainBackend | Web3,
        deployer: LocalAccount,
        name: str = "TestToken",
        *,
        nonces: NonceManager | None = None,
    ) -> TokenClient:
        """Deploy a test token from ``contracts/test/`` (``TestToken`` or ``FeeToken``)."""
        w3 = chain.web3() if isinstance(chain, ChainBackend) else chain
        artifact = load_artifact(name)
        data = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor()
        nonces = nonces or NonceManager(w3)
        tx = Transactor(w3, ErrorDecoder(artifact.abi), nonces, lambda _: ())
        receipt = tx.send(deployer, None, data.data_in_transaction)
        if not receipt.contract_address:
            raise ConfigError("token deployment receipt has no contract address")
        return cls(w3, receipt.contract_address, nonces=nonces)

    def _send(self, sender: LocalAccount, fn: str, *args: Any) -> Receipt:
        data = self.contract.encode_abi(fn, args=list(args))
        return self._tx.send(sender, self.address, data)

    def balance_of(self, owner: str) -> Wei:
        """Token units held by ``owner``."""
        return Wei(int(self.contract.functions.balanceOf(to_address(owner)).call()))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self.contract.functions.allowance(to_address(owner), to_address(spender)).call())

    def approve(self, owner: LocalAccount, spender: str, amount: int) -> Receipt:
        """``owner`` lets ``spender`` (the settlement contract) pull ``amount``."""
        return self._send(owner, "approve", to_address(spender), amount)

    def transfer(self, sender: LocalAccount, to: str, amount: int) -> Receipt:
        return self._send(sender, "transfer", to_address(to), amount)

    def mint(self, sender: LocalAccount, to: str, amount: int) -> Receipt:
        """Mint on a test token (``contracts/test/``; real tokens have no public mint)."""
        return self._send(sender, "mint", to_address(to), amount)

    def sign_permit(
        self, owner: LocalAccount, spender: str, value: int, deadline: int
    ) -> tuple[int, bytes, bytes]:
        """An EIP-2612 permit by ``owner``: ``(v, r, s)`` for ``permit(owner, spender, ...)``.

        The EIP-712 domain comes from the token's ERC-5267 ``eip712Domain()``.
        """
        _, name, version, chain_id, verifying, _, _ = self.contract.functions.eip712Domain().call()
        nonce = int(self.contract.functions.nonces(owner.address).call())
        typed = {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Permit": [
                    {"name": "owner", "type": "address"},
                    {"name": "spender", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                ],
            },
            "primaryType": "Permit",
            "domain": {
                "name": name,
                "version": version,
                "chainId": chain_id,
                "verifyingContract": verifying,
            },
            "message": {
                "owner": owner.address,
                "spender": to_address(spender),
                "value": value,
                "nonce": nonce,
                "deadline": deadline,
            },
        }
        signed = Account.sign_message(encode_typed_data(full_message=typed), owner.key)
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
