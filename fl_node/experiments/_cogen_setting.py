"""The cogen experiment's options and one (heterogeneity, seed) setting: silos and generators.

A setting partitions the digits training set into ``orgs`` silos with Dirichlet(alpha) label
skew, measures each silo's ``D_i`` and ``delta_i`` (against the pooled label distribution
``qbar``), trains each silo's generator on its own data, and measures its cost per sample and its
quality. The test split is cut in two fixed halves: ``validation`` (the loss fitted into the game
and the leave-one-out score) and ``test`` (the accuracies reported).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from fl_node.cogen import (
    DEFAULT_PRICE_PER_CPU_SECOND,
    GENERATOR_KINDS,
    ClassConditionalGenerator,
    GenerationCost,
    Quality,
    make_generator,
    measure_cost,
    measure_quality,
    pooled_distribution,
)
from fl_node.data import ArrayDataset, DatasetMeta, DataSplit, label_histograms, partition
from solver.cogen import heterogeneity

__all__ = ["CogenOptions", "CogenSetting", "build_cogen_setting", "split_validation"]


@dataclass(frozen=True)
class CogenOptions:
    """Options of ``fedsettle experiment cogen``.

    Attributes
    ----------
    out : Path
        Output directory of the JSON and the plots.
    seeds : tuple of int
        Seeds (partition, generators, model initialization).
    orgs : int
        Silos.
    alphas : tuple of float
        Dirichlet concentrations of the heterogeneity sweep (small = strongly non-IID).
    gammas : tuple of float
        Competition intensities gamma-bar (``gamma_ij = gamma-bar`` for ``i != j``).
    kappas : tuple of float
        Redistribution intensities (money per unit score difference per unit of gamma).
    gamma, kappa : float
        The values held fixed while the other one (or alpha) is swept.
    probes : tuple of float
        Uniform generation levels ``x_i = f x_i^max`` trained for the loss fit.
    generator : str
        ``"cvae"`` or ``"gmm"``.
    x_max_ratio : float
        ``x_i^max = x_max_ratio * D_i``.
    theta : float
        Money per unit of loss reduction, the same for every silo.
    price : float
        Money per CPU-second of generation (turns measured CPU time into ``c_i``).
    q : float
        Quality weight of a synthetic sample in the score.
    rounds, epochs : int
        FL rounds per run and local epochs per round.
    lr : float
    model : str
        Classifier kind (:func:`fl_node.models.build_model`).
    """

    out: Path = Path("docs/figures/cogen")
    seeds: tuple[int, ...] = (0, 1)
    orgs: int = 5
    alphas: tuple[float, ...] = (0.1, 0.3, 1.0, 10.0)
    gammas: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2)
    kappas: tuple[float, ...] = (0.0, 0.01, 0.02, 0.04, 0.08)
    gamma: float = 0.1
    kappa: float = 0.01
    probes: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
    generator: str = "cvae"
    x_max_ratio: float = 2.0
    theta: float = 1000.0
    price: float = DEFAULT_PRICE_PER_CPU_SECOND
    q: float = 1.0
    rounds: int = 6
    epochs: int = 2
    lr: float = 0.05
    model: str = "mlp"

    def __post_init__(self) -> None:
        checks = (
            ("seeds", len(self.seeds) >= 1, "give at least one seed"),
            ("orgs", 2 <= self.orgs <= 20, "must be between 2 and 20 silos"),
            ("alphas", bool(self.alphas) and min(self.alphas) > 0, "need values > 0"),
            ("gammas", bool(self.gammas) and min(self.gammas) >= 0, "need values >= 0"),
            ("kappas", bool(self.kappas) and min(self.kappas) >= 0, "need values >= 0"),
            ("gamma", self.gamma >= 0, "must be >= 0"),
            ("kappa", self.kappa >= 0, "must be >= 0"),
            ("probes", len(set(self.probes)) >= 3, "need at least 3 distinct levels"),
            ("generator", self.generator in GENERATOR_KINDS, f"use one of {GENERATOR_KINDS}"),
            ("x_max_ratio", self.x_max_ratio > 0, "must be > 0"),
            ("theta", self.theta > 0, "must be > 0"),
            ("price", self.price > 0, "must be > 0 money per CPU-second"),
            ("q", self.q >= 0, "must be >= 0"),
            ("rounds", 1 <= self.rounds <= 100, "must be between 1 and 100"),
            ("epochs", self.epochs >= 1, "must be >= 1"),
            ("lr", self.lr > 0, "must be > 0"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"--{name.replace('_', '-')} {getattr(self, name)}: {rule}")
        if any(not 0 <= f <= 1 for f in self.probes):
            raise ValueError(f"--probes {self.probes}: every level must be in [0, 1]")
        if len(self.alphas) * len(self.seeds) * len(set(self.probes)) < 5:
            raise ValueError(
                f"--alphas {self.alphas} x --seeds {self.seeds} x probes {self.probes} give fewer "
                "than 5 runs for the loss fit; add an alpha or a seed"
            )

    def quick(self) -> CogenOptions:
        """A smoke-test setting: one seed, two alphas, short sweeps, GMM generators."""
        return replace(
            self,
            seeds=self.seeds[:1],
            alphas=(self.alphas[0], self.alphas[-1]),
            gammas=(self.gammas[0], self.gammas[-1]),
            kappas=(self.kappas[0], self.kappas[-1]),
            probes=(0.0, 0.5, 1.0),
            generator="gmm",
            rounds=2,
            epochs=1,
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class CogenSetting:
    """One (alpha, seed): silos, their generators and what was measured about them."""

    alpha: float
    seed: int
    silos: list[ArrayDataset]
    generators: list[ClassConditionalGenerator]
    qbar: np.ndarray
    delta: list[float]
    costs: list[GenerationCost]
    quality: list[Quality]
    x_max: list[int]
    meta: DatasetMeta

    @property
    def D(self) -> list[int]:
        return [len(s) for s in self.silos]

    def summary(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "seed": self.seed,
            "D": self.D,
            "delta": self.delta,
            "mean_delta": float(np.mean(self.delta)),
            "x_max": self.x_max,
            "classes_seen": [int(g.available.sum()) for g in self.generators],
            "cost": [c.to_dict() for c in self.costs],
            "quality": [q.to_dict() for q in self.quality],
        }


def split_validation(test: ArrayDataset, seed: int = 0) -> tuple[ArrayDataset, ArrayDataset]:
    """Cut the test split into fixed halves ``(validation, test)``."""
    order = np.random.default_rng(seed).permutation(len(test))
    half = len(test) // 2
    return test.subset(np.sort(order[:half])), test.subset(np.sort(order[half:]))


def build_cogen_setting(
    opts: CogenOptions, split: DataSplit, test: ArrayDataset, alpha: float, seed: int
) -> CogenSetting:
    """Partition, measure heterogeneity, train and measure every silo's generator."""
    parts = partition(
        split.train.y, opts.orgs, scheme="dirichlet", seed=seed, alpha=alpha, min_size=40
    )
    n_classes = split.meta.n_classes
    hist = label_histograms(split.train.y, parts, n_classes)
    qbar = pooled_distribution(hist)
    silos = [split.train.subset(p) for p in parts]
    generators, costs, quality, x_max = [], [], [], []
    for i, silo in enumerate(silos):
        gen = make_generator(opts.generator, n_classes).fit(silo, seed=seed * 100 + i)
        xm = max(1, round(opts.x_max_ratio * len(silo)))
        generators.append(gen)
        x_max.append(xm)
        costs.append(measure_cost(gen, x_max=xm, price_per_cpu_second=opts.price, seed=seed))
        quality.append(measure_quality(gen, silo, test, seed=seed))
    return CogenSetting(
        alpha=float(alpha),
        seed=seed,
        silos=silos,
        generators=generators,
        qbar=qbar,
        delta=[heterogeneity(h, qbar) for h in hist],
        costs=costs,
        quality=quality,
        x_max=x_max,
        meta=split.meta,
    )
