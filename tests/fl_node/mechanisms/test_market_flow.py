"""The market as a session mechanism (mechanism 3): registry, terms, checks, the table it submits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fl_node.demo import DemoOptions, _config
from fl_node.mechanisms import ModelMarket, get_mechanism, mechanism_names, session_of
from fl_node.mechanisms.market import (
    K_SCALE,
    UNIT_WEI,
    MarketAgent,
    MarketReport,
    MarketTerms,
    distance_wad,
    market_graphs,
)
from settlement import (
    WAD,
    ZERO_ADDRESS,
    market_config,
    market_orgs,
    market_payoffs,
    market_table_of,
    pack_market_table,
    unpack_market_table,
)
from solver.market import Market, solve_round

COORDINATOR = "0x" + "11" * 20
ACCOUNTS = ["0x" + f"{i + 1:040x}" for i in range(4)]


@pytest.fixture(scope="module")
def market_config_doc():
    """A four-silo market consortium as the demo builds it (no chain needed)."""
    mech = get_mechanism("market")
    opts = DemoOptions(mechanism="market", orgs=4, rounds=2)
    names = [f"silo-{i}" for i in range(4)]
    sizes = [58, 88, 105, 73]
    consortium = mech.demo_consortium(names, sizes, seed=0, epochs=3)
    return _config(opts, "http://127.0.0.1:1", ACCOUNTS, names, sizes, consortium), consortium


def test_the_market_is_a_session_mechanism_of_the_registry() -> None:
    market = get_mechanism("market")
    assert isinstance(market, ModelMarket) and session_of(market) is market
    assert (
        session_of(get_mechanism("tradefl")) is None and session_of(get_mechanism("cogen")) is None
    )
    assert mechanism_names() == ["cogen", "market", "tradefl"]
    for call in (
        lambda: market.run_strategy_phase([], [], max_sweeps=1),
        lambda: market.training_plan({}),
        lambda: market.assignment_fields(None),
    ):
        with pytest.raises(TypeError, match=r"has no strategy phase .* run_session"):
            call()


def test_demo_options_accept_the_market_and_refuse_what_it_cannot_run() -> None:
    opts = DemoOptions(mechanism="market", orgs=4, rounds=2)
    assert opts.dirichlet_alpha == ModelMarket.demo_alpha
    with pytest.raises(ValueError, match="'markt'; registered mechanisms: cogen, market, tradefl"):
        DemoOptions(mechanism="markt")
    with pytest.raises(ValueError, match=r"--no-attest: the market's table .* by the coordinator"):
        DemoOptions(mechanism="market", attest=False)
    assert DemoOptions(mechanism="market", token=True).token  # settled in the test stablecoin


def test_round_terms_put_n_c_k_in_the_slots(market_config_doc) -> None:
    config, consortium = market_config_doc
    mech = get_mechanism("market")
    accepted = mech.accepted_terms(config, coordinator=COORDINATOR)
    reports = consortium.private
    assert [o.base for o in accepted.orgs] == [58, 88, 105, 73] == [r.N for r in reports]
    assert [o.x_max for o in accepted.orgs] == [int(r.K * K_SCALE) for r in reports]
    assert [o.f_max for o in accepted.orgs] == [int(r.c * 10**6) for r in reports]
    assert accepted.config.mechanism_id == 3 and accepted.config.d_min_wad == 2  # priced rounds
    assert accepted.config.gamma_wad == UNIT_WEI and accepted.config.coordinator == COORDINATOR
    assert accepted.rho == bytes(4 * 3)
    with pytest.raises(ValueError, match=r"\[coordinator\]\.key: the market's table"):
        mech.accepted_terms(config, coordinator=None)
    usd = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    in_token = mech.accepted_terms(dataclasses.replace(config, token=usd), coordinator=COORDINATOR)
    assert in_token.config.token == usd and accepted.config.token == ZERO_ADDRESS
    tradefl_terms = dataclasses.replace(config, terms=object())
    with pytest.raises(ValueError, match=r"\[terms\]: mechanism market needs MarketTerms"):
        mech.terms_document(tradefl_terms)


def test_a_silo_agent_refuses_terms_that_change_its_report(market_config_doc) -> None:
    config, consortium = market_config_doc
    mech = get_mechanism("market")
    document = mech.terms_document(config)
    assert MarketTerms.from_json(document["market"]) == config.terms  # JSON round trip
    me = consortium.private[1]
    agent = mech.silo_agent(me, document)
    assert isinstance(agent, MarketAgent) and agent.name == "silo-1"
    assert agent.respond(123.0) == me  # no best response: the registered report
    assert mech.strategy_from_json(mech.strategy_to_json(me)) == me
    assert mech.strategy_fields(me) == {"N": me.N, "c": me.c, "K": me.K}
    lied = dataclasses.replace(me, K=me.K * 2)
    with pytest.raises(ValueError, match=r"terms.reports\[silo-1\].K = .* the silo registered"):
        mech.silo_agent(lied, document)
    with pytest.raises(ValueError, match="market terms lack \\['params'\\]"):
        MarketTerms.from_json({k: v for k, v in document["market"].items() if k != "params"})
    with pytest.raises(ValueError, match="'nobody' is not in the terms' names"):
        mech.silo_agent(MarketReport("nobody", 1, 0.1, 1.0), document)


def test_the_session_refuses_missing_silos_on_either_runtime(market_config_doc) -> None:
    config, _ = market_config_doc
    mech = get_mechanism("market")
    session = session_of(mech)
    assert session is not None
    for runtime in (None, object()):  # the check comes before any runtime is driven
        with pytest.raises(ValueError, match=r"silos \['silo-3'\] did not join"):
            session.run_session(config, config.silos[:3], runtime=runtime, note=lambda *a, **k: 0)


def test_distances_become_truncated_wad_in_the_contracts_range() -> None:
    assert distance_wad(0.0) == 0
    assert distance_wad(0.25) == WAD // 4
    assert distance_wad(2.0) == 2 * WAD
    assert distance_wad(2.0 + 1e-12) == 2 * WAD  # float noise above the cap is clipped
    assert distance_wad(-1e-15) == 0


def test_the_table_prices_what_the_solver_priced() -> None:
    """The on-chain mirror of the submitted table pays what the float solver computed."""
    market = Market(
        ["a", "b", "c", "d"],
        N=[300.0, 500.0, 200.0, 400.0],
        c=[0.05, 0.02, 0.08, 0.04],
        K=[20000.0, 5000.0, 0.0, 12000.0],
        lambda_pay=0.5,
    )
    d = np.array(
        [[0.0, 0.2, 0.3, 0.1], [0.2, 0.0, 0.4, 0.25], [0.3, 0.4, 0.0, 0.5], [0.1, 0.25, 0.5, 0.0]]
    )
    rounds = [solve_round(market, d), solve_round(market, d * 0.5)]
    assert any(rounds[0].graph) and not rounds[0].graph[2]  # K = 0 imports nothing
    graphs = market_graphs(rounds)
    for r, g in zip(rounds, graphs, strict=True):
        rows = [list(g.exporters[g.row_start[i] : g.row_start[i + 1]]) for i in range(4)]
        assert rows == [list(row) for row in r.graph]  # acceptance order kept
    assert unpack_market_table(4, pack_market_table(4, graphs)) == graphs
    config = market_config(
        now=0, coordinator=COORDINATOR, lambda_pay=0.5, unit_wei=UNIT_WEI, rounds=2
    )
    orgs = market_orgs(
        ACCOUNTS,
        [300, 500, 200, 400],
        list(market.c),
        list(market.K),
    )
    payoffs = market_payoffs(market_table_of(config, orgs), graphs)
    assert sum(payoffs) == 0 and any(payoffs)
    expected = -sum(r.net_payment for r in rounds) * UNIT_WEI  # contract: income - payments
    edges = sum(len(row) for r in rounds for row in r.graph)
    assert np.allclose(payoffs, expected, rtol=0, atol=1e-6 * UNIT_WEI * edges)
