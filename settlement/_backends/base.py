"""The abstract chain backend: something that serves an EVM JSON-RPC endpoint.

Transient RPC failures (connection refused or reset, timeouts, HTTP 429 and 5xx) are retried with
exponential backoff for up to ``rpc_retry_s`` seconds, logging what it waits for (logger
``settlement.rpc``, a line every few seconds); then, or at once for a permanent failure (HTTP 4xx),
:class:`~settlement.ChainUnavailable` names the URL. A signed transaction is re-sent only when
the node never received it (the connection was refused), never after a reset or a timeout.
"""

from __future__ import annotations

import abc
import logging
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlparse

import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from settlement._errors import ChainUnavailable

#: seconds an HTTP JSON-RPC request may take before it fails
DEFAULT_RPC_TIMEOUT = 60.0

#: seconds transient RPC failures are retried before :class:`ChainUnavailable` is raised
DEFAULT_RPC_RETRY_S = 10.0

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

_LOG = logging.getLogger("settlement.rpc")

#: a log line about the wait at most this often (seconds)
_LOG_EVERY_S = 3.0


class RpcTimeout(ChainUnavailable, requests.exceptions.Timeout):
    """The node did not answer in time, after the retries (also a ``requests`` ``Timeout``)."""


def _never_sent(exc: BaseException) -> bool:
    """Whether the request surely did not reach the node (no TCP connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc)
        return "NewConnectionError" in text or "Connection refused" in text
    return False


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return status == 429 or status >= 500
    return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout)


class RetryingHTTPProvider(HTTPProvider):
    """web3's ``HTTPProvider`` with the retry policy of the module docstring."""

    def __init__(self, url: str, *, retry_s: float = DEFAULT_RPC_RETRY_S, **kwargs: Any) -> None:
        super().__init__(url, exception_retry_configuration=None, **kwargs)
        self.retry_s = float(retry_s)

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        start = time.monotonic()
        delay, attempt, logged = 0.25, 0, -_LOG_EVERY_S
        while True:
            try:
                return super()._make_request(method, request_data)
            except requests.exceptions.RequestException as exc:
                attempt += 1
                waited = time.monotonic() - start
                resend = method != "eth_sendRawTransaction" or _never_sent(exc)
                if not _transient(exc) or not resend or waited + delay > self.retry_s:
                    raise self._unavailable(method, exc, attempt, waited) from exc
                if waited - logged >= _LOG_EVERY_S:
                    logged = waited
                    _LOG.warning(
                        "waiting for the chain at %s (%s: %s); retrying for up to %.0f s",
                        self.endpoint_uri, method, _describe(exc), self.retry_s - waited,
                    )  # fmt: skip
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _unavailable(
        self, method: str, exc: BaseException, attempts: int, waited: float
    ) -> ChainUnavailable:
        kind = RpcTimeout if isinstance(exc, requests.exceptions.Timeout) else ChainUnavailable
        return kind(
            f"the chain at {self.endpoint_uri} did not answer {method} ({_describe(exc)}; "
            f"{attempts} attempt(s) over {waited:.1f} s); check that the node runs and that "
            "[chain].rpc_url points at it"
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if _never_sent(exc):
        return "connection refused"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    return "connection lost"


class ChainBackend(abc.ABC):
    """A JSON-RPC endpoint of an EVM chain, usable as a context manager.

    Subclasses provide :attr:`rpc_url` and may own a process (``AnvilBackend``) or just point at
    an existing node (``RpcBackend``). :meth:`close` releases whatever the backend owns and is safe
    to call twice.
    """

    _w3: Web3 | None = None
    rpc_timeout: float = DEFAULT_RPC_TIMEOUT
    rpc_retry_s: float = DEFAULT_RPC_RETRY_S

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
            provider = RetryingHTTPProvider(
                self.rpc_url,
                retry_s=self.rpc_retry_s,
                request_kwargs={"timeout": self.rpc_timeout},
                session=session,
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
