"""The range of the incentive intensity gamma for which the equilibrium is individually rational.

Theorem 2 of the paper asserts that some gamma makes every payoff non-negative; here it is
computed. For each gamma the equilibrium is solved (the potential maximizer by default) and the
smallest payoff recorded; gamma is scanned on a grid, every sign change is refined by
bisection, and past the grid the payoffs are extrapolated: once every organization's marginal
cost is covered by redistribution (gamma rhobar_i >= w_e kappa f^2 eta_i at every level) the
strategies stop changing and each payoff is affine in gamma.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver._errors import GameError
from solver._model import Game
from solver._result import SolveResult

__all__ = ["GammaRange", "ir_gamma_range"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class GammaRange:
    """Where individual rationality holds at equilibrium, as closed gamma intervals.

    ``intervals`` are the IR intervals found (the upper end may be ``inf``); ``gammas`` and
    ``min_payoff`` the sampled points and the smallest payoff at each; endpoints are refined
    to ``rtol`` relative and always lie on the IR side.
    """

    intervals: tuple[tuple[float, float], ...]
    gammas: FloatArray
    min_payoff: FloatArray
    algorithm: str

    def contains(self, gamma: float) -> bool:
        """Whether ``gamma`` lies in one of the IR intervals."""
        return any(a <= gamma <= b for a, b in self.intervals)


def _solver(algorithm: str) -> Callable[[Game], SolveResult]:
    from solver._dbr import dbr
    from solver._exact import maximize_potential

    if algorithm == "exact":
        return lambda g: maximize_potential(g)
    if algorithm == "dbr":
        return lambda g: dbr(g, trace=False)
    raise GameError(f"must be 'exact' or 'dbr', got {algorithm!r}", field="algorithm")


def ir_gamma_range(
    game: Game,
    *,
    algorithm: str = "exact",
    gamma_max: float | None = None,
    samples: int = 40,
    rtol: float = 1e-6,
) -> GammaRange:
    """Compute the gamma values for which every payoff at equilibrium is >= 0.

    Parameters
    ----------
    game
        The game (its own gamma is ignored).
    algorithm
        Which equilibrium: ``"exact"`` (potential maximizer) or ``"dbr"``.
    gamma_max
        End of the scanned grid; default twice the gamma at which redistribution covers every
        organization's top marginal energy cost (then extended by extrapolation).
    samples
        Grid points.
    rtol
        Relative precision of the interval ends.

    Returns
    -------
    GammaRange
    """
    solve = _solver(algorithm)
    ar = game.arrays
    if gamma_max is None:
        cost = game.w_e * game.kappa * np.nanmax(ar.F, axis=1) ** 2 * ar.eta
        with np.errstate(divide="ignore", invalid="ignore"):
            sat = np.where(ar.rhobar > 0, cost / ar.rhobar, 0.0)
        gamma_max = 2.0 * float(sat.max()) if sat.max() > 0 else 1.0
    if not gamma_max > 0:
        raise GameError(f"must be > 0, got {gamma_max!r}", field="gamma_max")
    cache: dict[float, SolveResult] = {}

    def at(gm: float) -> SolveResult:
        if gm not in cache:
            cache[gm] = solve(game.replace(gamma=gm))
        return cache[gm]

    def ok(gm: float) -> bool:
        return bool(at(gm).individually_rational.all())

    grid = np.unique(
        np.concatenate(
            (
                np.linspace(0.0, gamma_max, samples),
                gamma_max * np.geomspace(1e-4, 1.0, samples // 2),
            )
        )
    )
    flags = [ok(float(g)) for g in grid]
    intervals: list[list[float]] = []
    for k, g in enumerate(grid):
        g = float(g)
        if flags[k] and (k == 0 or not flags[k - 1]):
            start = g if k == 0 else _refine(ok, float(grid[k - 1]), g, rtol, want_true_high=True)
            intervals.append([start, g])
        if flags[k] and intervals:
            intervals[-1][1] = g
        if k > 0 and flags[k - 1] and not flags[k]:
            intervals[-1][1] = _refine(ok, float(grid[k - 1]), g, rtol, want_true_high=False)
    if flags[-1] and intervals:
        intervals[-1][1] = _extend(game, at, ok, float(grid[-1]), rtol)
    gammas = np.array(sorted(cache))
    mins = np.array([float(cache[g].payoffs.min()) for g in gammas])
    return GammaRange(tuple((a, b) for a, b in intervals), gammas, mins, algorithm)


def _refine(
    ok: Callable[[float], bool], a: float, b: float, rtol: float, *, want_true_high: bool
) -> float:
    """Bisection between a and b where ok() changes; returns the end on the IR side."""
    for _ in range(200):
        if b - a <= rtol * max(abs(a), abs(b), 1e-300):
            break
        mid = 0.5 * (a + b)
        if ok(mid) == want_true_high:
            b = mid
        else:
            a = mid
    return b if want_true_high else a


def _extend(
    game: Game,
    at: Callable[[float], SolveResult],
    ok: Callable[[float], bool],
    g0: float,
    rtol: float,
) -> float:
    """Follow IR past the grid: payoffs are affine in gamma while strategies stay fixed."""
    for _ in range(30):
        r = at(g0)
        slope = r.redistribution / g0 if g0 > 0 else np.zeros(game.n)
        base = r.payoffs - r.redistribution
        neg = slope < 0
        if not neg.any():
            r2 = at(2 * g0)
            if np.array_equal(r2.level, r.level) and np.allclose(r2.d, r.d, rtol=1e-12, atol=0):
                return float("inf")
            g0 *= 2
            continue
        cross = float(np.min(-base[neg] / slope[neg]))
        if cross <= g0:
            return g0
        if ok(cross) and not ok(cross * (1 + 10 * rtol)):
            return cross
        if not ok(cross):
            return _refine(ok, g0, cross, rtol, want_true_high=False)
        g0 = cross * (1 + 10 * rtol)
        if not ok(g0):
            return cross
    return g0
