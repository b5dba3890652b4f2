"""Baselines of the cogen mechanism (``mechanisms.md`` section 2.1), evaluated honestly.

* ``none``: nobody generates (x = 0).
* ``blind``: the competition-blind equilibrium: every org best-responds as if its payoff were
  G_i - c_i x_i + R_i (the competition loss Lambda_i dropped); payoffs are those of the real
  game, so it is usually not a Nash equilibrium of it.
* ``random``: x_i ~ U[0, x_i^max], seeded.
* ``max``: everyone generates x_i^max.
* ``no-redistribution``: the equilibrium with kappa = 0, evaluated in the game with kappa = 0
  (as the first mechanism's WPR baseline).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from solver._result import Status
from solver.cogen._fixed_point import aggregate_fixed_point, fixed_point
from solver.cogen._model import CogenGame, Incentives
from solver.cogen._result import CogenResult, evaluate

__all__ = ["blind", "everyone_max", "no_generation", "no_redistribution", "random_generation"]


def no_generation(game: CogenGame) -> CogenResult:
    """Nobody generates synthetic data."""
    return evaluate(game, np.zeros(game.n), algorithm="none", message="x = 0 for every org")


def everyone_max(game: CogenGame) -> CogenResult:
    """Everyone generates as much as it can."""
    return evaluate(game, game.x_max, algorithm="max", message="x = x_max for every org")


def random_generation(game: CogenGame, *, seed: int = 0) -> CogenResult:
    """x_i drawn uniformly from [0, x_i^max] with ``numpy.random.default_rng(seed)``."""
    x = np.random.default_rng(seed).uniform(0.0, 1.0, game.n) * game.x_max
    return evaluate(game, x, algorithm="random", message=f"x ~ U[0, x_max], seed {seed}")


def blind(game: CogenGame) -> CogenResult:
    """Equilibrium of organizations that ignore the competition loss (see the module docs)."""
    started = time.perf_counter()
    own = game.theta
    inc = Incentives(w=own, A=own * game.alpha_D * game.delta * game.D, e=game.incentives.e.copy())
    x, it, ok, trace = aggregate_fixed_point(game, inc)
    return evaluate(
        game,
        x,
        algorithm="blind",
        status=Status.CONVERGED if ok else Status.ITERATION_LIMIT,
        success=ok,
        message=f"competition-blind fixed point in {it} step(s), evaluated in the real game",
        iterations=it,
        started=started,
        trace=trace,
    )


def no_redistribution(game: CogenGame) -> CogenResult:
    """The equilibrium without payoff redistribution (kappa = 0), evaluated with kappa = 0."""
    res = fixed_point(game.replace(kappa=0.0))
    return dataclasses.replace(
        res, algorithm="no-redistribution", message=res.message + " (kappa = 0)"
    )
