"""Helpers of the daemon tests: a scaffolded devnet consortium, daemon processes, waiting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from proc_helpers import FEDSETTLE, free_port_block, wait_for

__all__ = ["FEDSETTLE", "DaemonProcess", "actions", "free_port_block", "wait_for"]


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
