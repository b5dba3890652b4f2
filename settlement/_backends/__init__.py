"""Chain backends: an abstract interface, a spawned anvil devnet, and any JSON-RPC URL."""

from settlement._backends.anvil import MAINNET_TX_GAS_CAP, AnvilBackend, find_anvil
from settlement._backends.base import ChainBackend
from settlement._backends.rpc import RpcBackend

__all__ = ["MAINNET_TX_GAS_CAP", "AnvilBackend", "ChainBackend", "RpcBackend", "find_anvil"]
