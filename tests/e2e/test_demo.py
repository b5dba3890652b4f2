"""End-to-end: ``fedsettle demo`` on a spawned anvil with real torch training, then reopen its chain.

The demo is the consortium coordinator with in-process silos: its round runs through the same
:class:`fl_node.coordinator.Coordinator` steps as ``fedsettle coordinator run``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fl_node.cli import main
from settlement import AnvilBackend, Phase, SettlementClient

pytestmark = [pytest.mark.chain, pytest.mark.slow]


DEMO_ARGS = ["demo", "--orgs", "3", "--rounds", "2", "--seed", "1"]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    code = main([*DEMO_ARGS, "--out", str(out)])
    assert code == 0
    return out


def test_demo_writes_every_output(demo_out: Path) -> None:
    for name in ("report.json", "report.md", "deployment.json", "chain-state.json"):
        assert (demo_out / name).is_file(), name
    for plot in ("accuracy.png", "contributions.png", "payoffs.png"):
        assert (demo_out / plot).stat().st_size > 1000


def test_demo_report_balances_and_trains(demo_out: Path) -> None:
    report = json.loads((demo_out / "report.json").read_text())
    orgs = report["orgs"]
    assert len(orgs) == 3
    assert report["sum_R_wei"] == 0
    assert sum(o["R_wei"] for o in orgs) == 0
    assert report["sum_deposits_wei"] == report["sum_payouts_wei"] > 0
    for o in orgs:
        assert o["payout_wei"] == o["deposit_wei"] + o["R_wei"]
        assert 0.0 < o["d"] <= 1.0 and o["f"] > 0
        assert {"name", "address", "d", "f", "x", "c", "R_wei", "payout_wei", "payoff"} <= set(o)
    assert len(report["accuracy"]) == len(report["loss"]) == 2
    assert report["accuracy"][-1] > 0.5
    assert report["equilibrium"]["converged"] and report["equilibrium"]["is_nash"]
    assert report["gas"]["total"] > 0


def test_demo_chain_state_reopens_with_the_same_records(demo_out: Path) -> None:
    report = json.loads((demo_out / "report.json").read_text())
    deployment = json.loads((demo_out / "deployment.json").read_text())
    with AnvilBackend(load_state=demo_out / "chain-state.json") as chain:
        client = SettlementClient.at(chain, deployment["contract_address"])
        assert client.chain_id == deployment["chain_id"]
        rid = deployment["round_id"]
        assert client.phase_of(rid) == Phase.SETTLED
        profiles = client.profiles(rid)
        assert [p.account for p in profiles] == [o["address"] for o in orgs_of(report)]
        assert [int(p.payoff) for p in profiles] == [o["R_wei"] for o in orgs_of(report)]
        assert all(p.withdrawn for p in profiles)
        assert "0x" + bytes(client.round_state(rid).payoff_digest).hex() == report["payoff_digest"]


def orgs_of(report: dict) -> list[dict]:
    return list(report["orgs"])


def test_the_demo_round_ran_the_coordinators_steps(demo_out: Path) -> None:
    actions = [
        json.loads(line)
        for line in (demo_out / "coordinator" / "actions.jsonl").read_text().splitlines()
    ]
    steps = [a["step"] for a in actions if a["event"] == "step"]
    assert steps == [
        "connect", "contract", "open", "deposits", "strategy", "training", "assign", "reports",
        "settle",
    ]  # fmt: skip
    assert [a["silo"] for a in actions if a["event"] == "assigned"] == [
        "silo-0",
        "silo-1",
        "silo-2",
    ]
    report = json.loads((demo_out / "report.json").read_text())
    result = json.loads((demo_out / "coordinator" / "result-round-1.json").read_text())
    assert result["status"] == "settled" and result["mechanism"] == report["mechanism"] == "tradefl"
    assert [s["R_wei"] for s in result["silos"]] == [o["R_wei"] for o in report["orgs"]]
    assert [s["x"] for s in result["silos"]] == [o["x"] for o in report["orgs"]]
    assert result["accuracy"] == report["accuracy"]


def _numbers(report: dict) -> dict:
    """Everything in a demo report that the seed determines (not timings, not the RPC port)."""
    phase = {k: v for k, v in report["strategy_phase"].items() if k not in ("seconds", "trace")}
    trace = [
        {k: v for k, v in t.items() if k != "seconds"} for t in report["strategy_phase"]["trace"]
    ]
    keep = ("orgs", "sum_R_wei", "accuracy", "loss", "centralized_accuracy", "equilibrium", "gas",
            "payoff_digest", "consortium")  # fmt: skip
    return {**{k: report[k] for k in keep}, "phase": phase, "trace": trace}


def test_the_same_seed_gives_the_same_numbers(demo_out: Path, tmp_path: Path) -> None:
    assert main([*DEMO_ARGS, "--out", str(tmp_path)]) == 0
    first = json.loads((demo_out / "report.json").read_text())
    second = json.loads((tmp_path / "report.json").read_text())
    assert _numbers(second) == _numbers(first)
    assert len(first["strategy_phase"]["trace"]) == first["equilibrium"]["queries"] > 0


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["--orgs", "1"], 2, "--orgs 1"),
        (["--epochs", "0"], 2, "--epochs 0"),
        (["--dataset", "no-such-dataset"], 6, "no-such-dataset"),
        (
            ["--mechanism", "nope"],
            2,
            "unknown mechanism 'nope'; registered mechanisms: cogen, market, tradefl",
        ),
    ],
)
def test_demo_bad_input_names_the_option(
    argv: list[str], code: int, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "out"), *argv]) == code
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "out" / "chain-state.json").exists()
