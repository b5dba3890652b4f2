"""Real FL training of a strategy profile: contribution-weighted FedAvg on exactly d_i of each silo.

Compute levels are not paced here. The compute level changes only how long local training takes,
not what it computes, and the game's deadline is already enforced by the solver's constraint;
pacing ``eta x / f`` seconds per silo would multiply the experiment's run time without changing
a single accuracy number.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fl_node.data import ArrayDataset, DatasetMeta
from fl_node.models import build_model
from fl_node.training import contributed_samples, run_fedavg

Floats = Sequence[float] | NDArray[np.float64]

__all__ = ["TrainingCache", "TrainingRun", "train_profile"]


@dataclass(frozen=True)
class TrainingRun:
    """Test accuracy and loss after every FL round of one run, and what was trained on.

    Attributes
    ----------
    accuracy, loss : list of float
        One value per FL round.
    samples_used : list of int
        Samples each silo trained on (``contributed_samples(d_i, s_i)``).
    weights : list of float
        Aggregation weight of each silo (the solver's ``x_i``).
    seconds : float
        Wall time of the run.
    """

    accuracy: list[float]
    loss: list[float]
    samples_used: list[int]
    weights: list[float]
    seconds: float

    @property
    def total_samples(self) -> int:
        return int(sum(self.samples_used))

    def to_dict(self) -> dict[str, object]:
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "samples_used": self.samples_used,
            "total_samples": self.total_samples,
            "weights": self.weights,
            "seconds": round(self.seconds, 3),
        }


def train_profile(
    silos: Sequence[ArrayDataset],
    test: ArrayDataset,
    meta: DatasetMeta,
    d: Floats,
    x: Floats,
    *,
    rounds: int,
    epochs: int,
    lr: float,
    seed: int,
) -> TrainingRun:
    """Train FedAvg for ``rounds`` rounds with silo i on ``d[i]`` of its data, weighted by ``x[i]``.

    The model is the dataset's default (the CNN for digits) initialized from ``seed``.
    """
    dd = [float(np.clip(v, 1e-12, 1.0)) for v in d]
    model = build_model(meta, "auto", seed=seed)
    start = time.perf_counter()
    res = run_fedavg(
        model,
        silos,
        test,
        rounds=rounds,
        d_fractions=dd,
        contributions=[float(v) for v in x],
        local_epochs=epochs,
        lr=lr,
        seed=seed,
    )
    expected = [contributed_samples(v, len(s)) for v, s in zip(dd, silos, strict=True)]
    if list(res.samples_used) != expected:
        raise RuntimeError(
            f"training used {res.samples_used} samples per silo, the strategies ask {expected}"
        )
    return TrainingRun(
        accuracy=[float(h.accuracy) for h in res.history],
        loss=[float(h.loss) for h in res.history],
        samples_used=[int(v) for v in res.samples_used],
        weights=[float(v) for v in res.weights],
        seconds=time.perf_counter() - start,
    )


class TrainingCache:
    """Runs keyed by (seed, samples per silo, weights): schemes that pick the same profile
    (DBR and the centralized optimum usually do) share one training run, which is identical
    anyway because training is deterministic for a given seed and subset."""

    def __init__(self) -> None:
        self._runs: dict[tuple[object, ...], TrainingRun] = {}
        self.hits = 0

    def get_or_train(
        self,
        silos: Sequence[ArrayDataset],
        test: ArrayDataset,
        meta: DatasetMeta,
        d: Floats,
        x: Floats,
        *,
        rounds: int,
        epochs: int,
        lr: float,
        seed: int,
    ) -> tuple[TrainingRun, bool]:
        """The run for this profile, trained now or reused; returns ``(run, reused)``."""
        counts = tuple(
            contributed_samples(float(np.clip(v, 1e-12, 1.0)), len(s))
            for v, s in zip(d, silos, strict=True)
        )
        key = (seed, rounds, epochs, lr, counts, tuple(round(float(v), 9) for v in x))
        if key in self._runs:
            self.hits += 1
            return self._runs[key], True
        run = train_profile(silos, test, meta, d, x, rounds=rounds, epochs=epochs, lr=lr, seed=seed)
        self._runs[key] = run
        return run, False
