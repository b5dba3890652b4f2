"""A run submitted before its plan: the hooks wait for the plan file, or end on its withdrawal.

The coordinator submits the Flower run while the silos deposit
(:meth:`fl_node.coordinator.FlowerDeployment.begin_training`); the ServerApp identifies the
silos as soon as every SuperNode is connected and waits for the plan the strategy phase writes
(:mod:`fl_node.coordinator.flower_hooks`, :func:`fl_node.flower.wait_for_session_nodes`). The
real processes are in ``tests/e2e/test_deployment_engine.py``; these pin each rule on its own.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from fl_node.coordinator.flower_hooks import hooks, write_abort, write_assignments
from fl_node.flower import (
    Assignment,
    CoordinatorConfig,
    NodesNotConnectedError,
    SessionHooks,
    SiloIdentity,
    wait_for_session_nodes,
)

PLAN = {"silo-1": Assignment(1.0, 0.0, 30.0), "silo-2": Assignment(0.5, 0.25, 12.0)}


class _Nodes:
    """The node count of a SuperLink: ``online`` nodes, a list the test changes."""

    def __init__(self, online: list[int]) -> None:
        self.online = online
        self.waited_for: list[int] = []

    def node_ids(self) -> list[int]:
        return list(self.online)

    def wait_for_nodes(self, count: int, *, timeout: float) -> list[int]:
        self.waited_for.append(count)
        if len(self.online) < count:
            raise NodesNotConnectedError(f"only {len(self.online)} of {count}")
        return list(self.online)


def _later(seconds: float, action: object) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()  # type: ignore[operator]

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _identities(*names: str) -> dict[int, SiloIdentity]:
    return {i + 1: SiloIdentity(i + 1, name, i, 100) for i, name in enumerate(names)}


def test_a_plan_written_after_the_identity_query_trains_the_silos_it_names(
    tmp_path: Path,
) -> None:
    path = tmp_path / "assignments.json"
    session = hooks({"assignments-file": str(path), "plan-wait-timeout": 30.0})
    assert session.nodes_needed is not None and session.before_training is not None
    assert session.nodes_needed() is None  # not known yet
    writer = _later(0.3, lambda: write_assignments(path, PLAN))
    start = time.monotonic()
    plan = session.before_training(_identities("silo-1", "silo-2", "silo-3"), None)  # type: ignore[arg-type]
    writer.join()
    assert time.monotonic() - start >= 0.25  # it waited for the file
    assert plan == {1: PLAN["silo-1"], 2: PLAN["silo-2"]}  # silo-3 got no assignment
    assert session.nodes_needed() == 2


def test_a_withdrawn_plan_ends_the_session_with_the_coordinators_reason(tmp_path: Path) -> None:
    path = tmp_path / "assignments.json"
    session = hooks({"assignments-file": str(path), "plan-wait-timeout": 30.0})
    write_abort(path, "fewer than two silos joined")
    assert session.nodes_needed is not None
    with pytest.raises(RuntimeError, match="withdrew this run's plan: fewer than two silos"):
        session.nodes_needed()


def test_a_plan_that_never_comes_ends_the_wait_at_plan_wait_timeout(tmp_path: Path) -> None:
    session = hooks(
        {"assignments-file": str(tmp_path / "assignments.json"), "plan-wait-timeout": 0.2}
    )
    assert session.before_training is not None
    with pytest.raises(RuntimeError, match=r"plan-wait-timeout = 0.2 s"):
        session.before_training(_identities("silo-1"), None)  # type: ignore[arg-type]


def test_without_a_wait_a_missing_plan_fails_before_any_node_is_waited_for(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match=r"assignments-file=.* is not a file"):
        hooks({"assignments-file": str(tmp_path / "nope.json")})
    with pytest.raises(ValueError, match="plan-wait-timeout='soon' must be a number"):
        hooks({"assignments-file": "x", "plan-wait-timeout": "soon"})


def test_the_plan_file_is_never_seen_half_written(tmp_path: Path) -> None:
    path = tmp_path / "assignments.json"
    write_assignments(path, PLAN)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assignments.json"]  # tmp renamed


def test_every_silo_online_starts_the_session_before_the_plan(tmp_path: Path) -> None:
    session = hooks(
        {"assignments-file": str(tmp_path / "assignments.json"), "plan-wait-timeout": 30.0}
    )
    nodes = _Nodes([1, 2, 3])
    assert wait_for_session_nodes(nodes, CoordinatorConfig(min_nodes=3), session) == [1, 2, 3]
    assert nodes.waited_for == []  # no plan needed to start identifying


def test_a_missing_silo_is_waited_for_only_until_the_plan_leaves_it_out(tmp_path: Path) -> None:
    path = tmp_path / "assignments.json"
    session = hooks({"assignments-file": str(path), "plan-wait-timeout": 30.0})
    nodes = _Nodes([1, 2])  # silo-3's SuperNode never comes (it did not join the round)
    writer = _later(0.3, lambda: write_assignments(path, PLAN))
    assert wait_for_session_nodes(nodes, CoordinatorConfig(min_nodes=3), session) == [1, 2]
    writer.join()
    assert nodes.waited_for == [2]  # the plan's two silos


def test_a_plan_naming_more_silos_than_are_online_still_fails_on_node_wait_timeout(
    tmp_path: Path,
) -> None:
    path = tmp_path / "assignments.json"
    write_assignments(path, PLAN)
    session = hooks({"assignments-file": str(path), "plan-wait-timeout": 30.0})
    with pytest.raises(NodesNotConnectedError, match="only 1 of 2"):
        wait_for_session_nodes(_Nodes([1]), CoordinatorConfig(min_nodes=3), session)


def test_hooks_without_a_plan_wait_for_min_nodes() -> None:
    nodes = _Nodes([1, 2])
    assert wait_for_session_nodes(nodes, CoordinatorConfig(min_nodes=2), SessionHooks()) == [1, 2]
    assert nodes.waited_for == [2]


def test_a_restarted_coordinator_withdraws_the_runs_its_predecessor_left_waiting(
    tmp_path: Path,
) -> None:
    from fl_node.coordinator import ScaffoldOptions, load_consortium_config, scaffold
    from fl_node.coordinator._deployment import PLAN_FILE, FlowerDeployment

    paths = scaffold(tmp_path / "cfg", ScaffoldOptions(silos=2, runtime="deployment"))
    events: list[tuple[str, dict[str, object]]] = []
    runtime = FlowerDeployment(
        load_consortium_config(paths[0]), tmp_path / "flower", lambda e, **d: events.append((e, d))
    )
    waiting, trained = tmp_path / "flower" / "run-1-1", tmp_path / "flower" / "run-1-2"
    for run in (waiting, trained):
        (run / "app").mkdir(parents=True)
    write_assignments(trained / PLAN_FILE, PLAN)
    runtime._withdraw_stale_plans()
    with pytest.raises(RuntimeError, match="withdrew this run's plan: the coordinator that"):
        hooks({"assignments-file": str(waiting / PLAN_FILE), "plan-wait-timeout": 1.0})
    plan = hooks({"assignments-file": str(trained / PLAN_FILE)}).before_training
    assert plan is not None and plan(_identities("silo-1"), None) == {1: PLAN["silo-1"]}  # type: ignore[arg-type]
    assert events == [("training-withdrawn", {"run": "run-1-1", "reason": "coordinator restarted"})]
