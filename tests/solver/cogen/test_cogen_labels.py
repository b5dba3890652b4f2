"""Heterogeneity from label counts, and the doctests of the cogen package."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from solver import GameError
from solver.cogen import heterogeneity, label_counts, mixed_heterogeneity


def test_label_counts_and_heterogeneity_of_a_skewed_silo() -> None:
    labels = np.array([0] * 70 + [1] * 20 + [2] * 10)
    counts = label_counts(labels, 4)
    assert counts.tolist() == [70.0, 20.0, 10.0, 0.0]
    # |0.7 - 0.25| + |0.2 - 0.25| + |0.1 - 0.25| + |0 - 0.25|
    assert heterogeneity(counts) == pytest.approx(0.45 + 0.05 + 0.15 + 0.25)
    assert heterogeneity(counts, reference=counts * 3) == 0.0


def test_mixing_reference_samples_dilutes_heterogeneity() -> None:
    # x samples that follow the reference: the mix's distance shrinks by D / (D + x)
    real = np.array([80.0, 20.0])
    mixed = real + np.array([50.0, 50.0])
    assert heterogeneity(mixed) == pytest.approx(
        float(mixed_heterogeneity(heterogeneity(real), 100.0, 100.0))
    )


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: label_counts([0, 5], 3), "labels"),
        (lambda: label_counts([0.5], 3), "labels"),
        (lambda: label_counts([0], 0), "n_classes"),
        (lambda: heterogeneity([0, 0]), "counts"),
        (lambda: heterogeneity([1, -1]), "counts"),
        (lambda: heterogeneity([1, 1], reference=[1, 1, 1]), "reference"),
    ],
)
def test_bad_labels_name_the_field(call, field) -> None:
    with pytest.raises(GameError) as err:
        call()
    assert err.value.field == field


MODULES = [
    "solver.cogen._labels",
    "solver.cogen._payoff",
    "solver.cogen._response",
    "solver.cogen._fixed_point",
    "solver.cogen._exact",
    "solver.cogen._solve",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
