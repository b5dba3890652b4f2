"""Gains, marginal gains and import thresholds of the market (``mechanisms.md`` section 3).

With s_i(n) = sqrt(K_i / n) (convex, decreasing), importing the set S into org i's pool of
n_i = N_i + sum_{j in S} N_j samples gains G_i(S) = s_i(N_i) - s_i(n_i), and exporter j's last-in
marginal gain is s_i(n_i - N_j) - s_i(n_i). Differences of inverse square roots are evaluated in
the cancellation-free form 1/sqrt(x) - 1/sqrt(y) = (y - x) / (sqrt(x y) (sqrt(x) + sqrt(y))),
with y - x passed exactly (it is a data size).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.market._model import Market, check_distance

__all__ = ["gain", "inv_sqrt_diff", "thresholds"]

FloatArray = NDArray[np.float64]

#: bisection step cap: above the ~2,100 halvings that pinch any positive float interval to two
#: adjacent floats (in practice about 55 for these brackets)
BISECTION_STEPS = 2_200


def inv_sqrt_diff(x: ArrayLike, y: ArrayLike, delta: ArrayLike) -> FloatArray:
    """1/sqrt(x) - 1/sqrt(y) for 0 < x <= y, given delta = y - x exactly (the caller knows it:
    a data size), so neither the subtraction nor y - x loses digits."""
    sx, sy = np.sqrt(np.asarray(x, dtype=float)), np.sqrt(np.asarray(y, dtype=float))
    return np.asarray(
        np.asarray(delta, dtype=float) / sx / sy / (sx + sy), dtype=float
    )  # no overflow


def gain(market: Market, imported: ArrayLike) -> FloatArray:
    """G_i = sqrt(K_i/N_i) - sqrt(K_i/(N_i + imported_i)) per org, ``imported_i`` the total data
    size of the models org i imports."""
    N, extra = market.N, np.asarray(imported, dtype=float)
    return np.sqrt(market.K) * inv_sqrt_diff(N, N + extra, extra)


def thresholds(market: Market, distance: ArrayLike) -> FloatArray:
    """Import thresholds T_ij (m x m) by vectorized bisection.

    T_ij is the total data T > N_j at which exporter j's marginal gain to org i equals its price,
    ``sqrt(K_i/(T - N_j)) - sqrt(K_i/T) = c_j + lambda_pay d_ij N_j / N_i``. The left side falls
    strictly from +inf (T -> N_j) to 0 (T -> inf), so a root exists and is unique exactly when the
    right side is positive and K_i > 0. The other cases are explicit:

    - right side <= 0 (free, identical model): every T qualifies, ``T_ij = +inf``;
    - K_i = 0 (pure seller): the left side is 0, nothing is worth importing, ``T_ij = -inf``;
    - the diagonal is ``nan`` (an org never imports itself).

    The bracket is [N_j, N_j + (sqrt(K_i) N_j / (2 rhs))^(2/3)]: by the mean-value theorem the left
    side is at most sqrt(K_i) N_j / (2 (T - N_j)^(3/2)), which equals rhs at the upper end. Bisection
    runs until the interval is two adjacent floats; the midpoint is returned.
    """
    m = market.n
    d = check_distance(distance, m)
    N, K = market.N, market.K
    a = np.broadcast_to(N[None, :], (m, m))
    rhs = market.c[None, :] + market.lambda_pay * d * N[None, :] / N[:, None]
    sk = np.broadcast_to(np.sqrt(K)[:, None], (m, m))
    T = np.full((m, m), -np.inf)
    seller = K == 0
    buyer = ~seller[:, None] & ~np.eye(m, dtype=bool)
    T[buyer & (rhs <= 0)] = np.inf
    solve = buyer & (rhs > 0)
    with np.errstate(over="ignore"):
        hi = a + (sk * a / (2.0 * np.where(solve, rhs, 1.0))) ** (2.0 / 3.0)
    T[solve & ~np.isfinite(hi)] = np.inf  # price below float resolution: always worth it
    solve &= np.isfinite(hi)
    T[solve] = _bisect(a[solve], hi[solve], sk[solve], rhs[solve])
    T[np.eye(m, dtype=bool)] = np.nan
    return T


def _bisect(lo: FloatArray, hi: FloatArray, sk: FloatArray, rhs: FloatArray) -> FloatArray:
    """Root of sk (1/sqrt(T - a) - 1/sqrt(T)) = rhs in (lo, hi] per entry, with a = lo; each
    entry leaves the active set once its interval is two adjacent floats."""
    a = lo
    lo, hi = lo.copy(), hi.copy()
    active = np.arange(lo.size)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo[active] + hi[active])
        open_ = (mid > lo[active]) & (mid < hi[active])
        active, mid = active[open_], mid[open_]
        if active.size == 0:
            break
        above = sk[active] * inv_sqrt_diff(mid - a[active], mid, a[active]) > rhs[active]
        lo[active[above]] = mid[above]
        hi[active[~above]] = mid[~above]
    return 0.5 * (lo + hi)
