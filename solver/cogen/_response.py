"""Best responses of the cogen game: the closed form given the aggregate, and the exact one.

KKT derivation. Given the others' aggregate X_-i, org i maximizes over [0, x_i^max] the part of
its payoff that depends on x_i (see :class:`~solver.cogen.Incentives`)

    f_i(x) = -w_i L(X_-i + x) - A_i / (D_i + x) - e_i x,

which is strictly concave when w_i > 0 (L convex) and A_i >= 0. Its derivative is

    f_i'(x) = w_i m(X) + A_i / (D_i + x)^2 - e_i,      m(X) = -L'(X) > 0 decreasing,

at the total X = X_-i + x. The KKT conditions with multipliers for x >= 0 and x <= x^max are
therefore: x = 0 if f_i'(0) <= 0, x = x^max if f_i'(x^max) >= 0, otherwise f_i'(x) = 0. Holding
the *total* X fixed, the stationarity equation solves in closed form:

    x_i*(X) = clip( sqrt( A_i / (e_i - w_i m(X)) ) - D_i, 0, x_i^max )   if e_i > w_i m(X),
    x_i*(X) = x_i^max                                                  otherwise.

A profile is a Nash equilibrium exactly when x_i = x_i*(X) for every i at X = sum_j x_j (the
fixed point; the KKT conditions are sufficient because f_i is concave). Since m decreases in
X, each x_i*(X) is non-increasing in X, so X - sum_i x_i*(X) is increasing: the fixed point
exists and is unique in X. (With A_i = 0 x_i*(X) jumps at the X where w_i m(X) = e_i; there
any x_i in [0, x_i^max] satisfies the KKT condition, which the fixed point resolves.)

The best response to X_-i itself (for distributed best response and the Nash check) has no
closed form in x because m is evaluated at X_-i + x; it is found by bisection on f_i'.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.cogen._model import CogenGame, CogenView, Incentives

__all__ = [
    "best_response",
    "kkt_residual",
    "nash_gaps",
    "own_value",
    "respond_to_aggregate",
    "view_response",
]

FloatArray = NDArray[np.float64]

#: bisection steps of the exact best response (the bracket shrinks to ~x_max 2^-100)
BISECTION_STEPS = 100


def respond_to_aggregate(
    game: CogenGame,
    X: float,
    incentives: Incentives | None = None,
    *,
    marginal: float | None = None,
) -> FloatArray:
    """x_i*(X) for every org: the closed-form KKT solution at total aggregate ``X``.

    ``marginal`` replaces m(X) (the exact solver evaluates the same map at a dual price).

    Examples
    --------
    >>> from solver.cogen import load_cogen_preset, respond_to_aggregate
    >>> g = load_cogen_preset("cogen-demo")
    >>> x = respond_to_aggregate(g, 0.0)
    >>> bool((x >= 0).all() and (x <= g.x_max).all())
    True
    """
    inc = game.incentives if incentives is None else incentives
    m = float(game.marginal(X)) if marginal is None else marginal
    net = inc.e - inc.w * m
    interior = np.sqrt(np.where(net > 0, inc.A / np.where(net > 0, net, 1.0), 0.0)) - game.D
    x = np.where(net > 0, np.clip(interior, 0.0, game.x_max), game.x_max)
    return np.asarray(x, dtype=float)


def own_value(
    game: CogenGame, others: ArrayLike, y: ArrayLike, incentives: Incentives | None = None
) -> FloatArray:
    """f_i(y_i) = -w_i L(X_-i + y_i) - A_i / (D_i + y_i) - e_i y_i, per org (vectorized)."""
    inc = game.incentives if incentives is None else incentives
    yy = np.asarray(y, dtype=float)
    X = np.asarray(others, dtype=float) + yy
    return np.asarray(-inc.w * game.loss(X) - inc.A / (game.D + yy) - inc.e * yy, dtype=float)


def best_response(
    game: CogenGame, others: ArrayLike, incentives: Incentives | None = None
) -> FloatArray:
    """Each org's exact best response to the others' aggregate ``others[i]`` = X_-i.

    Bisection on the decreasing derivative f_i' over [0, x_i^max] (vectorized over orgs).
    """
    inc = game.incentives if incentives is None else incentives
    rest = np.asarray(others, dtype=float)

    def slope(y: FloatArray) -> FloatArray:
        return np.asarray(
            inc.w * game.marginal(rest + y) + inc.A / (game.D + y) ** 2 - inc.e, dtype=float
        )

    lo, hi = np.zeros(game.n), game.x_max.copy()
    at_lo, at_hi = slope(lo) <= 0, slope(hi) >= 0
    a, b = lo.copy(), hi.copy()
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (a + b)
        up = slope(mid) > 0
        a, b = np.where(up, mid, a), np.where(up, b, mid)
        if np.all(b - a <= 4 * np.spacing(np.maximum(b, 1.0))):
            break
    return np.asarray(np.where(at_lo, 0.0, np.where(at_hi, hi, 0.5 * (a + b))), dtype=float)


def view_response(view: CogenView, others: float) -> float:
    """One org's exact best response from its own :class:`CogenView` and the others'
    aggregate only (the distributed version of :func:`best_response`)."""

    def slope(y: float) -> float:
        return view.w * view.marginal(others + y) + view.A / (view.D + y) ** 2 - view.e

    if slope(0.0) <= 0:
        return 0.0
    if slope(view.x_max) >= 0:
        return view.x_max
    a, b = 0.0, view.x_max
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (a + b)
        if slope(mid) > 0:
            a = mid
        else:
            b = mid
        if b - a <= 4 * np.spacing(max(b, 1.0)):
            break
    return 0.5 * (a + b)


def nash_gaps(game: CogenGame, x: ArrayLike) -> FloatArray:
    """Each org's largest payoff gain from a unilateral deviation, C_i(br, x_-i) - C_i(x).

    By the potential identity this is f_i(br) - f_i(x_i) (own terms only, no O(n^2) work).
    """
    xx = game.profile(x)
    others = xx.sum() - xx
    br = best_response(game, others)
    return own_value(game, others, br) - own_value(game, others, xx)


def kkt_residual(game: CogenGame, x: ArrayLike) -> float:
    """Largest relative violation of the equilibrium's KKT conditions at profile ``x``.

    With r_i = f_i'(x_i) at the total X: an interior x_i needs r_i = 0, x_i = 0 needs
    r_i <= 0 and x_i = x_i^max needs r_i >= 0; each violation is divided by the size of the
    terms of r_i. 0 at an exact equilibrium.
    """
    xx = game.profile(x)
    inc = game.incentives
    m = float(game.marginal(math.fsum(xx)))
    private = inc.A / (game.D + xx) ** 2
    r = inc.w * m + private - inc.e
    viol = np.where(xx <= 0, np.maximum(r, 0.0), np.abs(r))
    viol = np.where(xx >= game.x_max, np.maximum(-r, 0.0), viol)
    viol = np.where(game.x_max <= 0, 0.0, viol)  # a single feasible point
    scale = inc.w * m + private + np.abs(inc.e)
    return float(np.max(viol / np.where(scale > 0, scale, 1.0)))
