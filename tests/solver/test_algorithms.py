"""DBR, CGBD, the certified exact solver and the baselines against each other and brute force."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given, settings
from solver_helpers import SEEDS, brute_force_max, random_feasible_profiles, small_game

import solver
from solver import Status

FEASIBLE_ALGORITHMS = ("dbr", "dbr-sim", "cgbd", "wpr", "gca", "fip")


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS)
def test_dbr_sequential_and_simultaneous_reach_nash(seed: int) -> None:
    game = small_game(seed, identical=seed % 5 == 0)
    assume(game is not None)
    assert game is not None
    for mode in ("sequential", "simultaneous"):
        res = solver.dbr(game, mode=mode)
        assert res.status == Status.CONVERGED and res.success
        assert res.feasible and res.is_nash, (mode, res.nash_gap)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dbr_reaches_nash_on_table2_games(seed: int) -> None:
    game = solver.random_game(30, seed=seed, gamma=0.01)
    for mode in ("sequential", "simultaneous"):
        res = solver.dbr(game, mode=mode, trace=False)
        assert res.is_nash and res.success


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS)
def test_exact_matches_brute_force_and_certifies(seed: int) -> None:
    game = small_game(seed, identical=seed % 4 == 0)
    assume(game is not None)
    assert game is not None
    res = solver.maximize_potential(game)
    best = brute_force_max(game)
    scale = max(abs(best), 1e-300)
    assert res.status == Status.OPTIMAL and res.gap is not None and res.gap <= 1e-9
    assert abs(res.potential - best) <= 1e-9 * scale
    assert res.bound is not None and res.bound >= best - 1e-12 * scale
    assert res.feasible and res.is_nash
    for d, f in random_feasible_profiles(game, np.random.default_rng(seed), 50):
        assert solver.potential(game, d, f) <= res.potential + 1e-12 * scale


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS)
def test_exact_potential_dominates_every_algorithm(seed: int) -> None:
    game = small_game(seed)
    assume(game is not None)
    assert game is not None
    exact = solver.maximize_potential(game)
    for name in FEASIBLE_ALGORITHMS:
        res = solver.solve(game, name)
        assert res.feasible, name
        # WPR's payoffs are evaluated without redistribution: compare in the real game
        phi = solver.potential(game, res.d, res.f)
        assert phi <= exact.potential + 1e-12 * abs(exact.potential), name
    tos = solver.tos(game)
    if tos.feasible:
        assert tos.potential <= exact.potential + 1e-12 * abs(exact.potential)


def test_cgbd_valid_cuts_certify_the_exact_optimum(preset: solver.Game) -> None:
    game = preset.replace(orgs=preset.orgs[:6], rho=preset.rho_dense()[:6, :6])
    exact = solver.maximize_potential(game)
    res = solver.cgbd(game)
    assert res.status == Status.OPTIMAL and res.bound is not None
    assert res.potential == pytest.approx(exact.potential, rel=1e-9)
    tr = res.trace
    assert tr is not None and tr.lower is not None and tr.upper is not None
    assert np.all(np.diff(tr.lower) >= 0) and np.all(np.diff(tr.upper) <= 1e-15)
    assert tr.upper[-1] - tr.lower[-1] <= 1e-9 * abs(tr.lower[-1])
    assert np.all(tr.upper >= exact.potential - 1e-12)  # every master value is a valid bound
    paper = solver.cgbd(game, cuts="paper")
    assert paper.bound is None
    assert paper.potential <= exact.potential + 1e-12
    assert "no certificate" in paper.message


def test_cgbd_refuses_huge_enumerations() -> None:
    game = solver.random_game(12, seed=0)
    with pytest.raises(solver.ProblemTooLargeError, match="exact"):
        solver.cgbd(game)


def test_exact_reports_the_gap_when_stopped_early() -> None:
    game = small_game(57, n=6, m=4, identical=True)
    assert game is not None
    rng = np.random.default_rng(57 + 10**6)
    rng.integers(5, 13), rng.integers(2, 6)
    eps = 2.0e-4
    orgs = tuple(
        dataclasses.replace(
            o,
            p=o.p * (1 + eps * rng.standard_normal()),
            eta=o.eta * (1 + eps * rng.standard_normal()),
        )
        for o in game.orgs
    )
    game = game.replace(orgs=orgs)
    full = solver.maximize_potential(game)
    assert full.status == Status.OPTIMAL and full.iterations > 3
    early = solver.maximize_potential(game, max_nodes=3)
    assert early.status == Status.NODE_LIMIT and not early.success
    assert early.bound is not None and early.bound >= full.potential - 1e-12 * abs(full.potential)
    assert early.gap is not None and early.gap > 0
    tr = full.trace
    assert tr is not None and tr.upper is not None and tr.lower is not None
    assert np.all(np.diff(tr.lower) >= 0) and tr.upper[-1] - tr.lower[-1] <= 1e-9 * abs(
        tr.lower[-1]
    )


def test_symmetric_orgs_are_solved_without_blowup() -> None:
    game = small_game(103, n=11, m=5, identical=True)
    assert game is not None
    res = solver.maximize_potential(game)
    assert res.status == Status.OPTIMAL and res.iterations < 200
    assert res.is_nash


def test_dbr_trace_and_start(preset: solver.Game) -> None:
    res = solver.dbr(preset, trace_updates=True)
    tr = res.trace
    assert tr is not None
    np.testing.assert_allclose(tr.d[0], preset.D_min)
    np.testing.assert_allclose(tr.f[0], [o.F[-1] for o in preset.orgs])
    assert np.all(np.diff(tr.potential) > 0)  # every accepted move raises the potential
    assert tr.payoffs.shape == (len(tr.potential), preset.n)
    np.testing.assert_allclose(tr.d[-1], res.d)
    rounds = solver.dbr(preset).trace
    assert rounds is not None and len(rounds.potential) == res.iterations + 1


def test_dbr_simultaneous_is_damped_and_monotone(preset: solver.Game) -> None:
    res = solver.dbr(preset, mode="simultaneous", damping=0.5)
    tr = res.trace
    assert tr is not None and res.is_nash
    assert np.all(np.diff(tr.potential) >= -1e-15)
    with pytest.raises(solver.GameError):
        solver.dbr(preset, mode="simultaneous", damping=0.0)


def test_baselines_follow_their_rules(preset: solver.Game) -> None:
    g = preset
    ar = g.arrays
    top = np.array([o.F[-1] for o in g.orgs])
    tos = solver.tos(g)
    np.testing.assert_array_equal(tos.d, 1.0)
    np.testing.assert_array_equal(tos.f, top)
    assert not tos.is_nash and tos.iterations == 0
    late = g.replace(tau=40.0)
    assert not solver.tos(late).feasible and "deadline" in solver.tos(late).message
    for game in (g, late):
        gca = solver.gca(game)
        ar = game.arrays
        assert gca.feasible
        # f = F^(m) d rounded up to a level, or the lowest level meeting the deadline if higher
        greedy = [np.flatnonzero(ar.F[i] >= top[i] * gca.d[i] * (1 - 1e-12))[0] for i in range(g.n)]
        needed = [
            np.flatnonzero(ar.ok[i] & (ar.hi[i] >= gca.x[i] * (1 - 1e-12)))[0] for i in range(g.n)
        ]
        want = np.array(
            [ar.F[i, max(a, b)] for i, (a, b) in enumerate(zip(greedy, needed, strict=True))]
        )
        np.testing.assert_allclose(gca.f, want)
    fip = solver.fip(g)
    on_grid = np.isclose(fip.d / g.D_min, np.round(fip.d / g.D_min), rtol=0, atol=1e-9)
    assert (on_grid | (fip.d == 1.0)).all() and fip.feasible
    with pytest.raises(solver.GameError):
        solver.fip(g, step=0.0)
    wpr = solver.wpr(g)
    assert wpr.game.gamma == 0.0 and np.all(wpr.redistribution == 0.0)
    assert wpr.is_nash and wpr.algorithm == "wpr"


def test_solve_dispatch_and_unknown_algorithm(preset: solver.Game) -> None:
    assert solver.ALGORITHMS == ("dbr", "dbr-sim", "cgbd", "exact", "wpr", "gca", "fip", "tos")
    assert solver.solve(preset, "dbr-sim").algorithm == "dbr-sim"
    with pytest.raises(solver.GameError) as info:
        solver.solve(preset, "magic")
    assert info.value.field == "algorithm"


def test_result_to_dict_is_json_ready(preset: solver.Game) -> None:
    import json

    res = solver.solve(preset, "exact")
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert [s["name"] for s in out["strategies"]] == list(preset.names)
    assert out["status"] == "optimal" and out["is_nash"] is True
    assert out["budget_balance"] == pytest.approx(0.0, abs=1e-12)
    assert len(out["individually_rational"]) == preset.n


def test_algorithms_with_a_numeric_accuracy_function(preset: solver.Game) -> None:
    from test_accuracy import SaturatingExp

    game = preset.replace(accuracy=SaturatingExp(0.02, 6000.0))
    exact = solver.maximize_potential(game)
    assert exact.status == Status.OPTIMAL and exact.is_nash
    for mode in ("sequential", "simultaneous"):
        res = solver.dbr(game, mode=mode)
        assert res.is_nash and res.potential <= exact.potential + 1e-12
    for d, f in random_feasible_profiles(game, np.random.default_rng(0), 200):
        assert solver.potential(game, d, f) <= exact.potential
