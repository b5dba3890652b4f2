"""End-to-end: ``fedsettle demo --mechanism cogen`` on a spawned anvil, real generators and torch.

Strongly non-IID digits silos train their own generators, play the distributed best response
over the aggregate, train on real plus exactly x_i synthetic samples, and settle mechanism 2 with
exact budget balance; the saved chain state reopens with the same records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fl_node.cli import main
from settlement import AnvilBackend, OrgSpec, Phase, SettlementClient, unpack_rho
from settlement.audit import mechanism_for
from settlement.audit._mechanisms import RoundInputs

pytestmark = [pytest.mark.chain, pytest.mark.slow]

ARGS = ["demo", "--mechanism", "cogen", "--orgs", "3", "--rounds", "2", "--seed", "2"]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-cogen")
    assert main([*ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def report(demo_out: Path) -> dict:
    return json.loads((demo_out / "report.json").read_text())


def test_every_output_is_written(demo_out: Path) -> None:
    for name in ("report.json", "report.md", "deployment.json", "chain-state.json"):
        assert (demo_out / name).is_file(), name
    for plot in ("generation.png", "accuracy.png", "payoffs.png"):
        assert (demo_out / plot).stat().st_size > 1000, plot
    md = (demo_out / "report.md").read_text()
    assert "| D | delta | x |" in md and "without generation" in md
    assert "leave-one-out (on chain) |" in md


def test_budget_balances_to_the_wei(report: dict) -> None:
    orgs = report["orgs"]
    assert report["mechanism"] == "cogen" and len(orgs) == 3
    assert sum(o["R_wei"] for o in orgs) == report["sum_R_wei"] == 0
    assert sum(o["payout_wei"] for o in orgs) == report["sum_payouts_wei"]
    assert report["sum_payouts_wei"] == report["sum_deposits_wei"] > 0
    for o in orgs:
        assert {"D", "delta", "x", "c", "score", "R_wei", "payout_wei"} <= set(o)
        assert o["payout_wei"] == o["deposit_wei"] + o["R_wei"]
        assert o["x_onchain"] == o["x"] and 0 <= o["x"] <= o["x_max"]
        assert o["score"] == pytest.approx(o["D"] + report["equilibrium"]["q"] * o["x"])


def test_the_strategy_phase_reached_the_equilibrium(report: dict) -> None:
    eq = report["equilibrium"]
    assert eq["converged"] and eq["is_nash"]
    assert eq["max_abs_diff_to_fixed_point"] < 1e-2
    # a silo with more real data and generation scores more and is paid by the others
    orgs = sorted(report["orgs"], key=lambda o: o["score"])
    assert orgs[0]["R_wei"] < 0 < orgs[-1]["R_wei"]


def test_both_sessions_trained(report: dict) -> None:
    for key in ("accuracy", "accuracy_without_generation"):
        assert len(report[key]) == 2 and report[key][-1] > 0.3, key
    # the two sessions differ only in the synthetic samples
    if any(o["x"] > 0 for o in report["orgs"]):
        assert report["loss"] != report["loss_without_generation"]


def test_the_chain_state_reopens_and_the_auditor_recomputes_mechanism_2(
    demo_out: Path, report: dict
) -> None:
    deployment = json.loads((demo_out / "deployment.json").read_text())
    with AnvilBackend(load_state=demo_out / "chain-state.json") as chain:
        client = SettlementClient.at(chain, deployment["contract_address"])
        rid = deployment["round_id"]
        assert client.phase_of(rid) == Phase.SETTLED
        config = client.round_config(rid)
        assert config.mechanism_id == 2
        profiles = client.profiles(rid)
        assert [p.base for p in profiles] == [round(o["D"]) for o in report["orgs"]]
        assert [int(p.payoff) for p in profiles] == [o["R_wei"] for o in report["orgs"]]
        assert all(p.withdrawn for p in profiles)
        inputs = RoundInputs(
            config=config,
            orgs=[OrgSpec(p.account, p.x_max, p.f_max, p.base) for p in profiles],
            rho_bps=unpack_rho(client.round_rho(rid), len(profiles)),
            deposits={i: int(p.deposited) for i, p in enumerate(profiles) if p.joined},
            reports={i: (p.x, p.f) for i, p in enumerate(profiles) if p.reported},
        )
        mechanism = mechanism_for(2)
        assert mechanism is not None
        out = mechanism.recompute(inputs)
        assert out.outcome.payoffs == [int(p.payoff) for p in profiles]
        assert out.outcome.digest == client.round_state(rid).payoff_digest
        assert "0x" + bytes(out.outcome.digest).hex() == report["payoff_digest"]
        # the coordinator's table carries each silo's leave-one-out score (not paid on)
        measured = client.measured_scores(rid)
        assert measured == [o["leave_one_out_onchain"] for o in report["orgs"]]
        for o, m in zip(report["orgs"], measured, strict=True):
            assert m == pytest.approx(o["leave_one_out"], abs=1e-9)


def test_audit_verify_passes_on_the_saved_cogen_chain_state(
    demo_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fedsettle audit verify` on the cogen demo's saved chain: mechanism 2 recomputed, verified."""
    capsys.readouterr()
    code = main(
        ["audit", "verify", "1", "--state", str(demo_out / "chain-state.json"), "--format", "json"]
    )
    body = json.loads(capsys.readouterr().out)
    assert code == 0, body
    assert body["status"] == "verified" and body["checks"]["payoffs_match"]["status"] == "passed"
