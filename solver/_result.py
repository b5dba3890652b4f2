"""Solver results: value objects carrying the strategies, the checks and the run's bookkeeping."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._model import Game
from solver._payoff import PayoffParts, _profile, payoff_parts, potential
from solver._response import feasible, level_index, nash_gaps

__all__ = ["SolveResult", "Status", "Trace", "evaluate"]

FloatArray = NDArray[np.float64]

#: relative tolerance of the Nash check: a gain below NASH_RTOL * |own payoff terms| is rounding
NASH_RTOL = 1e-9
#: the payoff scale the Nash tolerance multiplies, as reported in :meth:`SolveResult.to_dict`
NASH_SCALE = "|revenue_i| + w_e |energy_i| + |R_i| + z_i"


class Status(StrEnum):
    """Why a solver stopped."""

    OPTIMAL = "optimal"  # certified maximizer of the potential (gap within tolerance)
    CONVERGED = "converged"  # no organization changes its strategy any more
    ITERATION_LIMIT = "iteration_limit"
    NODE_LIMIT = "node_limit"
    TIME_LIMIT = "time_limit"
    EVALUATED = "evaluated"  # a fixed rule (TOS) or a given profile, nothing iterated


@dataclass(frozen=True, eq=False)
class Trace:
    """Per-iteration history: ``potential`` (T,), ``payoffs``/``d``/``f`` (T, n) and, for
    bounding algorithms, the ``lower`` (best potential found) and ``upper`` (bound) series."""

    potential: FloatArray
    payoffs: FloatArray
    d: FloatArray
    f: FloatArray
    lower: FloatArray | None = None
    upper: FloatArray | None = None

    @staticmethod
    def record(game: Game, ds: list[FloatArray], fs: list[FloatArray], **bounds: Any) -> Trace:
        """Build a trace from the strategy snapshots (payoffs and potential evaluated here)."""
        pays = [payoff_parts(game, d, f).payoff for d, f in zip(ds, fs, strict=True)]
        pots = [potential(game, d, f) for d, f in zip(ds, fs, strict=True)]
        extra = {k: (None if v is None else np.asarray(v, dtype=float)) for k, v in bounds.items()}
        return Trace(np.asarray(pots), np.asarray(pays), np.asarray(ds), np.asarray(fs), **extra)


@dataclass(frozen=True, eq=False)
class SolveResult:
    """Outcome of a solve, in the spirit of ``scipy.optimize.OptimizeResult``.

    Strategies are ``d`` (data fractions) and ``f`` (compute in Hz) per org, ``level`` the index
    of ``f`` among the org's levels. ``nash_gap[i]`` is org i's best payoff gain from a feasible
    unilateral deviation; ``is_nash`` requires a feasible profile and every gap at most
    ``nash_tolerance[i]`` = ``NASH_RTOL`` (1e-9) times org i's payoff scale
    |revenue_i| + w_e |energy_i| + |R_i| + z_i, so an external checker can apply the same test.
    ``fallback`` names what finished the run when the algorithm itself hit its round limit
    (``"exact"``: continued from the certified potential maximizer), else ``None``. ``bound``
    is a proven upper bound on the potential (exact solver, CGBD with valid cuts) and ``gap``
    the relative gap ``(bound - potential) / max(|bound|, |potential|)``. ``game`` is the game the payoffs were evaluated in (for WPR,
    the game without redistribution).
    """

    algorithm: str
    status: Status
    success: bool
    message: str
    d: FloatArray
    f: FloatArray
    level: NDArray[np.intp]
    parts: PayoffParts
    potential: float
    social_welfare: float
    nash_gap: FloatArray
    nash_tolerance: FloatArray
    is_nash: bool
    feasible: bool
    individually_rational: NDArray[np.bool_]
    budget_balance: float
    iterations: int
    seconds: float
    game: Game = field(repr=False)
    bound: float | None = None
    gap: float | None = None
    trace: Trace | None = field(default=None, repr=False)
    fallback: str | None = None

    @property
    def payoffs(self) -> FloatArray:
        """C_i per org."""
        return self.parts.payoff

    @property
    def redistribution(self) -> FloatArray:
        """R_i per org."""
        return self.parts.redistribution

    @property
    def x(self) -> FloatArray:
        """Contributed data d_i s_i per org."""
        return self.d * self.game.arrays.s

    @property
    def names(self) -> tuple[str, ...]:
        """Organization names in order."""
        return self.game.names

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (non-finite numbers become ``None``)."""

        def num(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else float(v)

        def nums(a: ArrayLike) -> list[float | None]:
            return [num(float(v)) for v in np.asarray(a, dtype=float)]

        return {
            "algorithm": self.algorithm,
            "status": str(self.status),
            "success": self.success,
            "message": self.message,
            "strategies": [
                {"name": n, "d": float(d), "f": float(f), "level": int(lv)}
                for n, d, f, lv in zip(self.names, self.d, self.f, self.level, strict=True)
            ],
            "payoffs": nums(self.payoffs),
            "redistribution": nums(self.redistribution),
            "revenue": nums(self.parts.revenue),
            "energy": nums(self.parts.energy),
            "damage": nums(self.parts.damage),
            "potential": num(self.potential),
            "social_welfare": num(self.social_welfare),
            "is_nash": self.is_nash,
            "nash_gap": nums(self.nash_gap),
            "nash_tolerance": {
                "rtol": NASH_RTOL,
                "scale": NASH_SCALE,
                "per_org": nums(self.nash_tolerance),
                "rule": "is_nash = feasible and nash_gap[i] <= per_org[i] for every i",
            },
            "feasible": self.feasible,
            "individually_rational": [bool(v) for v in self.individually_rational],
            "budget_balance": num(self.budget_balance),
            "bound": num(self.bound),
            "gap": num(self.gap),
            "iterations": self.iterations,
            "seconds": self.seconds,
            "fallback": self.fallback,
        }


def relative_gap(upper: float, lower: float) -> float:
    """(upper - lower) / max(|upper|, |lower|), 0 when both are 0."""
    scale = max(abs(upper), abs(lower))
    return 0.0 if scale == 0 else max(0.0, upper - lower) / scale


def evaluate(
    game: Game,
    d: ArrayLike,
    f: ArrayLike,
    *,
    algorithm: str = "given",
    status: Status = Status.EVALUATED,
    success: bool = True,
    message: str = "profile evaluated",
    iterations: int = 0,
    started: float | None = None,
    bound: float | None = None,
    trace: Trace | None = None,
) -> SolveResult:
    """Evaluate a profile: payoffs and their parts, potential, welfare and every check.

    This is what every solver returns, and what an auditor calls to recompute a reported
    profile. ``started`` is a ``time.perf_counter()`` value; the result's ``seconds`` is
    measured from it (0 when omitted).
    """
    dd, ff = _profile(game, d, f)
    parts = payoff_parts(game, dd, ff)
    phi = potential(game, dd, ff)
    feas = bool(feasible(game, dd, ff).all())
    gaps = nash_gaps(game, dd, ff)
    ar = game.arrays
    scale = (
        np.abs(parts.revenue)
        + game.w_e * np.abs(parts.energy)
        + np.abs(parts.redistribution)
        + ar.z
    )
    tolerance = NASH_RTOL * scale
    is_nash = feas and bool(np.all(gaps <= tolerance))
    seconds = 0.0 if started is None else time.perf_counter() - started
    payoff = parts.payoff
    ir = payoff >= -1e-12 * np.maximum(1.0, np.abs(parts.revenue))
    return SolveResult(
        algorithm=algorithm,
        status=status,
        success=success,
        message=message,
        d=dd.copy(),
        f=ff.copy(),
        level=level_index(game, ff),
        parts=parts,
        potential=phi,
        social_welfare=math.fsum(payoff),
        nash_gap=np.maximum(gaps, 0.0) if feas else gaps,
        nash_tolerance=tolerance,
        is_nash=is_nash,
        feasible=feas,
        individually_rational=ir,
        budget_balance=math.fsum(parts.redistribution),
        iterations=iterations,
        seconds=seconds,
        game=game,
        bound=bound,
        gap=None if bound is None else relative_gap(bound, phi),
        trace=trace,
    )
