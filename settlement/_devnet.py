"""Devnet-only controls (anvil / hardhat RPC extensions): chain time, snapshots, balances.

These call non-standard JSON-RPC methods (``evm_*``, ``anvil_*``); a production node rejects them
with :class:`ChainUnavailable`.
"""

from __future__ import annotations

from typing import Any, cast

from web3 import Web3
from web3.types import RPCEndpoint

from settlement._errors import ChainUnavailable
from settlement._types import Wei


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    response = cast(dict[str, Any], w3.provider.make_request(RPCEndpoint(method), params))
    if "error" in response:
        raise ChainUnavailable(
            f"{method} failed ({response['error']}); devnet controls need an anvil node"
        )
    return response.get("result")


def chain_time(w3: Web3) -> int:
    """Timestamp of the latest block (the chain's "now"; the next block is at least this)."""
    return int(w3.eth.get_block("latest")["timestamp"])


def mine(w3: Web3, blocks: int = 1) -> None:
    """Mine ``blocks`` empty blocks."""
    for _ in range(blocks):
        _rpc(w3, "evm_mine", [])


def increase_time(w3: Web3, seconds: int) -> int:
    """Move chain time forward by ``seconds`` and mine a block; return the new block timestamp."""
    if seconds < 0:
        raise ValueError(f"seconds: {seconds} must be >= 0 (chain time never goes back)")
    _rpc(w3, "evm_increaseTime", [int(seconds)])
    mine(w3)
    return chain_time(w3)


def warp_to(w3: Web3, timestamp: int) -> int:
    """Mine the next block at exactly ``timestamp`` (must be after the latest block)."""
    _rpc(w3, "evm_setNextBlockTimestamp", [int(timestamp)])
    mine(w3)
    return chain_time(w3)


def snapshot(w3: Web3) -> str:
    """Save the chain state; :func:`revert` with the returned id restores it (once)."""
    return str(_rpc(w3, "evm_snapshot", []))


def revert(w3: Web3, snapshot_id: str) -> None:
    """Restore a :func:`snapshot` (the id is consumed)."""
    if not _rpc(w3, "evm_revert", [snapshot_id]):
        raise ChainUnavailable(f"evm_revert: unknown snapshot id {snapshot_id}")


def set_balance(w3: Web3, address: str, amount: Wei | int) -> None:
    """Set an account's balance (devnet faucet)."""
    _rpc(w3, "anvil_setBalance", [address, hex(int(amount))])
