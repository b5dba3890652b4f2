"""Generators trained for real on one skewed digits silo: samples, classes, cost and quality."""

from __future__ import annotations

import numpy as np
import pytest
from flcogen_helpers import TrainedSilo

from fl_node.cogen import (
    CVAEGenerator,
    GeneratorError,
    make_generator,
    measure_cost,
    measure_quality,
)
from fl_node.data import DataSplit


@pytest.mark.parametrize("kind", ["cvae", "gmm"])
def test_generate_exact_counts_and_seeded(trained_silo: TrainedSilo, kind: str) -> None:
    gen = getattr(trained_silo, kind)
    counts = np.where(gen.available, 3, 0)
    counts[0] = 7
    out = gen.generate(counts, seed=1)
    assert out.x.dtype == np.float32 and out.x.shape == (int(counts.sum()), 64)
    assert np.bincount(out.y, minlength=10).tolist() == counts.tolist()
    again = gen.generate(counts, seed=1)
    other = gen.generate(counts, seed=2)
    assert np.array_equal(out.x, again.x)
    assert not np.array_equal(out.x, other.x)


@pytest.mark.parametrize("kind", ["cvae", "gmm"])
def test_unseen_class_cannot_be_generated(trained_silo: TrainedSilo, kind: str) -> None:
    gen = getattr(trained_silo, kind)
    seen = np.bincount(trained_silo.data.y, minlength=10) >= 2
    assert gen.available.tolist() == seen.tolist()
    missing = int(np.flatnonzero(~seen)[0])
    counts = np.zeros(10, dtype=int)
    counts[missing] = 1
    with pytest.raises(GeneratorError, match=rf"class\(es\) \[{missing}\]"):
        gen.generate(counts)


@pytest.mark.parametrize("kind", ["cvae", "gmm"])
def test_synthetic_only_classifier_beats_chance_on_real_test_data(
    trained_silo: TrainedSilo, digits_split: DataSplit, kind: str
) -> None:
    q = measure_quality(getattr(trained_silo, kind), trained_silo.data, digits_split.test)
    # Chance on the seen classes is about 1/9; real data of this silo gives about 0.9.
    assert q.synthetic_accuracy_seen > 0.6
    assert q.real_accuracy_seen > 0.8
    assert q.synthetic_accuracy <= q.synthetic_accuracy_seen
    assert q.relative_quality == pytest.approx(q.synthetic_accuracy_seen / q.real_accuracy_seen)


def test_cost_is_priced_cpu_time(trained_silo: TrainedSilo) -> None:
    gen = trained_silo.cvae
    assert gen.fit_seconds > 0
    cost = measure_cost(gen, x_max=500, price_per_cpu_second=2.0, probe_samples=400)
    assert cost.c == pytest.approx(
        2.0 * (gen.fit_seconds / 500 + cost.sample_cpu_seconds_per_sample)
    )
    assert cost.cpu_seconds_per_sample == pytest.approx(cost.c / 2.0)
    assert cost.to_dict()["kind"] == "cvae"
    with pytest.raises(GeneratorError, match="x_max"):
        measure_cost(gen, x_max=0)


def test_untrained_and_bad_options() -> None:
    with pytest.raises(GeneratorError, match="not trained"):
        CVAEGenerator(10).generate(np.ones(10, dtype=int))
    with pytest.raises(GeneratorError, match="unknown generator kind"):
        make_generator("gan", 10)
    with pytest.raises(GeneratorError, match="epochs"):
        make_generator("cvae", 10, epochs=0)
