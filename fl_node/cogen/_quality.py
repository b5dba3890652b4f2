"""Measured cost per synthetic sample (CPU seconds -> money) and measured sample quality.

Cost. A silo that generates ``x`` samples pays one generator training (``t_fit`` CPU seconds)
plus ``x`` samplings (``t_sample`` each). The game's cost is linear, ``c_i x_i``, so the training
time is spread over the most samples the silo may generate, ``x_max``:

    c_i = price_per_cpu_second * (t_fit / x_max + t_sample)

(the average cost per sample when the silo generates all it may; at smaller ``x`` the true average
is higher, which the linear game does not model). The price is the consortium's internal price of
CPU time, an input of the experiment, not a measurement.

Quality. A logistic-regression classifier is trained on synthetic samples only and scored on the
real test set, next to the same classifier trained on the silo's real data. Both are also scored on
the test samples of the classes the generator can produce, since a silo's generator cannot know
the classes it never saw. The ratio of the two accuracies on those classes is the measured
counterpart of the quality weight ``q`` of a synthetic sample in the score ``s_i = D_i + q x_i``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from fl_node.cogen._generators import ClassConditionalGenerator, GeneratorError
from fl_node.data import ArrayDataset

__all__ = [
    "DEFAULT_PRICE_PER_CPU_SECOND",
    "GenerationCost",
    "Quality",
    "measure_cost",
    "measure_quality",
]

#: money units per CPU-second of generation (the experiments' default; an assumption, see module)
DEFAULT_PRICE_PER_CPU_SECOND = 10.0


@dataclass(frozen=True)
class GenerationCost:
    """Measured generation cost of one silo's generator.

    Attributes
    ----------
    kind : str
        Generator kind.
    fit_cpu_seconds : float
        CPU seconds to train the generator.
    sample_cpu_seconds_per_sample : float
        CPU seconds per generated sample (from a timed batch of ``probe_samples``).
    probe_samples : int
    x_max : int
        Samples the training time is spread over.
    price_per_cpu_second : float
    c : float
        Money per synthetic sample, ``price * (fit / x_max + sample)``.
    """

    kind: str
    fit_cpu_seconds: float
    sample_cpu_seconds_per_sample: float
    probe_samples: int
    x_max: int
    price_per_cpu_second: float
    c: float

    @property
    def cpu_seconds_per_sample(self) -> float:
        return self.c / self.price_per_cpu_second

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "cpu_seconds_per_sample": self.cpu_seconds_per_sample}


def measure_cost(
    generator: ClassConditionalGenerator,
    *,
    x_max: int,
    price_per_cpu_second: float = DEFAULT_PRICE_PER_CPU_SECOND,
    probe_samples: int = 1000,
    seed: int = 0,
) -> GenerationCost:
    """Time ``probe_samples`` samplings of a trained generator and price its cost per sample.

    The probe is spread over the available classes in equal parts.
    """
    if x_max < 1:
        raise GeneratorError(f"x_max must be >= 1 synthetic sample; got {x_max}")
    if probe_samples < 1:
        raise GeneratorError(f"probe_samples must be >= 1; got {probe_samples}")
    if not price_per_cpu_second > 0:
        raise GeneratorError(f"price_per_cpu_second must be > 0; got {price_per_cpu_second}")
    avail = np.flatnonzero(generator.available)
    counts = np.zeros(generator.n_classes, dtype=np.int64)
    counts[avail] = probe_samples // avail.size
    counts[avail[: probe_samples - int(counts.sum())]] += 1
    start = time.process_time()
    generator.generate(counts, seed=seed)
    per_sample = (time.process_time() - start) / probe_samples
    c = price_per_cpu_second * (generator.fit_seconds / x_max + per_sample)
    return GenerationCost(
        kind=generator.kind,
        fit_cpu_seconds=generator.fit_seconds,
        sample_cpu_seconds_per_sample=per_sample,
        probe_samples=probe_samples,
        x_max=int(x_max),
        price_per_cpu_second=float(price_per_cpu_second),
        c=float(c),
    )


@dataclass(frozen=True)
class Quality:
    """Accuracy on real test data of classifiers trained on synthetic vs the silo's real data.

    Attributes
    ----------
    synthetic_accuracy, real_accuracy : float
        On the whole test set.
    synthetic_accuracy_seen, real_accuracy_seen : float
        On the test samples of the classes the generator can produce.
    relative_quality : float
        ``synthetic_accuracy_seen / real_accuracy_seen``: the measured counterpart of ``q``.
    samples : int
        Synthetic training samples used.
    """

    synthetic_accuracy: float
    real_accuracy: float
    synthetic_accuracy_seen: float
    real_accuracy_seen: float
    relative_quality: float
    samples: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _classifier_accuracy(
    train: ArrayDataset, test: ArrayDataset, seen: np.ndarray
) -> tuple[float, float]:
    if np.unique(train.y).size < 2:
        # A single class: the classifier predicts it everywhere.
        pred = np.full(len(test), int(train.y[0]))
    else:
        clf = LogisticRegression(max_iter=300)
        pred = clf.fit(train.x, train.y).predict(test.x)
    hit = pred == test.y
    mask = seen[test.y]
    return float(hit.mean()), float(hit[mask].mean()) if mask.any() else float("nan")


def measure_quality(
    generator: ClassConditionalGenerator,
    real: ArrayDataset,
    test: ArrayDataset,
    *,
    per_class: int = 100,
    seed: int = 0,
) -> Quality:
    """Train a classifier on ``per_class`` synthetic samples of every available class only, and
    the same classifier on ``real`` (the generator's own training data); score both on ``test``."""
    if per_class < 1:
        raise GeneratorError(f"per_class must be >= 1; got {per_class}")
    seen = generator.available
    synth = generator.generate(np.where(seen, per_class, 0), seed=seed)
    s_all, s_seen = _classifier_accuracy(synth, test, seen)
    r_all, r_seen = _classifier_accuracy(real, test, seen)
    return Quality(
        synthetic_accuracy=s_all,
        real_accuracy=r_all,
        synthetic_accuracy_seen=s_seen,
        real_accuracy_seen=r_seen,
        relative_quality=s_seen / r_seen if r_seen > 0 else float("nan"),
        samples=len(synth),
    )
