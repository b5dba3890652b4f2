"""Fit of the game's loss parameters a, b, alpha_D, with a status for degenerate point sets."""

from __future__ import annotations

import numpy as np
import pytest

from fl_node.cogen import fit_loss


def _points(seed: int, noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = rng.uniform(300, 5000, size=20)
    h = rng.uniform(0.05, 1.2, size=20)
    y = 0.2 + 6.0 * n**-0.4 + 0.25 * h + noise * rng.standard_normal(20)
    return n, h, y


def test_recovers_parameters() -> None:
    f = fit_loss(*_points(0, 0.0))
    assert f.status == "ok"
    assert (f.a, f.b, f.alpha_D, f.e) == pytest.approx((6.0, 0.4, 0.25, 0.2), rel=1e-5)
    assert f.r2 == pytest.approx(1.0)


def test_noisy_points_fit_with_r2_and_prediction() -> None:
    n, h, y = _points(1, 0.005)
    f = fit_loss(n, h, y)
    assert f.status == "ok" and f.r2 > 0.9
    assert f.alpha_D == pytest.approx(0.25, abs=0.05)
    assert np.sqrt(np.mean((f.predict(n, h) - y) ** 2)) == pytest.approx(f.rmse)


def test_constant_heterogeneity_is_reported() -> None:
    n, _, _ = _points(2, 0.0)
    f = fit_loss(n, np.full(n.size, 0.4), 0.1 + 3.0 * n**-0.5)
    assert f.status == "heterogeneity_constant" and f.alpha_D == 0.0
    assert f.b == pytest.approx(0.5, rel=1e-4)


def test_loss_falling_with_heterogeneity_gives_alpha_zero() -> None:
    n, h, _ = _points(3, 0.0)
    f = fit_loss(n, h, 0.1 + 3.0 * n**-0.5 - 0.3 * h)
    assert f.status == "alpha_D_at_zero" and f.alpha_D == 0.0


def test_too_few_points() -> None:
    f = fit_loss([100, 200, 200, 100], [0.1, 0.2, 0.3, 0.4], [1.0, 0.9, 0.8, 0.7])
    assert f.status == "too_few_points" and not f.usable


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        fit_loss([1, 2], [0.1], [1.0, 2.0])
    with pytest.raises(ValueError, match="> 0"):
        fit_loss([0, 1, 2, 3, 4], [0.1] * 5, [1.0] * 5)
