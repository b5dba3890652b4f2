"""Connect to an existing EVM JSON-RPC node."""

from __future__ import annotations

from settlement._backends.base import DEFAULT_RPC_RETRY_S, DEFAULT_RPC_TIMEOUT, ChainBackend
from settlement._errors import ChainUnavailable


class RpcBackend(ChainBackend):
    """Any EVM node reachable over HTTP JSON-RPC; nothing is spawned or stopped.

    Parameters
    ----------
    url : str
        The node's HTTP JSON-RPC URL, e.g. ``http://127.0.0.1:8545``.
    timeout : float
        Seconds per request.
    retry_s : float
        Seconds transient failures are retried (with backoff) before
        :class:`ChainUnavailable`; 0 fails at the first error.
    check : bool
        Probe ``eth_chainId`` now and raise :class:`ChainUnavailable` if the node does not answer.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_RPC_TIMEOUT,
        retry_s: float = DEFAULT_RPC_RETRY_S,
        check: bool = True,
    ):
        if not url.startswith(("http://", "https://")):
            raise ChainUnavailable(
                f"rpc url {url!r} must start with http:// or https:// (e.g. http://127.0.0.1:8545)"
            )
        self._url = url
        self.rpc_timeout = timeout
        self.rpc_retry_s = retry_s
        if check:
            self.check()

    @property
    def rpc_url(self) -> str:
        return self._url

    def check(self) -> int:
        """Return the chain id, or raise :class:`ChainUnavailable` naming the URL and the fix."""
        try:
            return int(self.web3().eth.chain_id)
        except Exception as exc:
            raise ChainUnavailable(
                f"no EVM JSON-RPC node answers at {self._url} ({type(exc).__name__}: {exc}); "
                "start one (e.g. node_modules/.bin/anvil) or fix the URL"
            ) from exc

    def close(self) -> None:
        """Nothing to stop; drops the cached connection."""
        self._w3 = None
