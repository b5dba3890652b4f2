"""The market's demo flow (mechanism 3): registry, options, and the table it submits."""

from __future__ import annotations

import numpy as np
import pytest

from fl_node.demo import DemoOptions
from fl_node.mechanisms import (
    MarketDemo,
    demo_flow,
    demo_mechanism_names,
    get_mechanism,
    mechanism_names,
)
from fl_node.mechanisms.market import UNIT_WEI, distance_wad, market_graphs
from settlement import (
    WAD,
    market_config,
    market_orgs,
    market_payoffs,
    market_table_of,
    pack_market_table,
    unpack_market_table,
)
from solver.market import Market, solve_round


def test_the_market_is_a_demo_flow_not_a_coordinator_mechanism() -> None:
    assert isinstance(demo_flow("market"), MarketDemo)
    assert demo_flow("tradefl") is None and demo_flow("cogen") is None
    assert demo_mechanism_names() == ["cogen", "market", "tradefl"]
    assert "market" not in mechanism_names()  # consortium.toml cannot name it yet
    with pytest.raises(ValueError, match="registered mechanisms: cogen, tradefl"):
        get_mechanism("market")


def test_demo_options_accept_the_market_and_its_split_alpha() -> None:
    opts = DemoOptions(mechanism="market", orgs=4, rounds=2)
    assert opts.dirichlet_alpha == MarketDemo.demo_alpha
    with pytest.raises(
        ValueError, match="'markt'; registered mechanisms: cogen, tradefl; demo only: market"
    ):
        DemoOptions(mechanism="markt")
    with pytest.raises(ValueError, match=r"--no-attest: the market's table .* by the coordinator"):
        DemoOptions(mechanism="market", attest=False)


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
        now=0, coordinator="0x" + "11" * 20, lambda_pay=0.5, unit_wei=UNIT_WEI, rounds=2
    )
    orgs = market_orgs(
        ["0x" + f"{i + 1:040x}" for i in range(4)],
        [300, 500, 200, 400],
        list(market.c),
        list(market.K),
    )
    payoffs = market_payoffs(market_table_of(config, orgs), graphs)
    assert sum(payoffs) == 0 and any(payoffs)
    expected = -sum(r.net_payment for r in rounds) * UNIT_WEI  # contract: income - payments
    edges = sum(len(row) for r in rounds for row in r.graph)
    assert np.allclose(payoffs, expected, rtol=0, atol=1e-6 * UNIT_WEI * edges)
