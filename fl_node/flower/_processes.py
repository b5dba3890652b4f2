"""Child processes of a loopback deployment: start in their own group, stop the whole group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ManagedProcess", "flower_env", "free_port", "start_process", "wait_for_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, *, timeout: float, proc: ManagedProcess | None = None) -> None:
    """Block until something accepts TCP connections on ``127.0.0.1:port``.

    Raises
    ------
    RuntimeError
        If ``proc`` exits first or ``timeout`` seconds pass; the message points at its log.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(
                f"{proc.name} exited with code {proc.popen.returncode} before listening on "
                f"port {port}; see {proc.log_path}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    where = f"; see {proc.log_path}" if proc is not None else ""
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s{where}")


def flower_env(flwr_home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for Flower processes: private FLWR_HOME, no telemetry, no installs.

    The venv's ``bin`` goes first on PATH because the SuperLink and SuperNodes start
    ``flower-superexec``/``flwr-serverapp``/``flwr-clientapp`` by name.
    """
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        {
            "FLWR_HOME": str(flwr_home),
            "FLWR_TELEMETRY_ENABLED": "0",
            "FLWR_DISABLE_UPDATE_CHECK": "1",
            "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
            # SuperExecs poll for app runs to start every 1 s by default.
            "FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.2",
            "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class ManagedProcess:
    """A started process (leader of its own process group) and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """Process id (also the id of its process group)."""
        return self.popen.pid

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.popen.poll() is None

    def _signal_group(self, sig: signal.Signals) -> None:
        try:
            # The group holds this process and what it spawned (SuperExec, app processes).
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """SIGKILL the process group at once (a crashed machine), and reap the process."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait()

    def stop(self, *, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after ``grace`` seconds."""
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # Children may outlive a leader that exited on SIGTERM: sweep the group either way.
        self._signal_group(signal.SIGKILL)
        self.popen.wait()


def start_process(
    name: str, argv: Sequence[str], *, env: Mapping[str, str], log_path: Path, cwd: Path
) -> ManagedProcess:
    """Start ``argv`` in a new session, stdout and stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    return ManagedProcess(name=name, popen=popen, log_path=log_path)
