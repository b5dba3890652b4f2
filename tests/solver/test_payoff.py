"""Payoffs, the weighted-potential identity and budget balance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from solver_helpers import SEEDS, random_feasible_profiles, small_game

import solver


def _scale(game: solver.Game, d: np.ndarray, f: np.ndarray, i: int) -> float:
    """Magnitude of the terms that make up C_i (the floating-point error scales with it)."""
    parts = solver.payoff_parts(game, d, f)
    c = solver.contributions(game, d, f)
    rho = game.rho_dense()
    red = game.gamma * (game.rhobar[i] * c[i] + rho[i] @ c)
    return abs(parts.revenue[i]) + game.w_e * parts.energy[i] + abs(parts.damage[i]) + red


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, data=st.data())
def test_potential_identity_for_unilateral_deviations(seed: int, data: st.DataObject) -> None:
    game = small_game(seed)
    assume(game is not None)
    assert game is not None
    rng = np.random.default_rng(seed)
    (d, f), (d2, f2) = random_feasible_profiles(game, rng, 2)
    i = data.draw(st.integers(0, game.n - 1))
    dev_d, dev_f = d.copy(), f.copy()
    dev_d[i], dev_f[i] = d2[i], f2[i]
    lhs = solver.payoffs(game, dev_d, dev_f)[i] - solver.payoffs(game, d, f)[i]
    rhs = game.z[i] * (solver.potential(game, dev_d, dev_f) - solver.potential(game, d, f))
    tol = 1e-12 * max(_scale(game, d, f, i), _scale(game, dev_d, dev_f, i))
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=tol)


def test_paper_eq15_potential_violates_the_identity(preset: solver.Game) -> None:
    """The paper's U (eq. 15, with sum_j r_ij / z_i) changes when a rival moves in a way the
    mover's payoff does not: the corrected Phi is needed (spec 1.2 #2)."""
    g = preset
    ar = g.arrays

    def paper_u(d: np.ndarray, f: np.ndarray) -> float:
        x = d * ar.s
        R = solver.payoff_parts(g, d, f).redistribution
        energy = g.w_e * g.kappa * f**2 * ar.eta * x
        return float(g.P.value(x.sum())) - float(np.sum((energy - R) / ar.z))

    d = np.full(g.n, 0.5)
    f = ar.F[:, 2]
    d2 = d.copy()
    d2[3] = 0.9
    lhs = solver.payoffs(g, d2, f)[3] - solver.payoffs(g, d, f)[3]
    assert lhs == pytest.approx(
        g.z[3] * (solver.potential(g, d2, f) - solver.potential(g, d, f)), rel=1e-9
    )
    assert abs(lhs - g.z[3] * (paper_u(d2, f) - paper_u(d, f))) > 1e-3 * abs(lhs)


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS)
def test_budget_balance_for_symmetric_rho(seed: int) -> None:
    game = small_game(seed)
    assume(game is not None)
    assert game is not None
    ((d, f),) = random_feasible_profiles(game, np.random.default_rng(seed), 1)
    parts = solver.payoff_parts(game, d, f)
    c = solver.contributions(game, d, f)
    assert (
        abs(math.fsum(parts.redistribution))
        <= 1e-12 * game.gamma * np.sum(game.rhobar * np.abs(c)) + 1e-300
    )
    r = solver.redistribution_matrix(game, d, f)
    np.testing.assert_allclose(r, -r.T, atol=1e-15)
    np.testing.assert_allclose(r.sum(axis=1), parts.redistribution, rtol=1e-9, atol=1e-12)


def test_parts_add_up_and_match_the_formulas(preset: solver.Game) -> None:
    g = preset
    ar = g.arrays
    d = np.linspace(0.1, 1.0, g.n)
    f = ar.F[:, 1]
    x = d * ar.s
    parts = solver.payoff_parts(g, d, f)
    omega = x.sum()
    P = lambda w: g.A0 - 1 / math.sqrt(w * g.G) - 1 / g.G  # noqa: E731
    i = 4
    rho = g.rho_dense()
    damage = sum(rho[i, j] * ar.p[j] * (P(omega) - P(omega - x[i])) for j in range(g.n))
    c = x + g.lam * f
    red = g.gamma * sum(rho[i, j] * (c[i] - c[j]) for j in range(g.n))
    energy = g.kappa * f[i] ** 2 * ar.eta[i] * x[i]
    assert parts.revenue[i] == pytest.approx(ar.p[i] * P(omega), rel=1e-12)
    assert parts.damage[i] == pytest.approx(damage, rel=1e-9)
    assert parts.redistribution[i] == pytest.approx(red, rel=1e-9)
    assert parts.energy[i] == pytest.approx(energy, rel=1e-12)
    np.testing.assert_allclose(
        parts.payoff, parts.revenue - g.w_e * parts.energy - parts.damage + parts.redistribution
    )
    assert solver.social_welfare(g, d, f) == pytest.approx(parts.payoff.sum(), rel=1e-12)


def test_profile_shape_is_validated(preset: solver.Game) -> None:
    with pytest.raises(solver.GameError) as info:
        solver.payoffs(preset, np.ones(3), np.ones(preset.n))
    assert info.value.field == "d"
