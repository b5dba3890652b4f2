"""End to end: anvil + ``fedsettle coordinator run`` + three ``fedsettle node run`` daemons.

Every component is its own process, as in the distributed topology, with the embedded FL
runtime for training. The configs come from ``fedsettle coordinator init``; the coordinator
deploys the contract (where the node configs expect it), opens a round, the daemons deposit,
answer the strategy phase over HTTP, report their attested contributions and withdraw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from distributed_round import actions as _actions
from distributed_round import distributed_round

from fl_node.coordinator import load_consortium_config
from fl_node.daemon import load_node_config
from settlement import Phase, SettlementClient

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@dataclass
class Run:
    result: dict[str, Any]
    client: SettlementClient
    node_states: list[Path]
    seconds: float
    stderr: str = ""
    stdout: str = ""
    state: Path = Path()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Two settlement rounds back to back in one coordinator process (``--rounds 2``); the
    tests of one round look at the second (``--out`` holds the latest round's result)."""
    root = tmp_path_factory.mktemp("node-coordinator")
    flags = ["--log-format", "human", "--rounds", "2"]
    with distributed_round(root, init=["--rounds", "1"], run=flags) as r:
        state = load_consortium_config(r.cfg / "consortium.toml").state_dir
        yield Run(r.result, r.client, r.node_states, r.seconds, r.stderr, r.stdout, state)


def test_the_round_settles_budget_balanced(run: Run) -> None:
    result, client = run.result, run.client
    print(json.dumps({"seconds": round(run.seconds, 1), "timings": result["timings_s"]}))
    assert result["status"] == "settled" and result["runtime"] == "embedded"
    rid = result["round_id"]
    assert client.phase_of(rid) == Phase.SETTLED
    profiles = client.profiles(rid)
    assert sum(int(p.payoff) for p in profiles) == 0 == result["sum_R_wei"]
    assert any(int(p.payoff) != 0 for p in profiles)
    assert all(p.joined and p.reported for p in profiles)
    assert result["strategy_phase"]["converged"] and not result["strategy_phase"]["dropped"]
    assert len(result["accuracy"]) == 1 and result["accuracy"][0] > 0.2  # chance: 0.1
    # the daemons read the contract the coordinator deployed from its deployment file
    chain = load_node_config(run.node_states[0].parent.parent / "node-1.toml").chain
    assert chain.contract is None and chain.resolve_contract() == client.address


def test_each_daemon_checked_deposited_and_withdrew_once(run: Run) -> None:
    result, client = run.result, run.client
    rid = result["round_id"]
    transfers = client.events("PayoffTransferred", round_id=rid)
    assert len(transfers) == 3
    for silo, state_dir in zip(result["silos"], run.node_states, strict=True):
        profile = client.profile_record(rid, silo["index"])
        paid = [e for e in transfers if int(e.args["index"]) == silo["index"]]
        assert len(paid) == 1
        assert int(paid[0].args["amount"]) == int(profile.deposited) + int(profile.payoff)
        assert silo["payout_due_wei"] == int(paid[0].args["amount"])
        log = [a for a in _actions(state_dir) if a.get("round_id") == rid]
        events = [a["event"] for a in log]
        for event in ("deposited", "assignment-accepted", "table-checked", "withdrew"):
            assert events.count(event) == 1, (silo["name"], event)
        assert "table-disputed" not in events  # its row on chain is the one it accepted
        # it checked the round against the pushed terms before it paid
        assert events.index("terms-accepted") < events.index("deposited")
        # the coordinator's one table reported for it: the daemon sends no report
        assert "reported" not in events
        (report,) = [
            e
            for e in client.events("ContributionSubmitted", round_id=rid)
            if int(e.args["index"]) == silo["index"]
        ]
        assert (report.args["x"], report.args["f"]) == (silo["x_onchain"], silo["f_onchain"])


def test_two_rounds_in_one_process_each_settled_with_every_daemon(run: Run) -> None:
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    first, second = (json.loads((run.state / f"result-round-{x['round_id']}.json").read_text())
                     for x in lines)  # fmt: skip
    assert [x["round_id"] for x in lines] == [first["round_id"], first["round_id"] + 1]
    assert second == run.result and {x["status"] for x in lines} == {"settled"}
    assert first["contract"] == second["contract"] == run.client.address
    # one connection to the chain for both rounds
    assert "connect" in first["timings_s"] and "connect" not in second["timings_s"]
    for doc in (first, second):
        rid = doc["round_id"]
        assert run.client.phase_of(rid) == Phase.SETTLED and doc["sum_R_wei"] == 0
        assert len(run.client.events("PayoffTransferred", round_id=rid)) == 3
        for state_dir in run.node_states:
            events = [a["event"] for a in _actions(state_dir) if a.get("round_id") == rid]
            assert events.count("deposited") == events.count("withdrew") == 1


def test_the_reports_are_the_attested_strategy_phase_outcome(run: Run) -> None:
    result = run.result
    config = load_consortium_config(run.node_states[0].parent.parent / "consortium.toml")
    final = {s["name"]: s for s in result["strategy_phase"]["strategies"]}
    for silo, entry in zip(result["silos"], config.silos, strict=True):
        assert silo["d"] == final[silo["name"]]["d"]
        assert abs(silo["x_onchain"] - silo["d"] * entry.s * config.units.x_scale) <= 1


def test_the_coordinator_logs_human_lines_as_it_goes(run: Run) -> None:
    """``--log-format human``: one ``HH:MM:SS coordinator event key=value`` line per action, the
    FL round among them; the state dir's actions.jsonl stays JSON."""
    lines = [line for line in run.stderr.splitlines() if " coordinator " in line]
    assert lines and all(re.match(r"^\d\d:\d\d:\d\d coordinator [a-z-]+", line) for line in lines)
    assert any(re.match(r".* coordinator fl-round round=1 accuracy=0\.\d+", line) for line in lines)
    assert not any(line.lstrip().startswith("{") for line in lines)
