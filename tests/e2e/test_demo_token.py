"""End-to-end: ``fedsettle demo --token`` settles the round in a test stablecoin.

The demo deploys TestToken (6 decimals) on its anvil, mints every silo its grant, opens the round
in the token, and every silo approves and deposits its bond in tUSD; payouts are token transfers.
Each silo ends with its grant plus its payoff to the unit, the contract holds nothing, and the
auditor verifies the round and the token's solvency from the saved chain state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fl_node.cli import main
from fl_node.demo import DEMO_TOKEN

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-token")
    args = ["demo", "--token", "--orgs", "3", "--rounds", "1", "--epochs", "1", "--out", str(out)]
    assert main(args) == 0
    return out


def test_the_round_settles_in_the_token_to_the_unit(demo_out: Path) -> None:
    report = json.loads((demo_out / "report.json").read_text())
    asset = report["asset"]
    assert (asset["symbol"], asset["decimals"]) == ("tUSD", 6) and asset["token"]
    assert report["sum_R_wei"] == 0 and report["sum_deposits_wei"] == report["sum_payouts_wei"] > 0
    orgs = report["orgs"]
    assert any(o["R_wei"] != 0 for o in orgs)
    for o, after in zip(orgs, asset["balances_after"], strict=True):
        assert o["payout_wei"] == o["deposit_wei"] + o["R_wei"]
        assert after == DEMO_TOKEN.grant + o["R_wei"]  # grant - deposit + payout
    assert asset["contract_balance_after"] == 0
    md = (demo_out / "report.md").read_text()
    assert f"Settled in tUSD (ERC-20 at `{asset['token']}`)" in md and "R (tUSD units)" in md


def test_the_auditor_verifies_the_round_and_the_token_solvency(
    demo_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(demo_out / "chain-state.json")
    capsys.readouterr()
    assert main(["audit", "verify", "1", "--state", state, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "verified"
    assert main(["audit", "deployment", "--state", state, "--format", "json"]) == 0
    solvency = json.loads(capsys.readouterr().out)["solvency"]
    [token] = solvency["tokens"]
    assert token["check"]["status"] == "passed" and token["liabilities"] == 0


@pytest.fixture(scope="module")
def market_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-market-token")
    args = ["demo", "--mechanism", "market", "--token", "--orgs", "3", "--rounds", "1"]
    assert main([*args, "--out", str(out)]) == 0
    return out


def test_the_market_settles_its_payments_in_the_token(
    market_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mechanism 3 through the same path: importers pay exporters in tUSD, to the unit."""
    report = json.loads((market_out / "report.json").read_text())
    asset = report["asset"]
    assert asset["symbol"] == "tUSD" and report["market"]["unit_wei"] == DEMO_TOKEN.unit
    assert report["sum_R_wei"] == 0 and any(o["R_wei"] != 0 for o in report["orgs"])
    for o, after in zip(report["orgs"], asset["balances_after"], strict=True):
        assert after == DEMO_TOKEN.grant + o["R_wei"]
    assert asset["contract_balance_after"] == 0
    state = str(market_out / "chain-state.json")
    capsys.readouterr()
    assert main(["audit", "verify", "1", "--state", state, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "verified"
