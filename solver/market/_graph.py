"""The greedy graph rows: which peers' models each org imports, in acceptance order."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.market._model import Market

__all__ = ["adjacency", "greedy_row", "greedy_rows", "import_weights"]


def greedy_row(market: Market, threshold: ArrayLike, i: int) -> tuple[int, ...]:
    """Org i's imports, in acceptance order (``mechanisms.md`` section 3).

    Candidates j != i are visited in decreasing T_ij (ties: lower org index first). Starting from
    n = N_i, j is accepted while n + N_j < T_ij (then n += N_j); the row stops at the first
    failure. A pure seller (K_i = 0) imports nothing.
    """
    if market.K[i] == 0:
        return ()
    T = np.asarray(threshold, dtype=float)[i]
    cand = np.array([j for j in range(market.n) if j != i], dtype=np.intp)
    order = cand[np.lexsort((cand, -T[cand]))]
    n = float(market.N[i])
    row: list[int] = []
    for j in order:
        if not n + market.N[j] < T[j]:
            break
        row.append(int(j))
        n += float(market.N[j])
    return tuple(row)


#: matrix entries per chunk of rows in :func:`greedy_rows` (bounds its working memory)
CHUNK_ENTRIES = 1 << 22


def greedy_rows(market: Market, threshold: ArrayLike) -> tuple[tuple[int, ...], ...]:
    """Every org's :func:`greedy_row`, in org order, computed for chunks of rows at once.

    The same rule: a stable sort of -T_ij per row (ties: lower index first, the diagonal last),
    the running totals n + N_j accumulated left to right as in the loop, and the row cut at its
    first failure.
    """
    m = market.n
    T = np.asarray(threshold, dtype=float)
    N = market.N
    rows: list[tuple[int, ...]] = []
    step = max(1, CHUNK_ENTRIES // m)
    for i0 in range(0, m, step):
        idx = np.arange(i0, min(m, i0 + step))
        t = T[idx].copy()
        t[np.arange(idx.size), idx] = np.nan  # never a candidate (sorted last, always fails)
        order = np.argsort(-t, axis=1, kind="stable")
        total = np.cumsum(np.column_stack((N[idx], N[order])), axis=1)[:, 1:]
        ok = total < np.take_along_axis(t, order, axis=1)
        count = np.where(market.K[idx] == 0, 0, np.argmin(ok, axis=1))
        rows.extend(tuple(o[:k].tolist()) for o, k in zip(order, count, strict=True))
    return tuple(rows)


def adjacency(rows: tuple[tuple[int, ...], ...], n: int) -> NDArray[np.bool_]:
    """The n x n import matrix a_ij (True when i imports j) of graph rows."""
    a = np.zeros((n, n), dtype=bool)
    for i, row in enumerate(rows):
        a[i, list(row)] = True
    return a


def import_weights(market: Market, rows: tuple[tuple[int, ...], ...]) -> NDArray[np.float64]:
    """The prox-center weights w_ij = a_ij N_j / N_i of ``mechanisms.md`` section 3 (m x m)."""
    return np.where(adjacency(rows, market.n), market.N[None, :] / market.N[:, None], 0.0)
