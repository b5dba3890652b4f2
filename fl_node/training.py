"""Local training on exactly a d_i fraction of a silo's data, evaluation, and the baselines.

Plain functions, no FL runtime: the Flower apps, the embedded demo and the tests all call these.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from fl_node.aggregation import weighted_average
from fl_node.data import ArrayDataset
from fl_node.models import get_parameters, set_parameters

__all__ = [
    "CentralizedResult",
    "Evaluation",
    "FedAvgResult",
    "LocalTrainingResult",
    "MomentumSGD",
    "contributed_samples",
    "evaluate",
    "run_fedavg",
    "select_subset",
    "train_centralized",
    "train_local",
]

Params = list[NDArray[Any]]


def contributed_samples(d_fraction: float, n_samples: int) -> int:
    """Number of samples a silo with ``n_samples`` trains on at fraction ``d_fraction``.

    ``round(d * n)`` with halves rounded up, and at least 1.
    """
    try:
        d = float(d_fraction)
    except (TypeError, ValueError):
        d = math.nan
    if not 0.0 < d <= 1.0:
        raise ValueError(f"d_fraction must be in (0, 1]; got {d_fraction!r}")
    if n_samples < 1:
        raise ValueError(f"the silo has {n_samples} samples; it needs at least 1 to train")
    return max(1, min(n_samples, math.floor(d * n_samples + 0.5)))


def select_subset(n_samples: int, d_fraction: float, seed: int) -> NDArray[np.int64]:
    """The sorted, seeded subset of ``contributed_samples(d_fraction, n_samples)`` indices.

    The subset depends only on ``(n_samples, d_fraction, seed)``, so a silo trains on the same
    contributed data in every FL round.
    """
    k = contributed_samples(d_fraction, n_samples)
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n_samples)[:k]).astype(np.int64)


@dataclass(frozen=True)
class LocalTrainingResult:
    """Outcome of :func:`train_local`.

    Attributes
    ----------
    parameters : list of ndarray
        Trained model state.
    num_samples : int
        Samples used, ``contributed_samples(d_fraction, len(data))``.
    indices : ndarray
        Which samples of the silo's data were used (sorted).
    samples_processed : int
        ``epochs * num_samples``: forward/backward passes over samples.
    steps : int
        Optimizer steps taken.
    seconds : float
        Wall time of the training loop (paced when ``compute_level`` is set).
    train_loss : float
        Mean training loss over the last epoch.
    compute_level : float or None
        Requested processing rate in samples per second (``None``: unpaced).
    achieved_rate : float
        ``samples_processed / seconds``.
    """

    parameters: Params
    num_samples: int
    indices: NDArray[np.int64]
    samples_processed: int
    steps: int
    seconds: float
    train_loss: float
    compute_level: float | None
    achieved_rate: float


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    if n < 1:
        raise ValueError(f"num_threads must be >= 1; got {n}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class MomentumSGD:
    """SGD with heavy-ball momentum, the update of ``torch.optim.SGD(params, lr, momentum)``.

    The same tensor operations in the same order as torch's single-tensor CPU path (the one it
    takes for CPU tensors: no weight decay, dampening 0, no Nesterov), so the trained weights are
    bitwise identical (``tests/fl_node/test_fl_sgd_step.py`` checks it). It exists because
    constructing any ``torch.optim`` optimizer imports ``torch._dynamo``: seconds of start-up in
    every Flower ClientApp process, which trains a few hundred steps.

    Parameters
    ----------
    params : iterable of torch.nn.Parameter
    lr : float
    momentum : float
    """

    def __init__(self, params: Any, *, lr: float, momentum: float) -> None:
        self.params = list(params)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self._buffers: list[torch.Tensor | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        """Drop the gradients (``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """``buf = grad`` (first step) or ``buf = momentum * buf + grad``; ``p -= lr * buf``."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            buf = self._buffers[i]
            if buf is None:
                buf = p.grad.detach().clone()
                self._buffers[i] = buf
            else:
                buf.mul_(self.momentum).add_(p.grad, alpha=1)
            p.add_(buf, alpha=-self.lr)


def train_local(
    model: nn.Module,
    model_state: Sequence[NDArray[np.generic]] | None,
    data: ArrayDataset,
    *,
    d_fraction: float,
    compute_level: float | None = None,
    epochs: int = 1,
    lr: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
    round_index: int = 0,
    num_threads: int | None = None,
    on_batch: Callable[[NDArray[np.int64]], None] | None = None,
) -> LocalTrainingResult:
    """Train a copy of ``model`` on exactly a ``d_fraction`` share of ``data``.

    Parameters
    ----------
    model : torch.nn.Module
        Architecture (and starting weights when ``model_state`` is None); it is not modified.
    model_state : list of ndarray or None
        Global model received from the coordinator.
    data : ArrayDataset
        The silo's whole local training set (``s_i = len(data)``).
    d_fraction : float
        Data fraction ``d_i`` in (0, 1]; the silo trains on :func:`select_subset` of it.
    compute_level : float or None
        Compute level ``f_i`` as a sample-processing rate (samples per second): training is paced
        so that processing ``epochs * x_i`` samples takes at least ``epochs * x_i / f_i`` seconds,
        which is the paper's ``T2 = eta_i d_i s_i / f_i`` with ``eta_i = epochs``. See
        :mod:`fl_node.compute` for the measured ceiling of this CPU. ``None`` runs unpaced.
    epochs : int
        Local passes over the subset.
    lr : float
        SGD learning rate (momentum 0.9).
    batch_size : int
    seed : int
        Selects the subset (fixed across rounds) and seeds shuffling.
    round_index : int
        Mixed into the shuffling seed so each round sees a new order of the same subset.
    num_threads : int or None
        torch intra-op threads during training (restored afterwards).
    on_batch : callable or None
        Called with the silo-local indices of every mini-batch (for accounting and audits).

    Returns
    -------
    LocalTrainingResult
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1; got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0; got {lr}")
    if compute_level is not None and not (math.isfinite(compute_level) and compute_level > 0):
        raise ValueError(
            f"compute_level must be a positive rate in samples/s, or None; got {compute_level!r}"
        )
    indices = select_subset(len(data), d_fraction, seed)
    local = copy.deepcopy(model)
    if model_state is not None:
        set_parameters(local, model_state)
    x = torch.from_numpy(np.ascontiguousarray(data.x))
    y = torch.from_numpy(np.ascontiguousarray(data.y))
    rng = np.random.default_rng([seed, round_index, 1])
    opt = MomentumSGD(local.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    steps = processed = 0
    last_epoch_loss = 0.0
    local.train()
    with _torch_threads(num_threads):
        start = time.perf_counter()
        for _ in range(epochs):
            order = rng.permutation(indices)
            loss_sum = 0.0
            for lo in range(0, order.shape[0], batch_size):
                batch = order[lo : lo + batch_size]
                if on_batch is not None:
                    on_batch(batch)
                bt = torch.from_numpy(batch)
                opt.zero_grad()
                loss = loss_fn(local(x[bt]), y[bt])
                loss.backward()
                opt.step()
                steps += 1
                processed += batch.shape[0]
                loss_sum += float(loss.detach()) * batch.shape[0]
                if compute_level is not None:
                    # Pace to the committed rate: never ahead of processed / f seconds.
                    ahead = processed / compute_level - (time.perf_counter() - start)
                    if ahead > 0:
                        time.sleep(ahead)
            last_epoch_loss = loss_sum / order.shape[0]
        seconds = time.perf_counter() - start
    return LocalTrainingResult(
        parameters=get_parameters(local),
        num_samples=int(indices.shape[0]),
        indices=indices,
        samples_processed=processed,
        steps=steps,
        seconds=seconds,
        train_loss=last_epoch_loss,
        compute_level=compute_level,
        achieved_rate=processed / seconds if seconds > 0 else float("inf"),
    )


@dataclass(frozen=True)
class Evaluation:
    """Accuracy and mean cross-entropy loss of a model on a dataset."""

    accuracy: float
    loss: float
    num_samples: int


def evaluate(
    model: nn.Module,
    data: ArrayDataset,
    model_state: Sequence[NDArray[np.generic]] | None = None,
    *,
    batch_size: int = 1024,
) -> Evaluation:
    """Evaluate ``model`` (with ``model_state`` loaded into a copy, if given) on ``data``."""
    if len(data) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    if model_state is not None:
        model = copy.deepcopy(model)
        set_parameters(model, model_state)
    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(data.x))
    y = torch.from_numpy(np.ascontiguousarray(data.y))
    loss_sum = 0.0
    correct = 0
    with torch.no_grad():
        for lo in range(0, len(data), batch_size):
            logits = model(x[lo : lo + batch_size])
            target = y[lo : lo + batch_size]
            loss_sum += float(nn.functional.cross_entropy(logits, target, reduction="sum"))
            correct += int((logits.argmax(dim=1) == target).sum())
    n = len(data)
    return Evaluation(accuracy=correct / n, loss=loss_sum / n, num_samples=n)


@dataclass(frozen=True)
class CentralizedResult:
    """Centralized baseline: final parameters, test evaluation per epoch, wall time."""

    parameters: Params
    history: list[Evaluation]
    seconds: float


def train_centralized(
    model: nn.Module,
    train: ArrayDataset,
    test: ArrayDataset,
    *,
    epochs: int,
    lr: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
) -> CentralizedResult:
    """Train the same model on all training data in one place (the comparison baseline).

    One epoch here processes as many samples as one FL round in which every silo trains one
    local epoch on all its data, so ``epochs = rounds * local_epochs`` is the equivalent budget.
    """
    state: Params | None = None
    history: list[Evaluation] = []
    start = time.perf_counter()
    for epoch in range(epochs):
        result = train_local(
            model,
            state,
            train,
            d_fraction=1.0,
            epochs=1,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            round_index=epoch,
        )
        state = result.parameters
        history.append(evaluate(model, test, state))
    seconds = time.perf_counter() - start
    assert state is not None
    return CentralizedResult(parameters=state, history=history, seconds=seconds)


@dataclass(frozen=True)
class FedAvgResult:
    """In-process FedAvg run: final parameters, test evaluation per round, wall time, samples."""

    parameters: Params
    history: list[Evaluation]
    seconds: float
    samples_used: list[int]
    weights: list[float] = field(default_factory=list)


def run_fedavg(
    model: nn.Module,
    silos: Sequence[ArrayDataset],
    test: ArrayDataset,
    *,
    rounds: int,
    d_fractions: Sequence[float],
    contributions: Sequence[float] | None = None,
    compute_levels: Sequence[float | None] | None = None,
    local_epochs: int = 1,
    lr: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
) -> FedAvgResult:
    """Run FedAvg in this process: every round each silo trains locally, the server averages.

    Parameters
    ----------
    model : torch.nn.Module
        Initial global model.
    silos : sequence of ArrayDataset
        Each silo's local training data.
    test : ArrayDataset
        Held-out data, evaluated after every round.
    rounds : int
    d_fractions : sequence of float
        ``d_i`` per silo.
    contributions : sequence of float or None
        Aggregation weights ``x_i`` from the strategy phase; default ``d_i * s_i``.
    compute_levels : sequence of float or None
        ``f_i`` per silo (samples/s) or None for unpaced training.
    local_epochs, lr, batch_size, seed
        Passed to :func:`train_local`; silo ``i`` uses seed ``seed + i``.
    """
    n = len(silos)
    if len(d_fractions) != n:
        raise ValueError(f"d_fractions has {len(d_fractions)} entries for {n} silos")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1; got {rounds}")
    weights = (
        [d * len(s) for d, s in zip(d_fractions, silos, strict=True)]
        if contributions is None
        else [float(c) for c in contributions]
    )
    if len(weights) != n:
        raise ValueError(f"contributions has {len(weights)} entries for {n} silos")
    levels = list(compute_levels) if compute_levels is not None else [None] * n
    state = get_parameters(model)
    history: list[Evaluation] = []
    used: list[int] = []
    start = time.perf_counter()
    for r in range(rounds):
        updates = []
        used = []
        for i, silo in enumerate(silos):
            res = train_local(
                model,
                state,
                silo,
                d_fraction=d_fractions[i],
                compute_level=levels[i],
                epochs=local_epochs,
                lr=lr,
                batch_size=batch_size,
                seed=seed + i,
                round_index=r,
            )
            updates.append(res.parameters)
            used.append(res.num_samples)
        state = weighted_average(updates, weights)
        history.append(evaluate(model, test, state))
    return FedAvgResult(
        parameters=state,
        history=history,
        seconds=time.perf_counter() - start,
        samples_used=used,
        weights=weights,
    )
