"""Distributed best response (paper Algorithm 2), sequential and simultaneous.

Sequential (Gauss-Seidel): organizations take turns; each sees the current aggregate and
moves to its best response if that improves its payoff by more than ``tol`` (relative). Every
accepted move raises the potential, so the loop ends, at a Nash equilibrium.

Simultaneous (Jacobi, damped): every organization computes its best response to the same
aggregate; all movers step a fraction ``alpha`` of the way (levels switch at once). A step that
would lower the potential is retried with half the step; below ``ALPHA_MIN`` one sequential round
is done instead, so the potential never decreases and the loop ends at a Nash equilibrium.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError
from solver._model import Game
from solver._response import br_all, level_index, own_values
from solver._result import SolveResult, Status, Trace, evaluate

__all__ = ["dbr"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

ALPHA_MIN = 1.0 / 64
#: sequential rounds allowed after the fallback to the potential maximizer
FALLBACK_ROUNDS = 20


def initial_profile(
    game: Game, init: tuple[ArrayLike, ArrayLike] | None
) -> tuple[FloatArray, IntArray]:
    """Contributions and level indices to start from: Algorithm 2's (D_min, top level) or ``init``."""
    ar = game.arrays
    if init is None:
        return ar.lo.copy(), game.tables.last.copy()
    d0, f0 = (np.asarray(v, dtype=float) for v in init)
    lev = level_index(game, f0)
    if d0.shape != (game.n,) or lev.shape != (game.n,) or np.any(lev < 0):
        raise GameError("init must be (d, f) arrays with f one of each org's levels", field="init")
    rows = np.arange(game.n)
    if np.any(~ar.ok[rows, lev]):
        raise GameError("init uses an infeasible compute level", field="init")
    x = np.clip(d0 * ar.s, ar.lo, ar.hi[rows, lev])
    return x, lev


LevelList = list[list[tuple[int, float, float, float, float, float]]]


def level_lists(game: Game) -> LevelList:
    """Per org, its feasible levels as (level, target, x_lo, x_hi, a, hb) tuples of floats."""
    ar, t = game.arrays, game.tables
    ok_rows = [np.flatnonzero(r).tolist() for r in ar.ok]
    tg, hi, a, hb, lo = (
        t.target.tolist(),
        ar.hi.tolist(),
        t.a.tolist(),
        t.hb.tolist(),
        ar.lo.tolist(),
    )
    return [
        [(k, tg[i][k], lo[i], hi[i][k], a[i][k], hb[i][k]) for k in ok_rows[i]] for i in range(ar.n)
    ]


def sequential_rounds(
    game: Game,
    x: FloatArray,
    lev: IntArray,
    *,
    max_rounds: int,
    tol: float,
    snapshots: list[tuple[FloatArray, IntArray]] | None = None,
    every_update: bool = False,
    levels: LevelList | None = None,
) -> tuple[int, bool]:
    """Round-robin best responses, in place on ``x``/``lev``; returns (rounds, converged).

    ``levels`` restricts each org's choices (default: every feasible level, full range).
    """
    ar, t = game.arrays, game.tables
    if levels is None:
        levels = level_lists(game)
    z = ar.z.tolist()
    a_tab, hb_tab = t.a.tolist(), t.hb.tolist()
    xs, ls = x.tolist(), lev.tolist()
    P = game.P.value_scalar
    omega = math.fsum(xs)
    for rnd in range(1, max_rounds + 1):
        changed = 0
        for i in range(ar.n):
            xi, li, zi = xs[i], ls[i], z[i]
            others = omega - xi
            a_cur, hb_cur = a_tab[i][li], hb_tab[i][li]
            zp = zi * P(omega)
            cur = zp - a_cur * xi + hb_cur
            thr = tol * (abs(zp) + abs(a_cur * xi) + abs(hb_cur))
            best_v, best_x, best_l = cur + thr, xi, -1
            for lv, tg, lo, hi, a, hb in levels[i]:
                xx = tg - others
                xx = lo if xx < lo else (hi if xx > hi else xx)
                v = zi * P(others + xx) - a * xx + hb
                if v > best_v:
                    best_v, best_x, best_l = v, xx, lv
            if best_l >= 0:
                xs[i], ls[i] = best_x, best_l
                omega = others + best_x
                changed += 1
                if every_update and snapshots is not None:
                    snapshots.append((np.array(xs), np.array(ls)))
        omega = math.fsum(xs)
        if snapshots is not None and not every_update:
            snapshots.append((np.array(xs), np.array(ls)))
        if changed == 0:
            x[:], lev[:] = xs, ls
            return rnd, True
    x[:], lev[:] = xs, ls
    return max_rounds, False


def _phi(game: Game, x: FloatArray, lev: IntArray) -> float:
    t = game.tables
    rows = np.arange(game.n)
    return game.P.value_scalar(math.fsum(x)) + math.fsum(t.b[rows, lev] * x + t.h[rows, lev])


def _simultaneous(
    game: Game,
    x: FloatArray,
    lev: IntArray,
    *,
    damping: float,
    max_rounds: int,
    tol: float,
    snapshots: list[tuple[FloatArray, IntArray]] | None,
) -> tuple[int, bool, int]:
    ar = game.arrays
    rows = np.arange(ar.n)
    alpha, fallbacks = damping, 0
    for rnd in range(1, max_rounds + 1):
        omega = math.fsum(x)
        xb, lb, vb = br_all(game, omega - x)
        f_cur = ar.F[rows, lev]
        cur = own_values(game, x, f_cur, omega)
        a_cur = game.tables.a[rows, lev]
        thr = tol * (
            np.abs(ar.z * game.P.value_scalar(omega))
            + np.abs(a_cur * x)
            + np.abs(game.tables.hb[rows, lev])
        )
        movers = vb > cur + thr
        if not movers.any():
            return rnd - 1, True, fallbacks
        phi0 = _phi(game, x, lev)
        while True:
            x_new = np.where(movers, x + alpha * (xb - x), x)
            l_new = np.where(movers, lb, lev)
            x_new = np.clip(x_new, ar.lo, ar.hi[rows, l_new])
            if _phi(game, x_new, l_new) > phi0:
                x[:], lev[:] = x_new, l_new
                alpha = min(damping, 2 * alpha)
                break
            alpha /= 2
            if alpha < ALPHA_MIN:
                sequential_rounds(game, x, lev, max_rounds=1, tol=tol)
                alpha, fallbacks = damping, fallbacks + 1
                break
        if snapshots is not None:
            snapshots.append((x.copy(), lev.copy()))
    return max_rounds, False, fallbacks


def dbr(
    game: Game,
    *,
    mode: Literal["sequential", "simultaneous"] = "sequential",
    damping: float = 0.5,
    max_rounds: int = 1000,
    tol: float = 1e-12,
    init: tuple[ArrayLike, ArrayLike] | None = None,
    trace: bool = True,
    trace_updates: bool = False,
    fallback: bool = True,
) -> SolveResult:
    """Distributed best-response dynamics until no organization changes its strategy.

    Parameters
    ----------
    game
        The game.
    mode
        ``"sequential"`` (round-robin, the paper's Algorithm 2) or ``"simultaneous"`` (all
        organizations respond to the same aggregate, damped by ``damping``).
    damping
        Largest step fraction of the simultaneous mode, in (0, 1].
    max_rounds
        Round limit; the result's status is ``iteration_limit`` when it is hit.
    tol
        A move is made only if it raises the mover's payoff by more than ``tol`` times the
        size of its own payoff terms.
    init
        Starting ``(d, f)``; default d = D_min at the top compute level (Algorithm 2).
    trace
        Record strategies, payoffs and potential after every round.
    trace_updates
        Sequential mode: record after every single move instead (O(n) per move).
    fallback
        When the round limit is hit, continue from the certified potential maximizer
        (:func:`solver.maximize_potential`, itself an equilibrium) with sequential rounds, so
        that the result is an equilibrium: best responses can crawl for thousands of rounds
        when organizations are nearly identical (two almost equal interior targets). The
        result's ``fallback`` (``"exact"``) and message then say so; ``iterations`` counts the
        rounds of the dynamics only.

    Returns
    -------
    SolveResult
        ``iterations`` counts rounds; ``trace`` holds the history (first entry: the start).
    """
    if mode not in ("sequential", "simultaneous"):
        raise GameError(f"must be 'sequential' or 'simultaneous', got {mode!r}", field="mode")
    if not 0 < damping <= 1:
        raise GameError(f"must be in (0, 1], got {damping!r}", field="damping")
    started = time.perf_counter()
    x, lev = initial_profile(game, init)
    snaps: list[tuple[FloatArray, IntArray]] | None = [(x.copy(), lev.copy())] if trace else None
    if mode == "sequential":
        rounds, converged = sequential_rounds(
            game,
            x,
            lev,
            max_rounds=max_rounds,
            tol=tol,
            snapshots=snaps,
            every_update=trace_updates,
        )
        note = ""
    else:
        rounds, converged, fb = _simultaneous(
            game, x, lev, damping=damping, max_rounds=max_rounds, tol=tol, snapshots=snaps
        )
        note = f"; {fb} fallback sequential round(s)" if fb else ""
    used = None
    if not converged and fallback:
        converged = _finish_from_exact(game, x, lev, tol)
        used = "exact"
        note += (
            "; continued from the certified potential maximizer, which no organization leaves"
            if converged
            else "; the potential maximizer did not settle it either"
        )
        if snaps is not None:
            snaps.append((x.copy(), lev.copy()))
    ar = game.arrays
    rows = np.arange(game.n)
    tr = None
    if snaps is not None:
        tr = Trace.record(game, [s[0] / ar.s for s in snaps], [ar.F[rows, s[1]] for s in snaps])
    status = Status.CONVERGED if converged else Status.ITERATION_LIMIT
    msg = (
        f"no organization changes its strategy after {rounds} round(s){note}"
        if converged and used is None
        else f"round limit {max_rounds} reached{note}"
    )
    res = evaluate(
        game,
        x / ar.s,
        ar.F[rows, lev],
        algorithm="dbr" if mode == "sequential" else "dbr-sim",
        status=status,
        success=converged,
        message=msg,
        iterations=rounds,
        started=started,
        trace=tr,
    )
    return res if used is None else dataclasses.replace(res, fallback=used)


def _finish_from_exact(game: Game, x: FloatArray, lev: IntArray, tol: float) -> bool:
    """Replace ``x``/``lev`` by the certified potential maximizer, then sequential rounds until
    nobody moves (the maximizer is an equilibrium up to its certificate's tolerance)."""
    from solver._exact import maximize_potential

    best = maximize_potential(game)
    if not best.success:
        return False
    x[:] = best.x
    lev[:] = best.level
    _, settled = sequential_rounds(game, x, lev, max_rounds=FALLBACK_ROUNDS, tol=tol)
    return settled
