"""A silo daemon's agent in a market (mechanism 3) round on a real anvil.

It accepts the consortium's terms only when every on-chain field of the round matches them and
its own slot registers exactly its N (its training size in the market's split), c and K; it has
no strategy phase to answer; once the coordinator's table is on chain it checks that every
import in its own row passes the market's acceptance rule at the posted distance, in order.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount

from fl_node.chain_steps import join
from fl_node.coordinator import ConsortiumConfig, ScaffoldOptions, load_consortium_config, scaffold
from fl_node.daemon import (
    ActionLog,
    AgentRequestError,
    AgentService,
    StateDir,
    load_node_config,
    units_from_json,
)
from fl_node.daemon._market import MarketSilo, check_table, market_pushed_terms, market_terms_from
from fl_node.mechanisms import get_mechanism
from fl_node.mechanisms.market import MarketTerms
from settlement import WAD, AnvilBackend, Phase, SettlementClient
from settlement.rules import MarketGraph
from solver.market import thresholds

pytestmark = pytest.mark.chain

MARKET = get_mechanism("market")
#: the test-org accounts of the three slots (unused by the other daemon tests)
FIRST_ACCOUNT = 93


@dataclasses.dataclass
class Setup:
    config: ConsortiumConfig
    rid: int
    nodes: list[Path]
    accounts: list[LocalAccount]


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
    client: SettlementClient,
    org_accounts: list[LocalAccount],
    coordinator: LocalAccount,
) -> Setup:
    """A three-silo market consortium from ``init`` (digits' clusters), its round opened."""
    out = tmp_path_factory.mktemp("market-agent")
    paths = scaffold(out, ScaffoldOptions(silos=3, mechanism="market", rounds=2))
    config = load_consortium_config(paths[0])
    accounts = org_accounts[FIRST_ACCOUNT : FIRST_ACCOUNT + 3]
    silos = tuple(dataclasses.replace(s, account=accounts[s.index].address) for s in config.silos)
    config = dataclasses.replace(config, silos=silos)
    rid = MARKET.open_round(client, config, coordinator=coordinator.address, windows=(3600, 3600))
    return Setup(config, rid, paths[1:], accounts)


def _service(
    tmp_path: Path, anvil: AnvilBackend, client: SettlementClient, setup: Setup, i: int, **own: Any
) -> AgentService:
    node = load_node_config(setup.nodes[i])
    market = MarketSilo(node.name, dataclasses.replace(node.market, **own), node.data)
    service = AgentService(
        name=node.name,
        address=setup.accounts[i].address,
        s=market.N,
        cost=None,
        contract=client.address,
        state=StateDir(tmp_path / f"state-{i}"),
        log=ActionLog(tmp_path / f"state-{i}" / "actions.jsonl", name=node.name, stream=None),
        market=market,
    )
    service.reader = SettlementClient.at(anvil, client.address)
    return service


def _offer(client: SettlementClient, setup: Setup, **change: Any) -> dict[str, Any]:
    doc = MARKET.terms_document(setup.config)
    for key in ("units", "rounds"):
        if key in change:
            doc[key] = change.pop(key)
    market = doc["market"]
    if "params" in change:
        market = {**market, "params": {**market["params"], **change.pop("params")}}
    if change:  # slot 0's report fields
        reports = [dict(r) for r in market["reports"]]
        reports[change.pop("slot", 0)].update(change)
        market = {**market, "reports": reports}
    return {
        "round_id": setup.rid,
        "contract": client.address,
        "chain_id": client.chain_id,
        "mechanism": "market",
        **doc,
        "market": market,
        "active": [s.name for s in setup.config.silos],
    }


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"params": {"lambda_pay": 1.0}}, "lambda_wad"),
        ({"units": {"x_scale": 10**6, "f_scale": 10**6, "unit_wei": 10**15}}, "gamma_wad"),
        ({"rounds": 3}, "d_min_wad"),
        ({"slot": 1, "K": 1.0}, "orgs[1].x_max"),
        ({"c": 0.5}, "orgs[0].f_max"),
        ({"N": 1000}, "orgs[0].base"),
    ],
)
def test_terms_that_differ_from_the_round_on_chain_are_refused(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    setup: Setup,
    change: dict[str, Any],
    named: str,
) -> None:
    service = _service(tmp_path, anvil, client, setup, 0)
    with pytest.raises(AgentRequestError) as info:
        service.accept_terms(_offer(client, setup, **change))
    assert info.value.status == 409 and named in str(info.value)
    assert service.state.load_round(setup.rid) is None or (
        service.state.load_round(setup.rid).terms is None  # type: ignore[union-attr]
    )


def test_a_round_that_misstates_the_silos_own_report_is_refused(
    tmp_path: Path, anvil: AnvilBackend, client: SettlementClient, setup: Setup
) -> None:
    """The chain and the terms agree, but not with the silo's own [market] K."""
    service = _service(tmp_path, anvil, client, setup, 0, K=1.0)
    with pytest.raises(AgentRequestError, match=r"terms.reports\[silo-1\].K = .* registered 1.0"):
        service.accept_terms(_offer(client, setup))
    with pytest.raises(AgentRequestError, match="active must list every silo"):
        service.accept_terms({**_offer(client, setup), "active": ["silo-1", "silo-2"]})


def test_accepted_terms_deposits_no_strategy_phase_and_the_table_checked(
    tmp_path: Path,
    anvil: AnvilBackend,
    client: SettlementClient,
    setup: Setup,
    coordinator: LocalAccount,
) -> None:
    services = [_service(tmp_path, anvil, client, setup, i) for i in range(3)]
    for i, service in enumerate(services):
        answer = service.accept_terms(_offer(client, setup))
        assert answer["accepted"] and answer["index"] == i and answer["s"] == service.market.N
    record = services[0].state.load_round(setup.rid)
    assert record is not None and record.terms is not None and record.terms["rounds"] == 2
    with pytest.raises(AgentRequestError, match="a market round has no strategy phase"):
        services[0].best_response({"round_id": setup.rid, "others_total": 1.0})
    # the daemon's deposit: the same check of the stored terms, then the bond
    terms, rounds = market_terms_from(record.terms)
    units = units_from_json(record.terms["units"])
    for i, account in enumerate(setup.accounts):
        expected = market_pushed_terms(client, setup.rid, terms, units, rounds)
        assert join(client, setup.rid, i, account, expected=expected) is not None
    assert client.phase_of(setup.rid) == Phase.REPORT
    assert check_table(client, setup.rid, 0, terms) is None  # nothing posted yet
    _post_table(client, setup, terms, coordinator)
    # silo-2 imports nothing: nothing to refuse
    assert check_table(client, setup.rid, 1, terms) == {"rounds": 2, "imports": [[], []]}
    # silo-1's round-2 import at distance 2 costs more than it gains
    with pytest.raises(ValueError, match="FL round 2: import #0 from silo-2 at distance 2 fails"):
        check_table(client, setup.rid, 0, terms)
    # silo-3's round-1 imports come in the wrong order
    with pytest.raises(ValueError, match=r"FL round 1: import #1 .* acceptance order"):
        check_table(client, setup.rid, 2, terms)


def _post_table(
    client: SettlementClient, setup: Setup, terms: MarketTerms, coordinator: LocalAccount
) -> None:
    """The coordinator's table: round 1 silo-1 <- silo-2 at distance 0 and silo-3 importing
    both in reversed threshold order; round 2 silo-1 <- silo-2 at distance 2."""
    T = thresholds(terms.market(), np.zeros((3, 3)))[2]
    low_first = sorted([0, 1], key=lambda j: (T[j], -j))
    graphs = [
        MarketGraph.from_rows([[1], [], low_first], [[0] * 3 for _ in range(3)]),
        MarketGraph.from_rows([[1], [], []], [[0, 2 * WAD, 0], [0] * 3, [0] * 3]),
    ]
    client.market_table_submit(setup.rid, graphs, sender=coordinator)
