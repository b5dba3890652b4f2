"""In-memory datasets, their metadata, and the seeded, standardized train/test split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fl_node.data._errors import DataError

__all__ = ["ArrayDataset", "DataSplit", "DatasetMeta", "make_split"]


@dataclass(frozen=True)
class DatasetMeta:
    """What a model needs to know about a dataset.

    Attributes
    ----------
    name : str
        Dataset name (``"digits"``, a file stem, ...).
    n_features : int
        Number of features per sample (images are flattened row-major).
    n_classes : int
        Number of classes; labels are integers ``0 .. n_classes - 1``.
    image_shape : tuple of int or None
        ``(channels, height, width)`` when the features are an image, else ``None``.
    class_names : tuple of str
        Original label of each class index (for files whose labels are strings or sparse ints).
    """

    name: str
    n_features: int
    n_classes: int
    image_shape: tuple[int, int, int] | None = None
    class_names: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ArrayDataset:
    """Features ``x`` (float32, shape ``(n, n_features)``) and labels ``y`` (int64, shape ``(n,)``)."""

    x: NDArray[np.float32]
    y: NDArray[np.int64]

    def __post_init__(self) -> None:
        if self.x.ndim != 2:
            raise DataError(f"x must be 2-D (samples, features); got shape {self.x.shape}")
        if self.y.shape != (self.x.shape[0],):
            raise DataError(
                f"y must have shape ({self.x.shape[0]},) to match x; got {self.y.shape}"
            )

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, indices: NDArray[np.integer]) -> ArrayDataset:
        """Return the rows ``indices`` as a new dataset (a copy)."""
        idx = np.asarray(indices, dtype=np.int64)
        return ArrayDataset(x=self.x[idx], y=self.y[idx])


@dataclass(frozen=True)
class DataSplit:
    """A standardized train/test split.

    Attributes
    ----------
    train, test : ArrayDataset
        Standardized with ``mean`` and ``std`` computed on ``train`` only.
    meta : DatasetMeta
    mean, std : ndarray
        Per-feature statistics of the raw training features (``std`` of constant features is 1).
    """

    train: ArrayDataset
    test: ArrayDataset
    meta: DatasetMeta
    mean: NDArray[np.float64]
    std: NDArray[np.float64]


def make_split(
    x: NDArray[np.floating],
    y: NDArray[np.integer],
    meta: DatasetMeta,
    *,
    test_fraction: float = 0.25,
    seed: int = 0,
    stratify: bool = True,
) -> DataSplit:
    """Split raw arrays into a seeded train/test split and standardize both with train statistics.

    Parameters
    ----------
    x, y : ndarray
        Raw features ``(n, n_features)`` and integer labels ``(n,)`` in ``0 .. n_classes - 1``.
    meta : DatasetMeta
    test_fraction : float
        Fraction of samples held out for testing, in (0, 1).
    seed : int
        Seed of the split; the same seed gives the same split.
    stratify : bool
        Keep each class's share equal in train and test (falls back to a plain shuffle when some
        class has fewer than two samples).

    Returns
    -------
    DataSplit
    """
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction must be in (0, 1); got {test_fraction}")
    n = int(y.shape[0])
    n_test = round(n * test_fraction)
    if n_test < 1 or n - n_test < 1:
        raise DataError(
            f"{n} samples cannot be split with test_fraction={test_fraction}: both train and "
            "test need at least one sample; provide more data or change test_fraction"
        )
    rng = np.random.default_rng(seed)
    counts = np.bincount(y, minlength=meta.n_classes)
    if stratify and counts.min() >= 2:
        test_idx = _stratified_test_indices(y, n_test, rng)
    else:
        test_idx = rng.permutation(n)[:n_test]
    mask = np.zeros(n, dtype=bool)
    mask[test_idx] = True
    train_idx = np.flatnonzero(~mask)
    test_idx = np.sort(test_idx)

    x64 = np.asarray(x, dtype=np.float64)
    mean = x64[train_idx].mean(axis=0)
    std = x64[train_idx].std(axis=0)
    # Constant features (e.g. always-blank pixels) would divide by zero; leave them centred.
    std = np.where(std > 1e-12, std, 1.0)
    xs = ((x64 - mean) / std).astype(np.float32)
    yi = np.asarray(y, dtype=np.int64)
    return DataSplit(
        train=ArrayDataset(xs[train_idx], yi[train_idx]),
        test=ArrayDataset(xs[test_idx], yi[test_idx]),
        meta=meta,
        mean=mean,
        std=std,
    )


def _stratified_test_indices(
    y: NDArray[np.integer], n_test: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    classes = np.unique(y)
    n = y.shape[0]
    # Largest-remainder allocation keeps the total exactly n_test.
    quotas = np.array([np.sum(y == c) for c in classes]) * n_test / n
    take = np.floor(quotas).astype(int)
    short = n_test - int(take.sum())
    take[np.argsort(-(quotas - take), kind="stable")[:short]] += 1
    picked = []
    for c, k in zip(classes, take, strict=True):
        members = np.flatnonzero(y == c)
        picked.append(rng.permutation(members)[:k])
    return np.concatenate(picked).astype(np.int64)
