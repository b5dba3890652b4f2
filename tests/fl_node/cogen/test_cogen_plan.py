"""The training plan: real data plus exactly x synthetic samples, FedAvg weighted by D + x,
and the leave-one-out contribution of each update (real torch training on digits)."""

from __future__ import annotations

import numpy as np
import pytest
from flcogen_helpers import TrainedSilo

from fl_node.aggregation import weighted_average
from fl_node.cogen import (
    GMMGenerator,
    leave_one_out,
    mixed_dataset,
    pooled_distribution,
    run_mixed_fedavg,
)
from fl_node.data import DataSplit, label_histograms
from fl_node.models import build_model, get_parameters
from solver.cogen import heterogeneity

QBAR = np.full(10, 0.1)


def test_mixed_dataset_has_exactly_x_synthetic_samples(trained_silo: TrainedSilo) -> None:
    data = trained_silo.data
    mixed = mixed_dataset(data, trained_silo.cvae, 250, QBAR, seed=0)
    assert len(mixed.data) == len(data) + 250 == mixed.weight
    assert mixed.x == 250 and mixed.real == len(data)
    assert np.array_equal(mixed.data.x[: len(data)], data.x)
    assert np.all(mixed.synthetic[~trained_silo.cvae.available] == 0)
    counts = np.bincount(data.y, minlength=10)
    assert mixed.delta_real == pytest.approx(heterogeneity(counts, QBAR))
    assert mixed.delta_mixed < mixed.delta_real
    assert np.bincount(mixed.data.y, minlength=10).tolist() == (counts + mixed.synthetic).tolist()


def test_zero_generation_keeps_the_real_data(trained_silo: TrainedSilo) -> None:
    mixed = mixed_dataset(trained_silo.data, None, 0, QBAR)
    assert mixed.data is trained_silo.data and mixed.x == 0
    assert mixed.delta_mixed == mixed.delta_real == mixed.delta_formula
    with pytest.raises(ValueError, match="need a trained generator"):
        mixed_dataset(trained_silo.data, None, 5, QBAR)


def test_fedavg_on_mixed_silos_and_leave_one_out(
    digits_split: DataSplit, silo_parts: list[np.ndarray]
) -> None:
    silos = [digits_split.train.subset(p) for p in silo_parts]
    qbar = pooled_distribution(label_histograms(digits_split.train.y, silo_parts, 10))
    xs = [0, 100, 50, 150]
    mixed = [
        mixed_dataset(s, GMMGenerator(10).fit(s, seed=i) if x else None, x, qbar, seed=i)
        for i, (s, x) in enumerate(zip(silos, xs, strict=True))
    ]
    model = build_model(digits_split.meta, "mlp", seed=0)
    res = run_mixed_fedavg(model, mixed, digits_split.test, rounds=2, seed=0)
    assert res.weights == [float(len(s) + x) for s, x in zip(silos, xs, strict=True)]
    assert len(res.history) == 2 and res.history[-1].accuracy > 0.5
    expected = weighted_average(res.last_updates, res.weights)
    assert all(np.array_equal(a, b) for a, b in zip(expected, res.parameters, strict=True))

    # A corrupted update must be the one whose removal helps: its contribution is negative.
    rng = np.random.default_rng(0)
    noise = [a + 3.0 * rng.standard_normal(a.shape).astype(a.dtype) for a in res.last_updates[0]]
    updates = [*res.last_updates, noise]
    weights = [*res.weights, 400.0]
    scores = leave_one_out(model, updates, weights, digits_split.test)
    assert len(scores) == 5
    assert scores[-1] < 0 and scores[-1] == min(scores)

    untrained = get_parameters(model)
    one = leave_one_out(model, res.last_updates[:1], [1.0], digits_split.test, start=untrained)
    assert one[0] > 0  # one round of training beats the untrained model
    with pytest.raises(ValueError, match="start="):
        leave_one_out(model, res.last_updates[:1], [1.0], digits_split.test)
