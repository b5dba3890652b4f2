"""The daemon's settlement waits (issue 11): it deposits when the terms arrive, not at its next
chain poll; it polls faster only for a while after its assignment (the withdrawal follows) and
while it is not connected (a new round's contract is found at once).

On a real anvil: accepted terms wake the daemon's loop, refused terms do not.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from fl_node.chain_steps import ChainUnits, open_round
from fl_node.consortium import DemoConsortium, make_demo_consortium
from fl_node.daemon import (
    ActionLog,
    AgentRequestError,
    AgentService,
    CostSettings,
    RoundRecord,
    StateDir,
    terms_to_json,
    units_to_json,
)
from fl_node.daemon._daemon import (
    RECONNECT_POLL_S,
    SETTLING_POLL_S,
    SETTLING_WINDOW_S,
    NodeDaemon,
)
from settlement import AnvilBackend, SettlementClient

NAMES = ["silo-1", "silo-2"]
SIZES = [400, 300]


def _daemon(tmp_path: Path, poll: float) -> types.SimpleNamespace:
    """What ``NodeDaemon._poll_interval`` reads: its config's poll, chain client and state dir."""
    return types.SimpleNamespace(
        config=types.SimpleNamespace(chain=types.SimpleNamespace(poll_interval_s=poll)),
        client=object(),  # connected
        state=StateDir(tmp_path / "state"),
        _settling_since={},
    )


def test_the_poll_is_short_only_for_a_while_after_an_assignment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = _daemon(tmp_path, 2.0)
    interval = NodeDaemon._poll_interval
    assert interval(daemon) == 2.0  # type: ignore[arg-type]
    daemon.state.save_round(RoundRecord(round_id=7, index=0, bond_wei=1, terms={}))
    assert interval(daemon) == 2.0  # type: ignore[arg-type]  # deposits: woken by the terms
    record = RoundRecord(round_id=7, index=0, bond_wei=1, terms={}, assignment={"x": 1})
    daemon.state.save_round(record)
    assert interval(daemon) == SETTLING_POLL_S  # type: ignore[arg-type]
    started = daemon._settling_since[7]
    monkeypatch.setattr("time.monotonic", lambda: started + SETTLING_WINDOW_S + 1)
    assert interval(daemon) == 2.0  # type: ignore[arg-type]  # a round nobody settles
    record.done = True
    daemon.state.save_round(record)
    assert interval(daemon) == 2.0  # type: ignore[arg-type]
    assert daemon._settling_since == {}
    fast = _daemon(tmp_path / "fast", 0.2)
    assert interval(fast) == 0.2  # type: ignore[arg-type]
    daemon.client = fast.client = None  # the chain or its contract is not there (yet)
    assert interval(daemon) == RECONNECT_POLL_S  # type: ignore[arg-type]
    assert interval(fast) == 0.2  # type: ignore[arg-type]


@pytest.mark.chain
def test_accepted_terms_wake_the_daemon_and_refused_terms_do_not(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    org_accounts: list[LocalAccount],
    coordinator: LocalAccount,
) -> None:
    demo: DemoConsortium = make_demo_consortium(NAMES, SIZES, seed=5, epochs=1)
    accounts = org_accounts[60:62]
    rid = open_round(
        client,
        demo.terms,
        SIZES,
        [o.F[-1] for o in demo.orgs],
        [a.address for a in accounts],
        coordinator=coordinator.address,
    )
    woken: list[int] = []
    org = demo.orgs[0]
    service = AgentService(
        name=org.name,
        address=accounts[0].address,
        s=org.s,
        cost=CostSettings(eta=org.eta, T1=org.T1, T3=org.T3, F=org.F),
        contract=client.address,
        state=StateDir(tmp_path / "state"),
        log=ActionLog(tmp_path / "state" / "actions.jsonl", name=org.name, stream=None),
        wake=lambda: woken.append(1),
    )
    service.reader = SettlementClient.at(anvil, client.address)
    doc: dict[str, Any] = {
        "round_id": rid,
        "contract": client.address,
        "chain_id": client.chain_id,
        "terms": terms_to_json(demo.terms),
        "units": units_to_json(ChainUnits()),
        "active": NAMES,
    }
    wrong = {**doc, "terms": {**doc["terms"], "gamma": doc["terms"]["gamma"] * 2}}
    with pytest.raises(AgentRequestError, match="do not match the round on chain"):
        service.accept_terms(wrong)
    assert woken == []
    assert service.accept_terms(doc)["accepted"]
    assert woken == [1]
    record = service.state.load_round(rid)
    assert record is not None and record.terms is not None  # what the woken pass deposits on
