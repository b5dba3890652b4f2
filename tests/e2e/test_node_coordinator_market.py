"""End to end, the market (mechanism 3): anvil + ``fedsettle coordinator run`` + three daemons.

As ``test_node_coordinator_cogen.py`` for cogen, every component its own process: the configs
come from ``fedsettle coordinator init --mechanism market`` (3 silos: digits' three label
clusters); each daemon checks the pushed market terms field by field against the round on chain
and its own N (its training size in the market's split), c and K and its bond before it
deposits; there is no strategy phase; the coordinator trains (embedded runtime: real
personalized torch training, a local round 0 and 2 priced FL rounds), posts the table of graphs
and settles; each daemon checks its own row of the posted table and withdraws.

A second round on a fresh chain resumes a coordinator killed right after its table was mined
(an in-process coordinator that dies at its ``table-submitted`` action), restarted as
``fedsettle coordinator run`` on the same state dir.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from distributed_round import actions as _actions
from distributed_round import distributed_round
from proc_helpers import FEDSETTLE

from fl_node.cli import main
from settlement import Phase, SettlementClient, unpack_market_table

pytestmark = [pytest.mark.chain, pytest.mark.slow]

INIT = ["--mechanism", "market", "--rounds", "2"]
ENV = {"OMP_NUM_THREADS": "1"}


@dataclass
class Run:
    result: dict[str, Any]
    client: SettlementClient
    cfg: Path
    node_states: list[Path]
    seconds: float

    @property
    def rid(self) -> int:
        return int(self.result["round_id"])

    @property
    def coordinator_actions(self) -> list[dict[str, Any]]:
        return _actions(self.cfg / "state" / "coordinator")


class _Killed(RuntimeError):
    pass


def _die_after_the_table(cfg: Path) -> None:
    """A coordinator that dies the moment its table is mined (nothing of it survives but its
    state dir and the chain)."""
    from fl_node.coordinator import Coordinator, CoordinatorError, load_consortium_config

    def hook(event: str, data: dict[str, Any]) -> None:
        if event == "table-submitted":
            raise _Killed("killed after the table")

    coordinator = Coordinator(
        load_consortium_config(cfg / "consortium.toml"), devnet=True, log_stream=None, on_event=hook
    )
    try:
        coordinator.run()
    except CoordinatorError as exc:
        assert "killed after the table" in str(exc)
    else:
        raise AssertionError("the first coordinator was not killed")
    rid = coordinator._load_state()["round_id"]
    assert coordinator.client.phase_of(rid) == Phase.CALCULATE  # table on chain, not settled
    del coordinator
    gc.collect()  # release its state dir's lock, as the process's death would


@dataclass
class Rounds:
    plain: Run
    resumed: Run


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rounds]:
    """One chain, one set of daemons, two rounds: round 1 run by ``coordinator run`` start to
    end; round 2 by a coordinator killed after its table, resumed by ``coordinator run``."""
    root = tmp_path_factory.mktemp("node-coordinator-market")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **ENV}
    first: dict[str, Any] = {}

    def plain_then_killed(cfg: Path) -> None:
        out = root / "result-1.json"
        done = subprocess.run(
            [FEDSETTLE, "coordinator", "run", "--config", str(cfg / "consortium.toml"),
             "--devnet", "--out", str(out)],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        first["result"] = json.loads(out.read_text())
        first["seconds"] = time.monotonic() - start
        _die_after_the_table(cfg)

    start = time.monotonic()
    with distributed_round(root, init=INIT, env=ENV, before_run=plain_then_killed) as r:
        plain = Run(first["result"], r.client, r.cfg, r.node_states, first["seconds"])
        yield Rounds(plain, Run(r.result, r.client, r.cfg, r.node_states, r.seconds))


@pytest.fixture(scope="module")
def run(rounds: Rounds) -> Run:
    return rounds.plain


def _check_settled(run: Run) -> None:
    from settlement import MECHANISM_MARKET

    result, client, rid = run.result, run.client, run.rid
    assert result["status"] == "settled" and result["mechanism"] == "market"
    assert client.phase_of(rid) == Phase.SETTLED
    assert client.round_config(rid).mechanism_id == MECHANISM_MARKET
    profiles = client.profiles(rid)
    assert all(p.joined for p in profiles)
    assert sum(int(p.payoff) for p in profiles) == 0 == result["sum_R_wei"]
    assert any(int(p.payoff) != 0 for p in profiles)  # the market traded
    state = client.round_state(rid)
    assert int(state.total_withdrawn) == int(state.total_deposits)  # every wei paid back out
    transfers = client.events("PayoffTransferred", round_id=rid)
    assert len(transfers) == 3
    for silo in result["silos"]:
        profile = profiles[silo["index"]]
        (paid,) = [e for e in transfers if int(e.args["index"]) == silo["index"]]
        assert int(paid.args["amount"]) == int(profile.deposited) + int(profile.payoff)
        assert silo["payout_due_wei"] == int(paid.args["amount"])
    assert len(client.events("ReportTableSubmitted", round_id=rid)) == 1


def test_the_market_round_settles_budget_balanced(run: Run) -> None:
    result = run.result
    print(json.dumps({"seconds": round(run.seconds, 1), "timings": result["timings_s"]}))
    _check_settled(run)
    # a local round 0, then 2 priced FL rounds; the table carries those 2 graphs
    assert len(result["accuracy"]) == 3 and result["accuracy"][-1] > 0.5
    names = [s["name"] for s in result["silos"]]
    graphs = unpack_market_table(3, run.client.report_table(run.rid))
    posted = [[[names[j] for j in row] for row in g.rows()] for g in graphs]
    assert posted == result["training"]["history"]["graphs"]
    assert sum(len(row) for g in posted for row in g) > 0
    # each slot registered the N, c, K of consortium.toml, which its daemon checked
    for silo in result["silos"]:
        profile = run.client.profile_record(run.rid, silo["index"])
        assert profile.base == silo["N"] and profile.x_max == round(silo["K"] * 10**6)


def test_each_daemon_checked_deposited_checked_its_row_and_withdrew_once(run: Run) -> None:
    graphs = run.result["training"]["history"]["graphs"]
    for silo, state_dir in zip(run.result["silos"], run.node_states, strict=True):
        actions = [a for a in _actions(state_dir) if a.get("round_id") == run.rid]
        events = [a["event"] for a in actions]
        for event in ("deposited", "table-checked", "withdrew"):
            assert events.count(event) == 1, (silo["name"], event)
        # it checked the round against the market terms and its own N, c, K before it paid
        accepted = [a for a in actions if a["event"] == "terms-accepted"]
        assert accepted and all(a["mechanism"] == "market" for a in accepted)
        assert accepted[0]["N"] == silo["N"]
        assert events.index("terms-accepted") < events.index("deposited")
        # no strategy phase, no assignment: the table reported for every slot
        for absent in ("best-response", "assignment-accepted", "reported", "table-disputed"):
            assert absent not in events, (silo["name"], absent)
        (checked,) = [a for a in actions if a["event"] == "table-checked"]
        assert checked["rounds"] == 2
        assert checked["imports"] == [g[silo["index"]] for g in graphs]


def test_the_coordinator_ran_a_session_not_a_strategy_phase(run: Run) -> None:
    actions = run.coordinator_actions  # round 1's run: up to its result
    actions = actions[: [a["event"] for a in actions].index("result-written") + 1]
    steps = [a["step"] for a in actions if a["event"] == "step"]
    assert steps == ["connect", "contract", "open", "deposits", "session", "table", "reports",
                     "settle"]  # fmt: skip
    events = [a["event"] for a in actions]
    assert events.count("table-submitted") == 1 and events.count("market-round") == 2
    assert "strategy-phase" not in events and "assigned" not in events


def test_audit_verify_passes(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(
        ["audit", "verify", str(run.rid), "--rpc", run.result["rpc_url"], "--contract",
         run.result["contract"], "--format", "json"]
    )  # fmt: skip
    body = json.loads(capsys.readouterr().out)
    assert code == 0, body
    assert body["status"] == "verified"
    assert body["checks"]["payoffs_match"]["status"] == "passed"


def test_a_coordinator_killed_after_its_table_resumes_without_a_second_one(
    rounds: Rounds,
) -> None:
    """The restarted coordinator trains nothing, posts nothing and settles the same payoffs."""
    run, resumed = rounds.plain, rounds.resumed
    assert resumed.rid == run.rid + 1
    _check_settled(resumed)  # one table only
    actions = resumed.coordinator_actions
    (opened,) = [i for i, a in enumerate(actions) if a.get("round_id") == resumed.rid
                 and a["event"] == "round-opened"]  # fmt: skip
    actions = actions[opened:]  # round 2's two coordinators
    events = [a["event"] for a in actions]
    (died,) = [i for i, a in enumerate(actions) if a["event"] == "step-failed"]
    assert actions[died]["step"] == "table" and "killed after the table" in actions[died]["error"]
    assert events[:died].count("table-submitted") == 1
    restarted = events[died + 1 :]
    assert "round-resumed" in restarted and "session-resumed" in restarted
    for absent in ("round-opened", "market-round", "table-submitted", "deployed"):
        assert absent not in restarted, absent
    # the first coordinator's session, saved before its table, is the result's
    assert (
        resumed.result["training"]["history"]["graphs"]
        == run.result["training"]["history"]["graphs"]
    )
    # the same training (same seeds) gives the same table and payoffs as the uninterrupted round
    assert resumed.client.report_table(resumed.rid) == run.client.report_table(run.rid)
    assert [s["R_wei"] for s in resumed.result["silos"]] == [
        s["R_wei"] for s in run.result["silos"]
    ]
    assert [s["N"] for s in resumed.result["silos"]] == [s["N"] for s in run.result["silos"]]
