"""The deployment engine's follower of ``progress.jsonl``: each FL round reported once, as it ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fl_node.coordinator._deployment import _RoundFollower


def _line(event: str, **data: Any) -> str:
    return json.dumps({"event": event, **data}) + "\n"


def test_rounds_are_reported_as_they_end_once_each(tmp_path: Path) -> None:
    path = tmp_path / "progress.jsonl"
    seen: list[tuple[str, dict[str, Any]]] = []
    follower = _RoundFollower(path, lambda event, **data: seen.append((event, data)))
    follower.poll()  # the ServerApp has not started: nothing, no error
    path.write_text(_line("session-start", nodes=[1, 2]) + _line("round-start", round=1))
    follower.poll()
    assert seen == []
    end1 = _line("round-end", round=1, accuracy=0.5, loss=1.5)
    with path.open("a") as fh:  # a line still being written is not read
        fh.write(end1[:20])
    follower.poll()
    assert seen == []
    with path.open("a") as fh:
        fh.write(end1[20:] + _line("round-end", round=2, accuracy=0.75, loss=0.5))
    follower.poll()
    assert seen == [
        ("fl-round", {"round": 1, "accuracy": 0.5, "loss": 1.5}),
        ("fl-round", {"round": 2, "accuracy": 0.75, "loss": 0.5}),
    ]
    # the final result lists every round again: only the ones not shown yet are reported
    for record in ({"round": 2, "accuracy": 0.75, "loss": 0.5}, {"round": 3, "accuracy": 0.8,
                                                                 "loss": 0.4}):  # fmt: skip
        follower.emit(record)
    assert [data["round"] for _, data in seen] == [1, 2, 3]


def test_the_plan_wait_and_the_end_of_the_session_are_read_from_the_serverapp(
    tmp_path: Path,
) -> None:
    path = tmp_path / "progress.jsonl"
    follower = _RoundFollower(path, lambda event, **data: None)
    path.write_text(_line("session-start", time=100.0) + _line("identified", time=101.5))
    follower.poll()
    assert follower.plan_wait_s == 0.0 and not follower.ended  # the plan has not come yet
    with path.open("a") as fh:
        fh.write(_line("assigned", time=102.25) + _line("round-end", round=1, accuracy=0.5,
                                                        loss=1.0, time=110.0))  # fmt: skip
    follower.poll()
    assert follower.plan_wait_s == 0.75 and not follower.ended
    with path.open("a") as fh:
        fh.write(_line("session-end", time=120.0))
    follower.poll()
    assert follower.ended
