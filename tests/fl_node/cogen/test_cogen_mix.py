"""Heterogeneity and the exact L1-minimizing allocation of synthetic samples to classes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fl_node.cogen import (
    MixError,
    mixed_label_heterogeneity,
    pooled_distribution,
    synthetic_counts,
)
from solver.cogen import heterogeneity


def _brute_force(counts: np.ndarray, qbar: np.ndarray, x: int, available: np.ndarray) -> float:
    """Smallest mixed heterogeneity over every allocation of x samples to available classes."""
    idx = np.flatnonzero(available)
    best = np.inf
    for split in itertools.product(range(x + 1), repeat=idx.size):
        if sum(split) != x:
            continue
        s = np.zeros_like(counts)
        s[idx] = split
        best = min(best, mixed_label_heterogeneity(counts, s, qbar))
    return float(best)


def test_mixed_label_heterogeneity() -> None:
    q = np.full(4, 0.25)
    assert mixed_label_heterogeneity([7, 1, 0, 0], [0, 1, 2, 2], q) == pytest.approx(15 / 26)
    assert mixed_label_heterogeneity([2, 2, 0, 0], [0, 0, 2, 2], q) == pytest.approx(0.0)
    with pytest.raises(MixError, match="synthetic has 3 classes"):
        mixed_label_heterogeneity([1, 1, 1, 1], [0, 0, 1], q)


def test_allocation_is_optimal_against_brute_force() -> None:
    rng = np.random.default_rng(7)
    for _ in range(60):
        k = int(rng.integers(2, 5))
        counts = rng.integers(0, 12, size=k)
        counts[0] += 1
        qbar = rng.dirichlet(np.ones(k))
        x = int(rng.integers(0, 9))
        available = rng.random(k) < 0.7
        available[int(rng.integers(k))] = True
        s = synthetic_counts(counts, qbar, x, available=available)
        assert s.sum() == x and np.all(s >= 0)
        assert np.all(s[~available] == 0)
        got = mixed_label_heterogeneity(counts, s, qbar)
        assert got == pytest.approx(_brute_force(counts, qbar, x, available), abs=1e-12)


def test_allocation_beats_proportional_generation() -> None:
    # The formulation's delta D / (D + x) is what spending x in proportion to qbar gives;
    # the optimal allocation is never worse.
    rng = np.random.default_rng(11)
    for _ in range(40):
        counts = rng.integers(0, 200, size=10)
        counts[3] += 1
        qbar = np.full(10, 0.1)
        x = int(rng.integers(1, 2000))
        s = synthetic_counts(counts, qbar, x)
        d, D = heterogeneity(counts, qbar), int(counts.sum())
        assert mixed_label_heterogeneity(counts, s, qbar) <= d * D / (D + x) + 1e-12


def test_large_budget_reaches_the_reference_shape() -> None:
    counts = np.array([90, 10, 0, 0])
    s = synthetic_counts(counts, np.full(4, 0.25), 300)
    assert s.tolist() == [10, 90, 100, 100]
    assert mixed_label_heterogeneity(counts, s, np.full(4, 0.25)) == pytest.approx(0.0)


def test_pooled_distribution() -> None:
    q = pooled_distribution([[1, 3], [3, 1]])
    assert q.tolist() == [0.5, 0.5]


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"counts": [1, 2], "qbar": [0.3, 0.3], "x": 1}, "qbar"),
        ({"counts": [1, -2], "qbar": [0.5, 0.5], "x": 1}, "counts"),
        ({"counts": [1, 2], "qbar": [0.5, 0.5], "x": -1}, "x must"),
        ({"counts": [1, 2], "qbar": [0.5, 0.5], "x": 1.5}, "x must"),
        ({"counts": [1, 2], "qbar": [0.5, 0.5, 0.0], "x": 1}, "qbar"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(MixError, match=word):
        synthetic_counts(**kwargs)  # type: ignore[arg-type]


def test_no_available_class_is_an_error() -> None:
    with pytest.raises(MixError, match="no class is available"):
        synthetic_counts([1, 2], [0.5, 0.5], 3, available=[False, False])
    assert synthetic_counts([1, 2], [0.5, 0.5], 0, available=[False, False]).tolist() == [0, 0]
