"""The vectorized market paths give the same results as the plain ones they replace."""

from __future__ import annotations

import numpy as np
import pytest

import solver.market as sm
from solver.market import _gain


@pytest.mark.parametrize("seed", [0, 1])
def test_thresholds_equal_full_bisection(seed: int) -> None:
    market, d = sm.random_market(150, seed=seed)
    fast = sm.thresholds(market, d)
    # the plain algorithm: bisection of the whole bracket, for every entry
    newton = _gain._root
    try:
        _gain._root = lambda a, hi, sk, rhs: _gain._bisect(a, a, hi, sk, rhs)
        plain = sm.thresholds(market, d)
    finally:
        _gain._root = newton
    assert np.array_equal(fast, plain, equal_nan=True)
    assert np.isfinite(fast).sum() > 10_000  # the Newton path was exercised


def test_greedy_rows_equal_row_by_row() -> None:
    market, d = sm.random_market(90, seed=3)
    T = sm.thresholds(market, d)
    T[4, [9, 7, 2]] = 2 * np.nanmax(T[4])  # a tie at the top: lower index first
    T[5] = np.inf  # every peer free: the whole row
    T[5, 5] = np.nan
    expected = tuple(sm.greedy_row(market, T, i) for i in range(market.n))
    assert sm.greedy_rows(market, T) == expected
    assert expected[4][:3] == (2, 7, 9)
    assert len(expected[5]) == (89 if market.K[5] > 0 else 0)
