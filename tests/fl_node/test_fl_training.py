"""Local training uses exactly round(d * n) samples, only those, and paces to the compute level."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fl_node.data import ArrayDataset, DataSplit
from fl_node.models import build_model, get_parameters, set_parameters
from fl_node.training import contributed_samples, evaluate, select_subset, train_local


@pytest.mark.parametrize(
    ("d", "n", "k"),
    [(1.0, 50, 50), (0.5, 5, 3), (0.3, 10, 3), (0.25, 10, 3), (0.001, 10, 1), (0.999, 3, 3)],
)
def test_contributed_samples_rounds_half_up_and_keeps_one(d: float, n: int, k: int) -> None:
    assert contributed_samples(d, n) == k
    assert select_subset(n, d, seed=0).shape == (k,)


def test_invalid_fraction_is_rejected() -> None:
    for d in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="d_fraction must be in \\(0, 1\\]"):
            contributed_samples(d, 10)


def test_train_local_sees_exactly_the_chosen_subset(digits_split: DataSplit) -> None:
    data = digits_split.train.subset(np.arange(300))
    model = build_model(digits_split.meta, "mlp", seed=0)
    seen: list[np.ndarray] = []
    res = train_local(
        model, None, data, d_fraction=0.37, epochs=3, batch_size=16, seed=4, on_batch=seen.append
    )
    expected = select_subset(300, 0.37, seed=4)
    assert res.num_samples == 111 == expected.size
    assert np.array_equal(res.indices, expected)
    all_seen = np.concatenate(seen)
    assert all_seen.size == res.samples_processed == 3 * 111
    assert res.steps == len(seen) == 3 * int(np.ceil(111 / 16))
    # Every chosen sample exactly once per epoch, and nothing else.
    values, counts = np.unique(all_seen, return_counts=True)
    assert np.array_equal(values, expected) and np.all(counts == 3)


def test_rows_outside_the_subset_are_never_touched(digits_split: DataSplit) -> None:
    clean = digits_split.train.subset(np.arange(200))
    chosen = select_subset(200, 0.25, seed=9)
    outside = np.setdiff1d(np.arange(200), chosen)
    model = build_model(digits_split.meta, "mlp", seed=0)

    poisoned_outside = clean.x.copy()
    poisoned_outside[outside] = np.nan
    res = train_local(model, None, ArrayDataset(poisoned_outside, clean.y), d_fraction=0.25, seed=9)
    assert all(np.all(np.isfinite(p)) for p in res.parameters)

    # Control: one poisoned row inside the subset does reach the weights.
    poisoned_inside = clean.x.copy()
    poisoned_inside[chosen[0]] = np.nan
    res = train_local(model, None, ArrayDataset(poisoned_inside, clean.y), d_fraction=0.25, seed=9)
    assert not all(np.all(np.isfinite(p)) for p in res.parameters)


def test_same_subset_every_round_new_order(digits_split: DataSplit) -> None:
    data = digits_split.train.subset(np.arange(120))
    model = build_model(digits_split.meta, "mlp", seed=0)
    orders = []
    for r in (0, 1):
        batches: list[np.ndarray] = []
        res = train_local(
            model, None, data, d_fraction=0.5, seed=2, round_index=r, on_batch=batches.append
        )
        orders.append(np.concatenate(batches))
        assert np.array_equal(res.indices, select_subset(120, 0.5, seed=2))
    assert np.array_equal(np.sort(orders[0]), np.sort(orders[1]))
    assert not np.array_equal(orders[0], orders[1])


def test_training_is_deterministic_and_does_not_modify_the_model(digits_split: DataSplit) -> None:
    data = digits_split.train.subset(np.arange(150))
    model = build_model(digits_split.meta, "cnn", seed=0)
    before = get_parameters(model)
    a = train_local(model, None, data, d_fraction=0.8, epochs=2, seed=1)
    b = train_local(model, before, data, d_fraction=0.8, epochs=2, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a.parameters, b.parameters, strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(before, get_parameters(model), strict=True))
    assert not np.array_equal(a.parameters[0], before[0])


def test_compute_level_paces_training(digits_split: DataSplit) -> None:
    data = digits_split.train.subset(np.arange(200))
    model = build_model(digits_split.meta, "mlp", seed=0)
    level = 1500.0  # samples/s, far below this CPU's ceiling (see benchmarks/compute_levels.py)
    res = train_local(model, None, data, d_fraction=0.75, compute_level=level, epochs=2, seed=0)
    # T2 = eta * x / f with eta = epochs: pacing never lets training finish earlier.
    assert res.samples_processed == 2 * 150
    assert res.seconds >= res.samples_processed / level
    assert res.achieved_rate <= level
    assert res.compute_level == level
    with pytest.raises(ValueError, match="compute_level must be a positive rate"):
        train_local(model, None, data, d_fraction=1.0, compute_level=0.0)


def test_evaluate_matches_a_manual_count(cancer_split: DataSplit) -> None:
    model = build_model(cancer_split.meta, seed=0)
    res = train_local(model, None, cancer_split.train, d_fraction=1.0, epochs=2, seed=0)
    ev = evaluate(model, cancer_split.test, res.parameters, batch_size=50)
    set_parameters(model, res.parameters)
    with torch.no_grad():
        logits = model(torch.from_numpy(cancer_split.test.x))
    manual = float((logits.argmax(1).numpy() == cancer_split.test.y).mean())
    assert ev.accuracy == pytest.approx(manual)
    assert ev.num_samples == len(cancer_split.test)
    assert ev.accuracy > 0.9 and 0 < ev.loss < 0.5
