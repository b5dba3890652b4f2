"""CGBD: generalized Benders decomposition of max Phi (paper Algorithm 1).

Primal (paper eq. 19): for fixed compute levels f, maximize Phi over d, a concave problem in the
aggregate; it is solved exactly here by the one-dimensional KKT search of ``_relax`` (the paper
uses an interior-point method), giving d^(k), the aggregate multiplier mu = P'(Omega) and the
deadline multipliers u_i.

Master (paper eq. 23): over all level profiles f, maximize the minimum of the cuts collected so
far, by enumeration as in the paper (O(m^n) per iteration). Two kinds of cut:

* ``"valid"`` (default): the Lagrangian dual function at (mu^(k), u^(k)), maximized over d in
  the box [D_min, 1] for each f. By weak duality it bounds max_d Phi(d, f) for every f, so the
  master value is a proven upper bound and the method ends at the global optimum.
* ``"paper"``: the Lagrangian evaluated at the primal point d^(k), as eq. 20 writes it. It is
  exact at f^(k) but not a bound elsewhere, so the paper's UB/LB test can stop early at a
  suboptimal profile; kept to reproduce the paper's algorithm.

Levels that cannot meet the deadline even at d = D_min are left out of the master's domain;
the paper's feasibility cuts (eq. 21) would exclude exactly those.
"""

from __future__ import annotations

import math
import time
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError, ProblemTooLargeError
from solver._model import Game
from solver._relax import Relaxer
from solver._response import level_index
from solver._result import SolveResult, Status, Trace, evaluate

__all__ = ["cgbd"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _cut_table(
    game: Game, rx: Relaxer, lev: IntArray, x: FloatArray, cuts: str
) -> tuple[float, FloatArray]:
    """Constant and per-(org, level) terms of the cut generated at the primal point (lev, x)."""
    ar, t = game.arrays, game.tables
    rows = np.arange(ar.n)
    F = np.where(ar.ok, ar.F, 1.0)
    omega = math.fsum(x)
    mu = float(game.P.derivative(omega))
    slack = game.tau - ar.T1 - ar.T3
    f_k = ar.F[rows, lev]
    deadline_x = slack * f_k / ar.eta
    at_deadline = (deadline_x < ar.s) & (x >= rx.hi[rows, lev] * (1 - 1e-12))
    u = np.where(at_deadline, np.maximum(0.0, (mu + t.b[rows, lev]) * f_k / ar.eta), 0.0)
    if cuts == "valid":
        coef = t.b + mu - (u * ar.eta)[:, None] / F
        table = np.maximum(coef * ar.lo[:, None], coef * ar.s[:, None]) + t.h + (u * slack)[:, None]
        om_lo, om_hi = t.omega_lo, t.omega_hi
        w = float(game.P.inverse_derivative(mu, om_lo, om_hi))
        const = game.P.value_scalar(w) - mu * w
    else:
        g = ar.T1[:, None] + ar.eta[:, None] * x[:, None] / F + ar.T3[:, None] - game.tau
        table = t.b * x[:, None] + t.h - u[:, None] * g
        const = game.P.value_scalar(omega)
    return const, np.where(ar.ok, table, -np.inf)


def _enumerate(table: FloatArray, first: IntArray, last: IntArray) -> FloatArray:
    """sum_i table[i, l_i] for every level profile, in C order over the orgs' level ranges."""
    v = table[0, first[0] : last[0] + 1].copy()
    for i in range(1, table.shape[0]):
        v = (v[:, None] + table[i, first[i] : last[i] + 1][None, :]).ravel()
    return v


def cgbd(
    game: Game,
    *,
    cuts: Literal["valid", "paper"] = "valid",
    rtol: float = 1e-9,
    max_iter: int = 500,
    max_profiles: int = 10_000_000,
    init: ArrayLike | None = None,
    trace: bool = True,
) -> SolveResult:
    """Centralized generalized Benders decomposition (paper Algorithm 1).

    Parameters
    ----------
    game
        The game.
    cuts
        ``"valid"`` (Lagrangian dual cuts: certified optimum) or ``"paper"`` (eq. 20 as
        written: no certificate).
    rtol
        Stop when UB - LB <= rtol * max(|UB|, |LB|).
    max_iter
        Iteration limit K.
    max_profiles
        Refuse (:class:`ProblemTooLargeError`) when the master would enumerate more level
        profiles than this.
    init
        Starting compute levels f^(0) in Hz; default every org's top level.
    trace
        Record the primal point and the bounds of every iteration.

    Returns
    -------
    SolveResult
        ``trace.lower`` is the best potential found (the paper's UB in its minimization form),
        ``trace.upper`` the master value (its LB); ``bound`` is set only for valid cuts.
    """
    if cuts not in ("valid", "paper"):
        raise GameError(f"must be 'valid' or 'paper', got {cuts!r}", field="cuts")
    started = time.perf_counter()
    t = game.tables
    counts = t.last - t.first + 1
    total = math.prod(int(c) for c in counts)
    if total > max_profiles:
        raise ProblemTooLargeError(
            f"CGBD's master enumerates {total:,} level profiles (> max_profiles={max_profiles:,}); "
            "use the exact solver ('exact') for games this large"
        )
    rx = Relaxer(game)
    if init is None:
        lev = t.last.copy()
    else:
        lev = level_index(game, np.asarray(init, dtype=float))
        rows = np.arange(game.n)
        if lev.shape != (game.n,) or np.any(lev < 0) or np.any(~game.arrays.ok[rows, lev]):
            raise GameError("must list one feasible compute level per org", field="init")
    upper_env = np.full(total, np.inf)
    best_val, best_x, best_lev = -np.inf, rx.lo.copy(), lev.copy()
    lowers: list[float] = []
    uppers: list[float] = []
    snaps: list[tuple[FloatArray, IntArray]] = []
    visited: set[bytes] = set()
    status, it, note = Status.ITERATION_LIMIT, 0, ""
    ub = np.inf
    while it < max_iter:
        it += 1
        visited.add(lev.tobytes())
        primal = rx.relax(lev, lev)
        val = rx.phi(primal.x, lev)
        if val > best_val:
            best_val, best_x, best_lev = val, primal.x.copy(), lev.copy()
        const, table = _cut_table(game, rx, lev, primal.x, cuts)
        np.minimum(upper_env, const + _enumerate(table, t.first, t.last), out=upper_env)
        j = int(np.argmax(upper_env))
        ub = float(upper_env[j])
        lev = (np.array(np.unravel_index(j, tuple(int(c) for c in counts))) + t.first).astype(
            np.intp
        )
        lowers.append(best_val)
        uppers.append(ub)
        if trace:
            snaps.append((primal.x.copy(), primal.lev.copy()))
        if ub - best_val <= rtol * max(abs(ub), abs(best_val)):
            status = Status.OPTIMAL if cuts == "valid" else Status.CONVERGED
            break
        if lev.tobytes() in visited:
            status, note = Status.CONVERGED, "; the master proposed a visited profile"
            break
    ar = game.arrays
    rows = np.arange(game.n)
    tr = None
    if trace:
        tr = Trace.record(
            game,
            [x / ar.s for x, _ in snaps],
            [ar.F[rows, lv] for _, lv in snaps],
            lower=lowers,
            upper=uppers,
        )
    if status == Status.ITERATION_LIMIT:
        msg = f"iteration limit {max_iter} reached"
    elif cuts == "valid":
        msg = f"UB - LB within rtol={rtol:g} after {it} iteration(s){note}"
    else:
        msg = f"stopped after {it} iteration(s){note}; the paper's cuts give no certificate"
    return evaluate(
        game,
        best_x / ar.s,
        ar.F[rows, best_lev],
        algorithm="cgbd",
        status=status,
        success=status != Status.ITERATION_LIMIT,
        message=msg,
        iterations=it,
        started=started,
        bound=max(ub, best_val) if cuts == "valid" else None,
        trace=tr,
    )
