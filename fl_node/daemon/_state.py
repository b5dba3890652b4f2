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
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = ["ActionLog", "RoundRecord", "StateDir"]


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class RoundRecord:
    """What the silo knows about one round beyond the chain's state.

    ``terms`` is the pushed (and digest-verified) public terms document; ``answers`` every best
    response the agent gave; ``assignment`` the accepted, attested report; ``declined`` why the
    silo does not join (e.g. the bond exceeds its limit); ``done`` once nothing is left to do.
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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoundRecord:
        return cls(**data)


class StateDir:
    """Thread-safe access to the files of a daemon's state dir (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rounds_dir = self.path / "rounds"
        self.rounds_dir.mkdir(parents=True, exist_ok=True)
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
    """Appends one JSON line per action to ``actions.jsonl`` and echoes it to ``stream``."""

    def __init__(self, path: Path, *, name: str, stream: IO[str] | None = sys.stderr) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: str, **data: Any) -> None:
        entry = {"time": round(time.time(), 3), "by": self.name, "event": event, **data}
        line = json.dumps(entry, default=str, sort_keys=False)
        with self._lock:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            if self.stream is not None:
                try:
                    self.stream.write(line + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # a closed stderr must not stop the daemon

    def entries(self) -> list[dict[str, Any]]:
        """Every logged action so far (for tests and ``fedsettle node status``)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]
