"""Best response from private parameters plus the rivals' aggregate, and the Nash check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from solver_helpers import SEEDS, random_feasible_profiles, small_game
from test_accuracy import SaturatingExp

import solver


def _grid_best(
    game: solver.Game, d: np.ndarray, f: np.ndarray, i: int, points: int = 4001
) -> float:
    """Best payoff of org i over a fine grid of feasible (d, level), written out from eq. 11."""
    ar = game.arrays
    P = game.P.value
    rho = game.rho_dense()[i]
    x = d * ar.s
    c = x + game.lam * f
    others = x.sum() - x[i]
    best = -np.inf
    for lv in np.flatnonzero(ar.ok[i]):
        xi = np.linspace(ar.lo[i], ar.hi[i, lv], points)
        fi = ar.F[i, lv]
        ci = xi + game.lam * fi
        red = game.gamma * (rho.sum() * ci - (rho @ c - rho[i] * c[i]))
        energy = game.kappa * fi**2 * ar.eta[i] * xi + ar.e_comm[i]
        dmg = (rho @ ar.p) * (P(others + xi) - P(others))
        pay = ar.p[i] * P(others + xi) - game.w_e * energy - dmg + red
        best = max(best, float(pay.max()))
    return best


@settings(max_examples=12, deadline=None)
@given(seed=SEEDS)
def test_best_response_beats_a_fine_grid_of_deviations(seed: int) -> None:
    game = small_game(seed)
    assume(game is not None)
    assert game is not None
    ((d, f),) = random_feasible_profiles(game, np.random.default_rng(seed), 1)
    i = seed % game.n
    others = float(np.sum(d * game.arrays.s) - d[i] * game.arrays.s[i])
    br = solver.best_response(game.view(i), others)
    dd, ff = d.copy(), f.copy()
    dd[i], ff[i] = br.d, br.f
    assert solver.feasible(game, dd, ff).all()
    got = solver.payoffs(game, dd, ff)[i]
    grid = _grid_best(game, d, f, i, points=801)
    assert got >= grid - 1e-10 * abs(grid)
    # no other feasible deviation improves on it: the Nash gap of org i is zero there
    assert solver.nash_gaps(game, dd, ff)[i] <= 1e-9 * max(1.0, abs(got))


def test_best_response_needs_only_view_and_aggregate(preset: solver.Game) -> None:
    """Changing rivals' private parameters (eta, F, T) leaves org 0's best response unchanged
    as long as the aggregate is the same."""
    v = preset.view(0)
    orgs = list(preset.orgs)
    orgs[1] = solver.Org("org02", orgs[1].s, orgs[1].p, (1e9, 9e9), 1e7, 0.0, 0.0)
    other = preset.replace(orgs=tuple(orgs))
    assert other.view(0) == v
    assert solver.best_response(other.view(0), 8000.0) == solver.best_response(v, 8000.0)


def test_best_response_with_a_numeric_accuracy_function(preset: solver.Game) -> None:
    game = preset.replace(accuracy=SaturatingExp(0.02, 6000.0))
    ar = game.arrays
    d = np.full(game.n, 0.3)
    f = ar.F[:, 1]
    for i in (0, 4, 8):
        others = float(np.sum(d * ar.s) - d[i] * ar.s[i])
        br = solver.best_response(game.view(i), others)
        dd, ff = d.copy(), f.copy()
        dd[i], ff[i] = br.d, br.f
        got = solver.payoffs(game, dd, ff)[i]
        assert got >= _grid_best(game, d, f, i, points=2001) - 1e-12 * abs(got)


def test_nash_gaps_detect_a_profitable_deviation(preset: solver.Game) -> None:
    res = solver.dbr(preset)
    assert res.is_nash and np.all(res.nash_gap <= 1e-9 * np.abs(res.payoffs).max())
    d = res.d.copy()
    d[0] = 1.0 if d[0] < 0.5 else 0.1
    f = res.f.copy()
    f[0] = preset.orgs[0].F[-1]
    gaps = solver.nash_gaps(preset, d, f)
    assert gaps[0] > 1e-6
    assert not solver.evaluate(preset, d, f).is_nash


def test_best_response_rejects_bad_aggregate(preset: solver.Game) -> None:
    with pytest.raises(solver.GameError) as info:
        solver.best_response(preset.view(0), -5.0)
    assert info.value.field == "others_total"


def test_feasibility_and_levels(preset: solver.Game) -> None:
    ar = preset.arrays
    f = ar.F[:, 0]
    assert solver.level_index(preset, f).tolist() == [0] * preset.n
    d = ar.hi[:, 0] / ar.s
    assert solver.feasible(preset, d, f).all()
    assert not solver.feasible(preset, d * 1.01, f)[0]
    assert not solver.feasible(preset, d, f * 1.001).any()  # not one of the levels
