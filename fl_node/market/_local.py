"""Local training of flat-vector models with an optional proximal term, and accuracy.

Every personalized method here (the market, FedProx, Ditto, pFedGraph-style aggregation) is one
local solver: minimize ``L_i(theta) + mu/2 ||theta - center||^2`` by SGD from a start point.
Models are handled as flat float64 vectors (``torch.nn.utils.parameters_to_vector`` order, which
is the ``state_dict`` order of :mod:`fl_node.models`' models: they have no buffers).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from fl_node.data import ArrayDataset

__all__ = [
    "LocalTraining",
    "accuracy",
    "mean_loss",
    "model_vector",
    "train_prox",
    "train_seed",
]

Vector = NDArray[np.float64]


def model_vector(model: nn.Module) -> Vector:
    """The model's parameters as one flat float64 vector."""
    return np.asarray(parameters_to_vector(model.parameters()).detach().double().numpy())


def _load(model: nn.Module, vector: Vector) -> nn.Module:
    local = copy.deepcopy(model)
    vector_to_parameters(torch.as_tensor(vector, dtype=torch.float32), local.parameters())
    return local


@dataclass(frozen=True)
class LocalTraining:
    """Hyperparameters of every local solve: epochs, SGD learning rate, batch size."""

    epochs: int = 2
    lr: float = 0.05
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1; got {self.epochs}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {self.batch_size}")


def train_seed(seed: int, rnd: int, slot: int) -> int:
    """The seed of slot ``slot``'s local solve in round ``rnd`` of a run seeded ``seed``."""
    return seed * 10_007 + rnd * 101 + slot


def train_prox(
    model: nn.Module,
    start: Vector,
    data: ArrayDataset,
    *,
    center: Vector | None = None,
    mu: float = 0.0,
    hp: LocalTraining | None = None,
    seed: int = 0,
) -> Vector:
    """SGD (momentum 0.9) on ``CE + mu/2 ||theta - center||^2`` from ``start``; returns the
    trained model. Every sample of ``data`` is visited once per epoch.

    Parameters
    ----------
    model
        Architecture (its weights are not used or modified).
    start
        Flat starting point.
    data
        The silo's training set; every sample is visited once per epoch.
    center, mu
        Prox center and weight; ``mu = 0`` or no center is plain local training.
    hp
        Epochs, learning rate, batch size.
    seed
        Seeds the shuffling.
    """
    hp = hp or LocalTraining()
    if mu < 0:
        raise ValueError(f"mu must be >= 0; got {mu}")
    local = _load(model, start)
    x = torch.from_numpy(np.ascontiguousarray(data.x))
    y = torch.from_numpy(np.ascontiguousarray(data.y))
    c = None if center is None or mu == 0 else torch.as_tensor(center, dtype=torch.float32)
    opt = torch.optim.SGD(local.parameters(), lr=hp.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    local.train()
    for _ in range(hp.epochs):
        order = rng.permutation(len(data))
        for lo in range(0, order.shape[0], hp.batch_size):
            bt = torch.from_numpy(order[lo : lo + hp.batch_size])
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(local(x[bt]), y[bt])
            if c is not None:
                loss = loss + 0.5 * mu * torch.sum(
                    (parameters_to_vector(local.parameters()) - c) ** 2
                )
            loss.backward()
            opt.step()
    return model_vector(local)


def accuracy(model: nn.Module, theta: Vector, data: ArrayDataset) -> float:
    """Accuracy of the flat model ``theta`` on ``data``."""
    local = _load(model, theta)
    local.eval()
    with torch.no_grad():
        pred = local(torch.from_numpy(np.ascontiguousarray(data.x))).argmax(dim=1).numpy()
    return float(np.mean(pred == data.y))


def mean_loss(model: nn.Module, theta: Vector, data: ArrayDataset) -> float:
    """Mean cross-entropy of the flat model ``theta`` on ``data``."""
    local = _load(model, theta)
    local.eval()
    with torch.no_grad():
        out = local(torch.from_numpy(np.ascontiguousarray(data.x)))
        return float(nn.functional.cross_entropy(out, torch.from_numpy(data.y)))
