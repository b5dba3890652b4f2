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


def greedy_rows(market: Market, threshold: ArrayLike) -> tuple[tuple[int, ...], ...]:
    """Every org's :func:`greedy_row`, in org order."""
    return tuple(greedy_row(market, threshold, i) for i in range(market.n))


def adjacency(rows: tuple[tuple[int, ...], ...], n: int) -> NDArray[np.bool_]:
    """The n x n import matrix a_ij (True when i imports j) of graph rows."""
    a = np.zeros((n, n), dtype=bool)
    for i, row in enumerate(rows):
        a[i, list(row)] = True
    return a


def import_weights(market: Market, rows: tuple[tuple[int, ...], ...]) -> NDArray[np.float64]:
    """The prox-center weights w_ij = a_ij N_j / N_i of ``mechanisms.md`` section 3 (m x m)."""
    return np.where(adjacency(rows, market.n), market.N[None, :] / market.N[:, None], 0.0)
