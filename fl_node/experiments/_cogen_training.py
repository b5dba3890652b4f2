"""Real FL training of one generation profile x on a cogen setting, with a cache of runs.

Every silo trains on its real data plus exactly ``x_i`` synthetic samples from its own generator
(:func:`fl_node.cogen.mixed_dataset`); FedAvg weights by ``D_i + x_i``. A run records the test
accuracy per round, the validation loss (mean over the last two rounds' global models: the point
of the loss fit), the measured heterogeneity of the mixed data, and each silo's leave-one-out
contribution in the last round.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fl_node.cogen import leave_one_out, mixed_dataset, run_mixed_fedavg
from fl_node.data import ArrayDataset
from fl_node.experiments._cogen_setting import CogenOptions, CogenSetting
from fl_node.models import build_model
from fl_node.training import evaluate

__all__ = ["CogenRun", "CogenTrainer"]


@dataclass(frozen=True)
class CogenRun:
    """What one training run measured."""

    x: list[int]
    total: int
    heterogeneity: float
    delta_mixed: list[float]
    accuracy: list[float]
    val_loss: float
    loo: list[float]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "total_samples": self.total,
            "heterogeneity": self.heterogeneity,
            "delta_mixed": self.delta_mixed,
            "accuracy": self.accuracy,
            "final_accuracy": self.accuracy[-1],
            "val_loss": self.val_loss,
            "loo_contribution": self.loo,
            "seconds": round(self.seconds, 3),
        }


class CogenTrainer:
    """Trains profiles on settings; identical profiles on the same setting share one run."""

    def __init__(self, opts: CogenOptions, validation: ArrayDataset, test: ArrayDataset) -> None:
        self.opts = opts
        self.validation = validation
        self.test = test
        self._runs: dict[tuple[Any, ...], CogenRun] = {}
        self.hits = 0

    def train(self, setting: CogenSetting, x: Sequence[float] | NDArray[np.float64]) -> CogenRun:
        """Train ``x`` (rounded to whole samples, clipped to ``[0, x_max]``) on ``setting``."""
        xs = [int(min(max(round(float(v)), 0), m)) for v, m in zip(x, setting.x_max, strict=True)]
        key = (setting.alpha, setting.seed, tuple(xs))
        if key in self._runs:
            self.hits += 1
            return self._runs[key]
        start = time.perf_counter()
        mixed = [
            mixed_dataset(s, g, xi, setting.qbar, seed=setting.seed * 100 + i)
            for i, (s, g, xi) in enumerate(zip(setting.silos, setting.generators, xs, strict=True))
        ]
        model = build_model(setting.meta, self.opts.model, seed=setting.seed)
        res = run_mixed_fedavg(
            model,
            mixed,
            self.test,
            rounds=self.opts.rounds,
            local_epochs=self.opts.epochs,
            lr=self.opts.lr,
            seed=setting.seed,
        )
        # The final global model and the one the last round started from (if it was trained).
        val = [evaluate(model, self.validation, res.parameters).loss]
        if self.opts.rounds > 1:
            val.append(evaluate(model, self.validation, res.last_start).loss)
        total = sum(m.weight for m in mixed)
        run = CogenRun(
            x=xs,
            total=int(total),
            heterogeneity=float(sum(m.weight * m.delta_mixed for m in mixed) / total),
            delta_mixed=[m.delta_mixed for m in mixed],
            accuracy=[h.accuracy for h in res.history],
            val_loss=float(np.mean(val)),
            loo=leave_one_out(
                model, res.last_updates, res.weights, self.validation, start=res.last_start
            ),
            seconds=time.perf_counter() - start,
        )
        self._runs[key] = run
        return run

    @property
    def distinct(self) -> int:
        return len(self._runs)
