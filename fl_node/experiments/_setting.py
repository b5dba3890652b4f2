"""The experiment's setting: its options, and one seed's silos and consortium game.

Each seed draws its own non-IID partition of the training set, its own consortium parameters
(:func:`fl_node.consortium.make_demo_consortium`, the demo's game, whose units match training)
and its own model initialization; the train/test split is the same for every seed, so every run
is scored on the same test set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from fl_node.consortium import make_demo_consortium
from fl_node.data import ArrayDataset, DatasetMeta, DataSplit, partition, partition_report
from solver import Game

__all__ = ["SchemesOptions", "SeedSetting", "build_setting", "total_samples"]


@dataclass(frozen=True)
class SchemesOptions:
    """Options of ``fedsettle experiment schemes``.

    Attributes
    ----------
    orgs, rounds, seeds : int
        Silos, FL rounds per run, and how many seeds (``first_seed .. first_seed + seeds - 1``).
    out : Path
        Output directory for the JSON, the Markdown table and the plots.
    quick : bool
        A smoke-test setting: at most 3 rounds, 1 seed, a coarse gamma grid, one probe run.
    dataset : str
        Bundled dataset name (``digits`` by default).
    alpha : float
        Dirichlet concentration of the label skew across silos.
    min_size : int
        Smallest silo (samples), so that ``D_min * s_i`` is at least a few samples.
    epochs : int
        Local epochs per FL round; it is also the game's ``eta`` (see :mod:`fl_node.compute`).
    lr : float
        Local SGD learning rate.
    tau : float
        Per-round training deadline of the game (s).
    kappa : float
        Energy coefficient of the game (the demo's consortium uses 2e-10).
    rho_total : float
        Expected competition sum ``rhobar_i``; the mean intensity is ``rho_total / (orgs - 1)``
        (capped at the demo's 0.05), which keeps every weight ``z_i > 0`` for any ``orgs``.
    gamma : float or None
        Incentive intensity; ``None`` picks gamma* (the gamma maximizing DBR's social welfare
        on ``gamma_grid``) per seed, as the paper does for its training runs.
    gamma_max, gamma_points : float, int
        The gamma grid ``linspace(0, gamma_max, gamma_points)``.
    probes : tuple of float
        Uniform data fractions trained as extra points for the fit of P (every silo at ``d``).
    fip : bool
        Also run FIP.
    cgbd_max_profiles : int
        CGBD runs when its master enumerates at most this many level profiles; above, the
        certified exact solver (:func:`solver.maximize_potential`) stands in for it.
    first_seed : int
    """

    orgs: int = 10
    rounds: int = 10
    seeds: int = 3
    out: Path = Path("docs/figures/experiments")
    quick: bool = False
    dataset: str = "digits"
    alpha: float = 0.5
    min_size: int = 30
    epochs: int = 2
    lr: float = 0.05
    tau: float = 0.3
    kappa: float = 1e-9
    rho_total: float = 0.18
    gamma: float | None = None
    gamma_max: float = 0.2
    gamma_points: int = 81
    probes: tuple[float, ...] = (0.2, 0.35, 0.5)
    fip: bool = True
    cgbd_max_profiles: int = 1_000_000
    first_seed: int = 0

    def __post_init__(self) -> None:
        checks = (
            ("orgs", 2 <= self.orgs <= 50, "must be between 2 and 50 silos"),
            ("rounds", 1 <= self.rounds <= 200, "must be between 1 and 200 FL rounds"),
            ("seeds", 1 <= self.seeds <= 50, "must be between 1 and 50"),
            ("alpha", self.alpha > 0, "the Dirichlet concentration must be > 0"),
            ("min_size", self.min_size >= 1, "must be >= 1 sample"),
            ("epochs", self.epochs >= 1, "must be >= 1 local epoch"),
            ("lr", self.lr > 0, "the learning rate must be > 0"),
            ("tau", self.tau > 0, "the deadline must be > 0 s"),
            ("kappa", self.kappa >= 0, "must be >= 0"),
            ("rho_total", self.rho_total >= 0, "must be >= 0"),
            ("gamma_max", self.gamma_max > 0, "must be > 0"),
            ("gamma_points", self.gamma_points >= 2, "must be >= 2"),
            ("cgbd_max_profiles", self.cgbd_max_profiles >= 1, "must be >= 1"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"--{name.replace('_', '-')} {getattr(self, name)}: {rule}")
        if self.gamma is not None and not self.gamma >= 0:
            raise ValueError(f"--gamma {self.gamma}: the incentive intensity must be >= 0")
        if any(not 0 < d <= 1 for d in self.probes):
            raise ValueError(f"probes {self.probes}: every probe fraction must be in (0, 1]")

    @property
    def rho_mean(self) -> float:
        """Mean competition intensity used for the consortium draw."""
        return min(0.05, self.rho_total / (self.orgs - 1))

    def effective(self) -> SchemesOptions:
        """The options actually run (``quick`` shrinks rounds, seeds, grid and probes)."""
        if not self.quick:
            return self
        return replace(
            self,
            rounds=min(self.rounds, 3),
            seeds=1,
            gamma_points=min(self.gamma_points, 11),
            probes=self.probes[:1],
        )


@dataclass(frozen=True)
class SeedSetting:
    """One seed's silos and game.

    Attributes
    ----------
    seed : int
    silos : list of ArrayDataset
        Each silo's whole local training set (``s_i = len(silos[i])``).
    test : ArrayDataset
    meta : DatasetMeta
    game : Game
        The consortium game with ``gamma = 0`` (the scheme step sets gamma).
    label_skew : float
        Mean total-variation distance of the silos' label distributions to the pooled one.
    histograms : list of list of int
    """

    seed: int
    silos: list[ArrayDataset]
    test: ArrayDataset
    meta: DatasetMeta
    game: Game
    label_skew: float
    histograms: list[list[int]]

    @property
    def sizes(self) -> list[int]:
        return [len(s) for s in self.silos]


def build_setting(opts: SchemesOptions, split: DataSplit, seed: int) -> SeedSetting:
    """Partition ``split.train`` into ``opts.orgs`` non-IID silos and draw their game."""
    parts = partition(
        split.train.y,
        opts.orgs,
        scheme="dirichlet",
        seed=seed,
        alpha=opts.alpha,
        min_size=opts.min_size,
    )
    silos = [split.train.subset(p) for p in parts]
    report = partition_report(split.train.y, parts, split.meta.n_classes)
    names = [f"silo-{i}" for i in range(opts.orgs)]
    consortium = make_demo_consortium(
        names,
        [len(s) for s in silos],
        seed=seed,
        epochs=opts.epochs,
        tau=opts.tau,
        gamma=0.0,
        rho_mean=opts.rho_mean,
    )
    game = consortium.game().replace(kappa=float(opts.kappa))
    return SeedSetting(
        seed=seed,
        silos=silos,
        test=split.test,
        meta=split.meta,
        game=game,
        label_skew=float(report.label_skew),
        histograms=report.histograms,
    )


def total_samples(silos: list[ArrayDataset]) -> int:
    """All training samples held by the silos."""
    return int(np.sum([len(s) for s in silos]))
