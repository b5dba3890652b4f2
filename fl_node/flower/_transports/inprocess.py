"""A transport that calls the silo handlers in this process (embedded runtime and tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait

from fl_node.flower._protocol import (
    EVALUATE,
    QUERY_AGENT,
    QUERY_IDENTITY,
    TRAIN,
    Reply,
    Request,
)
from fl_node.flower._silo import (
    LocalSilo,
    handle_agent,
    handle_evaluate,
    handle_identity,
    handle_train,
)
from fl_node.flower._transports.base import Delivery, Transport

__all__ = ["HANDLERS", "InProcessTransport"]

Handler = Callable[[LocalSilo, Request], Reply]

# The same routing the ClientApp's decorators declare.
HANDLERS: dict[str, Handler] = {
    TRAIN: handle_train,
    EVALUATE: handle_evaluate,
    QUERY_IDENTITY: handle_identity,
    QUERY_AGENT: handle_agent,
}

UNAVAILABLE = "node unavailable (dropped)"


class InProcessTransport(Transport):
    """Runs each silo's handler on a thread of this process; the deadline applies as on Flower.

    Parameters
    ----------
    silos : mapping of int to LocalSilo
        Silo by node id.
    parallel : bool
        Run the silos of a phase concurrently (threads; torch releases the GIL), as separate
        SuperNodes would. ``False`` runs them one after another in node order.

    Notes
    -----
    :meth:`drop` and :meth:`delay` inject faults: a dropped node answers nothing (reported like
    Flower's "node unavailable" error reply), a delayed node answers late. In parallel mode
    leave the silos' ``num-threads`` unset: torch's thread count is process-wide.
    """

    def __init__(self, silos: Mapping[int, LocalSilo], *, parallel: bool = True) -> None:
        if not silos:
            raise ValueError("silos is empty; give at least one LocalSilo by node id")
        self._silos = dict(silos)
        self._parallel = parallel
        self._dropped: set[int] = set()
        self._delays: dict[int, float] = {}

    @property
    def silos(self) -> dict[int, LocalSilo]:
        """Silo by node id (including dropped ones)."""
        return dict(self._silos)

    def drop(self, node_id: int) -> None:
        """Make ``node_id`` stop answering, like a SuperNode process that died."""
        self._check_node(node_id)
        self._dropped.add(node_id)

    def delay(self, node_id: int, seconds: float) -> None:
        """Make ``node_id`` wait ``seconds`` before handling each message (a slow silo)."""
        self._check_node(node_id)
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0; got {seconds}")
        self._delays[node_id] = seconds

    def _check_node(self, node_id: int) -> None:
        if node_id not in self._silos:
            raise KeyError(f"unknown node id {node_id}; known: {sorted(self._silos)}")

    def node_ids(self) -> list[int]:
        return sorted(n for n in self._silos if n not in self._dropped)

    def _call(self, handler: Handler, node_id: int, request: Request) -> Reply:
        pause = self._delays.get(node_id, 0.0)
        if pause:
            time.sleep(pause)
        return handler(self._silos[node_id], request)

    def send(
        self,
        message_type: str,
        requests: Mapping[int, Request],
        *,
        timeout: float | None,
        group: str = "",
    ) -> Delivery:
        handler = HANDLERS.get(message_type)
        if handler is None:
            raise ValueError(f"unknown message type {message_type!r}; use one of {list(HANDLERS)}")
        start = time.perf_counter()
        replies: dict[int, Reply] = {}
        failed: dict[int, str] = {}
        live = []
        for node in sorted(requests):
            if node not in self._silos:
                failed[node] = "unknown node"
            elif node in self._dropped:
                failed[node] = UNAVAILABLE
            else:
                live.append(node)
        if self._parallel and len(live) > 1:
            pool = ThreadPoolExecutor(max_workers=len(live), thread_name_prefix="silo")
            futures: dict[int, Future[Reply]] = {
                n: pool.submit(self._call, handler, n, requests[n]) for n in live
            }
            wait(futures.values(), timeout=timeout)
            # A late silo keeps running on its thread; its answer is ignored like a late reply.
            pool.shutdown(wait=False, cancel_futures=True)
            for n, fut in futures.items():
                if not fut.done():
                    failed[n] = f"no reply within the {timeout} s deadline"
                elif fut.exception() is not None:
                    failed[n] = f"error: {fut.exception()!r}"
                else:
                    replies[n] = fut.result()
        else:
            for n in live:
                elapsed = time.perf_counter() - start
                if timeout is not None and elapsed >= timeout:
                    failed[n] = f"no reply within the {timeout} s deadline"
                    continue
                try:
                    replies[n] = self._call(handler, n, requests[n])
                except Exception as exc:  # a silo error is that silo's failure, not the round's
                    failed[n] = f"error: {exc!r}"
                    continue
                if timeout is not None and time.perf_counter() - start > timeout:
                    del replies[n]
                    failed[n] = f"no reply within the {timeout} s deadline"
        return Delivery(replies=replies, failed=failed, seconds=time.perf_counter() - start)
