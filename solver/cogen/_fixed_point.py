"""The equilibrium as the fixed point X = sum_i x_i*(X) of the aggregate.

x_i*(X) is the closed-form KKT response at total aggregate X (see ``_response``); the map
F(X) = sum_i x_i*(X) is non-increasing, so X - F(X) is increasing and has one root on
[0, sum_i x_i^max]. Two methods:

* ``"bisection"`` (default): halve the bracket [lo, hi] with F(lo) >= lo and F(hi) <= hi until
  it is ``xtol`` wide (relative) — convergence is guaranteed, ~50 steps in double precision.
* ``"damped"``: X <- X + alpha (F(X) - X) until |F(X) - X| <= xtol max(1, X). Converges when
  alpha < 2 / (1 + |F'|); the step is halved whenever the residual's sign flips with a larger
  magnitude (an overshoot), and a step leaving the bracket is replaced by its midpoint.

The returned profile is x*(hi) + t (x*(lo) - x*(hi)) with t chosen so that its own sum lies on
the bracket, which makes the profile exact also where an org with A_i = 0 is indifferent and
x_i*(X) jumps.
"""

from __future__ import annotations

import math
import time
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from solver._errors import GameError
from solver._result import Status
from solver.cogen._model import CogenGame, Incentives
from solver.cogen._response import respond_to_aggregate
from solver.cogen._result import CogenResult, CogenTrace, evaluate

__all__ = ["aggregate_fixed_point", "fixed_point", "mix_profiles"]

FloatArray = NDArray[np.float64]


def mix_profiles(x_lo: FloatArray, x_hi: FloatArray, lo: float, hi: float) -> FloatArray:
    """The profile between x*(hi) and x*(lo) whose sum lies on the segment [lo, hi]."""
    s_lo, s_hi = math.fsum(x_lo), math.fsum(x_hi)
    denom = (s_lo - s_hi) + (hi - lo)
    t = 0.0 if denom <= 0 else min(1.0, max(0.0, (hi - s_hi) / denom))
    return np.asarray(x_hi + t * (x_lo - x_hi), dtype=float)


def aggregate_fixed_point(
    game: CogenGame,
    incentives: Incentives | None = None,
    *,
    method: Literal["bisection", "damped"] = "bisection",
    xtol: float = 1e-14,
    damping: float = 0.5,
    max_iter: int = 10_000,
) -> tuple[FloatArray, int, bool, CogenTrace]:
    """Solve X = sum_i x_i*(X); returns (profile, iterations, converged, trace).

    ``incentives`` default to the game's own (baselines pass others).
    """
    if method not in ("bisection", "damped"):
        raise GameError(f"must be 'bisection' or 'damped', got {method!r}", field="method")
    if not 0 < damping <= 1:
        raise GameError(f"must be in (0, 1], got {damping!r}", field="damping")
    if not xtol > 0:
        raise GameError(f"must be > 0, got {xtol!r}", field="xtol")

    def F(X: float) -> tuple[FloatArray, float]:
        x = respond_to_aggregate(game, X, incentives)
        return x, math.fsum(x) - X

    Xs: list[float] = []
    res: list[float] = []
    lo, hi = 0.0, math.fsum(game.x_max)
    x_lo, r_lo = F(lo)
    x_hi, r_hi = F(hi)
    Xs += [lo, hi]
    res += [r_lo, r_hi]
    if r_lo <= 0:  # nobody generates even when nobody else does
        return x_lo, 1, True, CogenTrace(np.array(Xs), np.array(res), np.empty(0))
    if r_hi >= 0:  # everyone at x_max
        return x_hi, 1, True, CogenTrace(np.array(Xs), np.array(res), np.empty(0))
    it, converged = 0, False
    X, r, alpha = 0.0, r_lo, damping
    while it < max_iter:
        it += 1
        if hi - lo <= xtol * max(1.0, hi):
            converged = True
            break
        if method == "bisection":
            X = 0.5 * (lo + hi)
        else:
            step = X + alpha * r
            X = step if lo < step < hi else 0.5 * (lo + hi)
        x, r_new = F(X)
        Xs.append(X)
        res.append(r_new)
        if r_new == 0 or (method == "damped" and abs(r_new) <= xtol * max(1.0, X)):
            lo, hi, x_lo, x_hi = X, X, x, x
            converged = True
            break
        if method == "damped" and r_new * r < 0 and abs(r_new) > abs(r):
            alpha /= 2
        r = r_new
        if r_new > 0:
            lo, x_lo = X, x
        else:
            hi, x_hi = X, x
    trace = CogenTrace(np.array(Xs), np.array(res), np.empty(0))
    return mix_profiles(x_lo, x_hi, lo, hi), it, converged, trace


def fixed_point(
    game: CogenGame,
    *,
    method: Literal["bisection", "damped"] = "bisection",
    xtol: float = 1e-14,
    damping: float = 0.5,
    max_iter: int = 10_000,
) -> CogenResult:
    """The Nash equilibrium of the cogen game by the aggregate fixed point.

    Parameters
    ----------
    game
        The game.
    method
        ``"bisection"`` (guaranteed) or ``"damped"`` iteration (see the module docstring).
    xtol
        Stop when the bracket on X is ``xtol * max(1, X)`` wide.
    damping
        First step fraction of the damped iteration, in (0, 1].
    max_iter
        Iteration limit; the status is ``iteration_limit`` when it is hit.

    Returns
    -------
    CogenResult
        ``iterations`` counts evaluations of the map; ``trace`` holds X and X - F(X) per step.

    Examples
    --------
    >>> from solver.cogen import fixed_point, load_cogen_preset
    >>> res = fixed_point(load_cogen_preset("cogen-demo"))
    >>> res.status, res.is_nash, res.residual < 1e-9
    (<Status.CONVERGED: 'converged'>, True, True)
    """
    started = time.perf_counter()
    x, it, ok, trace = aggregate_fixed_point(
        game, method=method, xtol=xtol, damping=damping, max_iter=max_iter
    )
    msg = (
        f"X = sum_i x_i*(X) solved by {method} to xtol={xtol:g} in {it} step(s)"
        if ok
        else f"iteration limit {max_iter} reached ({method})"
    )
    return evaluate(
        game,
        x,
        algorithm="fixed-point",
        status=Status.CONVERGED if ok else Status.ITERATION_LIMIT,
        success=ok,
        message=msg,
        iterations=it,
        started=started,
        trace=trace,
    )
