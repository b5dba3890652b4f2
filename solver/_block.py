"""Block (cluster) matrices kept structured: the ``uniform`` and ``block`` matrix forms.

Entry (i, j), i != j, of a :class:`BlockMatrix` is ``means[labels[i], labels[j]]`` and every
diagonal entry is ``diagonal``. It stores n labels and a k x k table instead of n^2 numbers, and
does in O(n + k^2) what the solvers need from a competition matrix: products with a vector, row
sums, scaling; :meth:`BlockMatrix.take_rows` gives dense rows for chunked work, and ``np.asarray``
the dense matrix for code that needs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["BlockMatrix"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class BlockMatrix:
    """An n x n matrix that is constant on each pair of clusters, with a constant diagonal.

    Parameters
    ----------
    labels
        Cluster index of each row/column, in 0..k-1 (length n).
    means
        The k x k table of off-diagonal entries per pair of clusters.
    diagonal
        Every diagonal entry.

    Examples
    --------
    >>> m = BlockMatrix([0, 0, 1], [[0.2, 0.1], [0.1, 0.3]])
    >>> m.toarray().tolist()
    [[0.0, 0.2, 0.1], [0.2, 0.0, 0.1], [0.1, 0.1, 0.0]]
    >>> (m @ np.array([1.0, 2.0, 4.0])).tolist(), m.sum(axis=1).tolist()
    ([0.8, 0.6, 0.30000000000000004], [0.30000000000000004, 0.30000000000000004, 0.2])
    """

    labels: NDArray[np.intp]
    means: FloatArray
    diagonal: float = 0.0

    def __init__(self, labels: ArrayLike, means: ArrayLike, diagonal: float = 0.0) -> None:
        lab = np.array(labels, dtype=np.intp)
        mu = np.array(means, dtype=float)
        k = mu.shape[0] if mu.ndim == 2 else -1
        if (
            mu.shape != (k, k)
            or lab.ndim != 1
            or (lab.size and not 0 <= lab.min() <= lab.max() < k)
        ):
            raise ValueError("labels must index the rows of a square means table")
        lab.setflags(write=False)
        mu.setflags(write=False)
        object.__setattr__(self, "labels", lab)
        object.__setattr__(self, "means", mu)
        object.__setattr__(self, "diagonal", float(diagonal))

    @property
    def shape(self) -> tuple[int, int]:
        """(n, n)."""
        return (self.labels.size, self.labels.size)

    @property
    def ndim(self) -> int:
        """2, as for a matrix."""
        return 2

    @property
    def T(self) -> BlockMatrix:
        """The transpose."""
        return BlockMatrix(self.labels, self.means.T, self.diagonal)

    @property
    def sizes(self) -> NDArray[np.intp]:
        """Number of rows in each cluster."""
        return np.bincount(self.labels, minlength=self.means.shape[0])

    def occurring(self) -> NDArray[np.bool_]:
        """k x k mask of the cluster pairs that some off-diagonal entry (i != j) takes."""
        s = self.sizes
        mask = (s[:, None] > 0) & (s[None, :] > 0)
        np.fill_diagonal(mask, s >= 2)
        return np.asarray(mask)

    def take_rows(self, index: ArrayLike) -> FloatArray:
        """The rows ``index`` (integer array) as a dense len(index) x n array."""
        idx = np.asarray(index, dtype=np.intp)
        clusters, which = np.unique(self.labels[idx], return_inverse=True)
        out = self.means[clusters][:, self.labels][which]
        out[np.arange(idx.size), idx] = self.diagonal
        return out

    def toarray(self) -> FloatArray:
        """The dense n x n matrix."""
        return self.take_rows(np.arange(self.labels.size))

    def __array__(self, dtype: Any = None, copy: Any = None) -> FloatArray:
        arr = self.toarray()
        return arr if dtype is None else arr.astype(dtype)

    def __getitem__(self, key: tuple[int, int]) -> float:
        i, j = (int(v) for v in key)
        return self.diagonal if i == j else float(self.means[self.labels[i], self.labels[j]])

    def __matmul__(self, v: ArrayLike) -> FloatArray:
        x = np.asarray(v, dtype=float)
        if x.shape != (self.labels.size,):
            raise ValueError(f"needs a vector of length {self.labels.size}, got shape {x.shape}")
        per_cluster = np.bincount(self.labels, weights=x, minlength=self.means.shape[0])
        own = self.means[self.labels, self.labels]
        return np.asarray(
            (self.means @ per_cluster)[self.labels] + (self.diagonal - own) * x, dtype=float
        )

    def sum(self, axis: int | None = None) -> Any:
        """Row sums (``axis=1``), column sums (``axis=0``) or the total (``None``)."""
        if axis is None:
            return float(self.sum(axis=1).sum())
        mat = self.means if axis == 1 else self.means.T
        own = self.means[self.labels, self.labels]
        return (mat @ self.sizes.astype(float))[self.labels] + self.diagonal - own

    def __mul__(self, scalar: float) -> BlockMatrix:
        s = float(scalar)
        return BlockMatrix(self.labels, self.means * s, self.diagonal * s)

    __rmul__ = __mul__
