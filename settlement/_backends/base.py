"""The abstract chain backend: something that serves an EVM JSON-RPC endpoint."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self
from urllib.parse import urlparse

import requests
from web3 import HTTPProvider, Web3

#: seconds an HTTP JSON-RPC request may take before it fails
DEFAULT_RPC_TIMEOUT = 60.0

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ChainBackend(abc.ABC):
    """A JSON-RPC endpoint of an EVM chain, usable as a context manager.

    Subclasses provide :attr:`rpc_url` and may own a process (``AnvilBackend``) or just point at
    an existing node (``RpcBackend``). :meth:`close` releases whatever the backend owns and is safe
    to call twice.
    """

    _w3: Web3 | None = None
    rpc_timeout: float = DEFAULT_RPC_TIMEOUT

    @property
    @abc.abstractmethod
    def rpc_url(self) -> str:
        """The HTTP JSON-RPC URL."""

    @property
    def chain_id(self) -> int:
        """The chain id reported by the node (``eth_chainId``)."""
        return int(self.web3().eth.chain_id)

    def web3(self) -> Web3:
        """A :class:`web3.Web3` connected to :attr:`rpc_url` (one per backend, reused)."""
        if self._w3 is None:
            session = requests.Session()
            if urlparse(self.rpc_url).hostname in _LOOPBACK:
                # proxies from the environment never apply to loopback, and looking them up
                # costs more than the request itself
                session.trust_env = False
            provider = HTTPProvider(
                self.rpc_url, request_kwargs={"timeout": self.rpc_timeout}, session=session
            )
            self._w3 = Web3(provider)
        return self._w3

    @abc.abstractmethod
    def close(self) -> None:
        """Release the backend (stop a spawned node). Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.rpc_url!r})"
