"""End to end on the deployment engine: anvil + coordinator + SuperLink + 3 daemons/SuperNodes.

Every component is its own process on loopback: anvil, ``fedsettle coordinator run --devnet``
in deployment mode (it runs ``flower-superlink`` with TLS and SuperNode authentication) and
three ``fedsettle node run`` daemons, each supervising its own ``flower-supernode``. The configs
come from ``fedsettle coordinator init --runtime deployment`` and the credentials from
``fedsettle coordinator credentials``. After FL round 1 of 2 one silo's daemon and SuperNode
are SIGKILLed, as if its machine died: the round-2 deadline drops it, the round settles
budget-balanced with the two survivors as reporters, and when the dead silo's daemon comes back
it withdraws exactly its deposit, once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from proc_helpers import free_port_block, wait_for

from fl_node.coordinator import load_consortium_config
from fl_node.daemon import load_node_config
from settlement import AnvilBackend, OrgSpec, Phase, Rule, SettlementClient

pytestmark = [pytest.mark.chain, pytest.mark.slow]

FEDSETTLE = str(Path(sys.executable).parent / "fedsettle")
KILLED = 2  # silo-2 (slot 1) dies after FL round 1
# Healthy train phases took up to ~45 s on a shared 2-core machine. The dead silo costs round 2
# less than this: the SuperLink reports it "Node Unavailable" after 2 missed heartbeats (~50 s).
ROUND_TIMEOUT_S = 90.0


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the last line is still being written
    return events


def _spawn(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # own session: the test can signal the process and whatever it started as one group
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM ``proc``'s group, SIGKILL it after ``grace`` s, reap ``proc``."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    _signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _pids(actions: Path, event: str) -> list[int]:
    return [int(e["pid"]) for e in _jsonl(actions) if e.get("event") == event and "pid" in e]


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.is_file() else f"(no {path})"


def _patch(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{path.name}: expected one {old!r}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@dataclass
class Run:
    result: dict[str, Any]
    client: SettlementClient
    node_states: list[Path]
    killed_supernode_pids: list[int]
    survivor_exit_codes: list[int]
    rejoin: list[subprocess.CompletedProcess[str]]
    seconds: float


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("deployment-settlement")
    cfg = root / "cfg"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base = free_port_block(7)  # 3 agents, the SuperLink, 3 SuperNode runtime APIs
    started = time.monotonic()
    with AnvilBackend(accounts=6, tx_gas_limit=True) as chain:
        subprocess.run(
            [FEDSETTLE, "coordinator", "init", "--out", str(cfg), "--silos", "3",
             "--runtime", "deployment", "--rounds", "2", "--rpc-url", chain.rpc_url,
             "--base-port", str(base), "--superlink-port", str(base + 3),
             "--supernode-base-port", str(base + 4)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(
            [FEDSETTLE, "coordinator", "credentials", "--out", str(cfg / "credentials"),
             "--silos", "3"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        # 2-core budget: a round with a dead silo lasts at most round_timeout_s; bound the run
        _patch(
            cfg / "consortium.toml",
            {
                "round_timeout_s = 120.0": f"round_timeout_s = {ROUND_TIMEOUT_S}",
                "node_wait_timeout_s = 120.0": "node_wait_timeout_s = 120.0\nrun_timeout_s = 300.0",
            },
        )
        consortium = load_consortium_config(cfg / "consortium.toml")
        assert consortium.mode == "deployment" and consortium.deployment is not None
        assert not consortium.deployment.insecure
        nodes = [load_node_config(cfg / f"node-{i}.toml") for i in (1, 2, 3)]
        actions = [n.state_dir / "actions.jsonl" for n in nodes]
        coordinator_actions = consortium.state_dir / "actions.jsonl"
        daemons: dict[int, subprocess.Popen[bytes]] = {}
        coordinator: subprocess.Popen[bytes] | None = None
        try:
            for i in (1, 2, 3):
                daemons[i] = _spawn(
                    [FEDSETTLE, "node", "run", "--config", str(cfg / f"node-{i}.toml")],
                    root / f"node-{i}.log",
                    env,
                )
            coordinator = _spawn(
                [FEDSETTLE, "coordinator", "run", "--config", str(cfg / "consortium.toml"),
                 "--devnet", "--out", str(root / "result.json")],
                root / "coordinator.log",
                env,
            )  # fmt: skip
            coord = coordinator

            def everyone_alive() -> str | None:
                if coord.poll() is not None:
                    return f"the coordinator exited {coord.returncode}: " + _tail(
                        root / "coordinator.log"
                    )
                for i, proc in daemons.items():
                    if proc.poll() is not None:
                        return f"node-{i} exited {proc.returncode}: " + _tail(
                            root / f"node-{i}.log"
                        )
                return None

            def round_one_done() -> bool:
                progress = consortium.state_dir.glob("flower/run-*/progress.jsonl")
                return any(
                    e.get("event") == "round-end" and e.get("round") == 1
                    for path in progress
                    for e in _jsonl(path)
                )

            wait_for(round_one_done, 240, "FL round 1 to end", poll=0.3, alive=everyone_alive)
            # the silo's machine dies: its daemon and its SuperNode (own session) at once
            victim = daemons[KILLED]
            _signal_group(victim.pid, signal.SIGKILL)
            supernodes = _pids(actions[KILLED - 1], "supernode-started")
            for pid in supernodes:
                _signal_group(pid, signal.SIGKILL)
            victim.wait(timeout=10)

            try:
                coordinator.wait(timeout=200)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    "the coordinator did not finish: " + _tail(root / "coordinator.log")
                ) from None
            assert coordinator.returncode == 0, _tail(root / "coordinator.log")
            result = json.loads((root / "result.json").read_text())
            client = SettlementClient.at(chain, result["contract"])
            rid = result["round_id"]
            survivors = [i for i in (1, 2, 3) if i != KILLED]
            wait_for(
                lambda: all(client.profile_record(rid, i - 1).withdrawn for i in survivors),
                60,
                "the survivors' withdrawals",
            )
            codes = []
            for i in survivors:
                daemons[i].send_signal(signal.SIGTERM)
                codes.append(daemons[i].wait(timeout=60))
            # the dead silo's daemon comes back; a second pass must not pay it again
            once = [
                FEDSETTLE,
                "node",
                "run",
                "--config",
                str(cfg / f"node-{KILLED}.toml"),
                "--once",
            ]
            rejoin = []
            for _ in range(2):
                rejoin.append(
                    subprocess.run(once, capture_output=True, text=True, timeout=120, env=env)
                )
            seconds = time.monotonic() - started
            yield Run(
                result=result,
                client=client,
                node_states=[n.state_dir for n in nodes],
                killed_supernode_pids=supernodes,
                survivor_exit_codes=codes,
                rejoin=rejoin,
                seconds=seconds,
            )
        finally:
            if coordinator is not None:
                _stop(coordinator, grace=20)  # SIGTERM: it stops its SuperLink itself
            for proc in daemons.values():
                _stop(proc, grace=10)  # SIGTERM: each daemon stops its SuperNode
            # whatever a SIGKILLed parent left behind
            for path in (*actions, coordinator_actions):
                for event in ("supernode-started", "superlink-started"):
                    for pid in _pids(path, event):
                        _signal_group(pid, signal.SIGKILL)


def _silo(result: dict[str, Any], number: int) -> dict[str, Any]:
    return next(s for s in result["silos"] if s["name"] == f"silo-{number}")


def test_the_round_settles_budget_balanced_with_the_survivors(run: Run) -> None:
    result, client = run.result, run.client
    print(json.dumps({"seconds": round(run.seconds, 1), "timings": result["timings_s"]}))
    assert result["status"] == "settled" and result["runtime"] == "deployment"
    rid = result["round_id"]
    assert client.phase_of(rid) == Phase.SETTLED
    state = client.round_state(rid)
    assert (state.n, state.joined_count, state.reported_count) == (3, 3, 2)
    profiles = client.profiles(rid)
    assert sum(int(p.payoff) for p in profiles) == 0 == result["sum_R_wei"]
    assert [p.reported for p in profiles] == [i + 1 != KILLED for i in range(3)]
    assert all(p.joined for p in profiles)
    assert any(int(p.payoff) != 0 for p in profiles)
    # every silo took part in the strategy phase; training completed without the dead one
    assert not result["strategy_phase"]["dropped"]
    training = result["training"]
    assert sorted(training["completed"]) == ["silo-1", "silo-3"]
    assert list(training["dropped"]) == [f"silo-{KILLED}"]
    assert len(result["accuracy"]) == 2 and result["accuracy"][-1] > 0.2  # chance: 0.1


def test_the_killed_silo_trained_round_one_only_and_is_really_gone(run: Run) -> None:
    rounds = run.result["training"]["history"]["rounds"]
    assert len(rounds) == 2
    first, second = rounds
    assert len(first["reporters"]) == 3 and first["dropped"] == {}
    assert len(second["reporters"]) == 2 and len(second["dropped"]) == 1
    assert run.killed_supernode_pids
    for pid in run.killed_supernode_pids:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def test_the_survivors_withdrew_deposit_plus_payoff_once(run: Run) -> None:
    result, client = run.result, run.client
    rid = result["round_id"]
    assert run.survivor_exit_codes == [0, 0]
    transfers = client.events("PayoffTransferred", round_id=rid)
    for number in (1, 3):
        silo = _silo(result, number)
        profile = client.profile_record(rid, silo["index"])
        assert profile.joined and profile.reported and profile.withdrawn
        paid = [int(e.args["amount"]) for e in transfers if int(e.args["index"]) == silo["index"]]
        assert paid == [int(profile.deposited) + int(profile.payoff)] == [silo["payout_due_wei"]]
        log = [
            a
            for a in _jsonl(run.node_states[number - 1] / "actions.jsonl")
            if a.get("round_id") == rid
        ]
        events = [a["event"] for a in log]
        for event in ("deposited", "assignment-accepted", "withdrew"):
            assert events.count(event) == 1, (silo["name"], event)
        assert "reported" not in events  # the coordinator's one table reported for it


def test_the_killed_silo_is_settled_at_its_minimum_once(run: Run) -> None:
    result, client = run.result, run.client
    rid = result["round_id"]
    assert [p.returncode for p in run.rejoin] == [0, 0], run.rejoin[0].stderr[-3000:]
    silo = _silo(result, KILLED)
    assert silo["joined"] and not silo["reported"]
    profile = client.profile_record(rid, silo["index"])
    assert profile.joined and not profile.reported and profile.withdrawn
    assert int(profile.deposited) == int(profile.bond) > 0
    # silence never pays: it is settled at its minimum report, never at R = 0 by default
    rule = Rule(client.round_config(rid))
    spec = OrgSpec(profile.account, profile.x_max, profile.f_max, profile.base)
    assert profile.score == rule.min_score(spec) and silo["R_wei"] == int(profile.payoff)
    due = int(profile.deposited) + int(profile.payoff)
    paid = [
        int(e.args["amount"])
        for e in client.events("PayoffTransferred", round_id=rid)
        if int(e.args["index"]) == silo["index"]
    ]
    assert paid == [due]
    log = [
        a for a in _jsonl(run.node_states[KILLED - 1] / "actions.jsonl") if a.get("round_id") == rid
    ]
    events = [a["event"] for a in log]
    assert events.count("deposited") == 1 and "reported" not in events
    withdrew = [a for a in log if a["event"] == "withdrew"]
    assert len(withdrew) == 1 and withdrew[0]["amount_wei"] == due
    finished = [a for a in log if a["event"] == "round-finished"]
    assert finished and finished[-1]["withdrawn_wei"] == due
    # every wei deposited into the round went back out
    state = client.round_state(rid)
    assert int(state.total_withdrawn) == int(state.total_deposits)
