"""Results of the cogen solvers: the same checks as :class:`solver.SolveResult`, for x."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._result import NASH_RTOL, Status, relative_gap
from solver.cogen._model import CogenGame
from solver.cogen._payoff import CogenParts, payoff_parts, potential
from solver.cogen._response import kkt_residual, nash_gaps

__all__ = ["CogenResult", "CogenTrace", "evaluate"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CogenTrace:
    """Per-iteration history: the ``aggregate`` X tried and the ``residual`` X - sum_i x_i*(X)
    (fixed point), or the ``potential`` after each round (distributed best response)."""

    aggregate: FloatArray
    residual: FloatArray
    potential: FloatArray


@dataclass(frozen=True, eq=False)
class CogenResult:
    """Outcome of a cogen solve, with the fields and checks of :class:`solver.SolveResult`.

    ``x`` are the synthetic samples per org. ``nash_gap[i]`` is org i's best payoff gain from a
    unilateral deviation and ``nash_tol[i]`` the tolerance it is compared with
    (``NASH_RTOL`` times the size of org i's own payoff terms); ``is_nash`` requires a
    feasible profile and every gap within its tolerance. ``bound`` is a proven upper bound on
    the potential (exact solver) and ``gap`` the relative gap. ``residual`` is the largest
    relative violation of the KKT conditions (see :func:`solver.cogen.kkt_residual`). ``game`` is the game the payoffs
    were evaluated in (for the no-redistribution baseline, the game with kappa = 0).
    """

    algorithm: str
    status: Status
    success: bool
    message: str
    x: FloatArray
    parts: CogenParts
    potential: float
    social_welfare: float
    nash_gap: FloatArray
    nash_tol: FloatArray
    is_nash: bool
    feasible: bool
    individually_rational: NDArray[np.bool_]
    budget_balance: float
    residual: float
    iterations: int
    seconds: float
    game: CogenGame = field(repr=False)
    bound: float | None = None
    gap: float | None = None
    trace: CogenTrace | None = field(default=None, repr=False)

    @property
    def converged(self) -> bool:
        """Whether the algorithm reached its stopping rule (not an iteration limit)."""
        return self.status in (Status.OPTIMAL, Status.CONVERGED)

    @property
    def payoffs(self) -> FloatArray:
        """C_i per org."""
        return self.parts.payoff

    @property
    def redistribution(self) -> FloatArray:
        """R_i per org."""
        return self.parts.redistribution

    @property
    def names(self) -> tuple[str, ...]:
        """Organization names in order."""
        return self.game.names

    @property
    def total(self) -> float:
        """Total synthetic samples X."""
        return math.fsum(self.x)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (non-finite numbers become ``None``)."""

        def num(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else float(v)

        def nums(a: ArrayLike) -> list[float | None]:
            return [num(float(v)) for v in np.asarray(a, dtype=float)]

        return {
            "mechanism": "cogen",
            "algorithm": self.algorithm,
            "status": str(self.status),
            "success": self.success,
            "message": self.message,
            "strategies": [
                {"name": n, "x": float(v)} for n, v in zip(self.names, self.x, strict=True)
            ],
            "total_generation": num(self.total),
            "payoffs": nums(self.payoffs),
            "redistribution": nums(self.redistribution),
            "gain": nums(self.parts.gain),
            "competition_loss": nums(self.parts.competition),
            "cost": nums(self.parts.cost),
            "score": nums(self.parts.score),
            "potential": num(self.potential),
            "social_welfare": num(self.social_welfare),
            "is_nash": self.is_nash,
            "nash_gap": nums(self.nash_gap),
            "nash_tol": nums(self.nash_tol),
            "nash_rtol": NASH_RTOL,
            "feasible": self.feasible,
            "ir": [bool(v) for v in self.individually_rational],
            "budget_balance": num(self.budget_balance),
            "bound": num(self.bound),
            "gap": num(self.gap),
            "converged": self.converged,
            "residual": num(self.residual),
            "iterations": self.iterations,
            "seconds": self.seconds,
        }


def nash_tolerance(game: CogenGame, parts: CogenParts) -> FloatArray:
    """NASH_RTOL times the size of each org's own payoff terms at the profile."""
    inc = game.incentives
    scale = (
        inc.w * float(game.loss(0.0))
        + inc.A / game.D
        + np.abs(inc.e) * game.x_max
        + np.abs(parts.redistribution)
    )
    return np.asarray(NASH_RTOL * scale, dtype=float)


def evaluate(
    game: CogenGame,
    x: ArrayLike,
    *,
    algorithm: str = "given",
    status: Status = Status.EVALUATED,
    success: bool = True,
    message: str = "profile evaluated",
    iterations: int = 0,
    started: float | None = None,
    bound: float | None = None,
    trace: CogenTrace | None = None,
) -> CogenResult:
    """Evaluate a profile: payoffs and their parts, potential, welfare and every check.

    This is what every cogen solver returns, and what an auditor calls to recompute a reported
    profile. ``started`` is a ``time.perf_counter()`` value (``seconds`` is 0 when omitted).
    """
    xx = game.profile(x)
    parts = payoff_parts(game, xx)
    phi = potential(game, xx)
    feas = bool(np.all((xx >= 0) & (xx <= game.x_max)))
    gaps = nash_gaps(game, np.clip(xx, 0.0, game.x_max))
    tol = nash_tolerance(game, parts)
    ir = parts.payoff >= -1e-12 * np.maximum(1.0, np.abs(parts.gain))
    return CogenResult(
        algorithm=algorithm,
        status=status,
        success=success,
        message=message,
        x=xx.copy(),
        parts=parts,
        potential=phi,
        social_welfare=math.fsum(parts.payoff),
        nash_gap=np.maximum(gaps, 0.0),
        nash_tol=tol,
        is_nash=feas and bool(np.all(gaps <= tol)),
        feasible=feas,
        individually_rational=ir,
        budget_balance=math.fsum(parts.redistribution),
        residual=kkt_residual(game, np.clip(xx, 0.0, game.x_max)),
        iterations=iterations,
        seconds=0.0 if started is None else time.perf_counter() - started,
        game=game,
        bound=bound,
        gap=None if bound is None else relative_gap(bound, phi),
        trace=trace,
    )
