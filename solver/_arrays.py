"""Vectorized, derived views of a game: per-org arrays and per-(org, level) coefficients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from solver._model import Game

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class GameArrays:
    """Vectorized view of a game. Level arrays are (n, m), padded where an org has fewer levels.

    ``hi`` is the largest feasible contribution x = d s at each level (deadline and d <= 1),
    ``ok`` marks levels that exist and are feasible (hi >= lo = D_min s).
    """

    n: int
    m: int
    s: FloatArray
    p: FloatArray
    eta: FloatArray
    T1: FloatArray
    T3: FloatArray
    e_comm: FloatArray
    F: FloatArray
    exists: NDArray[np.bool_]
    ok: NDArray[np.bool_]
    lo: FloatArray
    hi: FloatArray
    z: FloatArray
    q: FloatArray
    rhobar: FloatArray

    @staticmethod
    def build(game: Game) -> GameArrays:
        orgs = game.orgs
        n, m = len(orgs), max(len(o.F) for o in orgs)
        col = lambda name: np.array([getattr(o, name) for o in orgs], dtype=float)  # noqa: E731
        s, p, eta, T1, T3 = col("s"), col("p"), col("eta"), col("T1"), col("T3")
        F = np.full((n, m), np.nan)
        for i, o in enumerate(orgs):
            F[i, : len(o.F)] = o.F
        exists = ~np.isnan(F)
        slack = game.tau - T1 - T3
        with np.errstate(invalid="ignore"):
            dmax = np.minimum(1.0, slack[:, None] * F / (eta * s)[:, None])
            ok = exists & (dmax >= game.D_min) & (slack[:, None] > 0)
        lo = game.D_min * s
        hi = np.where(exists, dmax * s[:, None], np.nan)
        rho = game.rho
        q = np.asarray(rho @ p, dtype=float).ravel()
        rhobar = np.asarray(rho.sum(axis=1), dtype=float).ravel()
        return GameArrays(
            n, m, s, p, eta, T1, T3, col("e_comm"), F, exists, ok, lo, hi, p - q, q, rhobar
        )


@dataclass(frozen=True, eq=False)
class LevelTables:
    """Per-(org, level) coefficients; entries of levels that are not ``ok`` are meaningless.

    The part of C_i that depends on org i's own strategy (x, level l), given the others'
    aggregate X, is ``z_i P(X + x) - a[i, l] x + hb[i, l]``; the potential is
    ``P(Omega) + sum_i (b[i, l_i] x_i + h[i, l_i])``. ``target[i, l]`` is the aggregate at which
    org i's marginal gain z_i P' equals ``a[i, l]`` (``inf`` when a <= 0), clipped to
    ``[omega_lo, omega_hi]``, so org i's best response at level l is
    ``clip(target - X, lo_i, hi[i, l])``.
    """

    a: FloatArray
    hb: FloatArray
    b: FloatArray
    h: FloatArray
    target: FloatArray
    omega_lo: float
    omega_hi: float
    first: NDArray[np.intp]
    last: NDArray[np.intp]

    @staticmethod
    def build(game: Game) -> LevelTables:
        ar = game.arrays
        F = np.where(ar.exists, ar.F, 0.0)
        a = game.w_e * game.kappa * F**2 * ar.eta[:, None] - game.gamma * ar.rhobar[:, None]
        hb = game.gamma * ar.rhobar[:, None] * game.lam * F
        omega_lo = float(ar.lo.sum())
        omega_hi = float(np.max(np.where(ar.ok, ar.hi, -np.inf), axis=1).sum())
        slope = a / ar.z[:, None]
        target = np.full(a.shape, np.inf)
        pos = slope > 0
        # clip at sum(s) (not the feasible maximum) so best responses stay right for any d <= 1
        target[pos] = game.P.inverse_derivative(slope[pos], omega_lo, float(ar.s.sum()))
        idx = np.arange(ar.m)[None, :]
        first = np.min(np.where(ar.ok, idx, ar.m), axis=1).astype(np.intp)
        last = np.max(np.where(ar.ok, idx, -1), axis=1).astype(np.intp)
        return LevelTables(
            a, hb, -a / ar.z[:, None], hb / ar.z[:, None], target, omega_lo, omega_hi, first, last
        )
