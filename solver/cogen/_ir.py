"""The range of the redistribution intensity kappa for which the equilibrium is IR.

For each kappa the equilibrium is solved (aggregate fixed point) and the smallest payoff
recorded; kappa is scanned on a grid up to the saturation point and every sign change refined
by bisection. Saturation: redistribution pays org i kappa q Gamma_i per synthetic sample, so
once kappa >= kappa_sat = max_i c_i / (q Gamma_i) (over orgs with Gamma_i > 0) every competing
org's net marginal cost e_i = c_i - kappa q Gamma_i is <= 0 and it generates x_i^max; orgs with
Gamma_i = 0 are unaffected by kappa. Past kappa_sat the strategies stop changing and each
payoff is affine in kappa, C_i = base_i + kappa slope_i, so the IR set there is computed
exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver._errors import GameError
from solver.cogen._fixed_point import fixed_point
from solver.cogen._model import CogenGame
from solver.cogen._result import CogenResult

__all__ = ["KappaRange", "ir_kappa_range", "saturation_kappa"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class KappaRange:
    """Where individual rationality holds at equilibrium, as closed kappa intervals.

    ``intervals`` may end at ``inf``; ``kappas`` and ``min_payoff`` are the sampled points and
    the smallest payoff at each; ``saturation`` is kappa_sat (see the module docstring).
    Interior endpoints are refined to ``rtol`` relative and lie on the IR side.
    """

    intervals: tuple[tuple[float, float], ...]
    kappas: FloatArray
    min_payoff: FloatArray
    saturation: float

    def contains(self, kappa: float) -> bool:
        """Whether ``kappa`` lies in one of the IR intervals."""
        return any(a <= kappa <= b for a, b in self.intervals)


def saturation_kappa(game: CogenGame) -> float:
    """kappa_sat = max_i c_i / (q Gamma_i) over orgs with Gamma_i > 0 (0 when none, or q = 0)."""
    live = game.Gamma > 0
    if game.q <= 0 or not live.any():
        return 0.0
    return float(np.max(game.c[live] / (game.q * game.Gamma[live])))


def _refine(ok: Callable[[float], bool], a: float, b: float, rtol: float, high_ok: bool) -> float:
    """Bisection between a and b where ok() changes; returns the end on the IR side."""
    while b - a > rtol * max(abs(a), abs(b), 1e-300):
        mid = 0.5 * (a + b)
        if ok(mid) == high_ok:
            b = mid
        else:
            a = mid
    return b if high_ok else a


def ir_kappa_range(game: CogenGame, *, samples: int = 40, rtol: float = 1e-6) -> KappaRange:
    """Compute the kappa values for which every payoff at equilibrium is >= 0.

    Parameters
    ----------
    game
        The game (its own kappa is ignored).
    samples
        Grid points on [0, kappa_sat].
    rtol
        Relative precision of the interval ends.
    """
    if samples < 2:
        raise GameError(f"must be >= 2, got {samples}", field="samples")
    cache: dict[float, CogenResult] = {}

    def at(k: float) -> CogenResult:
        if k not in cache:
            cache[k] = fixed_point(game.replace(kappa=k))
        return cache[k]

    def ok(k: float) -> bool:
        return bool(at(k).individually_rational.all())

    sat = saturation_kappa(game)
    grid = [0.0] if sat == 0 else [float(v) for v in np.linspace(0.0, sat, samples)]
    spans: list[list[float]] = []
    prev = False
    for k, g in enumerate(grid):
        cur = ok(g)
        if cur and not prev:
            spans.append([g if k == 0 else _refine(ok, grid[k - 1], g, rtol, True), g])
        elif cur:
            spans[-1][1] = g
        elif prev:
            spans[-1][1] = _refine(ok, grid[k - 1], g, rtol, False)
        prev = cur
    # past kappa_sat: strategies fixed, payoffs affine in kappa
    r = at(sat)
    slope = game.Gamma * r.parts.score - game.mul_gamma(r.parts.score)
    base = r.payoffs - sat * slope
    up, down = slope > 0, slope < 0
    lo = max([sat, *(-base[up] / slope[up])])
    hi = min([np.inf, *(-base[down] / slope[down])])
    flat_bad = bool(np.any((slope == 0) & (base < 0)))
    if not flat_bad and lo <= hi:
        if spans and prev and lo <= sat:
            spans[-1][1] = float(hi)
        else:
            spans.append([float(lo), float(hi)])
    kappas = np.array(sorted(cache))
    mins = np.array([float(cache[k].payoffs.min()) for k in kappas])
    return KappaRange(tuple((a, b) for a, b in spans), kappas, mins, sat)
