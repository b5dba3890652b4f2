"""Each scheme's strategies on a consortium game, and the choice of the incentive intensity.

Schemes (paper Sec. VI): DBR, the centralized optimum (CGBD when its master is small enough,
otherwise the certified exact potential maximizer), WPR, GCA, FIP and TOS. TOS is everyone at
``d = 1`` and the top compute level; it ignores the deadline, so it may be infeasible in the
game, and it is trained as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

import solver
from solver import Game, ProblemTooLargeError, SolveResult

__all__ = [
    "COLORS",
    "LABELS",
    "SCHEMES",
    "GammaSweep",
    "SchemeStrategy",
    "central_optimum",
    "scheme_strategies",
    "sweep_gamma",
]

FloatArray = NDArray[np.float64]

#: scheme keys in table and plot order; "central" is CGBD or the exact solver
SCHEMES: tuple[str, ...] = ("dbr", "central", "wpr", "gca", "fip", "tos")
LABELS: dict[str, str] = {
    "dbr": "DBR",
    "central": "CGBD / exact",
    "wpr": "WPR",
    "gca": "GCA",
    "fip": "FIP",
    "tos": "TOS",
}
COLORS: dict[str, str] = {
    "dbr": "tab:blue",
    "central": "black",
    "wpr": "tab:orange",
    "gca": "tab:green",
    "fip": "tab:purple",
    "tos": "tab:brown",
}
#: schemes swept over gamma for the data-vs-gamma figure (WPR and TOS do not depend on gamma)
SWEPT: tuple[str, ...] = ("dbr", "gca", "fip")


@dataclass(frozen=True)
class SchemeStrategy:
    """A scheme's solution on one game and the strategies the silos train with.

    Attributes
    ----------
    scheme : str
        Key in :data:`SCHEMES`.
    algorithm : str
        The solver algorithm that produced it (``cgbd`` or ``exact`` for ``central``).
    result : SolveResult
        Evaluated in the game (WPR: in the game with gamma = 0; its welfare is the same because
        the redistribution sums to zero).
    """

    scheme: str
    algorithm: str
    result: SolveResult

    @property
    def d(self) -> FloatArray:
        """Data fraction each silo trains on."""
        return np.asarray(self.result.d, dtype=float)

    @property
    def x(self) -> FloatArray:
        """Contributed data ``d_i s_i`` (the aggregation weights)."""
        return np.asarray(self.result.x, dtype=float)

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers of the solution."""
        r = self.result
        return {
            "scheme": self.scheme,
            "algorithm": self.algorithm,
            "d": [float(v) for v in r.d],
            "f": [float(v) for v in r.f],
            "x": [float(v) for v in r.x],
            "total_x": float(np.sum(r.x)),
            "total_d": float(np.sum(r.d)),
            "social_welfare": float(r.social_welfare),
            "potential": float(r.potential),
            "payoffs": [float(v) for v in r.payoffs],
            "is_nash": bool(r.is_nash),
            "feasible": bool(r.feasible),
            "individually_rational": [bool(v) for v in r.individually_rational],
            "status": str(r.status),
            "gap": None if r.gap is None else float(r.gap),
        }


def central_optimum(game: Game, max_profiles: int) -> tuple[str, SolveResult]:
    """CGBD (valid cuts) when its master enumerates <= ``max_profiles`` level profiles, else the
    exact branch-and-bound maximizer of the potential. Returns ``(algorithm, result)``."""
    try:
        return "cgbd", solver.cgbd(game, max_profiles=max_profiles, trace=False)
    except ProblemTooLargeError:
        return "exact", solver.maximize_potential(game)


def scheme_strategies(
    game: Game, *, fip: bool = True, cgbd_max_profiles: int = 1_000_000
) -> dict[str, SchemeStrategy]:
    """Solve every scheme on ``game`` (at its gamma). Keys follow :data:`SCHEMES`."""
    out: dict[str, SchemeStrategy] = {}
    out["dbr"] = SchemeStrategy("dbr", "dbr", solver.dbr(game, trace=False))
    alg, res = central_optimum(game, cgbd_max_profiles)
    out["central"] = SchemeStrategy("central", alg, res)
    out["wpr"] = SchemeStrategy("wpr", "wpr", solver.wpr(game, trace=False))
    out["gca"] = SchemeStrategy("gca", "gca", solver.gca(game, trace=False))
    if fip:
        out["fip"] = SchemeStrategy("fip", "fip", solver.fip(game, trace=False))
    out["tos"] = SchemeStrategy("tos", "tos", solver.tos(game))
    return out


@dataclass(frozen=True)
class GammaSweep:
    """DBR's welfare and each swept scheme's total contributed data over a gamma grid."""

    gammas: FloatArray
    welfare: FloatArray
    total_x: dict[str, FloatArray]

    @property
    def best(self) -> float:
        """gamma*: the grid gamma with the largest DBR welfare (the smallest on ties)."""
        return float(self.gammas[int(np.argmax(self.welfare))])


def sweep_gamma(game: Game, gammas: Sequence[float] | FloatArray) -> GammaSweep:
    """Run DBR, GCA and FIP at every gamma of the grid (WPR and TOS are constant in gamma)."""
    grid = np.asarray(gammas, dtype=float)
    welfare = np.empty(grid.size)
    totals = {k: np.empty(grid.size) for k in SWEPT}
    for j, g in enumerate(grid):
        gg = game.replace(gamma=float(g))
        d = solver.dbr(gg, trace=False)
        welfare[j] = d.social_welfare
        totals["dbr"][j] = float(np.sum(d.x))
        totals["gca"][j] = float(np.sum(solver.gca(gg, trace=False).x))
        totals["fip"][j] = float(np.sum(solver.fip(gg, trace=False).x))
    return GammaSweep(gammas=grid, welfare=welfare, total_x=totals)
