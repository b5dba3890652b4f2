"""Best responses and the Nash-equilibrium check.

The game is aggregative: org i's payoff depends on the rivals only through X_-i = Omega - x_i,
so its best response needs its own parameters (an :class:`OrgView`) and that one number. For a
fixed compute level the payoff is concave in x_i, maximized where z_i P'(X_-i + x_i) equals the
net marginal cost a_i(f) = w_e kappa f^2 eta_i - gamma rhobar_i; the solution is clipped to
[D_min s_i, dmax_i(f) s_i] and the best level wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError
from solver._model import Game, OrgView
from solver._payoff import _profile

__all__ = ["BestResponse", "best_response", "feasible", "level_index", "nash_gaps"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class BestResponse:
    """One organization's best response.

    ``value`` is the part of C_i that depends on the org's own strategy,
    z_i P(X + x) - a_i(f) x + gamma rhobar_i lam f; the rest of C_i does not change with it.
    """

    d: float
    f: float
    level: int
    x: float
    value: float


def best_response(view: OrgView, others_total: float) -> BestResponse:
    """Best response of one organization to the rivals' aggregate data ``others_total``.

    Parameters
    ----------
    view
        The organization's own parameters and the public consortium parameters
        (``Game.view(i)``); no rival's private parameter is needed.
    others_total
        X_-i = sum over rivals of d_j s_j.

    Returns
    -------
    BestResponse
        The payoff-maximizing (d, f) over all feasible compute levels.

    Examples
    --------
    >>> from solver import load_preset
    >>> game = load_preset("paper-table2")
    >>> br = best_response(game.view(0), others_total=5000.0)
    >>> game.D_min <= br.d <= 1
    True
    """
    X = float(others_total)
    if not math.isfinite(X) or X < 0:
        raise GameError(f"must be a finite number >= 0, got {others_total!r}", field="others_total")
    o = view.org
    F = np.asarray(o.F)
    slack = view.tau - o.T1 - o.T3
    dmax = np.minimum(1.0, slack * F / (o.eta * o.s))
    ok = (dmax >= view.D_min) & (slack > 0)
    if not ok.any():
        raise GameError("no feasible compute level", field="F", org=o.name)
    lo = view.D_min * o.s
    hi = dmax * o.s
    a = view.w_e * view.kappa * F**2 * o.eta - view.gamma * view.rhobar
    hb = view.gamma * view.rhobar * view.lam * F
    P = view.accuracy
    if X + lo <= 0:
        raise GameError(
            "the aggregate X + D_min s must be positive", field="others_total", org=o.name
        )
    omega = np.where(
        a > 0, P.inverse_derivative(np.where(a > 0, a / view.z, 1.0), X + lo, X + hi), X + hi
    )
    x = np.clip(omega - X, lo, hi)
    val = np.where(ok, view.z * P.value(X + x) - a * x + hb, -np.inf)
    k = int(np.argmax(val))
    return BestResponse(
        d=float(x[k] / o.s), f=float(F[k]), level=k, x=float(x[k]), value=float(val[k])
    )


def br_all(game: Game, others: FloatArray) -> tuple[FloatArray, NDArray[np.intp], FloatArray]:
    """Vectorized best responses of every org to its own rivals' aggregate ``others[i]``.

    Returns the contributions x, the level indices and the own-strategy payoff values.
    """
    ar, t = game.arrays, game.tables
    x = np.clip(t.target - others[:, None], ar.lo[:, None], ar.hi)
    with np.errstate(invalid="ignore"):
        val = ar.z[:, None] * game.P.value(others[:, None] + x) - t.a * x + t.hb
    val = np.where(ar.ok, val, -np.inf)
    lev = np.argmax(val, axis=1)
    rows = np.arange(ar.n)
    return x[rows, lev], lev, val[rows, lev]


def level_index(game: Game, f: ArrayLike) -> NDArray[np.intp]:
    """Index of each org's compute level equal to ``f[i]`` (relative 1e-12), or -1."""
    ff = np.asarray(f, dtype=float)
    F = game.arrays.F
    with np.errstate(invalid="ignore"):
        match = np.abs(F - ff[:, None]) <= 1e-12 * np.abs(ff[:, None])
    return np.where(match.any(axis=1), np.argmax(match, axis=1), -1).astype(np.intp)


def feasible(game: Game, d: ArrayLike, f: ArrayLike) -> NDArray[np.bool_]:
    """Per org: d_i in [D_min, 1], f_i one of its levels and the deadline met (rel. 1e-12)."""
    dd, ff = _profile(game, d, f)
    ar = game.arrays
    lev = level_index(game, ff)
    eps = 1e-12
    time = ar.T1 + ar.eta * dd * ar.s / ff + ar.T3
    return (
        (lev >= 0)
        & (dd >= game.D_min * (1 - eps))
        & (dd <= 1 + eps)
        & (time <= game.tau * (1 + eps))
    )


def own_values(game: Game, x: FloatArray, f: FloatArray, omega: float) -> FloatArray:
    """The own-strategy part of every C_i at a profile with aggregate ``omega``."""
    ar = game.arrays
    a = game.w_e * game.kappa * f**2 * ar.eta - game.gamma * ar.rhobar
    hb = game.gamma * ar.rhobar * game.lam * f
    return ar.z * game.P.value_scalar(omega) - a * x + hb


def nash_gaps(game: Game, d: ArrayLike, f: ArrayLike) -> FloatArray:
    """Per org, the largest payoff gain from any feasible unilateral deviation (>= 0 up to
    rounding when the profile is feasible).

    Every feasible compute level is searched with the exact best response for that level, so
    a profile is a Nash equilibrium exactly when all gaps are (numerically) zero.
    """
    dd, ff = _profile(game, d, f)
    x = dd * game.arrays.s
    omega = math.fsum(x)
    _, _, best = br_all(game, omega - x)
    return best - own_values(game, x, ff, omega)
