"""End-to-end: ``fedsettle demo --mechanism market`` on a spawned anvil with real torch training.

Four digits silos report N, c, K, deposit, train personalized models through the market for two
priced rounds; the coordinator's table is settled by the contract with exact budget balance, and
the saved chain state reopens with payoffs equal to the Python mirror and the auditor's
recomputation of mechanism 3; the auditor dashboard, served on that state, draws every FL
round's import graph (headless Chromium, the ``Browser`` of ``test_dashboard``). The round runs
through the one round orchestration (:class:`fl_node.coordinator.Coordinator`, in-process
silos), whose action log and result document are checked too.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from test_dashboard import Browser

from fl_node.cli import main
from settlement import (
    AnvilBackend,
    OrgSpec,
    Phase,
    SettlementClient,
    market_outcome,
    unpack_market_table,
)
from settlement.audit import AuditService, create_app, mechanism_for
from settlement.audit._mechanisms import RoundInputs

pytestmark = [pytest.mark.chain, pytest.mark.slow]

ARGS = ["demo", "--mechanism", "market", "--orgs", "4", "--rounds", "2"]
ORG_FIELDS = {
    "name",
    "address",
    "N",
    "c",
    "K",
    "imports",
    "exports",
    "payments",
    "bond_wei",
    "deposit_wei",
    "R_wei",
    "payout_wei",
    "accuracy_personalized",
    "accuracy_local",
}


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-market")
    assert main([*ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def report(demo_out: Path) -> dict:
    return json.loads((demo_out / "report.json").read_text())


def test_every_output_is_written(demo_out: Path, report: dict) -> None:
    for name in ("report.json", "report.md", "deployment.json", "chain-state.json"):
        assert (demo_out / name).is_file(), name
    for plot in ("graph.png", "accuracy_gain.png", "payments.png"):
        assert (demo_out / plot).stat().st_size > 1000, plot
    md = (demo_out / "report.md").read_text()
    assert "| N | c | K | imports | exports |" in md and "vs local-only" in md
    assert report["mechanism"] == "market" and report["options"]["orgs"] == 4
    assert report["market"]["priced_rounds"] == 2 and len(report["graphs"]) == 2
    for o in report["orgs"]:
        assert ORG_FIELDS <= set(o)
        assert len(o["imports"]) == len(o["exports"]) == 2


def test_budget_balances_to_the_wei(report: dict) -> None:
    orgs = report["orgs"]
    assert sum(o["R_wei"] for o in orgs) == report["sum_R_wei"] == 0
    assert any(o["R_wei"] for o in orgs)  # somebody traded
    assert sum(o["payout_wei"] for o in orgs) == report["sum_payouts_wei"]
    assert report["sum_payouts_wei"] == report["sum_deposits_wei"] > 0
    for o in orgs:
        assert o["payout_wei"] == o["deposit_wei"] + o["R_wei"] >= 0
        assert o["deposit_wei"] == o["bond_wei"]


def test_the_report_is_consistent_with_the_graphs(report: dict) -> None:
    names = [o["name"] for o in report["orgs"]]
    for i, o in enumerate(report["orgs"]):
        for k, graph in enumerate(report["graphs"]):
            assert o["imports"][k] == [names[j] for j in graph[i]]
            assert o["exports"][k] == [names[m] for m, row in enumerate(graph) if i in row]
        p = o["payments"]
        assert p["net"] == pytest.approx(p["received"] - p["paid"])
        # the contract pays in wei what the float solver priced, up to fixed-point truncation
        edges = sum(map(len, o["imports"])) + sum(map(len, o["exports"]))
        tolerance = 1e-6 * report["market"]["unit_wei"] * edges
        assert o["R_wei"] == pytest.approx(p["net"] * report["market"]["unit_wei"], abs=tolerance)
        assert 0 <= o["accuracy_personalized"] <= 1 and 0 <= o["accuracy_local"] <= 1
    assert len(report["accuracy"]) == len(report["accuracy_local"]) == 3  # round 0 is local
    assert report["accuracy"][0] == report["accuracy_local"][0]  # the same local round 0
    assert report["mirror_matches"]


def test_the_chain_state_reopens_and_payoffs_equal_the_mirror(demo_out: Path, report: dict) -> None:
    deployment = json.loads((demo_out / "deployment.json").read_text())
    with AnvilBackend(load_state=demo_out / "chain-state.json") as chain:
        client = SettlementClient.at(chain, deployment["contract_address"])
        rid = deployment["round_id"]
        assert client.phase_of(rid) == Phase.SETTLED
        config = client.round_config(rid)
        assert config.mechanism_id == 3
        profiles = client.profiles(rid)
        assert [p.base for p in profiles] == [o["N"] for o in report["orgs"]]
        assert [int(p.payoff) for p in profiles] == [o["R_wei"] for o in report["orgs"]]
        assert all(p.withdrawn for p in profiles)
        state = client.round_state(rid)
        assert state.total_withdrawn == state.total_deposits == report["sum_deposits_wei"]
        table = client.report_table(rid)
        assert table is not None
        graphs = unpack_market_table(len(profiles), table)
        assert [
            [list(g.exporters[g.row_start[i] : g.row_start[i + 1]]) for i in range(4)]
            for g in graphs
        ] == report["graphs"]
        orgs = [OrgSpec(p.account, p.x_max, p.f_max, p.base) for p in profiles]
        deposits = {i: int(p.deposited) for i, p in enumerate(profiles) if p.joined}
        mirror = market_outcome(config, orgs, deposits, table)
        assert mirror.payoffs == [int(p.payoff) for p in profiles]
        assert mirror.payouts == [o["payout_wei"] for o in report["orgs"]]
        assert mirror.digest == state.payoff_digest
        audited = mechanism_for(3)
        assert audited is not None
        inputs = RoundInputs(
            config=config,
            orgs=orgs,
            rho_bps=[],
            deposits=deposits,
            reports={},
            market_table=table,
        )
        assert audited.recompute(inputs).outcome.payoffs == mirror.payoffs
        assert "0x" + bytes(state.payoff_digest).hex() == report["payoff_digest"]


def test_the_round_ran_through_the_coordinators_shared_steps(demo_out: Path, report: dict) -> None:
    """The coordinator's action log holds the shared lifecycle with the market's session."""
    state = demo_out / "coordinator"
    actions = [json.loads(line) for line in (state / "actions.jsonl").read_text().splitlines()]
    steps = [a["step"] for a in actions if a["event"] == "step"]
    assert steps == [
        "connect", "contract", "open", "deposits", "session", "table", "reports", "settle"
    ]  # fmt: skip
    events = [a["event"] for a in actions]
    for event in ("deployed", "round-opened", "deposits-closed", "terms-pushed", "table-submitted",
                  "reports-closed", "settled", "result-written"):  # fmt: skip
        assert event in events, event
    assert "strategy-phase" not in events and "assigned" not in events
    priced = [a for a in actions if a["event"] == "market-round"]
    assert [a["graph"] for a in priced] == [
        [[report["orgs"][j]["name"] for j in row] for row in g] for g in report["graphs"]
    ]
    result = json.loads((state / f"result-round-{report['round_id']}.json").read_text())
    assert result["status"] == "settled" and result["mechanism"] == "market"
    assert result["strategy_phase"] is None
    assert [s["N"] for s in result["silos"]] == [o["N"] for o in report["orgs"]]
    assert [s["R_wei"] for s in result["silos"]] == [o["R_wei"] for o in report["orgs"]]
    assert result["accuracy"] == report["accuracy"]  # the session's personalized curve
    assert result["training"]["history"]["graphs"] == [a["graph"] for a in priced]


def test_the_market_without_a_coordinator_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ARGS, "--no-attest", "--out", str(tmp_path / "out")]) == 2
    assert "--no-attest: the market's table of graphs is submitted by the coordinator" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_audit_verify_passes_on_the_saved_chain_state(
    demo_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fedsettle audit verify` re-runs the market rule from the indexed table: verified, exit 0."""
    capsys.readouterr()
    code = main(
        ["audit", "verify", "1", "--state", str(demo_out / "chain-state.json"), "--format", "json"]
    )
    body = json.loads(capsys.readouterr().out)
    assert code == 0, body
    assert body["status"] == "verified"
    assert body["checks"]["payoffs_match"]["status"] == "passed"
    assert body["checks"]["reports_in_bounds"]["applicable"] is False


@pytest.fixture(scope="module")
def dashboard(
    demo_out: Path, report: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The auditor app over the demo's saved chain state, served by uvicorn on loopback."""
    deployment = json.loads((demo_out / "deployment.json").read_text())
    labels = {o["address"]: o["name"] for o in report["orgs"]}
    with AnvilBackend(load_state=demo_out / "chain-state.json") as chain:
        service = AuditService(
            tmp_path_factory.mktemp("market-dash") / "index.sqlite",
            w3=chain.web3(),
            contract=deployment["contract_address"],
            labels=labels,
        )
        service.sync()
        server = uvicorn.Server(
            uvicorn.Config(create_app(service), log_level="warning", lifespan="off", ws="none")
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(timeout=20)
            sock.close()
            service.close()


GRAPHS_JS = """[...document.querySelectorAll('#market-graphs figure')].map((f) => ({
  round: Number(f.dataset.flRound),
  edges: [...f.querySelectorAll('svg line.edge')].map(
    (e) => [Number(e.dataset.importer), Number(e.dataset.exporter)]),
  labels: [...f.querySelectorAll('svg g.node text.label')].map((t) => t.textContent),
}))"""


def test_the_round_page_draws_one_edge_per_imported_pair(
    dashboard: str, report: dict, tmp_path: Path
) -> None:
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(f"{dashboard}/#/rounds/{report['round_id']}")
        browser.wait_for("document.querySelectorAll('#market-graphs svg').length")
        drawn = browser.evaluate(GRAPHS_JS)
        external = browser.evaluate(
            "[...document.querySelectorAll('script[src], link[href], img[src]')]"
            ".map((e) => e.src || e.href)"
            ".filter((u) => !u.startsWith(location.origin) && !u.startsWith('data:'))"
        )
        errors = browser.console_errors()
    finally:
        browser.close()
    names = [o["name"] for o in report["orgs"]]
    assert [g["round"] for g in drawn] == list(range(1, len(report["graphs"]) + 1))
    for g, graph in zip(drawn, report["graphs"], strict=True):
        pairs = [[i, j] for i, row in enumerate(graph) for j in row]
        assert g["edges"] == pairs  # one line per imported pair, in the table's row order
        assert g["labels"] == names
    assert sum(len(g["edges"]) for g in drawn) > 0
    assert external == [] and errors == []
