"""Helpers of the daemon tests: a scaffolded devnet consortium, daemon processes, waiting."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
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


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, poll: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


class DaemonProcess:
    """``fedsettle node run`` as a child process with its output in a file."""

    def __init__(self, config: Path, log_dir: Path, *extra: str) -> None:
        self.config = config
        log_dir.mkdir(parents=True, exist_ok=True)
        n = len(list(log_dir.glob(f"{config.stem}-*.out")))
        self.out = log_dir / f"{config.stem}-{n}.out"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.out.open("wb") as fh:
            self.proc = subprocess.Popen(
                [FEDSETTLE, "node", "run", "--config", str(config), *extra],
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a crashed machine."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def output(self) -> str:
        return self.out.read_text(errors="replace")


def actions(state_dir: Path) -> list[dict[str, Any]]:
    path = state_dir / "actions.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
