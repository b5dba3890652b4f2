"""The market's gains, thresholds, greedy rows, payments, utilities and IR (solver.market)."""

from __future__ import annotations

import decimal
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import solver
import solver.market as sm


def _two() -> sm.Market:
    return sm.Market(["a", "b"], N=[800, 400], c=[0.05, 0.05], K=[2e4, 2e4], lambda_pay=0.5)


D2 = [[0.0, 0.4], [0.4, 0.0]]


def test_worked_example_by_hand() -> None:
    res = sm.solve_round(_two(), D2)
    assert res.graph == ((1,), (0,))
    g0 = math.sqrt(2e4 / 800) - math.sqrt(2e4 / 1200)
    g1 = math.sqrt(2e4 / 400) - math.sqrt(2e4 / 1200)
    assert res.gain == pytest.approx([g0, g1], rel=1e-14)
    r01, r10 = g0 - 0.5 * 0.4 * 400 / 800, g1 - 0.5 * 0.4 * 800 / 400
    assert res.payments.ravel() == pytest.approx([0, r01, r10, 0], rel=1e-14)
    assert res.net_payment == pytest.approx([r01 - r10, r10 - r01], rel=1e-14)
    assert res.utility == pytest.approx([g0 - (r01 - r10) - 0.05, g1 - (r10 - r01) - 0.05])


def test_threshold_solves_its_equation() -> None:
    market, d = sm.random_market(10, seed=3)
    T = sm.thresholds(market, d)
    N, K = market.N, market.K
    for i in range(market.n):
        for j in range(market.n):
            if i == j:
                assert math.isnan(T[i, j])
            elif K[i] == 0:
                assert T[i, j] == -math.inf
            else:
                rhs = market.c[j] + market.lambda_pay * d[i, j] * N[j] / N[i]
                lhs = math.sqrt(K[i] / (T[i, j] - N[j])) - math.sqrt(K[i] / T[i, j])
                assert T[i, j] > N[j]
                assert lhs == pytest.approx(rhs, rel=1e-9)


def test_threshold_no_solution_cases() -> None:
    market = sm.Market(
        ["a", "b", "c"], N=[100, 200, 300], c=[0, 0, 0.1], K=[0, 5e4, 5e4], lambda_pay=1
    )
    d = np.array([[0, 0, 0.5], [0, 0, 0.5], [0.5, 0.5, 0]])
    T = sm.thresholds(market, d)
    assert np.all(T[0, 1:] == -np.inf)  # pure seller: never worth importing
    assert T[1, 0] == np.inf  # free identical model: always worth importing
    assert np.isfinite(T[1, 2]) and np.isfinite(T[2, 0])
    assert sm.greedy_row(market, T, 0) == ()


def test_row_order_and_ties_lower_index_first() -> None:
    # four identical exporters: equal thresholds, visited 1, 2, 3, ... in index order
    market = sm.Market(
        [f"o{i}" for i in range(5)], N=[1000] * 5, c=[1.0] * 5, K=[1e5] * 5, lambda_pay=0.0
    )
    d = np.zeros((5, 5))
    T = sm.thresholds(market, d)
    row = sm.greedy_row(market, T, 0)
    assert row == tuple(range(1, 1 + len(row)))
    assert len(row) == 2  # the price stops the row part-way, at the first failure
    nxt = len(row) + 1
    assert not 1000 * (len(row) + 1) + 1000 < T[0, nxt]


def test_row_visits_decreasing_thresholds_and_stops_at_first_failure() -> None:
    for seed in range(20):
        market, d = sm.random_market(9, seed=seed)
        T = sm.thresholds(market, d)
        for i in range(market.n):
            row = sm.greedy_row(market, T, i)
            if market.K[i] == 0:
                assert row == ()
                continue
            order = sorted((j for j in range(market.n) if j != i), key=lambda j: (-T[i, j], j))
            assert list(row) == order[: len(row)]  # a prefix of the decreasing order
            n = market.N[i] + sum(market.N[j] for j in row)
            if len(row) < len(order):
                nxt = order[len(row)]
                assert not n + market.N[nxt] < T[i, nxt]


@st.composite
def markets(draw: st.DrawFn) -> tuple[sm.Market, np.ndarray]:
    n = draw(st.integers(2, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    lam = draw(st.sampled_from([0.0, 0.1, 0.5, 2.0]))
    return sm.random_market(n, seed, lambda_pay=lam)


@st.composite
def raw_markets(draw: st.DrawFn) -> tuple[sm.Market, np.ndarray]:
    """Arbitrary parameters, including zero costs, zero distances and pure sellers."""
    n = draw(st.integers(2, 7))
    pos = st.floats(1.0, 1e5)
    N = draw(st.lists(pos, min_size=n, max_size=n))
    K = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e8)), min_size=n, max_size=n))
    c = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 5.0)), min_size=n, max_size=n))
    lam = draw(st.one_of(st.just(0.0), st.floats(0.0, 10.0)))
    d = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            d[i, j] = d[j, i] = draw(st.one_of(st.just(0.0), st.floats(0.0, 2.0)))
    return sm.Market([f"o{i}" for i in range(n)], N=N, c=c, K=K, lambda_pay=lam), d


def _small_pool_market() -> tuple[sm.Market, np.ndarray]:
    """Found by Hypothesis: org 3's pool (1.1 samples) next to a 61,841-sample export, where the
    pool without the export computed as total - N_j was 1.3e-12 off and U_3 came out -4.9e-9."""
    N = [2852.987360248396, 46983.048285331235, 1.5, 1.1, 61841.31496681003]
    K = [74263989.21634123, 0.0, 0.0, 60551360.6021051, 0.0]
    c = [1.2644728450886635, 0.0, 2.2250738585072014e-308, 0.0, 0.0]
    d = np.zeros((5, 5))
    for (i, j), v in {(0, 3): 1.43189, (0, 4): 0.24734, (1, 2): 1.54175, (1, 3): 1.28526}.items():
        d[i, j] = d[j, i] = v
    d[2, 3] = d[3, 2] = 1.50874
    return sm.Market([f"o{i}" for i in range(5)], N=N, c=c, K=K, lambda_pay=8.6513), d


def test_one_import_pays_exactly_its_gain_whatever_the_pool_sizes() -> None:
    market, d = _small_pool_market()
    res = sm.solve_round(market, d)
    assert res.graph[3] == (4,)
    price = market.lambda_pay * d[3, 4] * market.N[4] / market.N[3]
    assert res.payments[3, 4] + price == res.gain[3]  # the same two floats, no rounding apart
    assert res.utility[3] == res.gain[3] - res.payments[3, 4]
    assert res.utility[3] >= 0


@settings(max_examples=60, deadline=None)
@given(st.one_of(markets(), raw_markets()))
@example(_small_pool_market())
def test_budget_balance_and_ir_of_truthful_clients(md: tuple[sm.Market, np.ndarray]) -> None:
    market, d = md
    res = sm.solve_round(market, d)
    scale = float(np.abs(res.payments).sum()) + 1.0
    assert abs(res.budget_balance) <= 1e-14 * scale
    assert res.ir.all() and res.ir_importer.all() and res.ir_exporter.all()
    a = sm.adjacency(res.graph, market.n)
    # every edge pays strictly more than the exporter's cost (decreasing-threshold order)
    assert np.all(res.payments[a] > np.broadcast_to(market.c[None, :], a.shape)[a])
    # U_i >= 0 up to the rounding of its terms (a few ulps of the org's money scale)
    r = np.abs(res.payments)
    scale = np.abs(res.gain) + r.sum(axis=1) + r.sum(axis=0) + res.export_cost
    assert np.all(res.utility >= -1e-13 * scale)


@settings(max_examples=40, deadline=None)
@given(st.one_of(markets(), raw_markets()))
@example(_small_pool_market())
@example(  # found by Hypothesis: 1.381146409560038 has 53 digits, more than a 50-digit context
    (
        sm.Market(
            ["a", "b", "c"],
            N=[1.381146409560038, 1.0, 100.0],
            c=[1.38, 2.26, 0.86],
            K=[0.8602941179300373, 2.2618509598220697, 0.8602941179300373],
            lambda_pay=0.0,
        ),
        np.zeros((3, 3)),
    )
)
def test_payments_match_the_definition(md: tuple[sm.Market, np.ndarray]) -> None:
    market, d = md
    res = sm.solve_round(market, d)
    N, K = market.N, market.K
    D = decimal.Decimal

    def G(i: int, s: set[int]) -> decimal.Decimal:  # the definition, in 80-digit decimals
        k, n = D(float(K[i])), D(float(N[i]))  # <= 62 digits each: exact
        return (k / n).sqrt() - (k / (n + sum(D(float(N[j])) for j in s))).sqrt()

    with decimal.localcontext(prec=80):
        for i, row in enumerate(res.graph):
            s = set(row)
            assert res.gain[i] == pytest.approx(float(G(i, s)), rel=1e-12, abs=1e-300)
            for j in range(market.n):
                if j not in s:
                    assert res.payments[i, j] == 0
                    continue
                price = D(market.lambda_pay) * D(float(d[i, j])) * D(float(N[j])) / D(float(N[i]))
                marg = G(i, s) - G(i, s - {j})
                # float rounding: a few ulps of marg and of price, whatever the pool sizes (the
                # pool without j is not total - N_j, which would amplify them by total / rest)
                tol = 1e-14 * float(marg + price)
                assert abs(res.payments[i, j] - float(marg - price)) <= tol
    importers = sm.adjacency(res.graph, market.n).sum(axis=0)
    want_u = res.gain - res.net_payment - market.c * importers
    assert res.utility == pytest.approx(want_u, rel=1e-12, abs=1e-12)


def test_attested_graph_can_have_negative_payments() -> None:
    market = sm.Market(["a", "b"], N=[100, 1000], c=[0.0, 0.0], K=[1e4, 1e4], lambda_pay=2.0)
    d = [[0.0, 2.0], [2.0, 0.0]]
    assert sm.solve_round(market, d).graph[0] == ()  # the greedy never imports that far model
    forced = sm.evaluate_round(market, d, [(1,), ()])
    assert forced.payments[0, 1] < 0
    assert not forced.ir_exporter[1]


def test_bad_graph_rows_are_rejected() -> None:
    market = _two()
    for rows, msg in (([(0,), ()], "own model"), ([(1, 1), ()], "twice"), ([(2,), ()], "index")):
        with pytest.raises(solver.GameError, match=msg):
            sm.edge_payments(market, D2, rows)


def test_ledger_accumulates_rounds() -> None:
    market, d1 = sm.random_market(6, seed=11)
    d2 = sm.random_distance(6, np.random.default_rng(12))
    ledger = sm.MarketLedger(market)
    r1, r2 = ledger.add(sm.solve_round(market, d1)), ledger.add(sm.solve_round(market, d2))
    assert ledger.rounds == 2
    assert ledger.utility == pytest.approx(r1.utility + r2.utility)
    assert ledger.net_payment == pytest.approx(r1.net_payment + r2.net_payment)
    want_edges = sm.adjacency(r1.graph, 6).astype(int) + sm.adjacency(r2.graph, 6)
    assert ledger.edges.tolist() == want_edges.tolist()
    other, _ = sm.random_market(6, seed=11)
    with pytest.raises(solver.GameError, match="another market"):
        ledger.add(sm.solve_round(other, d1))


def test_market_validation_names_the_field() -> None:
    with pytest.raises(solver.GameError, match=r"org\[1\]\.N"):
        sm.Market(["a", "b"], N=[1, 0], c=[0, 0], K=[0, 0], lambda_pay=0)
    with pytest.raises(solver.GameError, match=r"org\[0\]\.K"):
        sm.Market(["a", "b"], N=[1, 1], c=[0, 0], K=[-1, 0], lambda_pay=0)
    with pytest.raises(solver.GameError, match="lambda_pay"):
        sm.Market(["a"], N=[1], c=[0], K=[0], lambda_pay=-1)
    with pytest.raises(solver.GameError, match="duplicate"):
        sm.Market(["a", "a"], N=[1, 1], c=[0, 0], K=[0, 0], lambda_pay=0)


def test_import_weights_are_size_ratios_on_edges() -> None:
    market, d = sm.random_market(6, seed=8)
    res = sm.solve_round(market, d)
    w = sm.import_weights(market, res.graph)
    a = sm.adjacency(res.graph, market.n)
    assert np.all(w[~a] == 0)
    i, j = np.argwhere(a)[0]
    assert w[i, j] == market.N[j] / market.N[i]
