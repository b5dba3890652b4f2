"""Process helpers shared by the tests that start real processes (daemons, e2e, deployment)."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FEDSETTLE = str(Path(sys.executable).parent / "fedsettle")


def free_port_block(count: int) -> int:
    """A port p such that p .. p+count-1 are free on 127.0.0.1 right now."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + count >= 65535:
            continue
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no block of free ports found")


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    poll: float = 0.1,
    alive: Callable[[], str | None] | None = None,
) -> Any:
    """Poll ``predicate`` until truthy (returned); fail on timeout, or as soon as ``alive``
    names a process that died."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        died = alive() if alive is not None else None
        if died is not None:
            raise AssertionError(f"while waiting for {what}: {died}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)
