"""MarketRule.sol on a real anvil against its exact Python mirror (settlement.rules) and the float
solver (solver.market): bit-for-bit payments and payoffs, zero sum, bond coverage, revert parity.

The harness is compiled here with solc-js (the functions of scripts/compile_contracts.py) from
contracts/rules/MarketRule.sol and contracts/test/MarketRuleHarness.sol only, and deployed once.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractCustomError

import solver.market as sm
from settlement import AnvilBackend, dev_account, rules
from settlement.rules import MarketGraph, MarketRuleError, MarketTable

pytestmark = pytest.mark.chain

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("contracts/rules/MarketRule.sol", "contracts/test/MarketRuleHarness.sol")
WAD = 10**18
MAX_N = 2**64 - 1
MAX_K = 2**128 - 1
MAX_LAMBDA = 2**96 - 1
MAX_UNIT = 2**96 - 1

_spec = importlib.util.spec_from_file_location(
    "compile_contracts", ROOT / "scripts" / "compile_contracts.py"
)
assert _spec is not None and _spec.loader is not None
compile_contracts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compile_contracts)


def _compile() -> dict[str, Any]:
    sources = {name: (ROOT / name).read_text(encoding="utf-8") for name in SOURCES}
    output, _ = compile_contracts.compile_solcjs(compile_contracts.standard_input(sources))
    warnings = compile_contracts._raise_on_errors(output)
    assert warnings == [], warnings
    return output["contracts"]["contracts/test/MarketRuleHarness.sol"]["MarketRuleHarness"]


@pytest.fixture(scope="module")
def harness(anvil: AnvilBackend) -> Any:
    compiled = _compile()
    w3 = anvil.web3()
    factory = w3.eth.contract(
        abi=compiled["abi"], bytecode="0x" + compiled["evm"]["bytecode"]["object"]
    )
    tx = factory.constructor().transact({"from": dev_account(0).address})
    address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    contract = w3.eth.contract(address=address, abi=compiled["abi"])
    contract.error_names = {  # type: ignore[attr-defined]
        keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4]: (
            e["name"],
            [i["type"] for i in e["inputs"]],
        )
        for e in compiled["abi"]
        if e["type"] == "error"
    }
    return contract


def _revert(contract: Any, call: Any) -> tuple[str, tuple[int, ...]]:
    with pytest.raises(ContractCustomError) as exc:
        call.call()
    data = bytes.fromhex(str(exc.value.data)[2:])
    name, types = contract.error_names[data[:4]]
    return name, tuple(abi_decode(types, data[4:]))


def _chain_settle(h: Any, table: MarketTable, graph: MarketGraph) -> tuple[list[int], list[int]]:
    r, p = h.functions.settleRound(table.abi(), graph.abi()).call()
    return list(r), list(p)


# ------------------------------------------------------------------------------ strategies
@st.composite
def tables(draw: st.DrawFn, max_orgs: int = 7) -> MarketTable:
    m = draw(st.integers(1, max_orgs))
    big = draw(st.booleans())  # half the examples near the overflow limits
    n_st = st.integers(1, MAX_N) if big else st.integers(1, 10_000)
    k_st = st.one_of(st.just(0), st.integers(0, MAX_K) if big else st.integers(0, 10**24))
    n = tuple(draw(st.lists(n_st, min_size=m, max_size=m)))
    k = tuple(draw(st.lists(k_st, min_size=m, max_size=m)))
    lam = draw(
        st.sampled_from([0, WAD // 2, 2 * WAD, MAX_LAMBDA]) if big else st.integers(0, 3 * WAD)
    )
    unit = draw(st.sampled_from([1, WAD, MAX_UNIT]) if big else st.integers(1, 10**18))
    return MarketTable(n=n, k_wad=k, c_wad=(0,) * m, lambda_wad=lam, unit_wei=unit)


@st.composite
def graphs(draw: st.DrawFn, m: int) -> MarketGraph:
    rows = []
    for i in range(m):
        others = [j for j in range(m) if j != i]
        order = draw(st.permutations(others))
        rows.append(order[: draw(st.integers(0, m - 1))])
    dist = [[draw(st.integers(0, 2 * WAD)) if i != j else 0 for j in range(m)] for i in range(m)]
    return MarketGraph.from_rows(rows, dist)


SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# ----------------------------------------------------------------------------------- tests
@SETTINGS
@given(x=st.one_of(st.integers(0, 2**256 - 1), st.integers(0, 2**64), st.integers(0, 100)))
def test_isqrt_is_the_exact_floor_sqrt(harness: Any, x: int) -> None:
    assert harness.functions.isqrt(x).call() == math.isqrt(x)


def test_isqrt_at_the_edges(harness: Any) -> None:
    for r in (1, 2, 3, 2**64 - 1, 2**128 - 1):
        for x in (r * r - 1, r * r, r * r + 2 * r, r * r + 2 * r + 1):
            if x < 2**256:
                assert harness.functions.isqrt(x).call() == math.isqrt(x)
    assert harness.functions.isqrt(2**256 - 1).call() == 2**128 - 1


@SETTINGS
@given(data=st.data())
def test_settle_round_matches_the_mirror_sums_to_zero_and_bonds_cover(
    harness: Any, data: Any
) -> None:
    table = data.draw(tables())
    m = len(table.n)
    graph = data.draw(graphs(m))
    r_chain, p_chain = _chain_settle(harness, table, graph)
    r_py, p_py = rules.settle_round(table, graph)
    assert r_chain == r_py
    assert p_chain == p_py
    assert sum(p_chain) == 0
    b_chain = harness.functions.bonds(list(table.n), list(table.k_wad), table.unit_wei, 1).call()
    assert list(b_chain) == rules.bonds(table, 1)
    i = data.draw(st.integers(0, m - 1))
    assert (
        harness.functions.bond(i, list(table.n), list(table.k_wad), table.unit_wei, 1).call()
        == b_chain[i]
    )
    for i in range(m):
        assert p_chain[i] >= -b_chain[i]
        assert b_chain[i] >= sum(r_py[e] for e in range(graph.row_start[i], graph.row_start[i + 1]))


@SETTINGS
@given(data=st.data())
def test_bonds_cover_every_round_of_a_session(harness: Any, data: Any) -> None:
    table = data.draw(tables(max_orgs=5))
    rounds = data.draw(st.integers(1, 4))
    total = [0] * len(table.n)
    for _ in range(rounds):
        _, p = rules.settle_round(table, data.draw(graphs(len(table.n))))
        total = [a + b for a, b in zip(total, p, strict=True)]
    bond = harness.functions.bonds(list(table.n), list(table.k_wad), table.unit_wei, rounds).call()
    assert list(bond) == rules.bonds(table, rounds)
    assert all(t >= -b for t, b in zip(total, bond, strict=True))


def test_bond_is_tight_for_two_orgs() -> None:
    # one possible import, no distance: the liability is the whole gain, the bond one WAD unit more
    table = MarketTable(
        n=(800, 400), k_wad=(20_000 * WAD, 0), c_wad=(0, 0), lambda_wad=0, unit_wei=10**15
    )
    graph = MarketGraph.from_rows([(1,), ()], [[0, 0], [0, 0]])
    _, payoff = rules.settle_round(table, graph)
    bond = rules.bond(0, table, 1)
    assert 0 <= bond + payoff[0] <= table.unit_wei // WAD + 1
    assert rules.bond(1, table, 7) == 0  # a pure seller owes nothing, whatever it is made to import


def test_worked_example_in_wei() -> None:
    # c0 imports c1: G = sqrt(25) - sqrt(2e4/1200); r = G - 0.5 * 0.4 * 400/800
    table = MarketTable.from_reals([800, 400], [0.05, 0.05], [20000.0, 20000.0], 0.5, 10**12)
    graph = MarketGraph.from_distances([(1,), (0,)], [[0.0, 0.4], [0.4, 0.0]])
    assert graph == MarketGraph((0, 1, 2), (1, 0), (4 * 10**17, 4 * 10**17))
    assert graph.rows() == ((1,), (0,))
    r, p = rules.settle_round(table, graph)
    want = (5 - math.sqrt(2e4 / 1200) - 0.1) * 10**12
    assert abs(r[0] - want) <= 2
    assert p == [r[1] - r[0], r[0] - r[1]]


BAD_GRAPHS = [
    ((0, 1, 2), (1,), (0,), "MarketRowStart"),
    ((1, 1, 1), (1,), (0,), "MarketRowStart"),
    ((0, 2, 1), (1, 0), (0, 0), "MarketRowStart"),
    ((0, 1), (1,), (0,), "MarketLengthMismatch"),
    ((0, 1, 2), (1, 0), (0,), "MarketLengthMismatch"),
    ((0, 1, 1), (0,), (0,), "MarketBadExporter"),
    ((0, 1, 1), (5,), (0,), "MarketBadExporter"),
    ((0, 2, 2), (1, 1), (0, 0), "MarketDuplicateEdge"),
    ((0, 1, 1), (1,), (2 * WAD + 1,), "MarketDistanceOutOfRange"),
]


@pytest.mark.parametrize(("row_start", "exporters", "dist", "error"), BAD_GRAPHS)
def test_bad_graphs_revert_like_the_mirror(
    harness: Any,
    row_start: tuple[int, ...],
    exporters: tuple[int, ...],
    dist: tuple[int, ...],
    error: str,
) -> None:
    table = MarketTable(n=(10, 20), k_wad=(WAD, WAD), c_wad=(0, 0), lambda_wad=WAD, unit_wei=WAD)
    graph = MarketGraph(row_start, exporters, dist)
    with pytest.raises(MarketRuleError) as exc:
        rules.settle_round(table, graph)
    assert exc.value.error == error
    name, values = _revert(harness, harness.functions.settleRound(table.abi(), graph.abi()))
    assert (name, values) == (exc.value.error, exc.value.values)


BAD_PARAMS = [
    ({"n": ()}, 1, "MarketOrgCount"),
    ({"k_wad": (1,)}, 1, "MarketLengthMismatch"),
    ({"c_wad": (1, 2, 3)}, 1, "MarketLengthMismatch"),
    ({"n": (1, 0)}, 1, "MarketSizeOutOfRange"),
    ({"n": (MAX_N + 1, 1)}, 1, "MarketSizeOutOfRange"),
    ({"k_wad": (0, MAX_K + 1)}, 1, "MarketEagernessOutOfRange"),
    ({"c_wad": (2**128, 0)}, 1, "MarketCostOutOfRange"),
    ({"lambda_wad": MAX_LAMBDA + 1}, 1, "MarketLambdaOutOfRange"),
    ({"unit_wei": 0}, 1, "MarketUnitOutOfRange"),
    ({}, 0, "MarketRoundsOutOfRange"),
    ({}, 2**32, "MarketRoundsOutOfRange"),
]


@pytest.mark.parametrize(("change", "rounds", "error"), BAD_PARAMS)
def test_bad_params_revert_like_the_mirror(
    harness: Any, change: dict[str, Any], rounds: int, error: str
) -> None:
    fields = {"n": (10, 20), "k_wad": (WAD, 0), "c_wad": (0, 1), "lambda_wad": WAD, "unit_wei": WAD}
    fields.update(change)
    table = MarketTable(**fields)
    with pytest.raises(MarketRuleError) as exc:
        rules.check_params(table, rounds)
    assert exc.value.error == error
    call = harness.functions.checkParams(
        list(table.n),
        list(table.k_wad),
        list(table.c_wad),
        table.lambda_wad,
        table.unit_wei,
        rounds,
    )
    assert _revert(harness, call) == (exc.value.error, exc.value.values)


def test_good_params_pass(harness: Any) -> None:
    table = MarketTable(
        n=(MAX_N, 1), k_wad=(MAX_K, 0), c_wad=(0, 1), lambda_wad=MAX_LAMBDA, unit_wei=MAX_UNIT
    )
    rules.check_params(table, 2**32 - 1)
    harness.functions.checkParams(
        list(table.n),
        list(table.k_wad),
        list(table.c_wad),
        table.lambda_wad,
        table.unit_wei,
        2**32 - 1,
    ).call()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 9), unit_exp=st.integers(6, 18))
def test_mirror_agrees_with_the_float_solver(seed: int, n: int, unit_exp: int) -> None:
    """On greedy graphs, |r_wei - r * unit_wei| <= 2 unit_wei / 1e18 + 1 + the float's own rounding
    (1e-12 relative to the row's gain): the library's stated rounding bound."""
    market, d = sm.random_market(n, seed)
    unit = 10**unit_exp
    table = MarketTable.from_reals(market.N, market.c, market.K, market.lambda_pay, unit)
    d_wad = [[int(x) for x in row] for row in np.vectorize(lambda v: int(v * WAD))(d)]
    exact = sm.Market(
        market.names,
        N=table.n,
        c=market.c,
        K=[k / WAD for k in table.k_wad],
        lambda_pay=table.lambda_wad / WAD,
    )
    d_exact = np.array(d_wad, dtype=float) / WAD
    res = sm.solve_round(exact, d_exact)
    graph = MarketGraph.from_rows(res.graph, d_wad)
    r_wei, payoff = rules.settle_round(table, graph)
    for i, row in enumerate(res.graph):
        for e, j in zip(range(graph.row_start[i], graph.row_start[i + 1]), row, strict=True):
            want = max(0.0, float(res.payments[i, j])) * unit
            tol = 2 * unit / WAD + 1 + 1e-12 * (abs(float(res.gain[i])) + 1) * unit
            assert abs(r_wei[e] - want) <= tol
    assert sum(payoff) == 0
    net = -np.asarray(payoff, dtype=float) / unit
    assert net == pytest.approx(res.net_payment, abs=n * (2 / WAD + 1 / unit) + 1e-11)
