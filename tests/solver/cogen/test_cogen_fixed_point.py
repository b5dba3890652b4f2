"""The aggregate fixed point: convergence, Nash, agreement with an independent optimizer."""

from __future__ import annotations

import numpy as np
import pytest
from cogen_helpers import SEEDS, small_game
from hypothesis import given, settings
from scipy.optimize import minimize

from solver import Status
from solver.cogen import CogenGame, fixed_point, potential


@settings(max_examples=80, deadline=None)
@given(SEEDS)
def test_fixed_point_is_a_nash_equilibrium(seed) -> None:
    game = small_game(seed)
    res = fixed_point(game)
    assert res.status == Status.CONVERGED
    assert res.is_nash, (res.nash_gap, res.nash_tol)
    assert res.feasible
    assert res.residual <= 1e-8


@settings(max_examples=40, deadline=None)
@given(SEEDS)
def test_damped_iteration_agrees_with_bisection(seed) -> None:
    game = small_game(seed)
    a, b = fixed_point(game), fixed_point(game, method="damped")
    assert b.converged
    assert b.x == pytest.approx(a.x, rel=1e-6, abs=1e-6 * (1 + game.x_max.max()))


def test_demo_equilibrium_is_interior_and_maximizes_the_potential(demo: CogenGame) -> None:
    res = fixed_point(demo)
    assert res.is_nash and res.converged
    assert np.all((res.x > 1.0) & (res.x < demo.x_max - 1.0))
    # an independent optimizer of the potential on the box lands on the same profile
    opt = minimize(
        lambda y: -potential(demo, y),
        demo.x_max / 2,
        method="L-BFGS-B",
        bounds=list(zip(np.zeros(demo.n), demo.x_max, strict=True)),
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000},
    )
    assert potential(demo, res.x) >= -opt.fun - 1e-12
    assert res.x == pytest.approx(opt.x, abs=1.0)
    # the trace brackets the root: residuals of both signs, shrinking to the solution
    assert res.trace is not None
    assert res.trace.residual.max() > 0 > res.trace.residual.min()
    assert abs(res.trace.aggregate[-1] - res.x.sum()) <= 1e-6 * res.x.sum()


def test_iteration_limit_is_reported(demo: CogenGame) -> None:
    res = fixed_point(demo, max_iter=3)
    assert res.status == Status.ITERATION_LIMIT
    assert not res.success and not res.converged
