"""Helpers of the solver tests: random small games and an independent brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st

import solver
from solver import Game, Org

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def small_game(
    seed: int, n: int | None = None, m: int | None = None, identical: bool = False
) -> Game | None:
    """A random valid game with 2-4 orgs and 1-3 levels over wide parameter ranges, or None
    when the draw is invalid (no feasible level). ``identical`` copies org 0 into every org."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5)) if n is None else n
    m = int(rng.integers(1, 4)) if m is None else m
    orgs = []
    for _ in range(n):
        fmax = rng.uniform(1e9, 5e9)
        orgs.append(
            dict(
                s=float(rng.integers(300, 3000)),
                p=rng.uniform(300, 3000),
                F=tuple(fmax * np.arange(1, m + 1) / m),
                eta=rng.uniform(2e7, 1.5e8),
                T1=rng.uniform(0, 5),
                T3=rng.uniform(0, 5),
                e_comm=rng.uniform(0, 50),
            )
        )
        if identical:
            orgs[-1] = dict(orgs[0])
    p = np.array([o["p"] for o in orgs])
    r = np.triu(rng.uniform(0, 1, (n, n)), 1)
    rho = r + r.T
    # scale so that sum_j rho_ij p_j stays below 80% of p_i (z_i > 0)
    rho *= min(0.2, 0.8 * float(np.min(p / np.maximum(rho @ p, 1e-12)))) * rng.uniform(0.05, 1)
    if identical:
        c = min(rho[0, 1], 0.8 / (n - 1))
        rho = np.full((n, n), c) - np.diag(np.full(n, c))
    try:
        return Game(
            orgs=tuple(Org(name=f"o{i}", **o) for i, o in enumerate(orgs)),
            tau=rng.uniform(20, 120),
            gamma=float(rng.choice([0.0, rng.uniform(0, 0.05), rng.uniform(0, 0.5)])),
            lam=10 ** rng.uniform(-8, -5.3),
            w_e=float(rng.choice([0.0, 10 ** rng.uniform(-4, -1)])),
            kappa=1e-27,
            G=rng.uniform(1, 20),
            D_min=rng.uniform(0.05, 0.5),
            A0=rng.uniform(0.5, 1.5),
            rho=rho,
        )
    except solver.GameError as exc:
        if exc.field == "F":
            return None
        raise


def brute_force_max(game: Game) -> float:
    """Maximum of the potential by enumerating every level profile and, for each, every KKT
    candidate of the concave d-problem: all orgs at a bound, or one org at its first-order
    point (P'(Omega) = -b_k, from the paper form's closed form) and the rest at bounds.
    An optimum always has at most one interior org, so this is exact."""
    ar = game.arrays
    n = game.n
    P = game.P
    assert isinstance(P, solver.PaperAccuracy)
    best = -math.inf
    choices = [np.flatnonzero(ar.ok[i]) for i in range(n)]
    for levels in itertools.product(*choices):
        lev = np.array(levels)
        f = ar.F[np.arange(n), lev]
        lo, hi = ar.lo, ar.hi[np.arange(n), lev]
        b = (game.gamma * ar.rhobar - game.w_e * game.kappa * f**2 * ar.eta) / ar.z
        for bounds in itertools.product((0, 1), repeat=n):
            x = np.where(np.array(bounds) == 1, hi, lo)
            best = max(best, solver.potential(game, x / ar.s, f))
            for k in range(n):
                if -b[k] <= 0:
                    continue
                omega = (0.5 / math.sqrt(game.G) / -b[k]) ** (2 / 3)
                xk = omega - (x.sum() - x[k])
                if lo[k] <= xk <= hi[k]:
                    y = x.copy()
                    y[k] = xk
                    best = max(best, solver.potential(game, y / ar.s, f))
    return best


def random_feasible_profiles(
    game: Game, rng: np.random.Generator, count: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Uniformly random feasible (d, f) profiles."""
    ar = game.arrays
    out = []
    for _ in range(count):
        lev = np.array([rng.choice(np.flatnonzero(ar.ok[i])) for i in range(game.n)])
        hi = ar.hi[np.arange(game.n), lev]
        x = rng.uniform(ar.lo, hi)
        out.append((x / ar.s, ar.F[np.arange(game.n), lev]))
    return out
