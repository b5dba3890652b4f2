"""Flower's deployment engine on loopback: SuperLink + 3 SuperNodes as separate processes.

TLS (self-signed CA) and SuperNode authentication are on. One session of three FL rounds runs on
digits; during round 3 one SuperNode process is SIGKILLed after it took its train message, and
the round must still finish, on the deadline, with the two survivors.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fl_node.flower.deploy import LoopbackDeployment, RunResult, generate_node_key_pair

pytestmark = pytest.mark.slow

KILLED = 2  # index of the SuperNode killed in round 3
ROUND_TIMEOUT = 60.0  # healthy train phases took up to 43 s on a heavily shared 2-core machine


@dataclass
class Session:
    deployment: LoopbackDeployment
    result: RunResult
    summary: dict[str, Any]
    intruder_exit: int | None
    intruder_log: str


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    nodes = [{"partition-id": i, "num-partitions": 3, "num-threads": 1} for i in range(3)]
    with LoopbackDeployment(tmp_path_factory.mktemp("deploy"), nodes) as dep:
        popen, result = dep.submit(
            {"num-rounds": 3, "min-nodes": 3, "round-timeout": ROUND_TIMEOUT}
        )
        # A SuperNode whose key was never registered tries to join while the session runs.
        key = generate_node_key_pair(dep.workdir / "keys", "intruder")
        intruder, _ = dep.spawn_supernode(
            "intruder", {"partition-id": 0, "num-partitions": 3}, key.private_key,
            "--max-retries", "0",
        )  # fmt: skip
        try:
            _wait_for(
                lambda: any(
                    e["event"] == "round-start" and e["round"] == 3 for e in result.events()
                ),
                240,
                "round 3 to start",
            )
            log = dep.supernodes[KILLED].log_path
            # Kill the silo after it pulled its round-3 task: it has the work and never answers.
            try:
                _wait_for(
                    lambda: log.read_text(errors="replace").count("Receiving: train message") >= 3,
                    15,
                    "the round-3 train message to reach the silo",
                )
            finally:
                dep.kill_supernode(KILLED)
            dep.wait(popen, result, timeout=240)
        finally:
            if popen.poll() is None:
                popen.kill()
                popen.wait()
        summary = result.summary
        print(json.dumps(_timings(summary), indent=1))
        try:
            intruder.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        yield Session(
            deployment=dep,
            result=result,
            summary=summary,
            intruder_exit=intruder.popen.poll(),
            intruder_log=intruder.log_path.read_text(errors="replace"),
        )


def _timings(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "identity_phase_s": summary["identity_seconds"],
        "train_phases_s": [r["train_seconds"] for r in summary["history"]["rounds"]],
        "accuracy": summary["history"]["accuracy"],
    }


def test_registered_silos_train_two_rounds_over_tls(session: Session) -> None:
    dep, summary = session.deployment, session.summary
    assert session.result.returncode == 0
    registered = dep.node_ids
    # The nodes that trained are exactly the registered keys, each holding its own partition.
    identities = summary["identities"]
    assert sorted(int(n) for n in identities) == sorted(registered)
    assert [identities[str(n)]["partition_id"] for n in registered] == [0, 1, 2]
    first, second = summary["history"]["rounds"][:2]
    for record in (first, second):
        assert sorted(record["reporters"]) == sorted(registered)
        assert record["dropped"] == {}
    assert second["accuracy"] > first["accuracy"]
    assert second["accuracy"] > 0.5
    superlink_log = Path(dep.superlink.log_path).read_text() if dep.superlink else ""
    assert "running on https://127.0.0.1" in superlink_log


def test_a_silo_killed_mid_round_is_dropped_and_the_round_finishes(session: Session) -> None:
    dep, summary = session.deployment, session.summary
    killed = dep.node_ids[KILLED]
    survivors = sorted(n for n in dep.node_ids if n != killed)
    third = summary["history"]["rounds"][2]
    assert sorted(third["asked"]) == sorted(dep.node_ids)
    assert sorted(third["reporters"]) == survivors
    assert set(third["dropped"]) == {str(killed)}
    assert sorted(third["weights"]) == sorted(str(n) for n in survivors)
    assert third["accuracy"] is not None and third["accuracy"] > 0.5
    assert summary["history"]["completed"] == survivors
    assert list(summary["dropped"]) == [str(killed)]
    assert not dep.supernodes[KILLED].alive()


def test_the_superlink_refuses_plaintext_and_untrusted_clients(session: Session) -> None:
    dep = session.deployment
    with socket.create_connection(("127.0.0.1", dep.port), timeout=10) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert not raw.recv(64).startswith(b"HTTP/1.1 200")
    untrusted = ssl.create_default_context()  # system CAs only, not the deployment's CA
    with (
        socket.create_connection(("127.0.0.1", dep.port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        untrusted.wrap_socket(raw, server_hostname="127.0.0.1")


def test_an_unregistered_supernode_is_refused(session: Session) -> None:
    assert session.intruder_exit not in (None, 0)
    assert "Failed to activate SuperNode" in session.intruder_log
    assert len(session.summary["identities"]) == 3


def test_every_message_ran_in_a_child_of_the_warm_executor(session: Session) -> None:
    dep = session.deployment
    for index, node in enumerate(dep.supernodes):
        assert "--isolation process" in " ".join(node.popen.args)  # type: ignore[arg-type]
        executor = dep.executors[node.name]
        log = executor.log_path.read_text(errors="replace")
        assert "warm ClientApp executor ready" in log
        # identity query + 3 train messages; the killed silo may die before forking its third
        forked = log.count(": forked pid ")
        assert forked in ((3, 4) if index == KILLED else (4,)), (index, log[-2000:])
        # no per-message flwr-clientapp process (Flower's SuperExec is not started)
        node_log = node.log_path.read_text(errors="replace")
        assert "Start `flwr-clientapp` process" not in node_log
        # started through fl_node.flower._warm_supernode with Flower 1.41's waits shortened
        assert "fedsettle: SuperNode idle pull 0.5 s, reply wait 0.05 s" in node_log
        assert "object pull backoff 0.05-2.0 s" in log
    assert not dep.executors[dep.supernodes[KILLED].name].alive()


def test_the_run_was_submitted_in_process_and_ran_in_the_warm_serverapp_executor(
    session: Session,
) -> None:
    dep = session.deployment
    assert dep.superlink is not None and dep.serverapp_executor is not None
    assert "--isolation process" in " ".join(dep.superlink.popen.args)  # type: ignore[arg-type]
    # the run ends on the SuperLink a moment before the executor reaps its forked child
    deadline = time.monotonic() + 60
    while True:
        log = dep.serverapp_executor.log_path.read_text(errors="replace")
        if "exited " in log or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "warm ServerApp executor ready" in log
    assert log.count(": forked pid ") == 1 and "exited 0 after" in log, log[-2000:]
    run_log = session.result.log_path.read_text(errors="replace")
    # the Control API client's lines, then the ServerApp's log streamed from the SuperLink
    assert f"Successfully started run {session.result.run_id}" in run_log
    assert f"run {session.result.run_id}: finished, completed" in run_log
    assert "Start `flwr-serverapp` process" not in run_log
    assert dep.serverapp_executor.alive()


# The coordinator submits its training run while the silos deposit (FlowerDeployment.
# begin_training): the ServerApp identifies the silos, then waits for the plan file. These two
# runs use the same deployment after the session above (its silo-2 SuperNode is dead).


def _submit_before_the_plan(dep: LoopbackDeployment, plan_path: Path) -> tuple[Any, RunResult]:
    from fl_node.coordinator.flower_hooks import HOOKS_REF

    return dep.submit(
        {"num-rounds": 1, "min-nodes": 2, "round-timeout": ROUND_TIMEOUT},
        {"hooks": HOOKS_REF, "assignments-file": str(plan_path), "plan-wait-timeout": 120.0},
    )


def _event_time(result: RunResult, name: str) -> float | None:
    return next((e["time"] for e in result.events() if e["event"] == name), None)


def _run_after_identity(
    dep: LoopbackDeployment, plan_path: Path, then: Callable[[RunResult], float], timeout: float
) -> tuple[RunResult, float]:
    """Submit before the plan; once the silos are identified, ``then(result)`` writes the plan
    file (returning when); wait for the run's end."""
    popen, result = _submit_before_the_plan(dep, plan_path)
    try:
        _wait_for(lambda: _event_time(result, "identified") is not None, 120, "the identities")
        written = then(result)
        dep.wait(popen, result, timeout=timeout)
    finally:
        if popen.poll() is None:
            popen.kill()
    return result, written


def test_a_run_submitted_before_its_plan_identifies_first_and_trains_the_plan(
    session: Session, tmp_path: Path
) -> None:
    from fl_node.coordinator.flower_hooks import write_assignments
    from fl_node.flower import Assignment

    plan_path = tmp_path / "assignments.json"

    def write_plan_later(running: RunResult) -> float:
        time.sleep(0.5)  # the ServerApp keeps waiting: nothing is trained without a plan
        assert not any(e["event"] == "round-start" for e in running.events())
        written = time.time()
        plan = {"silo-0": Assignment(1.0, 0.0, 50.0), "silo-1": Assignment(1.0, 0.0, 50.0)}
        write_assignments(plan_path, plan)
        return written

    result, written = _run_after_identity(session.deployment, plan_path, write_plan_later, 240)
    identified, assigned = _event_time(result, "identified"), _event_time(result, "assigned")
    assert identified is not None and assigned is not None
    assert identified < written <= assigned + 0.01  # identity query before the plan existed
    summary = result.summary
    names = {n: s["name"] for n, s in summary["identities"].items()}
    assert sorted(names.values()) == ["silo-0", "silo-1"]
    assert sorted(names[str(n)] for n in summary["history"]["completed"]) == ["silo-0", "silo-1"]
    assert summary["history"]["accuracy"][0] is not None


def test_a_withdrawn_plan_ends_the_waiting_run_without_training(
    session: Session, tmp_path: Path
) -> None:
    from fl_node.coordinator.flower_hooks import write_abort

    plan_path = tmp_path / "assignments.json"

    def withdraw(running: RunResult) -> float:
        write_abort(plan_path, "fewer than two silos joined")
        return time.time()

    result, _ = _run_after_identity(session.deployment, plan_path, withdraw, 60)
    assert result.returncode != 0  # the run failed: nothing was trained
    assert not (result.out_dir / "result.json").exists()
    assert not any(e["event"] == "round-start" for e in result.events())
    log = result.log_path.read_text(errors="replace")
    assert "withdrew this run's plan: fewer than two silos joined" in log, log[-2000:]


def test_keys_are_registered_through_the_control_api_once(session: Session, tmp_path: Path) -> None:
    from fl_node.flower._warm_submit import register_supernode

    dep = session.deployment
    assert dep.tls is not None
    address, ca = f"127.0.0.1:{dep.port}", dep.tls.ca_cert
    # the start registered these in-process (no `flwr supernode register` process): again is a no-op
    assert register_supernode(address, ca, dep.workdir / "keys" / "supernode-0.pub") is None
    fresh = generate_node_key_pair(tmp_path, "late-silo")
    node_id = register_supernode(address, ca, fresh.public_key)
    assert node_id is not None and node_id not in dep.node_ids
    not_a_key = tmp_path / "not-a-key.pub"
    not_a_key.write_text("ssh-ed25519 AAAA\n")
    with pytest.raises(ValueError, match=r"not-a-key\.pub: not a readable OpenSSH public key"):
        register_supernode(address, ca, not_a_key)
