"""Silos of the market experiments: each with its own train and test split of its own data.

The bundled digits (train and test of the standardized split pooled: standardization statistics
come from the global train split only) are divided among silos by label (``clusters``: silos in
label groups) or by a Dirichlet label draw (``dirichlet``); each silo keeps a ``keep`` share of its
samples (scarce data is what makes collaboration worth paying for) and splits them into its own
train and test sets, so accuracy is personalized: scored on the silo's own distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fl_node.data import ArrayDataset, DataError, DatasetMeta, dirichlet_label_partition, get_source

__all__ = ["LABEL_CLUSTERS", "SILO_SPLITS", "Silo", "SiloSet", "build_silos"]

#: the three label groups of the ``clusters`` split (digits 0-9)
LABEL_CLUSTERS: tuple[tuple[int, ...], ...] = ((0, 1, 2), (3, 4, 5, 6), (7, 8, 9))
SILO_SPLITS = ("clusters", "dirichlet")


@dataclass(frozen=True)
class Silo:
    """One silo's private data: ``train`` (N_i = len(train)) and its own ``test`` split."""

    name: str
    train: ArrayDataset
    test: ArrayDataset
    group: int

    @property
    def n(self) -> int:
        return len(self.train)


@dataclass(frozen=True)
class SiloSet:
    """The silos of one seed and the dataset metadata (for :func:`fl_node.models.build_model`)."""

    silos: tuple[Silo, ...]
    meta: DatasetMeta
    split: str
    seed: int

    @property
    def sizes(self) -> list[int]:
        return [s.n for s in self.silos]


def _cluster_parts(
    y: NDArray[np.int64], n_silos: int, rng: np.random.Generator
) -> tuple[list[NDArray[np.int64]], list[int]]:
    groups = len(LABEL_CLUSTERS)
    if n_silos % groups:
        raise DataError(f"the clusters split needs a multiple of {groups} silos; got {n_silos}")
    per = n_silos // groups
    parts: list[NDArray[np.int64]] = []
    group_of: list[int] = []
    for g, labels in enumerate(LABEL_CLUSTERS):
        members = rng.permutation(np.flatnonzero(np.isin(y, labels)))
        shares = rng.dirichlet(np.full(per, 4.0))
        cuts = (np.cumsum(shares)[:-1] * members.shape[0]).astype(int)
        parts += [np.sort(p).astype(np.int64) for p in np.split(members, cuts)]
        group_of += [g] * per
    return parts, group_of


def build_silos(
    split: str = "clusters",
    n_silos: int = 9,
    *,
    seed: int = 0,
    keep: float = 0.3,
    test_fraction: float = 0.4,
    alpha: float = 0.3,
    dataset: str = "digits",
) -> SiloSet:
    """Partition a bundled dataset into ``n_silos`` silos with their own train/test splits.

    Parameters
    ----------
    split : {"clusters", "dirichlet"}
        ``clusters``: silos in the label groups of :data:`LABEL_CLUSTERS` (``n_silos / 3`` per
        group, sizes from a Dirichlet(4) draw); ``dirichlet``: label proportions per class from
        Dirichlet(``alpha``).
    keep : float
        Share of each silo's samples it keeps, in (0, 1].
    test_fraction : float
        Share of the kept samples held out as the silo's own test split, in (0, 1).
    """
    if split not in SILO_SPLITS:
        raise DataError(f"unknown silo split {split!r}; use one of {SILO_SPLITS}")
    if not 0 < keep <= 1:
        raise DataError(f"keep must be in (0, 1]; got {keep}")
    if not 0 < test_fraction < 1:
        raise DataError(f"test_fraction must be in (0, 1); got {test_fraction}")
    data = get_source(dataset).split(test_fraction=0.25, seed=0)
    x = np.concatenate([data.train.x, data.test.x])
    y = np.concatenate([data.train.y, data.test.y])
    rng = np.random.default_rng([seed, 7])
    if split == "clusters":
        parts, group_of = _cluster_parts(y, n_silos, rng)
    else:
        parts = dirichlet_label_partition(y, n_silos, alpha, seed=seed, min_size=40)
        group_of = [int(np.bincount(y[p]).argmax()) for p in parts]
    silos = []
    for i, (p, g) in enumerate(zip(parts, group_of, strict=True)):
        idx = rng.permutation(p)[: max(4, round(keep * p.shape[0]))]
        n_test = max(2, round(test_fraction * idx.shape[0]))
        test, train = idx[:n_test], idx[n_test:]
        silos.append(
            Silo(
                name=f"silo-{i}",
                train=ArrayDataset(x=x[np.sort(train)], y=y[np.sort(train)]),
                test=ArrayDataset(x=x[np.sort(test)], y=y[np.sort(test)]),
                group=g,
            )
        )
    return SiloSet(silos=tuple(silos), meta=data.meta, split=split, seed=seed)
