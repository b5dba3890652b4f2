"""Child processes of a deployment: die with their parent, never leave orphans, never share ports.

Every child runs in its own session (process group) and gets Linux's parent-death signal
(``PR_SET_PDEATHSIG``: SIGKILL when the thread that started it exits, e.g. because the parent
was SIGKILLed). Its pid is written to a pid file next to its log; a restarted parent kills the
process group a pid file names before it starts the same component again (grandchildren that
outlived their parent stay in that group). A port the child is about to listen on must be free
first: :class:`PortInUse` names the port and, when ``/proc`` tells, the process holding it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ManagedProcess",
    "PortInUse",
    "argv_port",
    "command_line",
    "die_with_parent",
    "ensure_port_free",
    "flower_env",
    "free_port",
    "group_members",
    "port_holder",
    "reap_pid_file",
    "start_process",
    "wait_for_port",
    "write_pid_file",
]

_PR_SET_PDEATHSIG = 1


class PortInUse(OSError):
    """A port a child process needs is taken; the message names it and, if known, its holder."""


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


#: resolved in the parent: the forked child must not dlopen (another thread may hold its lock)
_PRCTL = _prctl()


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn`` making the child receive ``sig`` when its parent (thread) exits.

    It also kills the child at once if the parent died between ``fork`` and ``prctl``. A no-op
    where ``prctl`` does not exist (not Linux): the pid file still lets a restart reap orphans.
    """
    parent = os.getpid()
    prctl = _PRCTL

    def _preexec() -> None:
        if prctl is None:
            return
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return _preexec


def command_line(pid: int) -> str | None:
    """The command line of process ``pid`` (from ``/proc``), or None."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def port_holder(port: int) -> str | None:
    """``"pid N (command line)"`` of a process listening on TCP ``port``, if ``/proc`` tells.

    Only processes whose ``/proc/<pid>/fd`` this user may read are found (its own, or all as root).
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    targets = {f"socket:[{i}]" for i in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(fd) in targets:
                    return f"pid {proc.name} ({(command_line(int(proc.name)) or '?')[:200]})"
    return None


def ensure_port_free(host: str, port: int, *, what: str, hint: str = "") -> None:
    """Raise :class:`PortInUse` unless ``host:port`` can be bound right now.

    ``what`` names the component needing the port; ``hint`` says which setting moves it.
    """
    if port == 0:
        return
    bind_host = "" if host in ("0.0.0.0", "::", "") else host
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no conflict
        try:
            s.bind((bind_host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            holder = port_holder(port)
            who = f"held by {holder}" if holder else "held by another process"
            raise PortInUse(
                f"port {port} on {host or '0.0.0.0'} is already in use ({who}); {what} cannot "
                f"start. Stop that process{' or ' + hint if hint else ''}",
            ) from None


def argv_port(argv: Sequence[str]) -> tuple[str, int] | None:
    """``(host, port)`` of the ``--host``/``--port`` options in ``argv`` (host default
    127.0.0.1), or None without ``--port``."""
    args = list(argv)
    if "--port" not in args or args.index("--port") + 1 >= len(args):
        return None
    port = int(args[args.index("--port") + 1])
    host = args[args.index("--host") + 1] if "--host" in args[:-1] else "127.0.0.1"
    return host, port


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is no zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def write_pid_file(path: Path, pid: int, argv: Sequence[str]) -> None:
    """Record ``pid`` (leader of its own process group) and its program in ``path``.

    The program is the executable's name, or the module of ``python -m MODULE`` (a recycled pid
    running some other Python program is then not taken for it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    args = list(argv)
    program = args[2] if len(args) > 2 and args[1] == "-m" else Path(args[0]).name
    tmp.write_text(json.dumps({"pid": pid, "program": program}), encoding="utf-8")
    os.replace(tmp, path)


def reap_pid_file(path: Path, *, timeout: float = 10.0) -> int | None:
    """Kill the process group a previous parent's pid file names; return its pid (or None).

    The group is killed only if its leader is gone (the group ids of survivors cannot be reused)
    or still runs the recorded program, so a recycled pid is never hit.
    """
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid, program = int(info["pid"]), str(info["program"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid <= 1 or pid == os.getpid():
        return None
    if _running(pid) and program not in (command_line(pid) or ""):
        path.unlink(missing_ok=True)
        return None
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    deadline = time.monotonic() + timeout
    while group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    path.unlink(missing_ok=True)
    return pid


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, from ``/proc``."""
    members = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(proc.name))
    return members


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
    """A started process (leader of its own process group), its log file and pid file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    pid_file: Path | None = None

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

    def _forget(self) -> None:
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the process group at once (a crashed machine), and reap the process."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait()
        self._forget()

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
        self._forget()


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path,
    port: tuple[str, int] | None = None,
    port_hint: str = "",
) -> ManagedProcess:
    """Start ``argv`` in a new session that dies with this thread, output appended to ``log_path``.

    First the process group named by ``<log_path>.pid`` (left by a previous parent that was
    killed) is reaped, then ``port`` (default: ``--host``/``--port`` of ``argv``, see
    :func:`argv_port`) must be free, else :class:`PortInUse` (``port_hint`` names the setting).
    The new pid goes to ``<log_path>.pid``, removed again by :meth:`ManagedProcess.stop`.
    """
    pid_file = log_path.with_suffix(".pid")
    reap_pid_file(pid_file)
    listen = port if port is not None else argv_port(argv)
    if listen is not None:
        ensure_port_free(*listen, what=name, hint=port_hint)
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
            preexec_fn=die_with_parent(),
        )
    write_pid_file(pid_file, popen.pid, argv)
    return ManagedProcess(name=name, popen=popen, log_path=log_path, pid_file=pid_file)
