"""Heterogeneity of an organization's labels: the L1 distance to a reference distribution."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError

__all__ = ["heterogeneity", "label_counts", "mixed_heterogeneity"]

FloatArray = NDArray[np.float64]


def label_counts(labels: ArrayLike, n_classes: int) -> FloatArray:
    """Counts of each class ``0 .. n_classes - 1`` among integer ``labels``."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or (lab.size and not np.issubdtype(lab.dtype, np.integer)):
        raise GameError("must be a 1-D array of integer class labels", field="labels")
    if n_classes < 1:
        raise GameError(f"must be >= 1, got {n_classes}", field="n_classes")
    if lab.size and (lab.min() < 0 or lab.max() >= n_classes):
        raise GameError(
            f"labels must lie in [0, {n_classes - 1}], got [{lab.min()}, {lab.max()}]",
            field="labels",
        )
    return np.bincount(lab, minlength=n_classes).astype(float)


def _distribution(v: ArrayLike, field: str) -> FloatArray:
    a = np.asarray(v, dtype=float)
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise GameError("must be a non-empty 1-D array of finite counts >= 0", field=field)
    total = float(a.sum())
    if total <= 0:
        raise GameError("must have a positive total", field=field)
    return a / total


def heterogeneity(counts: ArrayLike, reference: ArrayLike | None = None) -> float:
    """delta = sum_c |q(c) - qbar(c)|, the L1 distance of a label distribution to a reference.

    Parameters
    ----------
    counts
        Per-class sample counts of one organization (see :func:`label_counts`).
    reference
        Per-class counts or probabilities of the reference distribution qbar (normalized
        here); default the uniform distribution over the classes.

    Returns
    -------
    float
        In [0, 2]: 0 for the reference mix itself, 2 for disjoint supports.

    Examples
    --------
    >>> heterogeneity([50, 50])
    0.0
    >>> heterogeneity([100, 0])
    1.0
    >>> heterogeneity([10, 0, 0], reference=[0, 1, 1])
    2.0
    """
    q = _distribution(counts, "counts")
    ref = (
        np.full(q.size, 1.0 / q.size)
        if reference is None
        else _distribution(reference, "reference")
    )
    if ref.shape != q.shape:
        raise GameError(
            f"must have one entry per class ({q.size}), got {ref.size}", field="reference"
        )
    return float(min(2.0, np.abs(q - ref).sum()))


def mixed_heterogeneity(delta: ArrayLike, D: ArrayLike, x: ArrayLike) -> FloatArray:
    """delta_i D_i / (D_i + x_i): the heterogeneity once x_i synthetic samples that follow the
    reference distribution are added to D_i real ones."""
    d, real, syn = (np.asarray(v, dtype=float) for v in (delta, D, x))
    return np.asarray(d * real / (real + syn), dtype=float)
