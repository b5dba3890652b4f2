"""The daemon's HTTP agent on a real anvil: terms checked against the chain, best responses equal
to ``SiloAgent.respond``, assignments checked against the agent's own answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from fl_node.agent import SiloAgent
from fl_node.chain_steps import ChainUnits, open_round, to_report
from fl_node.consortium import DemoConsortium, make_demo_consortium
from fl_node.coordinator import AgentClient, AgentRejected, AgentUnavailable, HttpResponder
from fl_node.daemon import (
    ActionLog,
    AgentHTTPServer,
    AgentService,
    CostSettings,
    StateDir,
    terms_to_json,
    units_to_json,
)
from fl_node.strategy_phase import Responder, run_strategy_phase
from settlement import AnvilBackend, SettlementClient

pytestmark = pytest.mark.chain

NAMES = ["silo-1", "silo-2", "silo-3"]
SIZES = [400, 500, 300]


@pytest.fixture(scope="module")
def demo() -> DemoConsortium:
    return make_demo_consortium(NAMES, SIZES, seed=3, epochs=2)


@pytest.fixture(scope="module")
def round_id(
    client: SettlementClient,
    demo: DemoConsortium,
    org_accounts: list[LocalAccount],
    coordinator: LocalAccount,
) -> int:
    return open_round(
        client,
        demo.terms,
        SIZES,
        [o.F[-1] for o in demo.orgs],
        [a.address for a in org_accounts[40:43]],
        coordinator=coordinator.address,
    )


def _service(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    demo: DemoConsortium,
    account: LocalAccount,
    *,
    index: int = 0,
    s: float | None = None,
) -> AgentService:
    org = demo.orgs[index]
    service = AgentService(
        name=org.name,
        address=account.address,
        s=org.s if s is None else s,
        cost=CostSettings(eta=org.eta, T1=org.T1, T3=org.T3, F=org.F),
        contract=client.address,
        state=StateDir(tmp_path / "state"),
        log=ActionLog(tmp_path / "state" / "actions.jsonl", name=org.name, stream=None),
    )
    service.reader = SettlementClient.at(anvil, client.address)
    return service


@pytest.fixture
def agent(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    demo: DemoConsortium,
    org_accounts: list[LocalAccount],
) -> Iterator[tuple[AgentService, AgentClient]]:
    service = _service(tmp_path, anvil, client, demo, org_accounts[40])
    with AgentHTTPServer(service, "127.0.0.1", 0) as server:
        yield service, AgentClient("silo-1", server.url, timeout=30)


def _terms_doc(client: SettlementClient, round_id: int, demo: DemoConsortium) -> dict:
    return {
        "round_id": round_id,
        "contract": client.address,
        "chain_id": client.chain_id,
        "terms": terms_to_json(demo.terms),
        "units": units_to_json(ChainUnits()),
        "active": NAMES,
    }


def test_best_responses_over_http_equal_the_silo_agents(
    agent: tuple[AgentService, AgentClient],
    client: SettlementClient,
    round_id: int,
    demo: DemoConsortium,
) -> None:
    service, http = agent
    assert http.health()["name"] == "silo-1"
    accepted = http.push_terms(_terms_doc(client, round_id, demo))
    assert accepted == {"accepted": True, "name": "silo-1", "index": 0, "s": 400.0}
    local = SiloAgent(demo.orgs[0], demo.terms)
    for others in (0.0, 123.5, 480.0, 800.0, 5000.0):
        assert http.best_response(round_id, others) == local.respond(others)
    # the phase over HTTP for silo-1 next to in-process agents for the others: same result as
    # the all-in-process phase
    agents = [SiloAgent(o, demo.terms) for o in demo.orgs]
    mixed: list[Responder] = [HttpResponder(http, round_id), *agents[1:]]
    start = [dataclasses.replace(a.respond(0.0), d=0.2, x=0.2 * a.org.s) for a in agents]
    over_http = run_strategy_phase(mixed, start)
    in_process = run_strategy_phase(agents, start)
    assert over_http.converged and not over_http.dropped
    assert over_http.strategies == in_process.strategies
    answers = service.state.load_round(round_id).answers  # type: ignore[union-attr]
    assert len(answers) == 5 + sum(1 for t in over_http.trace if t.name == "silo-1")
    assert answers[-1]["x"] == over_http.strategies[0].x


def test_terms_that_do_not_match_the_onchain_round_are_refused(
    agent: tuple[AgentService, AgentClient],
    client: SettlementClient,
    round_id: int,
    demo: DemoConsortium,
) -> None:
    _, http = agent
    doc = _terms_doc(client, round_id, demo)
    doc["terms"] = {**doc["terms"], "gamma": doc["terms"]["gamma"] * 2}
    with pytest.raises(AgentRejected, match=r"do not match the round on chain \(gamma_wad") as info:
        http.push_terms(doc)
    assert info.value.status == 409
    with pytest.raises(AgentRejected, match="no terms yet"):
        http.best_response(round_id, 100.0)
    with pytest.raises(AgentRejected, match="others_total must be a non-negative"):
        http.best_response(round_id, -1.0)
    with pytest.raises(AgentRejected, match="holds no slot") as missing:
        http.push_terms({**_terms_doc(client, round_id, demo), "round_id": 10**6})
    assert missing.value.status == 404
    with pytest.raises(AgentRejected, match="not this silo's contract"):
        http.push_terms({**_terms_doc(client, round_id, demo), "contract": "0x" + "11" * 20})


class _NoChain:
    """A reader that fails every chain read."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the chain was read ({name})")


def test_terms_already_checked_are_accepted_again_without_the_chain_and_others_are_checked(
    agent: tuple[AgentService, AgentClient],
    client: SettlementClient,
    round_id: int,
    demo: DemoConsortium,
) -> None:
    """The strategy phase re-pushes the deposit-time terms: an identical document is answered
    from the stored, already checked terms; any other document is checked on chain again."""
    service, http = agent
    doc = _terms_doc(client, round_id, demo)
    first = http.push_terms(doc)
    reader = service.reader
    service.reader = _NoChain()
    try:
        assert http.push_terms(doc) == first
        with pytest.raises(AgentUnavailable, match=r"HTTP 500.*the chain was read"):
            http.push_terms({**doc, "active": NAMES[:2]})
    finally:
        service.reader = reader
    changed = {**doc, "terms": {**doc["terms"], "gamma": doc["terms"]["gamma"] * 2}}
    with pytest.raises(AgentRejected, match=r"do not match the round on chain \(gamma_wad"):
        http.push_terms(changed)
    assert http.push_terms({**doc, "active": NAMES[:2]})["accepted"]
    again = [e for e in service.log.entries() if e["event"] == "terms-accepted"]
    assert [e.get("again", False) for e in again] == [False, True, False]


def test_a_silo_whose_data_differs_from_its_slot_refuses_the_terms(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    round_id: int,
    demo: DemoConsortium,
    org_accounts: list[LocalAccount],
) -> None:
    service = _service(tmp_path, anvil, client, demo, org_accounts[40], s=401)
    with AgentHTTPServer(service) as server:
        http = AgentClient("silo-1", server.url, timeout=30)
        with pytest.raises(AgentRejected, match=r"xMax=400000 but this silo holds s=401"):
            http.push_terms(_terms_doc(client, round_id, demo))


def test_assignment_must_match_the_agents_answer(
    agent: tuple[AgentService, AgentClient],
    client: SettlementClient,
    round_id: int,
    demo: DemoConsortium,
    coordinator: LocalAccount,
    org_accounts: list[LocalAccount],
) -> None:
    service, http = agent
    http.push_terms(_terms_doc(client, round_id, demo))
    mine = http.best_response(round_id, 700.0)
    x, f = to_report(mine, 400.0, client, round_id, 0)
    doc = {
        "round_id": round_id,
        "index": 0,
        "d": mine.d,
        "f": mine.f,
        "x": mine.x,
        "x_onchain": x,
        "f_onchain": f,
    }
    with pytest.raises(AgentRejected, match="differs from this silo's own best response"):
        http.send_assignment({**doc, "d": mine.d * 0.9, "x": mine.x * 0.9})
    with pytest.raises(AgentRejected, match="does not encode this silo's strategy"):
        http.send_assignment({**doc, "x_onchain": x - 50})
    with pytest.raises(AgentRejected, match="is not this silo's slot"):
        http.send_assignment({**doc, "index": 1})
    assert service.state.load_round(round_id).assignment is None  # type: ignore[union-attr]
    assert http.send_assignment(doc) == {"accepted": True, "x": x, "f": f}
    stored = service.state.load_round(round_id).assignment  # type: ignore[union-attr]
    assert stored is not None and (stored["x_onchain"], stored["f_onchain"]) == (x, f)
    # the round has a coordinator: its table reports, the daemon sends nothing
    assert stored["by_table"] is client.round_config(round_id).attested
    events = [e["event"] for e in service.log.entries()]
    assert events.count("assignment-rejected") == 3 and "assignment-accepted" in events


def test_round_closed_wakes_the_daemon_and_is_best_effort(
    agent: tuple[AgentService, AgentClient], client: SettlementClient, round_id: int
) -> None:
    """``POST /round-closed`` only wakes the daemon's loop (which then reads the phase on chain);
    the coordinator's call never fails the round, even with the daemon gone or a bad id."""
    service, http = agent
    woken: list[int] = []
    service.wake = lambda: woken.append(1)
    http.round_closed(client, round_id)
    assert woken == [1]
    with pytest.raises(AgentRejected, match="round_id must be a positive integer") as bad:
        http._request("POST", "/round-closed", {"round_id": 0})
    assert bad.value.status == 400 and woken == [1]
    AgentClient("gone", "http://127.0.0.1:9", timeout=30).round_closed(client, round_id)


def test_a_push_before_the_daemon_is_connected_wakes_it_to_connect(
    agent: tuple[AgentService, AgentClient],
    client: SettlementClient,
    round_id: int,
    demo: DemoConsortium,
) -> None:
    """Terms pushed right after ``roundOpen`` may reach a daemon still looking for the new
    contract: it answers 503 (the coordinator re-offers) and wakes its loop to connect now."""
    service, http = agent
    woken: list[int] = []
    service.wake = lambda: woken.append(1)
    reader, contract = service.reader, service.contract
    try:
        service.contract = None
        with pytest.raises(AgentUnavailable, match=r"HTTP 503.*has not read its contract"):
            http.push_terms(_terms_doc(client, round_id, demo))
        assert woken == [1]
        service.contract, service.reader = contract, None
        with pytest.raises(AgentUnavailable, match=r"HTTP 503.*not connected to the chain"):
            http.push_terms(_terms_doc(client, round_id, demo))
        assert woken == [1, 1]
    finally:
        service.reader, service.contract = reader, contract
