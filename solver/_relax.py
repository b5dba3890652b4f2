"""Lagrangian relaxation of the potential over the aggregate Omega (the exact solver's bound).

Phi = P(Omega) + sum_k (b_k x_k + h_k) with (x_k, level_k) feasible. Dualizing Omega = sum_k x_k
with a multiplier mu gives, for every mu, the upper bound

    L(mu) = max_{Omega in [lo, hi]} [P(Omega) - mu Omega] + sum_k max_v (Y_kv + mu X_kv),

where v runs over org k's vertices: the two ends (lo_k, hi_kl) of every allowed level l, with
values Y = b_kl x + h_kl. L is convex and piecewise smooth; its minimum is where the supply
S(mu) = sum_k X_k,argmax (a non-decreasing step function) crosses the demand
D(mu) = argmax_Omega [P - mu Omega]. Every breakpoint of S is an intersection of two of one
org's vertex lines, so the crossing is found by a binary search over the sorted intersections.
The restricted problems of branch-and-bound only remove vertices, so the root's intersections
serve every node.

At the crossing either S is constant and equals D (every org at a vertex: the relaxation is
feasible and the bound is attained) or S jumps across D at a breakpoint mu*. Then the tied
organizations must mix to fill the gap; mixing within one level (both ends tied: a flat
segment) is feasible, mixing across levels is not, and branch-and-bound splits such an
organization's level range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver._model import Game

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass
class Relaxation:
    """Outcome of one relaxation: the bound, a feasible point built from it, and whether that
    point attains the bound (``filled``). Otherwise ``branch_org`` and ``split`` say where to
    branch: levels ``<= split`` in one child, ``> split`` in the other."""

    mu: float
    bound: float
    x: FloatArray
    lev: IntArray
    filled: bool
    branch_org: int = -1
    split: int = -1


class Relaxer:
    """Vertex tables of a game's potential and the relaxation over level ranges."""

    def __init__(self, game: Game) -> None:
        ar, t = game.arrays, game.tables
        self.game = game
        self.P = game.P
        n, m = ar.n, ar.m
        self.n, self.m = n, m
        self.rows = np.arange(n)
        self.col_level = np.repeat(np.arange(m), 2)
        hi = np.where(ar.ok, ar.hi, ar.lo[:, None])
        X = np.empty((n, 2 * m))
        X[:, 0::2] = ar.lo[:, None]
        X[:, 1::2] = hi
        b = np.where(ar.ok, t.b, 0.0)
        h = np.where(ar.ok, t.h, 0.0)
        Y = np.repeat(b, 2, axis=1) * X + np.repeat(h, 2, axis=1)
        self.X, self.Y = X, Y
        self.valid = np.repeat(ar.ok, 2, axis=1)
        self.b, self.h = b, h
        self.lo, self.hi = ar.lo, hi
        self.omega_lo = t.omega_lo
        self.cands = self._candidates()

    def _candidates(self) -> FloatArray:
        X, Y, V = self.X, self.Y, self.X.shape[1]
        iu, ju = np.triu_indices(V, 1)
        dx = X[:, ju] - X[:, iu]
        ok = self.valid[:, iu] & self.valid[:, ju] & (dx != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = (Y[:, iu] - Y[:, ju]) / dx
        mu = mu[ok]
        lo = float(self.P.derivative(self.omega_hi_of(None)))
        hi = float(self.P.derivative(self.omega_lo))
        mu = mu[(mu > lo) & (mu < hi)]
        return np.unique(mu)

    def omega_hi_of(self, upper: IntArray | None) -> float:
        """Largest aggregate when each org's levels are capped at ``upper`` (None: no cap)."""
        if upper is None:
            upper = self.game.tables.last
        return math.fsum(self.hi[self.rows, upper])

    def phi(self, x: FloatArray, lev: IntArray) -> float:
        """Potential of a point given by contributions and level indices."""
        r = self.rows
        return self.P.value_scalar(math.fsum(x)) + math.fsum(self.b[r, lev] * x + self.h[r, lev])

    def relax(self, lower: IntArray, upper: IntArray) -> Relaxation:
        """Relaxation with each org's levels restricted to ``lower[k]..upper[k]``."""
        P, X, rows = self.P, self.X, self.rows
        allowed = (
            self.valid & (self.col_level >= lower[:, None]) & (self.col_level <= upper[:, None])
        )
        Ym = np.where(allowed, self.Y, -np.inf)
        om_lo, om_hi = self.omega_lo, self.omega_hi_of(upper)
        a = P.derivative_scalar(om_hi)
        b = P.derivative_scalar(om_lo)
        cands = self.cands
        C = np.concatenate(
            (
                [a],
                cands[np.searchsorted(cands, a, "right") : np.searchsorted(cands, b, "left")],
                [b],
            )
        )

        def demand(mu: float) -> float:
            return P.inverse_derivative_scalar(float(mu), om_lo, om_hi)

        cache: dict[int, tuple[float, IntArray]] = {}

        def supply(j: int) -> tuple[float, IntArray]:
            if j not in cache:
                mid = 0.5 * (C[j] + C[j + 1])
                idx = np.argmax(Ym + mid * X, axis=1)
                cache[j] = (math.fsum(X[rows, idx]), idx)
            return cache[j]

        lo_j, hi_j = 0, len(C) - 2
        while lo_j < hi_j:
            mid_j = (lo_j + hi_j) // 2
            if supply(mid_j)[0] - demand(C[mid_j + 1]) >= 0:
                hi_j = mid_j
            else:
                lo_j = mid_j + 1
        j = lo_j
        s_j, idx_j = supply(j)
        if j == 0 or s_j <= demand(C[j]):
            mu = min(max(P.derivative_scalar(s_j), float(C[j])), float(C[j + 1]))
            x = X[rows, idx_j]
            return Relaxation(mu, self._bound(Ym, mu, om_lo, om_hi), x, self.col_level[idx_j], True)
        mu = float(C[j])
        idx_prev = supply(j - 1)[1]
        return self._tie(Ym, mu, idx_prev, idx_j, demand(mu), om_lo, om_hi)

    def _bound(self, Ym: FloatArray, mu: float, om_lo: float, om_hi: float) -> float:
        omega = self.P.inverse_derivative_scalar(mu, om_lo, om_hi)
        best = np.max(Ym + mu * self.X, axis=1)
        return self.P.value_scalar(omega) - mu * omega + math.fsum(best)

    def _tie(
        self,
        Ym: FloatArray,
        mu: float,
        idx_a: IntArray,
        idx_b: IntArray,
        target_total: float,
        om_lo: float,
        om_hi: float,
    ) -> Relaxation:
        X, rows, cl = self.X, self.rows, self.col_level
        xa, xb = X[rows, idx_a], X[rows, idx_b]
        tied = np.flatnonzero(xa != xb)
        x = xb.copy()
        lev = cl[idx_b].copy()
        free = np.ones(self.n, dtype=bool)
        free[tied] = False
        remaining = target_total - math.fsum(x[free])
        # each tied org's options at mu: tied vertices, and whole levels whose two ends are tied
        opts: list[list[tuple[float, float, int]]] = []
        for k in tied:
            sc = Ym[k] + mu * X[k]
            top = float(np.max(sc))
            tol = 1e-11 * (abs(top) + abs(mu) * float(np.max(X[k])) + 1e-300)
            tv = np.flatnonzero(sc >= top - tol)
            tv = np.union1d(tv, [idx_a[k], idx_b[k]])
            segs: list[tuple[float, float, int]] = [
                (float(X[k, v]), float(X[k, v]), int(cl[v])) for v in tv
            ]
            for lv in set(cl[tv].tolist()):
                ends = tv[cl[tv] == lv]
                if ends.size == 2:
                    segs.append((float(X[k, ends].min()), float(X[k, ends].max()), lv))
            opts.append(segs)
        base = [min(s[0] for s in segs) for segs in opts]
        R = remaining - math.fsum(base)
        for pos, k in enumerate(tied):
            want = base[pos] + max(R, 0.0)
            best_y, best_l = -np.inf, -1
            for s_lo, s_hi, lv in opts[pos]:
                if s_lo <= want * (1 + 1e-15):
                    y = min(s_hi, want)
                    if y > best_y:
                        best_y, best_l = y, lv
            x[k], lev[k] = max(best_y, base[pos]), best_l
            R -= x[k] - base[pos]
        scale = max(abs(target_total), 1.0)
        filled = abs(R) <= 1e-12 * scale
        x = np.clip(x, self.lo, self.hi[rows, lev])
        bound = self._bound(Ym, mu, om_lo, om_hi)
        rel = Relaxation(mu, bound, x, lev, filled)
        if not filled:
            spans = [
                (max(s[1] for s in o) - min(s[0] for s in o), k, o)
                for k, o in zip(tied, opts, strict=True)
                if len({s[2] for s in o}) > 1
            ]
            if spans:
                _, k, o = max(spans, key=lambda t: t[0])
                rel.branch_org, rel.split = int(k), min(s[2] for s in o)
        return rel
