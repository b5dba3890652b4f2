"""The baselines of the market experiments, on the same silos, model and local solver.

Local, FedAvg, FedProx, Ditto and a pFedGraph-style similarity-weighted personalized aggregation
(FedAMP, CFL and FedFomo are in :mod:`fl_node.market._pfl_baselines`; the registry of all of them
in :mod:`fl_node.market._methods`). Each runs ``rounds`` rounds of :func:`train_prox` per silo
(the same local epochs as the market) and reports every silo's accuracy on its own test split
after every round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from torch import nn

from fl_node.data import ArrayDataset
from fl_node.market._distance import distance_matrix
from fl_node.market._local import LocalTraining, accuracy, train_prox, train_seed
from fl_node.market._silos import Silo

__all__ = [
    "BEHAVIOURS",
    "BaselineParams",
    "MethodResult",
    "Setup",
    "average",
    "global_model",
    "local",
    "pfedgraph",
    "project_simplex",
    "upload",
]

Vector = NDArray[np.float64]

#: per-silo behaviours: honest, sends its received model back, sends the negated update
BEHAVIOURS = ("honest", "free_rider", "sign_flip")


@dataclass(frozen=True)
class Setup:
    """What every method shares: silos, architecture, theta0, rounds, local solver, seed."""

    silos: tuple[Silo, ...]
    model: nn.Module
    theta0: Vector
    rounds: int
    hp: LocalTraining = field(default_factory=LocalTraining)
    seed: int = 0
    behaviours: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1; got {self.rounds}")
        beh = self.behaviours or ("honest",) * len(self.silos)
        if len(beh) != len(self.silos):
            raise ValueError(f"behaviours has {len(beh)} entries for {len(self.silos)} silos")
        for b in beh:
            if b not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {b!r}; use one of {BEHAVIOURS}")
        object.__setattr__(self, "behaviours", tuple(beh))

    @property
    def m(self) -> int:
        return len(self.silos)

    @property
    def sizes(self) -> NDArray[np.float64]:
        return np.array([s.n for s in self.silos], dtype=float)

    @property
    def honest(self) -> list[int]:
        return [i for i, b in enumerate(self.behaviours) if b == "honest"]

    def train(
        self,
        i: int,
        r: int,
        start: Vector,
        center: Vector | None = None,
        mu: float = 0.0,
        data: ArrayDataset | None = None,
    ) -> Vector:
        """Silo i's local solve in round r (on ``data``, default its whole training set)."""
        return train_prox(
            self.model,
            start,
            self.silos[i].train if data is None else data,
            center=center,
            mu=mu,
            hp=self.hp,
            seed=train_seed(self.seed, r, i),
        )

    def accuracies(self, thetas: Sequence[Vector]) -> list[float]:
        """Each silo's accuracy with its own model on its own test split."""
        return [accuracy(self.model, t, s.test) for t, s in zip(thetas, self.silos, strict=True)]


def upload(behaviour: str, trained: Vector, received: Vector) -> Vector:
    """What a silo sends back: its trained model, the received one, or the negated update."""
    if behaviour == "free_rider":
        return received.copy()
    if behaviour == "sign_flip":
        return received - (trained - received)
    return trained


@dataclass
class MethodResult:
    """Per-round accuracy of every silo (``history[r][i]``), the final models and (CFL) the
    final clusters."""

    method: str
    history: list[list[float]]
    thetas: list[Vector]
    #: the final clusters of silos, for methods that form them (CFL)
    clusters: list[list[int]] | None = None

    @property
    def final(self) -> list[float]:
        return self.history[-1]

    def to_dict(self, honest: Sequence[int]) -> dict[str, object]:
        return {
            "method": self.method,
            "final": self.final,
            "mean_honest": float(np.mean([self.final[i] for i in honest])),
            "history_mean_honest": [float(np.mean([h[i] for i in honest])) for h in self.history],
            **({} if self.clusters is None else {"clusters": self.clusters}),
        }


def project_simplex(v: ArrayLike) -> Vector:
    """Euclidean projection onto the probability simplex (sort-and-threshold)."""
    x = np.asarray(v, dtype=np.float64)
    u = np.sort(x)[::-1]
    css = np.cumsum(u) - 1.0
    k = np.arange(1, x.shape[0] + 1)
    rho = int(np.nonzero(u - css / k > 0)[0][-1])
    return np.asarray(np.maximum(x - css[rho] / (rho + 1), 0.0), dtype=np.float64)


def average(thetas: Sequence[Vector], weights: ArrayLike) -> Vector:
    """sum_j w_j theta_j / sum_j w_j."""
    w = np.asarray(weights, dtype=np.float64)
    return np.asarray(np.tensordot(w / w.sum(), np.stack(thetas), axes=1), dtype=np.float64)


@dataclass(frozen=True)
class BaselineParams:
    """Hyperparameters of the baselines (one place, so every run states them)."""

    mu_fedprox: float = 0.1
    mu_ditto: float = 0.1
    alpha_graph: float = 0.8
    #: FedAMP: weight of the silo's own model in its cloud model, the kernel width as a multiple
    #: of the round's median squared model distance, and the prox weight to the cloud model
    self_weight_fedamp: float = 0.5
    sigma_scale_fedamp: float = 0.2
    mu_fedamp: float = 0.1
    #: CFL: split a cluster when its mean update norm is below this share of its largest one
    #: and the best bipartition's largest cross-cosine is below ``cfl_max_cross_cos``
    cfl_norm_ratio: float = 0.6
    cfl_max_cross_cos: float = 0.3
    #: FedFomo: share of each silo's training set held out to score the others' models
    fomo_val_fraction: float = 0.2


def local(s: Setup, p: BaselineParams) -> MethodResult:
    """Local training only, from theta0."""
    thetas = [s.theta0.copy() for _ in range(s.m)]
    hist = []
    for r in range(s.rounds):
        thetas = [s.train(i, r, thetas[i]) for i in range(s.m)]
        hist.append(s.accuracies(thetas))
    return MethodResult("local", hist, thetas)


def global_model(s: Setup, p: BaselineParams, name: str) -> MethodResult:
    """FedAvg (mu = 0), FedProx (prox to the global model) and Ditto (personal models)."""
    w = s.theta0.copy()
    personal = [s.theta0.copy() for _ in range(s.m)]
    mu = p.mu_fedprox if name == "fedprox" else 0.0
    hist = []
    for r in range(s.rounds):
        ups = [upload(s.behaviours[i], s.train(i, r, w, w, mu), w) for i in range(s.m)]
        if name == "ditto":
            personal = [s.train(i, r + 50_000, personal[i], w, p.mu_ditto) for i in range(s.m)]
        w = average(ups, s.sizes)
        hist.append(s.accuracies(personal if name == "ditto" else [w] * s.m))
    return MethodResult(name, hist, personal if name == "ditto" else [w] * s.m)


def pfedgraph(s: Setup, p: BaselineParams) -> MethodResult:
    """Each silo starts every round from its aggregate sum_j a_ij theta_j, with
    a_i = argmin over the simplex of ||a - q||^2 + alpha sum_j a_j d_ij = proj(q - alpha d_i / 2),
    q the data shares and d the same cosine distance of updates as the market."""
    q = s.sizes / s.sizes.sum()
    hist = []
    start = [s.theta0.copy() for _ in range(s.m)]
    trained = start
    for r in range(s.rounds):
        trained = [s.train(i, r, start[i]) for i in range(s.m)]
        thetas = [upload(s.behaviours[i], trained[i], start[i]) for i in range(s.m)]
        hist.append(s.accuracies(trained))
        d = distance_matrix(thetas, s.theta0)
        start = [
            average(thetas, project_simplex(q - 0.5 * p.alpha_graph * d[i]) + 1e-12)
            for i in range(s.m)
        ]
    return MethodResult("pfedgraph", hist, trained)
