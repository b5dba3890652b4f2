"""Gains, marginal gains and import thresholds of the market (``mechanisms.md`` section 3).

With s_i(n) = sqrt(K_i / n) (convex, decreasing), importing the set S into org i's pool of
n_i = N_i + sum_{j in S} N_j samples gains G_i(S) = s_i(N_i) - s_i(n_i), and exporter j's last-in
marginal gain is s_i(n_i - N_j) - s_i(n_i). Differences of inverse square roots are evaluated in
the cancellation-free form 1/sqrt(x) - 1/sqrt(y) = (y - x) / (sqrt(x y) (sqrt(x) + sqrt(y))),
with y - x passed exactly (it is a data size). The pool without j is not computed as n_i - N_j,
which loses every digit of a small N_i next to a large N_j: see :func:`marginal_gain`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.market._model import Market, check_distance

__all__ = ["gain", "imported_sizes", "inv_sqrt_diff", "marginal_gain", "thresholds"]

FloatArray = NDArray[np.float64]

#: bisection step cap: above the ~2,100 halvings that pinch any positive float interval to two
#: adjacent floats (in practice about 55 for these brackets)
BISECTION_STEPS = 2_200
#: Newton steps on the log-log form (quadratic convergence from the bracket's upper end)
NEWTON_STEPS = 5
#: relative half-width of the checked bracket around the Newton estimate (about 45 floats)
POLISH_RTOL = 1e-14


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


def imported_sizes(N: FloatArray, rows: Sequence[Sequence[int]]) -> tuple[FloatArray, FloatArray]:
    """Per importer (``rows[i]``: the orgs i imports), the imported data size (the correctly
    rounded sum of its exporters' N_j) and that sum's rounding residual (exact sum minus the
    rounded one, itself rounded)."""
    sizes = [N[np.asarray(row, dtype=np.intp)] for row in rows]
    imported = np.array([math.fsum(x) for x in sizes], dtype=float)
    residual = np.array(
        [math.fsum(np.append(x, -s)) for x, s in zip(sizes, imported, strict=True)], dtype=float
    )
    return imported, residual


def marginal_gain(
    K_i: ArrayLike, N_i: ArrayLike, imported: ArrayLike, residual: ArrayLike, N_j: ArrayLike
) -> FloatArray:
    """Exporter j's last-in marginal gain s_i(n_i - N_j) - s_i(n_i) per edge, from the importer's
    :func:`imported_sizes`.

    The pool without j is N_i + ((imported - N_j) + residual): when N_j is at least half the
    imported size the subtraction is exact (Sterbenz) and the residual restores the sum's
    rounding, otherwise the difference is at least half of it and already accurate. A row with one
    import therefore gives exactly :func:`gain` (pool N_i, the same two floats).
    """
    Ni, Nj = np.asarray(N_i, dtype=float), np.asarray(N_j, dtype=float)
    imp = np.asarray(imported, dtype=float)
    rest = Ni + ((imp - Nj) + np.asarray(residual, dtype=float))
    return np.sqrt(np.asarray(K_i, dtype=float)) * inv_sqrt_diff(rest, Ni + imp, Nj)


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
    side is at most sqrt(K_i) N_j / (2 (T - N_j)^(3/2)), which equals rhs at the upper end. A
    vectorized Newton estimate narrows it (see :func:`_root`), then bisection runs until the
    interval is two adjacent floats; the midpoint is returned.
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
    T[solve] = _root(a[solve], hi[solve], sk[solve], rhs[solve])
    T[np.eye(m, dtype=bool)] = np.nan
    return T


def _above(T: FloatArray, a: FloatArray, sk: FloatArray, rhs: FloatArray) -> NDArray[np.bool_]:
    """Whether the marginal gain at total data T exceeds the price (T lies left of the root)."""
    return np.asarray(sk * inv_sqrt_diff(T - a, T, a) > rhs)


def _root(a: FloatArray, hi: FloatArray, sk: FloatArray, rhs: FloatArray) -> FloatArray:
    """Root of sk (1/sqrt(T - a) - 1/sqrt(T)) = rhs in (a, hi] per entry.

    Newton's method on log h(x) = log(1/sqrt(x) - 1/sqrt(x + a)) against log(x), x = T - a, whose
    slope lies in (-3/2, -1/2] (smooth in both regimes), from the bracket's upper end; then a
    bracket of ``POLISH_RTOL`` around the estimate, checked on the float predicate (entries where
    it does not hold keep the full bracket), is bisected to two adjacent floats.
    """
    q = rhs / sk
    x = hi - a
    # a non-finite estimate (overflow, log of 0) or a polish bracket touching T = a (a division
    # by 0 in the check) only sends its entry to the full bracket: no warning
    with np.errstate(all="ignore"):
        for _ in range(NEWTON_STEPS):
            sx, sy = np.sqrt(x), np.sqrt(x + a)
            r = sx / sy
            # z = log x moves by -(log h - log q) / slope, slope = -(1 + r + r^2) / 2
            x = x * np.exp(2.0 * np.log(a / (sx * sy * (sx + sy) * q)) / (1.0 + r * (1.0 + r)))
        est = a + x
        lo = np.maximum(a, est * (1.0 - POLISH_RTOL))
        up = np.minimum(hi, est * (1.0 + POLISH_RTOL))
        ok = np.isfinite(est) & (lo < up)
        ok &= (lo == a) | _above(np.where(ok, lo, hi), a, sk, rhs)
        ok &= (up == hi) | ~_above(np.where(ok, up, hi), a, sk, rhs)
    return _bisect(a, np.where(ok, lo, a), np.where(ok, up, hi), sk, rhs)


def _bisect(
    a: FloatArray, lo: FloatArray, hi: FloatArray, sk: FloatArray, rhs: FloatArray
) -> FloatArray:
    """Bisect each (lo, hi] with the root of sk (1/sqrt(T - a) - 1/sqrt(T)) = rhs; each entry
    leaves the active set once its interval is two adjacent floats."""
    lo, hi = lo.copy(), hi.copy()
    active = np.arange(lo.size)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo[active] + hi[active])
        open_ = (mid > lo[active]) & (mid < hi[active])
        active, mid = active[open_], mid[open_]
        if active.size == 0:
            break
        above = _above(mid, a[active], sk[active], rhs[active])
        lo[active[above]] = mid[above]
        hi[active[~above]] = mid[~above]
    return 0.5 * (lo + hi)
