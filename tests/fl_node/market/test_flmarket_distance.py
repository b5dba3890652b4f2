"""Cosine model distances and the prox center's gradient (finite differences and autograd)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fl_node.market import (
    cosine_distance,
    cosine_distance_grad,
    distance_matrix,
    flatten,
    project_simplex,
    prox_center,
    unflatten,
)


def test_gradient_matches_central_finite_differences() -> None:
    rng = np.random.default_rng(0)
    t0, ti, tj = (rng.normal(size=12) for _ in range(3))
    g = cosine_distance_grad(ti, tj, t0)
    h = 1e-6
    fd = np.array(
        [
            (cosine_distance(ti + h * e, tj, t0) - cosine_distance(ti - h * e, tj, t0)) / (2 * h)
            for e in np.eye(12)
        ]
    )
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)
    assert abs(float(g @ (ti - t0))) < 1e-12  # orthogonal to x: it only turns x


def test_gradient_matches_torch_autograd() -> None:
    rng = np.random.default_rng(1)
    t0, ti, tj = (rng.normal(size=30) for _ in range(3))
    x = torch.tensor(ti - t0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(tj - t0, dtype=torch.float64)
    (1 - torch.nn.functional.cosine_similarity(x, y, dim=0)).backward()
    assert x.grad is not None
    np.testing.assert_allclose(cosine_distance_grad(ti, tj, t0), x.grad.numpy(), rtol=1e-10)


def test_prox_center_is_a_weighted_gradient_step() -> None:
    rng = np.random.default_rng(2)
    t0 = rng.normal(size=8)
    th = [t0 + rng.normal(size=8) for _ in range(3)]
    w = np.array([0.0, 2.0, 4.0])  # N = (10, 20, 40), 0 imports 1 and 2
    u = prox_center(0, th, t0, w, eta=0.5)
    expect = th[0] - 0.5 * (
        2 * cosine_distance_grad(th[0], th[1], t0) + 4 * cosine_distance_grad(th[0], th[2], t0)
    )
    np.testing.assert_allclose(u, expect)
    np.testing.assert_array_equal(prox_center(0, th, t0, np.zeros(3), 0.5), th[0])
    # a small step lowers the weighted distance it descends
    f = lambda v: 2 * cosine_distance(v, th[1], t0) + 4 * cosine_distance(v, th[2], t0)  # noqa: E731
    assert f(prox_center(0, th, t0, w, eta=0.01)) < f(th[0])
    with pytest.raises(ValueError, match="own model"):
        prox_center(0, th, t0, [1.0, 0.0, 0.0], 0.5)
    with pytest.raises(ValueError, match="one weight per silo"):
        prox_center(0, th, t0, [0.0, 1.0], 0.5)


def test_distance_matrix_is_valid_and_zero_updates_are_distance_one() -> None:
    rng = np.random.default_rng(3)
    t0 = rng.normal(size=5)
    th = [t0 + rng.normal(size=5), t0.copy(), t0 + 2 * (th1 := rng.normal(size=5)), t0 - th1]
    d = distance_matrix(th, t0)
    np.testing.assert_array_equal(d, d.T)
    assert np.all(np.diag(d) == 0) and np.all((d >= 0) & (d <= 2))
    assert d[0, 1] == 1.0 and cosine_distance(th[1], th[0], t0) == 1.0
    assert d[2, 3] == pytest.approx(2.0)
    assert d[0, 2] == pytest.approx(cosine_distance(th[0], th[2], t0))
    np.testing.assert_array_equal(cosine_distance_grad(th[1], th[0], t0), 0.0)


def test_flatten_roundtrip() -> None:
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(4, dtype=np.float32)]
    back = unflatten(flatten(arrays), arrays)
    assert all(
        np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(arrays, back, strict=True)
    )
    with pytest.raises(ValueError, match="10 entries"):
        unflatten(np.zeros(3), arrays)


def test_project_simplex() -> None:
    np.testing.assert_allclose(project_simplex([0.2, 0.3, 0.5]), [0.2, 0.3, 0.5])
    np.testing.assert_allclose(project_simplex([2.0, 0.0, -1.0]), [1.0, 0.0, 0.0])
    p = project_simplex(np.random.default_rng(0).normal(size=7))
    assert p.min() >= 0 and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(project_simplex([0.5, 0.5, 0.5]), [1 / 3] * 3)
