"""The training plan of the synthetic-data mechanism, usable by any runtime.

:func:`mixed_dataset` is what a silo does before local training: generate exactly ``x_i``
class-conditional samples toward ``qbar`` and append them to its real data. :func:`run_mixed_fedavg`
is in-process FedAvg over such mixed silos, weighted by ``D_i + x_i`` fixed in the strategy phase
(never by a count a silo reports); it returns the last round's updates for the optional
marginal-contribution score (:func:`fl_node.cogen.leave_one_out`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from torch import nn

from fl_node.aggregation import weighted_average
from fl_node.cogen._generators import ClassConditionalGenerator
from fl_node.cogen._mix import mixed_label_heterogeneity, synthetic_counts
from fl_node.data import ArrayDataset
from fl_node.models import get_parameters
from fl_node.training import Evaluation, evaluate, train_local
from solver.cogen import heterogeneity, mixed_heterogeneity

__all__ = ["MixedData", "MixedFedAvgResult", "mixed_dataset", "run_mixed_fedavg"]

Params = list[NDArray[Any]]


@dataclass(frozen=True)
class MixedData:
    """A silo's real data plus its synthetic samples, and how the mix was chosen.

    Attributes
    ----------
    data : ArrayDataset
        Real samples first, then the synthetic ones.
    real : int
        ``D_i``, real samples.
    synthetic : ndarray of int
        Synthetic samples per class (sums to ``x_i``).
    delta_real, delta_mixed : float
        Heterogeneity of the real and of the mixed label distribution against ``qbar``.
    delta_formula : float
        The formulation's ``delta_i D_i / (D_i + x_i)`` (what proportional generation gives).
    """

    data: ArrayDataset
    real: int
    synthetic: NDArray[np.int64]
    delta_real: float
    delta_mixed: float
    delta_formula: float

    @property
    def x(self) -> int:
        return int(self.synthetic.sum())

    @property
    def weight(self) -> int:
        """The aggregation weight ``D_i + x_i``."""
        return self.real + self.x


def mixed_dataset(
    data: ArrayDataset,
    generator: ClassConditionalGenerator | None,
    x: int,
    qbar: ArrayLike,
    *,
    seed: int = 0,
) -> MixedData:
    """The silo's real data plus exactly ``x`` synthetic samples that move its labels toward qbar.

    Parameters
    ----------
    data : ArrayDataset
        The silo's real training data (``D_i = len(data)``).
    generator : ClassConditionalGenerator or None
        Trained on ``data``; may be ``None`` only when ``x == 0``.
    x : int
        Synthetic samples fixed in the strategy phase.
    qbar : array of float
        Reference label distribution.
    seed : int
        Seed of the sampling.

    Returns
    -------
    MixedData
    """
    n_classes = np.asarray(qbar).shape[0]
    counts = np.bincount(data.y, minlength=n_classes)
    if counts.shape[0] != n_classes:
        raise ValueError(f"labels go up to {counts.shape[0] - 1}, qbar has {n_classes} classes")
    delta = heterogeneity(counts, qbar)
    if x > 0 and generator is None:
        raise ValueError(f"x = {x} synthetic samples need a trained generator; got None")
    available = generator.available if generator is not None else None
    s = synthetic_counts(counts, qbar, int(x), available=available)
    if x > 0:
        assert generator is not None
        synth = generator.generate(s, seed=seed)
        mixed = ArrayDataset(
            x=np.concatenate([data.x, synth.x]).astype(np.float32),
            y=np.concatenate([data.y, synth.y]).astype(np.int64),
        )
    else:
        mixed = data
    if len(mixed) != len(data) + x:
        raise RuntimeError(f"mixed data has {len(mixed)} samples, expected {len(data)} + {x}")
    D = len(data)
    return MixedData(
        data=mixed,
        real=D,
        synthetic=s,
        delta_real=delta,
        delta_mixed=mixed_label_heterogeneity(counts, s, qbar),
        delta_formula=float(mixed_heterogeneity(delta, D, x)),
    )


@dataclass(frozen=True)
class MixedFedAvgResult:
    """History of a FedAvg run on mixed silos and the last round's updates.

    Attributes
    ----------
    parameters : list of ndarray
        Final global model.
    history : list of Evaluation
        Test evaluation after every round.
    weights : list of float
        ``D_i + x_i`` per silo.
    last_updates : list of list of ndarray
        Every silo's trained parameters in the last round.
    last_start : list of ndarray
        The global model the last round started from.
    seconds : float
    """

    parameters: Params
    history: list[Evaluation]
    weights: list[float]
    last_updates: list[Params]
    last_start: Params
    seconds: float


def run_mixed_fedavg(
    model: nn.Module,
    silos: Sequence[MixedData],
    test: ArrayDataset,
    *,
    rounds: int,
    local_epochs: int = 1,
    lr: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
) -> MixedFedAvgResult:
    """FedAvg on every silo's whole mixed data, aggregated with weights ``D_i + x_i``."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1; got {rounds}")
    if not silos:
        raise ValueError("no silos to train")
    weights = [float(s.weight) for s in silos]
    state = get_parameters(model)
    history: list[Evaluation] = []
    updates: list[Params] = []
    start_state = state
    start = time.perf_counter()
    for r in range(rounds):
        start_state = state
        updates = [
            train_local(
                model,
                state,
                silo.data,
                d_fraction=1.0,
                epochs=local_epochs,
                lr=lr,
                batch_size=batch_size,
                seed=seed + i,
                round_index=r,
            ).parameters
            for i, silo in enumerate(silos)
        ]
        state = weighted_average(updates, weights)
        history.append(evaluate(model, test, state))
    return MixedFedAvgResult(
        parameters=state,
        history=history,
        weights=weights,
        last_updates=updates,
        last_start=start_state,
        seconds=time.perf_counter() - start,
    )
