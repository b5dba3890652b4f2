"""One FL round of the market (graph, payments, utilities, IR) and the ledger over rounds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError
from solver.market._gain import gain, imported_sizes, marginal_gain, thresholds
from solver.market._graph import adjacency, greedy_rows
from solver.market._model import Market, check_distance

__all__ = [
    "MarketLedger",
    "MarketRound",
    "edge_payments",
    "evaluate_round",
    "net_payments",
    "solve_round",
]

FloatArray = NDArray[np.float64]
Rows = tuple[tuple[int, ...], ...]

#: relative tolerance of the IR checks (rounding of the float computation, not economics)
IR_RTOL = 1e-9


def _check_rows(rows: Sequence[Sequence[int]], n: int) -> Rows:
    if len(rows) != n:
        raise GameError(f"needs one row per org ({n}), got {len(rows)}", field="graph")
    out = []
    for i, row in enumerate(rows):
        seen: set[int] = set()
        for j in row:
            if isinstance(j, bool) or not isinstance(j, int | np.integer) or not 0 <= j < n:
                raise GameError(f"{j!r} is not an org index in [0, {n})", field=f"graph[{i}]")
            if j == i:
                raise GameError("an org cannot import its own model", field=f"graph[{i}]")
            if j in seen:
                raise GameError(f"org {j} imported twice", field=f"graph[{i}]")
            seen.add(int(j))
        out.append(tuple(int(j) for j in row))
    return tuple(out)


def edge_payments(market: Market, distance: ArrayLike, rows: Sequence[Sequence[int]]) -> FloatArray:
    """Edge payments r_ij (m x m, row = importer) of a given graph.

    ``r_ij = [G_i(S_i) - G_i(S_i without j)] - lambda_pay d_ij N_j / N_i`` for j in S_i, else 0.
    The payments depend on the set S_i only, not on its order. No sign is imposed: a graph that is
    not the greedy one can have r_ij < 0 (see ``settlement.rules`` for the on-chain rule).
    """
    graph = _check_rows(rows, market.n)
    return _payments(
        market, check_distance(distance, market.n), graph, *imported_sizes(market.N, graph)
    )


def _payments(
    market: Market, d: FloatArray, graph: Rows, imported: FloatArray, residual: FloatArray
) -> FloatArray:
    """:func:`edge_payments` of a checked graph, from its :func:`imported_sizes`."""
    N = market.N
    i, j = np.nonzero(adjacency(graph, market.n))
    r = np.zeros((market.n, market.n))
    marg = marginal_gain(market.K[i], N[i], imported[i], residual[i], N[j])
    r[i, j] = marg - market.lambda_pay * d[i, j] * N[j] / N[i]
    return r


def net_payments(payments: ArrayLike) -> FloatArray:
    """p_i = sum_j r_ij - sum_k r_ki. Each edge is one number, paid by i and received by j; every
    p_i is the correctly rounded value of its exact sum (``math.fsum``)."""
    r = np.asarray(payments, dtype=float)
    return np.array([math.fsum(np.concatenate([r[i], -r[:, i]])) for i in range(r.shape[0])])


@dataclass(frozen=True, eq=False)
class MarketRound:
    """Outcome of one FL round of the market.

    ``graph[i]`` lists the orgs i imports in acceptance order; ``payments[i, j]`` is r_ij;
    ``net_payment`` p_i (positive: i pays); ``export_cost`` c_i times i's number of importers;
    ``utility`` U_i = G_i - p_i - export_cost_i. IR checks (within ``IR_RTOL`` of the org's
    money scale): ``ir_importer`` G_i >= sum_j r_ij, ``ir_exporter`` r_ki >= c_i on every edge
    k <- i, ``ir`` U_i >= 0.
    """

    market: Market
    distance: FloatArray
    threshold: FloatArray
    graph: Rows
    payments: FloatArray
    net_payment: FloatArray
    gain: FloatArray
    export_cost: FloatArray
    utility: FloatArray
    ir_importer: NDArray[np.bool_]
    ir_exporter: NDArray[np.bool_]
    ir: NDArray[np.bool_]

    @property
    def budget_balance(self) -> float:
        """sum_i p_i (0 up to the rounding of the p_i)."""
        return math.fsum(self.net_payment)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary; infinite thresholds are written as strings ``"inf"``/``"-inf"``,
        the diagonal as ``None``."""
        threshold: list[list[float | str | None]] = self.threshold.tolist()
        for i, j in np.argwhere(~np.isfinite(self.threshold)).tolist():
            v = float(self.threshold[i, j])
            threshold[i][j] = None if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return round_summary(self, payments=self.payments.tolist(), threshold=threshold)


def round_summary(r: Any, **rows: Any) -> dict[str, Any]:
    """The JSON fields a dense and an edge-form round share, in the documented order;
    ``rows`` are the form's own ``payments`` (placed after ``graph``) and ``threshold`` (last)."""
    names = r.market.names
    extra = dict(rows)
    threshold = extra.pop("threshold")
    return {
        "mechanism": "market",
        "names": list(names),
        "lambda_pay": r.market.lambda_pay,
        "graph": [[names[j] for j in row] for row in r.graph],
        **extra,
        "net_payment": r.net_payment.tolist(),
        "gain": r.gain.tolist(),
        "export_cost": r.export_cost.tolist(),
        "utility": r.utility.tolist(),
        "ir": [bool(v) for v in r.ir],
        "ir_importer": [bool(v) for v in r.ir_importer],
        "ir_exporter": [bool(v) for v in r.ir_exporter],
        "budget_balance": r.budget_balance,
        "threshold": threshold,
    }


def evaluate_round(
    market: Market,
    distance: ArrayLike,
    rows: Sequence[Sequence[int]],
    threshold: ArrayLike | None = None,
) -> MarketRound:
    """Payments, utilities and IR checks of a given graph (the greedy one or an attested one,
    e.g. to audit a settled round). ``threshold`` is computed when not given."""
    d = check_distance(distance, market.n)
    if threshold is None:
        threshold = thresholds(market, d)
    graph = _check_rows(rows, market.n)
    imported, residual = imported_sizes(market.N, graph)
    r = _payments(market, d, graph, imported, residual)
    a = adjacency(graph, market.n)
    g = gain(market, imported)
    p = net_payments(r)
    importers = a.sum(axis=0)
    cost = market.c * importers
    u = g - p - cost
    scale = 1.0 + np.abs(g) + np.abs(r).sum(axis=1) + np.abs(r).sum(axis=0) + cost
    tol = IR_RTOL * scale
    ir_imp = g - r.sum(axis=1) >= -tol
    ir_exp = np.all(~a | (r >= (market.c - tol)[None, :]), axis=0)
    T = np.asarray(threshold, dtype=float)
    for arr in (r, p, g, cost, u, T, ir_imp, ir_exp):
        arr.setflags(write=False)
    return MarketRound(
        market=market,
        distance=d,
        threshold=T,
        graph=graph,
        payments=r,
        net_payment=p,
        gain=g,
        export_cost=cost,
        utility=u,
        ir_importer=ir_imp,
        ir_exporter=ir_exp,
        ir=u >= -tol,
    )


def solve_round(market: Market, distance: ArrayLike) -> MarketRound:
    """One FL round: thresholds, greedy graph rows, payments, utilities and IR checks."""
    T = thresholds(market, distance)
    return evaluate_round(market, distance, greedy_rows(market, T), T)


@dataclass(eq=False)
class MarketLedger:
    """Accumulates rounds of one market: utilities, gains, payments and edge counts add up.

    Examples
    --------
    >>> m = Market(["a", "b"], N=[800, 400], c=[0.05, 0.05], K=[2e4, 2e4], lambda_pay=0.5)
    >>> ledger = MarketLedger(m)
    >>> for _ in range(3):
    ...     _ = ledger.add(solve_round(m, [[0, 0.1], [0.1, 0]]))
    >>> ledger.rounds, ledger.edges.tolist()
    (3, [[0, 3], [3, 0]])
    """

    market: Market
    rounds: int = 0
    utility: FloatArray = field(init=False)
    gain: FloatArray = field(init=False)
    net_payment: FloatArray = field(init=False)
    payments: FloatArray = field(init=False)
    edges: NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        m = self.market.n
        self.utility = np.zeros(m)
        self.gain = np.zeros(m)
        self.net_payment = np.zeros(m)
        self.payments = np.zeros((m, m))
        self.edges = np.zeros((m, m), dtype=np.int64)

    def add(self, result: MarketRound) -> MarketRound:
        """Add one round's outcome; returns it (so ``ledger.add(solve_round(...))`` chains)."""
        if result.market is not self.market:
            raise GameError("the round belongs to another market", field="market")
        self.rounds += 1
        self.utility = self.utility + result.utility
        self.gain = self.gain + result.gain
        self.net_payment = self.net_payment + result.net_payment
        self.payments = self.payments + result.payments
        self.edges = self.edges + adjacency(result.graph, self.market.n)
        return result

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready totals over the recorded rounds."""
        return {
            "rounds": self.rounds,
            "names": list(self.market.names),
            "utility": self.utility.tolist(),
            "gain": self.gain.tolist(),
            "net_payment": self.net_payment.tolist(),
            "payments": self.payments.tolist(),
            "edges": self.edges.tolist(),
        }
