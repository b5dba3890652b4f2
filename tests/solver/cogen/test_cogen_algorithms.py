"""Exact solver (certificate), distributed best response, baselines."""

from __future__ import annotations

import numpy as np
import pytest
from cogen_helpers import SEEDS, small_game
from hypothesis import given, settings

from solver import Status
from solver.cogen import (
    ALGORITHMS,
    CogenGame,
    CogenSilo,
    Incentives,
    best_response,
    blind,
    dbr,
    fixed_point,
    maximize_potential,
    potential,
    potential_bound,
    random_generation,
    solve,
)


@settings(max_examples=60, deadline=None)
@given(SEEDS)
def test_exact_is_certified_and_agrees_with_the_fixed_point(seed) -> None:
    game = small_game(seed)
    ex, fp = maximize_potential(game), fixed_point(game)
    assert ex.status == Status.OPTIMAL, ex.message
    assert ex.bound is not None and ex.gap is not None and ex.gap <= 1e-9
    assert ex.bound >= ex.potential - 1e-12 * abs(ex.potential)
    assert ex.is_nash
    assert fp.potential <= ex.bound + 1e-12 * abs(ex.bound)
    assert ex.x == pytest.approx(fp.x, abs=1e-5 * (1 + game.x_max.max()))


@settings(max_examples=40, deadline=None)
@given(SEEDS)
def test_bounds_hold_at_any_profile(seed) -> None:
    game = small_game(seed)
    ex = maximize_potential(game)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        x = rng.uniform(0, 1, game.n) * game.x_max
        # the Frank-Wolfe bound at an arbitrary point still bounds the true maximum
        assert potential_bound(game, x) >= ex.potential - 1e-12 * abs(ex.potential)
        assert potential(game, x) <= ex.bound + 1e-12 * abs(ex.bound)


@settings(max_examples=40, deadline=None)
@given(SEEDS)
def test_dbr_reaches_the_equilibrium_raising_the_potential(seed) -> None:
    game = small_game(seed)
    res, fp = dbr(game), fixed_point(game)
    assert res.status == Status.CONVERGED and res.is_nash
    assert res.x == pytest.approx(fp.x, abs=1e-5 * (1 + game.x_max.max()))
    assert res.trace is not None
    assert np.all(np.diff(res.trace.potential) >= -1e-12 * np.abs(res.trace.potential[1:]))


def test_silo_responds_to_the_broadcast_aggregate_only(demo: CogenGame) -> None:
    silo = CogenSilo(demo.view("org2"), x=500.0)
    others = 4000.0
    got = silo.respond(others + 500.0)
    want = best_response(demo, np.full(demo.n, others))[2]
    assert got == pytest.approx(want, rel=1e-12)
    # the silo's view carries no rival's private parameters
    assert not hasattr(silo.view, "theta") and not hasattr(silo.view, "gamma")


def test_dbr_round_limit_is_reported(demo: CogenGame) -> None:
    res = dbr(demo, max_rounds=1)
    assert res.status == Status.ITERATION_LIMIT and not res.converged


def test_baselines_follow_their_definitions(demo: CogenGame) -> None:
    none, top = solve(demo, "none"), solve(demo, "max")
    assert np.all(none.x == 0) and np.all(top.x == demo.x_max)
    assert not none.is_nash and not top.is_nash
    r1, r2 = random_generation(demo, seed=3), random_generation(demo, seed=3)
    assert np.array_equal(r1.x, r2.x) and np.all((r1.x >= 0) & (r1.x <= demo.x_max))
    assert not np.array_equal(r1.x, random_generation(demo, seed=4).x)
    nr = solve(demo, "no-redistribution")
    assert nr.game.kappa == 0 and nr.is_nash
    assert nr.x == pytest.approx(fixed_point(demo.replace(kappa=0.0)).x)
    assert nr.budget_balance == 0.0


def test_blind_best_responds_without_the_competition_loss(demo: CogenGame) -> None:
    res = blind(demo)
    inc = Incentives(demo.theta, demo.theta * demo.alpha_D * demo.delta * demo.D, demo.incentives.e)
    others = res.x.sum() - res.x
    assert res.x == pytest.approx(best_response(demo, others, inc), rel=1e-9)
    # evaluated in the real game, where ignoring competition is not an equilibrium
    assert not res.is_nash and res.nash_gap.max() > 0
    eq = fixed_point(demo)
    assert eq.social_welfare != res.social_welfare


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_reports_the_checks(demo: CogenGame, algorithm: str) -> None:
    res = solve(demo, algorithm)
    assert res.algorithm == algorithm
    assert res.feasible
    assert abs(res.budget_balance) <= 1e-9
    assert res.social_welfare == pytest.approx(res.payoffs.sum(), rel=1e-12, abs=1e-9)
    assert res.nash_tol.shape == (demo.n,) and np.all(res.nash_tol > 0)
    if algorithm in ("fixed-point", "dbr", "exact", "no-redistribution"):
        assert res.is_nash and res.converged


def test_large_sparse_game_solves_to_a_certified_equilibrium() -> None:
    from solver.cogen import random_cogen_game

    game = random_cogen_game(600, seed=1)  # above the dense limit: sparse ring gamma
    assert hasattr(game.gamma, "tocsr")
    fp, ex = fixed_point(game), maximize_potential(game)
    assert fp.is_nash and ex.is_nash and ex.status == Status.OPTIMAL
    assert np.max(np.abs(fp.x - ex.x)) <= 1e-6
    assert abs(fp.budget_balance) <= 1e-9 * np.abs(fp.redistribution).sum()
    inner = (fp.x > 0) & (fp.x < game.x_max)
    assert 0.3 < inner.mean() < 1.0
