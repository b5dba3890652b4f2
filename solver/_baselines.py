"""The paper's baselines (Sec. VI): WPR, GCA, FIP and TOS.

* WPR: DBR without payoff redistribution (gamma = 0 in every payoff); evaluated in that game.
* GCA: DBR with greedy compute allocation f_i = k d_i, rounded up to the org's next level
  (default k = F_i^(m), full compute at full data) and raised to the lowest level that meets
  the deadline where k d_i falls short; organizations choose only d.
* FIP: finite-improvement path on the grid d in {e, 2e, ..., 1} clipped to [D_min, 1] (d = 1
  always included), any level; each organization in turn takes its best grid strategy until
  none improves.
* TOS: everyone contributes everything, d = 1 at the top level, ignoring the deadline and the
  damage; evaluated honestly (it is usually infeasible and not an equilibrium).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._dbr import LevelList, dbr, level_lists, sequential_rounds
from solver._errors import GameError
from solver._model import Game
from solver._result import SolveResult, Status, Trace, evaluate

__all__ = ["fip", "gca", "tos", "wpr"]


def wpr(game: Game, **dbr_options: object) -> SolveResult:
    """DBR without payoff redistribution; the result is evaluated in the game with gamma = 0."""
    res = dbr(game.replace(gamma=0.0), **dbr_options)  # type: ignore[arg-type]
    return dataclasses.replace(res, algorithm="wpr", message=res.message + " (gamma = 0)")


def _gca_levels(game: Game, k: NDArray[np.float64]) -> LevelList:
    ar = game.arrays
    out = []
    for i, levels in enumerate(level_lists(game)):
        row = []
        F = ar.F[i]
        for lv, tg, lo, hi, a, hb in levels:
            # level(d) = max(greedy level of k d, lowest level meeting the deadline), so level
            # lv serves x in (min(F[lv-1]/k s, hi[lv-1]), min(F[lv]/k s, hi[lv])]
            below = (
                min(F[lv - 1] / k[i] * ar.s[i], ar.hi[i, lv - 1]) * (1 + 1e-12) if lv > 0 else 0.0
            )
            lower, upper = max(lo, below), min(hi, F[lv] / k[i] * ar.s[i])
            if lower <= upper:
                row.append((lv, tg, lower, upper, a, hb))
        out.append(row)
    return out


def gca(
    game: Game,
    *,
    k: float | ArrayLike | None = None,
    max_rounds: int = 1000,
    tol: float = 1e-12,
    trace: bool = True,
) -> SolveResult:
    """Greedy compute allocation: f_i = k d_i rounded up to a level (at least the lowest level
    meeting the deadline); organizations choose d only.

    ``k`` defaults to each org's top level F_i^(m) (full compute at full data).
    """
    started = time.perf_counter()
    top = np.array([o.F[-1] for o in game.orgs])
    kk = top if k is None else np.broadcast_to(np.asarray(k, dtype=float), (game.n,)).copy()
    if np.any(~(kk > 0)):
        raise GameError("must be positive (Hz per unit of data fraction)", field="k")
    levels = _gca_levels(game, kk)
    empty = [game.orgs[i].name for i, r in enumerate(levels) if not r]
    if empty:
        raise GameError(
            f"no data fraction is feasible under f = k d for {empty}; raise k", field="k"
        )
    x = np.array([r[0][2] for r in levels])
    lev = np.array([r[0][0] for r in levels], dtype=np.intp)
    snaps = [(x.copy(), lev.copy())] if trace else None
    rounds, ok = sequential_rounds(
        game, x, lev, max_rounds=max_rounds, tol=tol, snapshots=snaps, levels=levels
    )
    return _finish(game, "gca", x, lev, rounds, ok, started, snaps)


def _finish(
    game: Game,
    name: str,
    x: NDArray[np.float64],
    lev: NDArray[np.intp],
    rounds: int,
    ok: bool,
    started: float,
    snaps: list[tuple[NDArray[np.float64], NDArray[np.intp]]] | None,
) -> SolveResult:
    ar = game.arrays
    rows = np.arange(game.n)
    tr = None
    if snaps is not None:
        tr = Trace.record(game, [s[0] / ar.s for s in snaps], [ar.F[rows, s[1]] for s in snaps])
    return evaluate(
        game,
        x / ar.s,
        ar.F[rows, lev],
        algorithm=name,
        status=Status.CONVERGED if ok else Status.ITERATION_LIMIT,
        success=ok,
        message=f"no organization improves after {rounds} round(s)"
        if ok
        else "round limit reached",
        iterations=rounds,
        started=started,
        trace=tr,
    )


def fip_grid(d_min: float, step: float) -> NDArray[np.float64]:
    """FIP's data fractions: {step, 2 step, ..., 1} clipped to [d_min, 1], 1 always included.

    >>> fip_grid(0.6, 0.6).tolist()
    [0.6, 1.0]
    >>> fip_grid(0.25, 0.3).tolist()
    [0.3, 0.6, 0.9, 1.0]
    """
    k = np.arange(1, math.floor(1 / step * (1 + 1e-12)) + 1)
    # rounded to 12 decimals so that 3 x 0.3 is 0.9 and the last multiple of 0.1 is exactly 1
    return np.unique(np.clip(np.append(np.round(k * step, 12), 1.0), d_min, 1.0))


def fip(
    game: Game,
    *,
    step: float | None = None,
    max_rounds: int = 1000,
    tol: float = 1e-12,
    trace: bool = True,
) -> SolveResult:
    """Finite improvement on the grid d in {step, 2 step, ..., 1}, clipped to [D_min, 1] and
    always including d = 1 (default step = D_min; see :func:`fip_grid`)."""
    e = game.D_min if step is None else float(step)
    if not 0 < e <= 1:
        raise GameError(f"must lie in (0, 1], got {e!r}", field="step")
    started = time.perf_counter()
    ar, t = game.arrays, game.tables
    grid = fip_grid(game.D_min, e)
    x = ar.lo.copy()
    lev = t.last.copy()
    snaps = [(x.copy(), lev.copy())] if trace else None
    P = game.P
    ok, rounds = False, 0
    while rounds < max_rounds:
        rounds += 1
        moved = 0
        for i in range(game.n):
            omega = math.fsum(x)
            others = omega - x[i]
            gx = grid * ar.s[i]
            feas = ar.ok[i][None, :] & (gx[:, None] <= ar.hi[i][None, :] * (1 + 1e-12))
            vals = (
                ar.z[i] * P.value(others + gx)[:, None]
                - t.a[i][None, :] * gx[:, None]
                + t.hb[i][None, :]
            )
            vals = np.where(feas, vals, -np.inf)
            g, lv = np.unravel_index(int(np.argmax(vals)), vals.shape)
            cur_zp = ar.z[i] * P.value_scalar(omega)
            cur = cur_zp - t.a[i, lev[i]] * x[i] + t.hb[i, lev[i]]
            thr = tol * (abs(cur_zp) + abs(t.a[i, lev[i]] * x[i]) + abs(t.hb[i, lev[i]]))
            if vals[g, lv] > cur + thr:
                x[i], lev[i] = gx[g], lv
                moved += 1
        if snaps is not None:
            snaps.append((x.copy(), lev.copy()))
        if moved == 0:
            ok = True
            break
    return _finish(game, "fip", x, lev, rounds, ok, started, snaps)


def tos(game: Game) -> SolveResult:
    """Everyone at d = 1 and its top compute level, deadline and damage ignored."""
    started = time.perf_counter()
    ar = game.arrays
    top = np.array([o.F[-1] for o in game.orgs])
    res = evaluate(
        game,
        np.ones(game.n),
        top,
        algorithm="tos",
        status=Status.EVALUATED,
        success=True,
        message="fixed rule d = 1, f = top level",
        started=started,
    )
    if not res.feasible:
        late = int(np.sum(ar.T1 + ar.eta * ar.s / top + ar.T3 > game.tau))
        res = dataclasses.replace(res, message=res.message + f"; {late} org(s) miss the deadline")
    return res
