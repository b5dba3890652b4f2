"""The paper-table2 preset: Table II's shape, interior equilibria, and the gamma range of IR."""

from __future__ import annotations

import numpy as np
import pytest

import solver


def _interior(game: solver.Game, res: solver.SolveResult) -> np.ndarray:
    ar = game.arrays
    dmax = ar.hi[np.arange(game.n), res.level] / ar.s
    return (res.d > game.D_min * (1 + 1e-6)) & (res.d < dmax * (1 - 1e-6))


def test_preset_is_the_documented_random_game(preset: solver.Game) -> None:
    ref = solver.random_game(10, seed=5)
    assert preset.orgs == ref.orgs
    np.testing.assert_array_equal(preset.rho, ref.rho)
    for k, v in solver.TABLE2.items():
        assert getattr(preset, k) == v == getattr(ref, k)
    assert "paper-table2" in solver.preset_names()


def test_preset_has_table2_shape(preset: solver.Game) -> None:
    ar = preset.arrays
    assert preset.n == 10 and preset.kappa == 1e-27
    assert np.all((ar.p >= 500) & (ar.p <= 2500))
    assert np.all((ar.s >= 1000) & (ar.s <= 2000))
    assert all(len(o.F) == 5 and 3e9 <= o.F[-1] <= 5e9 for o in preset.orgs)
    assert np.all(preset.z > 0) and np.allclose(preset.rho, preset.rho.T)


@pytest.mark.parametrize("algorithm", ["exact", "dbr", "dbr-sim"])
def test_preset_equilibria_are_interior(preset: solver.Game, algorithm: str) -> None:
    res = solver.solve(preset, algorithm)
    assert res.is_nash and res.individually_rational.all()
    inner = _interior(preset, res)
    assert inner.any(), res.d  # some org strictly between D_min and its deadline bound
    assert len(set(res.level.tolist())) >= 2  # compute levels matter, not one level for all
    assert res.d.min() < res.d.max()


def test_welfare_is_non_monotonic_in_gamma(preset: solver.Game) -> None:
    gammas = np.linspace(0.0, 0.04, 21)
    sw = np.array(
        [solver.maximize_potential(preset.replace(gamma=g)).social_welfare for g in gammas]
    )
    k = int(np.argmax(sw))
    assert 0 < k < len(gammas) - 1
    assert sw[k] > sw[0] + 1.0 and sw[k] > sw[-1] + 1.0


def test_ir_gamma_range_is_computed_and_tight(preset: solver.Game) -> None:
    rng = solver.ir_gamma_range(preset, rtol=1e-6)
    assert len(rng.intervals) == 1
    lo, hi = rng.intervals[0]
    assert lo == 0.0 and 0 < hi < np.inf
    assert rng.contains(preset.gamma)
    inside = solver.maximize_potential(preset.replace(gamma=hi))
    outside = solver.maximize_potential(preset.replace(gamma=hi * (1 + 1e-4)))
    assert inside.individually_rational.all()
    assert not outside.individually_rational.all()
    assert np.all(rng.min_payoff[rng.gammas <= hi] >= -1e-12)


def test_ir_range_with_dbr_and_validation(preset: solver.Game) -> None:
    rng = solver.ir_gamma_range(preset, algorithm="dbr", samples=10)
    assert rng.algorithm == "dbr" and rng.contains(0.0)
    with pytest.raises(solver.GameError):
        solver.ir_gamma_range(preset, algorithm="magic")
