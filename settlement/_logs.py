"""Log queries that real providers accept: from the deployment block, in bounded pages, retried."""

from __future__ import annotations

import time
from typing import Any, cast

from web3 import Web3

from settlement._errors import ChainUnavailable

#: blocks per eth_getLogs call (providers commonly cap ranges at 10,000 blocks or fewer)
LOG_PAGE = 5_000

#: attempts per page before giving up
LOG_RETRIES = 4

_RANGE_HINTS = ("range", "limit", "too many", "exceed", "10000 results")


class LogPager:
    """Fetches a contract's logs page by page, starting at its deployment block.

    Parameters
    ----------
    w3 : Web3
    address : str
        The contract.
    deploy_block : int, optional
        Its deployment block; found by bisection over ``eth_getCode`` on first use if not given
        (0 when the node cannot serve historical code).
    page : int
        Blocks per request; halved (down to 1) when the node answers that a range is too large.
    """

    def __init__(
        self, w3: Web3, address: str, deploy_block: int | None = None, page: int = LOG_PAGE
    ):
        self._w3 = w3
        self._address = address
        self._deploy_block = deploy_block
        self.page = page
        self.requests = 0  # eth_getLogs calls made (tests and benchmarks read it)

    @property
    def known_deploy_block(self) -> int | None:
        """The deployment block if already known (no RPC)."""
        return self._deploy_block

    def deploy_block(self) -> int:
        """The first block at which the contract has code."""
        if self._deploy_block is None:
            self._deploy_block = self._find_deploy_block()
        return self._deploy_block

    def _has_code(self, block: int) -> bool:
        return bool(self._w3.eth.get_code(cast(Any, self._address), block_identifier=block))

    def _find_deploy_block(self) -> int:
        lo, hi = 0, int(self._w3.eth.block_number)
        try:
            if not self._has_code(hi):
                return hi
            while lo < hi:  # invariant: code at hi
                mid = (lo + hi) // 2
                if self._has_code(mid):
                    hi = mid
                else:
                    lo = mid + 1
        except Exception:  # a pruned node cannot answer for old blocks: scan everything
            return 0
        return hi

    def fetch(
        self, topics: list[Any], from_block: int | None = None, to_block: int | str = "latest"
    ) -> list[Any]:
        """Every log of the contract matching ``topics`` in ``[from_block, to_block]``."""
        start = self.deploy_block() if from_block is None else from_block
        end = int(self._w3.eth.block_number) if to_block == "latest" else int(to_block)
        logs: list[Any] = []
        while start <= end:
            stop = min(end, start + self.page - 1)
            logs.extend(self._page(topics, start, stop))
            start = stop + 1
        return logs

    def _page(self, topics: list[Any], start: int, stop: int) -> list[Any]:
        delay = 0.2
        for attempt in range(LOG_RETRIES):
            self.requests += 1
            try:
                return list(
                    self._w3.eth.get_logs(
                        cast(
                            Any,
                            {
                                "address": self._address,
                                "fromBlock": start,
                                "toBlock": stop,
                                "topics": topics,
                            },
                        )
                    )
                )
            except Exception as exc:
                text = str(exc).lower()
                if stop > start and any(h in text for h in _RANGE_HINTS):
                    # the node refuses the range: split it and shrink later pages too
                    self.page = max(1, (stop - start + 1) // 2)
                    mid = start + self.page - 1
                    return self._page(topics, start, mid) + self._page(topics, mid + 1, stop)
                if attempt == LOG_RETRIES - 1:
                    raise ChainUnavailable(
                        f"eth_getLogs for blocks {start}..{stop} failed {LOG_RETRIES} times: {exc}"
                    ) from exc
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
