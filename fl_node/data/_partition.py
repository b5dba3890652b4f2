"""Seeded non-IID partitioning of a training set across silos, and per-silo label histograms.

Every function returns a list with one sorted ``int64`` index array per silo; together they cover
each sample index exactly once, and every silo gets at least ``min_size`` samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fl_node.data._errors import DataError

__all__ = [
    "PartitionReport",
    "dirichlet_label_partition",
    "iid_partition",
    "label_histograms",
    "partition",
    "partition_report",
    "quantity_skew_partition",
]

Indices = list[NDArray[np.int64]]


def dirichlet_label_partition(
    labels: NDArray[np.integer],
    n_silos: int,
    alpha: float,
    *,
    seed: int,
    min_size: int = 1,
) -> Indices:
    """Label skew: each class is spread over silos with proportions drawn from Dirichlet(alpha).

    Small ``alpha`` (e.g. 0.1) gives silos dominated by a few classes; large ``alpha`` tends to IID.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
    n_silos : int
    alpha : float
        Dirichlet concentration, > 0.
    seed : int
        Same seed, same partition.
    min_size : int
        Minimum samples per silo; silos left short by the draw take random samples from the
        currently largest silo until they reach it.

    Returns
    -------
    list of ndarray
        One sorted index array per silo.
    """
    y = np.asarray(labels)
    _check_common(y.shape[0], n_silos, min_size)
    if not alpha > 0:
        raise DataError(f"alpha must be > 0 (smaller means more label skew); got {alpha}")
    rng = np.random.default_rng(seed)
    buckets: list[list[NDArray[np.int64]]] = [[] for _ in range(n_silos)]
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        shares = rng.dirichlet(np.full(n_silos, float(alpha)))
        cuts = np.cumsum(_largest_remainder(shares, members.shape[0]))[:-1]
        for silo, chunk in enumerate(np.split(members, cuts)):
            buckets[silo].append(chunk)
    parts = [np.concatenate(b).astype(np.int64) for b in buckets]
    parts = _enforce_min_size(parts, min_size, rng)
    return [np.sort(p) for p in parts]


def quantity_skew_partition(
    n_samples: int,
    n_silos: int,
    *,
    seed: int,
    alpha: float = 1.0,
    power: float | None = None,
    min_size: int = 1,
) -> Indices:
    """Quantity skew: silo sizes differ, labels within each silo are a uniform random draw.

    Sizes are ``min_size`` plus a share of the remaining samples drawn from Dirichlet(alpha), or,
    when ``power`` is given, proportional to ``rank ** -power`` over a random ranking of silos
    (a power law; ``power=0`` gives equal sizes).

    Parameters
    ----------
    n_samples, n_silos : int
    seed : int
    alpha : float
        Dirichlet concentration of the size shares (ignored when ``power`` is set).
    power : float or None
        Power-law exponent, >= 0.
    min_size : int

    Returns
    -------
    list of ndarray
    """
    _check_common(n_samples, n_silos, min_size)
    rng = np.random.default_rng(seed)
    if power is None:
        if not alpha > 0:
            raise DataError(f"alpha must be > 0 (smaller means more size skew); got {alpha}")
        shares = rng.dirichlet(np.full(n_silos, float(alpha)))
    else:
        if not power >= 0:
            raise DataError(f"power must be >= 0 (0 means equal sizes); got {power}")
        ranks = rng.permutation(n_silos) + 1.0
        weights = ranks**-power
        shares = weights / weights.sum()
    sizes = min_size + _largest_remainder(shares, n_samples - n_silos * min_size)
    order = rng.permutation(n_samples)
    return [np.sort(p).astype(np.int64) for p in np.split(order, np.cumsum(sizes)[:-1])]


def iid_partition(n_samples: int, n_silos: int, *, seed: int, min_size: int = 1) -> Indices:
    """Uniform random split into silos of (almost) equal size."""
    _check_common(n_samples, n_silos, min_size)
    order = np.random.default_rng(seed).permutation(n_samples)
    return [np.sort(p).astype(np.int64) for p in np.array_split(order, n_silos)]


def partition(
    labels: NDArray[np.integer],
    n_silos: int,
    *,
    scheme: str = "dirichlet",
    seed: int = 0,
    alpha: float = 0.5,
    power: float | None = None,
    min_size: int = 1,
) -> Indices:
    """Partition by name: ``"dirichlet"`` (label skew), ``"quantity"`` (size skew) or ``"iid"``."""
    n = int(np.asarray(labels).shape[0])
    if scheme == "dirichlet":
        return dirichlet_label_partition(labels, n_silos, alpha, seed=seed, min_size=min_size)
    if scheme == "quantity":
        return quantity_skew_partition(
            n, n_silos, seed=seed, alpha=alpha, power=power, min_size=min_size
        )
    if scheme == "iid":
        return iid_partition(n, n_silos, seed=seed, min_size=min_size)
    raise DataError(f"unknown partition scheme {scheme!r}; use 'dirichlet', 'quantity' or 'iid'")


def label_histograms(
    labels: NDArray[np.integer], parts: Sequence[NDArray[np.integer]], n_classes: int
) -> NDArray[np.int64]:
    """Return the ``(n_silos, n_classes)`` matrix of label counts per silo."""
    y = np.asarray(labels)
    return np.stack([np.bincount(y[p], minlength=n_classes) for p in parts]).astype(np.int64)


@dataclass(frozen=True)
class PartitionReport:
    """Per-silo sizes and label histograms plus two skew summaries.

    Attributes
    ----------
    sizes : list of int
    histograms : list of list of int
        ``histograms[i][c]`` is the number of class-``c`` samples in silo ``i``.
    label_skew : float
        Mean total-variation distance between each silo's label distribution and the pooled one
        (0 for identical distributions, up to 1 for disjoint ones).
    size_ratio : float
        Largest silo size over smallest.
    """

    sizes: list[int]
    histograms: list[list[int]]
    label_skew: float
    size_ratio: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "sizes": self.sizes,
            "histograms": self.histograms,
            "label_skew": self.label_skew,
            "size_ratio": self.size_ratio,
        }

    def table(self) -> str:
        """A plain-text table: one row per silo, one column per class, then the size."""
        n_classes = len(self.histograms[0]) if self.histograms else 0
        head = "silo " + " ".join(f"{c:>5}" for c in range(n_classes)) + "  total"
        rows = [
            f"{i:>4} " + " ".join(f"{v:>5}" for v in h) + f"  {s:>5}"
            for i, (h, s) in enumerate(zip(self.histograms, self.sizes, strict=True))
        ]
        return "\n".join([head, *rows])


def partition_report(
    labels: NDArray[np.integer], parts: Sequence[NDArray[np.integer]], n_classes: int
) -> PartitionReport:
    """Summarize a partition: sizes, label histograms, label skew and size ratio."""
    hist = label_histograms(labels, parts, n_classes)
    sizes = hist.sum(axis=1)
    pooled = hist.sum(axis=0) / max(int(sizes.sum()), 1)
    dist = hist / np.maximum(sizes, 1)[:, None]
    tv = 0.5 * np.abs(dist - pooled).sum(axis=1)
    return PartitionReport(
        sizes=[int(s) for s in sizes],
        histograms=hist.tolist(),
        label_skew=float(tv.mean()),
        size_ratio=float(sizes.max() / max(int(sizes.min()), 1)),
    )


def _check_common(n_samples: int, n_silos: int, min_size: int) -> None:
    if n_silos < 1:
        raise DataError(f"n_silos must be >= 1; got {n_silos}")
    if min_size < 1:
        raise DataError(f"min_size must be >= 1 (no silo may be empty); got {min_size}")
    if n_samples < n_silos * min_size:
        raise DataError(
            f"{n_samples} samples cannot give {n_silos} silos at least {min_size} each; "
            "use fewer silos, a smaller min_size or more data"
        )


def _largest_remainder(shares: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integer counts summing exactly to ``total``, proportional to ``shares``."""
    quotas = shares * total
    counts = np.floor(quotas).astype(np.int64)
    short = total - int(counts.sum())
    counts[np.argsort(-(quotas - counts), kind="stable")[:short]] += 1
    return counts


def _enforce_min_size(parts: Indices, min_size: int, rng: np.random.Generator) -> Indices:
    parts = [rng.permutation(p) for p in parts]
    while True:
        sizes = np.array([p.shape[0] for p in parts])
        short = np.flatnonzero(sizes < min_size)
        if short.size == 0:
            return parts
        needy = int(short[0])
        donor = int(np.argmax(sizes))
        # The donor keeps >= min_size because total >= n_silos * min_size was checked.
        give = min(min_size - int(sizes[needy]), int(sizes[donor]) - min_size)
        parts[needy] = np.concatenate([parts[needy], parts[donor][:give]])
        parts[donor] = parts[donor][give:]
