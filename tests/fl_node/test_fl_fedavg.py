"""Real training: contribution-weighted FedAvg on non-IID digits, and the centralized baseline."""

from __future__ import annotations

import numpy as np
import pytest

from fl_node.data import DataSplit, dirichlet_label_partition
from fl_node.models import build_model, get_parameters
from fl_node.training import contributed_samples, evaluate, run_fedavg, train_centralized


def test_fedavg_on_non_iid_digits_learns(digits_split: DataSplit) -> None:
    parts = dirichlet_label_partition(digits_split.train.y, 5, 0.5, seed=0, min_size=20)
    silos = [digits_split.train.subset(p) for p in parts]
    model = build_model(digits_split.meta, "mlp", seed=0)
    initial = evaluate(model, digits_split.test)
    d = [1.0, 0.8, 0.6, 1.0, 0.9]
    res = run_fedavg(
        model, silos, digits_split.test, rounds=5, local_epochs=2, d_fractions=d, seed=0
    )
    accuracies = [h.accuracy for h in res.history]
    assert initial.accuracy < 0.3
    assert accuracies[-1] > 0.9
    assert accuracies[-1] > accuracies[0]
    assert res.history[-1].loss < initial.loss
    assert res.samples_used == [
        contributed_samples(di, len(s)) for di, s in zip(d, silos, strict=True)
    ]
    assert res.weights == pytest.approx([di * len(s) for di, s in zip(d, silos, strict=True)])


def test_aggregation_weights_change_the_global_model(digits_split: DataSplit) -> None:
    parts = dirichlet_label_partition(digits_split.train.y, 3, 0.3, seed=1, min_size=20)
    silos = [digits_split.train.subset(p) for p in parts]
    model = build_model(digits_split.meta, "mlp", seed=0)
    full = [1.0, 1.0, 1.0]
    a = run_fedavg(
        model, silos, digits_split.test, rounds=1, d_fractions=full, contributions=[1, 1, 1]
    )
    b = run_fedavg(
        model, silos, digits_split.test, rounds=1, d_fractions=full, contributions=[1, 0, 0]
    )
    assert not np.allclose(a.parameters[0], b.parameters[0])
    # All weight on silo 0 reproduces silo 0's own local model.
    solo = run_fedavg(model, silos[:1], digits_split.test, rounds=1, d_fractions=[1.0], seed=0)
    assert np.allclose(b.parameters[0], solo.parameters[0])


def test_centralized_baseline_trains_the_same_model(digits_split: DataSplit) -> None:
    model = build_model(digits_split.meta, "mlp", seed=0)
    before = get_parameters(model)
    res = train_centralized(model, digits_split.train, digits_split.test, epochs=3)
    assert len(res.history) == 3
    assert res.history[-1].accuracy > 0.9
    assert all(np.array_equal(x, y) for x, y in zip(before, get_parameters(model), strict=True))
