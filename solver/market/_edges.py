"""One market round for large n: the greedy graph and its payments on the edges only.

:func:`solve_round` computes all m^2 thresholds and dense m x m payments, which is what a small
round's full report shows; its cost and output grow as m^2 (a 10,000-org round would take minutes
and write gigabytes). Here the same graph and the same numbers on its edges come from few
threshold roots: org i's greedy row visits candidates in decreasing T_ij and stops at the first
failure, so only the highest thresholds of a row matter.

Bounds: with x = T - N_j, s = sqrt(x), t = sqrt(x + N_j), the marginal gain is
sqrt(K_i) N_j / (s t (s + t)). Since 2 (s t)^(3/2) <= s t (s + t) <= 2 ((s^2 + t^2) / 2)^(3/2)
(AM-GM and the power-mean inequality), the root satisfies, with
X = (sqrt(K_i) N_j / (2 rhs_ij))^(2/3),

    X + N_j / 2  <=  T_ij  <=  N_j / 2 + sqrt(N_j^2 / 4 + X^2)

(the two ends differ by at most N_j^2 / (8 X)). The exact root (the bisection of
:func:`thresholds`, entry for entry, so the thresholds are the same floats) is computed only for
candidates whose upper bound reaches the ``FIRST_CANDIDATES``-th largest lower bound of their row,
which holds the row's top ``FIRST_CANDIDATES`` in their exact order. A row whose acceptance runs
past those is redone with four times as many, up to every candidate (as is, in the end, a row
with a free candidate, T_ij = +inf). Rows
are processed in chunks, from a dense distance array or a :class:`solver.BlockMatrix` (never
densified as a whole).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._block import BlockMatrix
from solver.market._gain import _root, gain, imported_sizes, marginal_gain
from solver.market._graph import CHUNK_ENTRIES
from solver.market._model import Market, check_distance_form
from solver.market._round import IR_RTOL, round_summary

__all__ = ["EdgeRound", "greedy_edges", "solve_round_edges"]

FloatArray = NDArray[np.float64]
Rows = tuple[tuple[int, ...], ...]

#: candidates per row whose thresholds are known exactly before a row is recomputed in full
FIRST_CANDIDATES = 32
#: relative margin of the threshold bounds (covers the rounding of their evaluation)
BOUND_RTOL = 1e-9
#: a row with a price rhs_ij / N_j at or below this is done in full (free or overflowing X)
_TINY = 1e-280


@dataclass(frozen=True, eq=False)
class EdgeRound:
    """Outcome of one round, as :class:`MarketRound` but with per-edge payments and thresholds.

    ``payments[i][k]`` is r_ij and ``threshold[i][k]`` T_ij for j = ``graph[i][k]``; the
    per-org arrays are those of :class:`MarketRound`.
    """

    market: Market
    graph: Rows
    payments: tuple[FloatArray, ...]
    threshold: tuple[FloatArray, ...]
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
        """JSON-ready summary with ``payments_form = "edges"``: ``payments`` and ``threshold``
        are lists parallel to ``graph`` (an infinite threshold is the string ``"inf"``)."""
        return round_summary(
            self,
            payments_form="edges",
            payments=[r.tolist() for r in self.payments],
            threshold=[
                [v if math.isfinite(v) else "inf" for v in t.tolist()] for t in self.threshold
            ],
        )


def _take_rows(d: FloatArray | BlockMatrix, idx: NDArray[np.intp]) -> FloatArray:
    return d.take_rows(idx) if isinstance(d, BlockMatrix) else np.asarray(d[idx], dtype=float)


def greedy_edges(
    market: Market, distance: ArrayLike | BlockMatrix, *, checked: bool = False
) -> tuple[Rows, tuple[FloatArray, ...], tuple[FloatArray, ...]]:
    """The greedy rows of :func:`greedy_rows` (the same graph), with T_ij and d_ij of each edge.

    Returns ``(rows, thresholds, distances)``, the latter two parallel to ``rows``. ``checked``:
    the distances already passed :func:`check_distance_form` (a parsed config's).
    """
    m = market.n
    d = distance if isinstance(distance, BlockMatrix) else np.asarray(distance, dtype=float)
    if not checked:
        d = check_distance_form(d, m)
    empty = (np.zeros(0, dtype=np.intp), np.zeros(0), np.zeros(0))
    out: list[tuple[NDArray[np.intp], FloatArray, FloatArray]] = [empty] * m
    buyers = np.flatnonzero(market.K > 0)
    step = max(1, CHUNK_ENTRIES // m)
    for b0 in range(0, buyers.size, step):
        idx = buyers[b0 : b0 + step]
        D = _take_rows(d, idx)
        todo, top = np.arange(idx.size), FIRST_CANDIDATES
        while todo.size:
            if top >= m - 1:  # every candidate: the rows in full
                for k in todo.tolist():
                    out[int(idx[k])] = _full_row(market, int(idx[k]), D[k])
                break
            done, rest = _top_rows(market, idx[todo], D[todo], top)
            for k, row in zip(todo[done].tolist(), rest, strict=True):
                out[int(idx[k])] = row
            todo, top = todo[~done], top * 4
    return (
        tuple(tuple(o[0].tolist()) for o in out),
        tuple(o[1] for o in out),
        tuple(o[2] for o in out),
    )


def _top_rows(
    market: Market, idx: NDArray[np.intp], D: FloatArray, top: int
) -> tuple[NDArray[np.bool_], list[tuple[NDArray[np.intp], FloatArray, FloatArray]]]:
    """Greedy rows ``idx`` (buyers; distance rows ``D``) from the exact thresholds of their
    ``top`` highest candidates (see the module docstring). Returns which rows are done and their
    (imports, thresholds, distances); the others accept past their ``top`` known ranks or have a
    (nearly) free candidate."""
    N = market.N
    rows_k = np.arange(idx.size)
    # q = rhs_ij / N_j; the bounds use X = (sqrt(K_i) / (2 q))^(2/3)
    q = D * (market.lambda_pay / N[idx])[:, None]
    q += (market.c / N)[None, :]
    q[rows_k, idx] = np.inf  # the diagonal: never a candidate
    ok_rows = q.min(axis=1) > _TINY
    q[~ok_rows] = np.inf
    half_sk = 0.5 * np.sqrt(market.K[idx])
    # tau0 <= the top-th largest lower bound X + N_j / 2: the top-th largest X plus min N / 2
    q_top = np.partition(q, top - 1, axis=1)[:, top - 1]
    tau0 = ((half_sk / q_top) ** (2.0 / 3.0) + 0.5 * float(N.min())) * (1.0 - BOUND_RTOL)
    # the upper bound reaches tau0 only if X^2 >= y = tau0 (tau0 - N_j), i.e. (sqrt(K_i)/2)^2 >=
    # q^2 y^(3/2) (always when y <= 0)
    y = tau0[:, None] - N[None, :]
    y *= tau0[:, None]
    np.maximum(y, 0.0, out=y)
    y *= np.sqrt(y)
    with np.errstate(invalid="ignore"):  # 0 * inf off the candidates: nan, never selected
        y *= q
        y *= q
    r, j = np.nonzero(y <= (half_sk * half_sk * (1.0 + BOUND_RTOL))[:, None])
    x = np.cbrt(half_sk[r] / q[r, j]) ** 2
    a = N[j]
    low = (x + 0.5 * a) * (1.0 - BOUND_RTOL)
    up = (0.5 * a + np.sqrt(0.25 * a * a + x * x)) * (1.0 + BOUND_RTOL)
    # tau: the top-th largest lower bound of each row (every entry with low >= tau0 is here)
    by_low = np.lexsort((-low, r))
    starts = np.searchsorted(r[by_low], rows_k)
    has = np.searchsorted(r[by_low], rows_k, side="right") - starts >= top
    tau = np.full(idx.size, np.inf)
    tau[has] = low[by_low[starts[has] + top - 1]]
    keep = up >= tau[r]
    r, j = r[keep], j[keep]
    # the exact prices of thresholds(), operation for operation
    rhs = market.c[j] + market.lambda_pay * D[r, j] * N[j] / N[idx[r]]
    t = _exact(market, idx[r], j, rhs)
    order = np.lexsort((j, -t, r))
    r, j, t = r[order], j[order], t[order]
    cuts = np.searchsorted(r, np.arange(idx.size + 1))
    done = ok_rows & has
    rows = []
    for k in np.flatnonzero(done).tolist():
        js, ts = j[cuts[k] : cuts[k + 1]], t[cuts[k] : cuts[k + 1]]
        count = _accepted(N, int(idx[k]), js, ts)
        if count >= top:  # past the exactly known ranks
            done[k] = False
        else:
            rows.append((js[:count], ts[:count], D[k, js[:count]]))
    return done, rows


def _exact(market: Market, i: NDArray[np.intp], j: NDArray[np.intp], rhs: FloatArray) -> FloatArray:
    """The exact T_ij of entries (i, j) with prices ``rhs`` > 0, as :func:`thresholds` computes
    them (an overflowing bracket is +inf)."""
    a, sk = market.N[j], np.sqrt(market.K)[i]
    with np.errstate(over="ignore"):
        hi = a + (sk * a / (2.0 * rhs)) ** (2.0 / 3.0)
    t = np.full(a.size, np.inf)
    fin = np.isfinite(hi)
    if fin.any():
        t[fin] = _root(a[fin], hi[fin], sk[fin], rhs[fin])
    return t


def _accepted(N: FloatArray, i: int, js: NDArray[np.intp], ts: FloatArray) -> int:
    """How many of the candidates ``js`` (in decreasing threshold ``ts``) org i accepts: the
    running total N_i + sum N_j, accumulated left to right, stays below T_ij."""
    ok = np.cumsum(np.concatenate(([N[i]], N[js])))[1:] < ts
    return ok.size if ok.all() else int(np.argmin(ok))


def _full_row(
    market: Market, i: int, dist: FloatArray
) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Row i (distances ``dist``) with the exact threshold of every candidate."""
    N = market.N
    rhs = market.c + market.lambda_pay * dist * N / N[i]
    cand = np.flatnonzero(np.arange(N.size) != i)
    free = cand[rhs[cand] <= 0]
    js = cand[rhs[cand] > 0]
    t = np.concatenate(
        (np.full(free.size, np.inf), _exact(market, np.full(js.size, i), js, rhs[js]))
    )
    js = np.concatenate((free, js))
    order = np.lexsort((js, -t))
    js, t = js[order], t[order]
    count = _accepted(N, i, js, t)
    return js[:count], t[:count], dist[js[:count]]


def solve_round_edges(
    market: Market, distance: ArrayLike | BlockMatrix, *, checked: bool = False
) -> EdgeRound:
    """One FL round as :func:`solve_round` (the same graph, payments, utilities and IR checks),
    computed and reported on the edges only (``checked`` as in :func:`greedy_edges`)."""
    m = market.n
    rows, ts, ds = greedy_edges(market, distance, checked=checked)
    N = market.N
    sizes = np.array([len(r) for r in rows], dtype=np.intp)
    imp = np.repeat(np.arange(m), sizes)
    exp = np.array([j for r in rows for j in r], dtype=np.intp)
    dist = np.concatenate(ds) if ds else np.zeros(0)
    imported, residual = imported_sizes(N, rows)
    marg = marginal_gain(market.K[imp], N[imp], imported[imp], residual[imp], N[exp])
    r = marg - market.lambda_pay * dist * N[exp] / N[imp]
    g = gain(market, imported)
    starts = np.concatenate(([0], np.cumsum(sizes)))
    by_exp = np.argsort(exp, kind="stable")
    in_starts = np.searchsorted(exp[by_exp], np.arange(m + 1))
    r_in = r[by_exp]
    p = np.array(
        [
            math.fsum(
                np.concatenate(
                    (r[starts[i] : starts[i + 1]], -r_in[in_starts[i] : in_starts[i + 1]])
                )
            )
            for i in range(m)
        ]
    )
    cost = market.c * np.bincount(exp, minlength=m)
    u = g - p - cost
    abs_r = np.abs(r)
    scale = (
        1.0
        + np.abs(g)
        + np.bincount(imp, abs_r, minlength=m)
        + np.bincount(exp, abs_r, minlength=m)
    ) + cost
    tol = IR_RTOL * scale
    ir_imp = g - np.bincount(imp, r, minlength=m) >= -tol
    low_edge = r < (market.c - tol)[exp]
    ir_exp = np.bincount(exp, low_edge.astype(float), minlength=m) == 0
    pays = tuple(r[starts[i] : starts[i + 1]] for i in range(m))
    for arr in (r, p, g, cost, u, ir_imp, ir_exp):
        arr.setflags(write=False)
    return EdgeRound(
        market=market,
        graph=rows,
        payments=pays,
        threshold=ts,
        net_payment=p,
        gain=g,
        export_cost=cost,
        utility=u,
        ir_importer=ir_imp,
        ir_exporter=ir_exp,
        ir=u >= -tol,
    )
