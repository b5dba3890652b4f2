"""End to end, cogen (mechanism 2): anvil + ``fedsettle coordinator run`` + three daemons.

As ``test_node_coordinator.py`` for tradefl, every component its own process: the configs come
from ``fedsettle coordinator init --mechanism cogen``; each daemon checks the pushed cogen terms
against the round on chain, trains its own GMM generator on its data and measures its cost
before it deposits, and answers the strategy phase with its exact best response to the
aggregate; the coordinator trains (embedded runtime: real torch training on digits, each silo's
real data plus exactly round(x_i) samples of its own generator), submits the report table and
settles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from distributed_round import actions as _actions
from distributed_round import distributed_round

from fl_node.coordinator import ConsortiumConfig, load_consortium_config
from settlement import Phase, SettlementClient

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@dataclass
class Run:
    result: dict[str, Any]
    client: SettlementClient
    config: ConsortiumConfig
    node_states: list[Path]
    seconds: float


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("node-coordinator-cogen")
    with distributed_round(
        root, init=["--mechanism", "cogen", "--rounds", "2"], run=(), env={"OMP_NUM_THREADS": "1"}
    ) as r:
        yield Run(
            r.result,
            r.client,
            load_consortium_config(r.cfg / "consortium.toml"),
            r.node_states,
            r.seconds,
        )


def test_the_cogen_round_settles_budget_balanced(run: Run) -> None:
    from settlement import MECHANISM_COGEN

    result, client = run.result, run.client
    print(json.dumps({"seconds": round(run.seconds, 1), "timings": result["timings_s"]}))
    assert result["status"] == "settled" and result["mechanism"] == "cogen"
    rid = result["round_id"]
    assert client.phase_of(rid) == Phase.SETTLED
    assert client.round_config(rid).mechanism_id == MECHANISM_COGEN
    profiles = client.profiles(rid)
    assert sum(int(p.payoff) for p in profiles) == 0 == result["sum_R_wei"]
    assert any(int(p.payoff) != 0 for p in profiles)
    assert all(p.joined for p in profiles)
    # a table row (0, 0) reads as "not reported" on chain (and settles at the minimum, x = 0)
    assert [p.reported for p in profiles] == [s["synthetic"] > 0 for s in result["silos"]]
    state = client.round_state(rid)
    assert int(state.total_withdrawn) == int(state.total_deposits)  # every wei paid back out
    assert result["strategy_phase"]["converged"] and not result["strategy_phase"]["dropped"]
    assert len(result["accuracy"]) == 2 and result["accuracy"][-1] > 0.2  # chance: 0.1


def test_each_silo_has_its_leave_one_out_score_attested_on_chain(run: Run) -> None:
    """The coordinator scored every silo's last-round update on the held-out test split, and its
    one table transaction stored the scores next to the reports (1e-9 units, not paid on)."""
    import math

    scores = {s["name"]: s["leave_one_out"] for s in run.result["silos"]}
    print(json.dumps({"leave_one_out": scores}))
    assert scores == run.result["training"]["leave_one_out"]
    assert all(isinstance(v, float) and math.isfinite(v) for v in scores.values())
    assert len(set(scores.values())) == len(scores)  # measured per silo, not a constant
    onchain = run.client.measured_scores(run.result["round_id"])
    assert onchain is not None and len(onchain) == len(scores)
    for silo in run.result["silos"]:
        assert silo["leave_one_out_onchain"] == onchain[silo["index"]]
        assert onchain[silo["index"]] == pytest.approx(silo["leave_one_out"], abs=1e-9)


def test_each_report_is_the_silos_equilibrium_strategy(run: Run) -> None:
    from solver.cogen import solve

    result, client, terms = run.result, run.client, run.config.terms
    rid = result["round_id"]
    # each silo's private cost, as its daemon measured it on its own generator
    costs = {}
    for silo, state_dir in zip(result["silos"], run.node_states, strict=True):
        (priced,) = [a for a in _actions(state_dir) if a["event"] == "generator-priced"]
        assert priced["kind"] == "gmm" and priced["c"] > 0
        costs[silo["name"]] = priced["c"]
        events = [a["event"] for a in _actions(state_dir) if a.get("round_id") == rid]
        assert events.count("table-checked") == 1 and "table-disputed" not in events
    equilibrium = solve(terms.game(costs), "fixed-point")
    assert equilibrium.converged
    for silo, x_eq in zip(result["silos"], equilibrium.x, strict=True):
        assert silo["x"] == pytest.approx(float(x_eq), rel=1e-5, abs=1e-3), silo["name"]
        (report,) = [
            e
            for e in client.events("ContributionSubmitted", round_id=rid)
            if int(e.args["index"]) == silo["index"]
        ]
        assert int(report.args["x"]) == silo["synthetic"] == round(silo["x"]) == silo["x_onchain"]
        assert int(report.args["f"]) == 0
        # the slot's score base is its registered real samples D_i
        assert client.profile_record(rid, silo["index"]).base == int(terms.D[silo["index"]])
    assert all(s["synthetic"] > 0 for s in result["silos"])  # an interior equilibrium


def test_each_daemon_checked_priced_deposited_and_withdrew_once(run: Run) -> None:
    result, client = run.result, run.client
    rid = result["round_id"]
    transfers = client.events("PayoffTransferred", round_id=rid)
    assert len(transfers) == 3
    for silo, state_dir in zip(result["silos"], run.node_states, strict=True):
        profile = client.profile_record(rid, silo["index"])
        (paid,) = [e for e in transfers if int(e.args["index"]) == silo["index"]]
        assert int(paid.args["amount"]) == int(profile.deposited) + int(profile.payoff)
        events = [a["event"] for a in _actions(state_dir) if a.get("round_id") == rid]
        for event in ("generator-priced", "deposited", "assignment-accepted", "withdrew"):
            assert events.count(event) == 1, (silo["name"], event)
        # it checked the round against the cogen terms and priced its generator before it paid
        assert events.index("terms-accepted") < events.index("deposited")
        assert events.index("generator-priced") < events.index("deposited")
        assert "reported" not in events  # the coordinator's table reported for it


def test_training_mixed_each_silos_synthetic_samples(run: Run) -> None:
    """Each silo trained on D_i real + exactly round(x_i) samples of its own generator and was
    weighted by D_i + x_i in FedAvg, in every FL round."""
    result = run.result
    history = result["training"]["history"]
    assert sorted(result["training"]["completed"]) == sorted(s["name"] for s in result["silos"])
    mixed = {s["index"] + 1: s["D"] + s["synthetic"] for s in result["silos"]}
    total = sum(mixed.values())
    for fl_round in history["rounds"]:
        for node, metrics in fl_round["train_metrics"].items():
            assert metrics["num-examples-total"] == mixed[int(node)]
            assert fl_round["weights"][node] == pytest.approx(mixed[int(node)] / total)
