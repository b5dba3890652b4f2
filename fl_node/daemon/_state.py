"""The daemon's state dir: an append-only action log and one record per round.

The chain is the authority on what happened (joined, reported, withdrawn); the state dir only
keeps what the chain does not hold: the terms the coordinator pushed, the answers the agent gave,
the assignment it accepted, and a block cursor for event discovery. Every record is written
atomically (temp file + rename), so a kill at any instant leaves the old or the new version.

Layout::

    actions.jsonl        one JSON object per action (also echoed to stderr)
    cursor.json          {"block": N}: OrgRegistered events are scanned from N+1
    rounds/<id>.json     RoundRecord of each round this silo holds a slot in
    agent.json           the agent's actual host and port (useful with port = 0)
    lock                 the pid of the process using the dir (held with ``flock`` while it runs)

One process per state dir: a second daemon (or coordinator) on the same dir is refused with
:class:`StateDirInUse` naming the holder's pid, since both would act on the same records. The
lock is the kernel's (``fcntl.flock``), so it goes away with its process, even after SIGKILL.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

from fl_node.daemon._toml import ConfigFileError

__all__ = ["ActionLog", "RoundRecord", "StateDir", "StateDirInUse", "human_line"]


class StateDirInUse(ConfigFileError):
    """Another process holds the state dir's lock; the message names its pid."""


class _DirLock:
    """An exclusive ``flock`` on ``<dir>/lock``, released when the last user in this process
    drops it (the StateDirs of one process share one lock)."""

    _held: ClassVar[weakref.WeakValueDictionary[Path, _DirLock]] = weakref.WeakValueDictionary()
    _guard = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateDirInUse(_in_use_message(path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "since": round(time.time(), 3)}).encode())
        self._fd = fd

    @classmethod
    def acquire(cls, directory: Path) -> _DirLock:
        path = (directory / "lock").resolve()
        with cls._guard:
            lock = cls._held.get(path)
            if lock is None:
                lock = cls(path)
                cls._held[path] = lock
            return lock

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)  # closing the last descriptor releases the flock


def _in_use_message(path: Path) -> str:
    from fl_node.flower._processes import command_line

    try:
        pid = int(json.loads(path.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        holder = "another process"
    else:
        command = command_line(pid)
        holder = f"pid {pid}" + (f" ({command[:160]})" if command else "")
    return (
        f"the state dir {path.parent} is in use by {holder}; run one instance per state dir: "
        "stop that one, or give this one its own ([state].dir in node.toml, "
        "[coordinator].state_dir in consortium.toml)"
    )


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class RoundRecord:
    """What the silo knows about one round beyond the chain's state.

    ``terms`` is the pushed (and digest-verified) public terms document; ``answers`` every best
    response the agent gave; ``assignment`` the accepted, attested report; ``declined`` why the
    silo does not join (e.g. the bond exceeds its limit); ``done`` once nothing is left to do;
    ``table_check`` the silo's verdict on the coordinator's posted table (market:
    :func:`fl_node.daemon._market.check_table`; tradefl and cogen: its own row equals the
    assignment it accepted); ``deposit_tx`` the silo's deposit once its
    ``deposited`` action is logged (a daemon killed between the mined deposit and that line logs
    it when it restarts, marked ``recovered``).
    """

    round_id: int
    index: int
    bond_wei: int
    terms: dict[str, Any] | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)
    assignment: dict[str, Any] | None = None
    declined: str | None = None
    done: bool = False
    outcome: dict[str, Any] | None = None
    table_check: dict[str, Any] | None = None
    deposit_tx: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoundRecord:
        return cls(**data)


class StateDir:
    """Thread-safe access to the files of a daemon's state dir (see the module docstring).

    Parameters
    ----------
    path : Path
    exclusive : bool
        Take the dir's lock (default): raise :class:`StateDirInUse` if another process holds
        it. ``False`` for read-only users such as ``fedsettle node status``.
    """

    def __init__(self, path: Path, *, exclusive: bool = True) -> None:
        self.path = Path(path)
        self.rounds_dir = self.path / "rounds"
        self.rounds_dir.mkdir(parents=True, exist_ok=True)
        self._dir_lock = _DirLock.acquire(self.path) if exclusive else None
        #: held while reading-modifying-writing a record; the HTTP threads and the loop share it
        self.lock = threading.RLock()

    def _round_path(self, round_id: int) -> Path:
        return self.rounds_dir / f"{int(round_id)}.json"

    def load_round(self, round_id: int) -> RoundRecord | None:
        with self.lock:
            path = self._round_path(round_id)
            if not path.is_file():
                return None
            return RoundRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def save_round(self, record: RoundRecord) -> None:
        with self.lock:
            _write_json(self._round_path(record.round_id), asdict(record))

    def update_round(self, round_id: int, change: Callable[[RoundRecord], None]) -> RoundRecord:
        """Apply ``change`` to the freshest copy of a record and save it, under :attr:`lock`."""
        with self.lock:
            record = self.load_round(round_id)
            if record is None:
                raise KeyError(f"round {round_id}: no record in {self.rounds_dir}")
            change(record)
            self.save_round(record)
            return record

    def rounds(self) -> list[RoundRecord]:
        """Every round record, by round id."""
        with self.lock:
            ids = sorted(int(p.stem) for p in self.rounds_dir.glob("*.json") if p.stem.isdigit())
            return [r for r in (self.load_round(i) for i in ids) if r is not None]

    def cursor(self) -> int:
        """The last block whose events were scanned (-1: none)."""
        path = self.path / "cursor.json"
        if not path.is_file():
            return -1
        return int(json.loads(path.read_text(encoding="utf-8"))["block"])

    def set_cursor(self, block: int) -> None:
        _write_json(self.path / "cursor.json", {"block": int(block)})

    def write(self, name: str, value: Any) -> Path:
        """Write ``value`` as JSON to ``name`` in the state dir (atomically)."""
        path = self.path / name
        _write_json(path, value)
        return path


class ActionLog:
    """Appends one JSON line per action to ``actions.jsonl`` and echoes it to ``stream``.

    The file always holds JSON lines. The echo is :attr:`format`: ``"json"`` (the same line),
    ``"human"`` (``12:00:01 silo-1 deposited round_id=1 amount_wei=...``) or ``"auto"`` (the
    default: human on a terminal, JSON otherwise, e.g. under docker or a process manager).
    """

    FORMATS = ("auto", "human", "json")

    def __init__(
        self, path: Path, *, name: str, stream: IO[str] | None = sys.stderr, format: str = "auto"
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.stream = stream
        self.format = format
        self._lock = threading.Lock()

    def _echo_human(self) -> bool:
        if self.format == "auto":
            isatty = getattr(self.stream, "isatty", None)
            try:
                return bool(isatty and isatty())
            except ValueError:  # a closed stream
                return False
        return self.format == "human"

    def __call__(self, event: str, **data: Any) -> None:
        entry = {"time": round(time.time(), 3), "by": self.name, "event": event, **data}
        line = json.dumps(entry, default=str, sort_keys=False)
        with self._lock:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            if self.stream is not None:
                try:
                    self.stream.write((human_line(entry) if self._echo_human() else line) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # a closed stderr must not stop the daemon

    def entries(self) -> list[dict[str, Any]]:
        """Every logged action so far (for tests and ``fedsettle node status``)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]


def human_line(entry: dict[str, Any]) -> str:
    """One action as ``HH:MM:SS by event key=value ...`` (long values cut at 120 characters)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(float(entry.get("time", 0))))
    parts = [stamp, str(entry.get("by", "")), str(entry.get("event", ""))]
    if "message" in entry:  # a sentence for people; its numbers follow as key=value
        parts.append(f"{entry['message']}:")
    for key, value in entry.items():
        if key in ("time", "by", "event", "message"):
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if len(text) > 120:
            text = text[:117] + "..."
        if isinstance(value, str) and (" " in text or not text):
            text = json.dumps(text)
        parts.append(f"{key}={text}")
    return " ".join(parts)
