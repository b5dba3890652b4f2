"""The market's reported parameters: per organization N_i, c_i, K_i, and the payment weight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._block import BlockMatrix
from solver._errors import GameError

__all__ = ["Market", "check_distance", "check_distance_form"]

FloatArray = NDArray[np.float64]

#: largest legal model distance: d_ij = 1 - cos(.,.) lies in [0, 2]
MAX_DISTANCE = 2.0


def _vector(values: ArrayLike, name: str, n: int, names: Sequence[str]) -> FloatArray:
    arr = np.asarray(values, dtype=float)
    if arr.shape != (n,):
        raise GameError(f"needs one value per org ({n}), got shape {arr.shape}", field=name)
    for i, v in enumerate(arr):
        if not np.isfinite(v):
            raise GameError(
                f"must be finite, got {float(v)!r}", field=f"org[{i}].{name}", org=names[i]
            )
    return arr


@dataclass(frozen=True, eq=False)
class Market:
    """Reported parameters of a model-sharing market (``mechanisms.md`` section 3).

    Parameters
    ----------
    names
        Organization names, unique, in org order.
    N
        Data sizes N_i > 0 (samples).
    c
        Cost per export c_i >= 0 (utility units).
    K
        Eagerness K_i >= 0; ``K_i = 0`` is a pure seller that imports nothing.
    lambda_pay
        Weight lambda_pay >= 0 of the model distance in thresholds and payments.
    """

    names: tuple[str, ...]
    N: FloatArray
    c: FloatArray
    K: FloatArray
    lambda_pay: float

    def __init__(
        self,
        names: Sequence[str],
        N: ArrayLike,
        c: ArrayLike,
        K: ArrayLike,
        lambda_pay: float,
    ) -> None:
        names = tuple(names)
        n = len(names)
        if n == 0:
            raise GameError("a market needs at least one org", field="org")
        seen: set[str] = set()
        for i, name in enumerate(names):
            if not isinstance(name, str) or not name:
                raise GameError(f"must be a non-empty string, got {name!r}", field=f"org[{i}].name")
            if name in seen:
                raise GameError(f"duplicate org name {name!r}", field=f"org[{i}].name")
            seen.add(name)
        arrays = {k: _vector(v, k, n, names) for k, v in (("N", N), ("c", c), ("K", K))}
        for i in range(n):
            if arrays["N"][i] <= 0:
                raise GameError(
                    f"must be > 0 (samples), got {float(arrays['N'][i])!r}",
                    field=f"org[{i}].N",
                    org=names[i],
                )
            for key in ("c", "K"):
                if arrays[key][i] < 0:
                    raise GameError(
                        f"must be >= 0, got {float(arrays[key][i])!r}",
                        field=f"org[{i}].{key}",
                        org=names[i],
                    )
        lam = float(lambda_pay)
        if not np.isfinite(lam) or lam < 0:
            raise GameError(f"must be a finite number >= 0, got {lambda_pay!r}", field="lambda_pay")
        for a in arrays.values():
            a.setflags(write=False)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "N", arrays["N"])
        object.__setattr__(self, "c", arrays["c"])
        object.__setattr__(self, "K", arrays["K"])
        object.__setattr__(self, "lambda_pay", lam)

    @property
    def n(self) -> int:
        """Number of organizations."""
        return len(self.names)

    def replace(
        self,
        *,
        N: ArrayLike | None = None,
        c: ArrayLike | None = None,
        K: ArrayLike | None = None,
        lambda_pay: float | None = None,
    ) -> Market:
        """A copy with some parameters changed (validated again)."""
        return Market(
            self.names,
            N=self.N if N is None else N,
            c=self.c if c is None else c,
            K=self.K if K is None else K,
            lambda_pay=self.lambda_pay if lambda_pay is None else lambda_pay,
        )


def check_distance(distance: ArrayLike, n: int, field: str = "distance") -> FloatArray:
    """Validate a model-distance matrix: n x n, finite, symmetric, zero diagonal, in [0, 2].

    d_ij = 1 - cos(theta_i - theta0, theta_j - theta0) is symmetric by definition; an asymmetric
    matrix is a bug upstream, so it is rejected rather than repaired. Returns a read-only copy
    (dense, also for a :class:`solver.BlockMatrix`).
    """
    d = np.array(distance, dtype=float)
    _check_dense(d, n, field)
    d.setflags(write=False)
    return d


def check_distance_form(
    distance: FloatArray | BlockMatrix, n: int, field: str = "distance"
) -> FloatArray | BlockMatrix:
    """:func:`check_distance` without a copy: a :class:`solver.BlockMatrix` is checked on its
    table and returned as is; a float array is checked in place and returned read-only (the
    caller hands it over, as :func:`solver.market.read_distance` does with a loaded file)."""
    if isinstance(distance, BlockMatrix):
        _check_block(distance, n, field)
        return distance
    d = np.asarray(distance, dtype=float)
    _check_dense(d, n, field)
    d.setflags(write=False)
    return d


#: rows per block of the dense checks (bounds their working memory)
_CHECK_ROWS = 512


def _check_dense(d: FloatArray, n: int, field: str) -> None:
    """The checks of :func:`check_distance` in blocks of rows; the first offending entry in row
    order is reported, as by a whole-matrix check."""
    if d.shape != (n, n):
        raise GameError(f"must be a full {n} x {n} matrix (one row per org)", field=field)
    for i0 in range(0, n, _CHECK_ROWS):
        rows = d[i0 : i0 + _CHECK_ROWS]
        good = rows >= 0
        good &= rows <= MAX_DISTANCE  # false for nan too
        if not good.all():
            i, j = map(int, np.argwhere(~good)[0])
            raise GameError(
                f"entry must lie in [0, 2], got {float(rows[i, j])!r}",
                field=f"{field}[{i0 + i}][{j}]",
            )
    diag = np.flatnonzero(np.diag(d) != 0)
    if diag.size:
        i = int(diag[0])
        raise GameError(f"diagonal must be 0, got {float(d[i, i])!r}", field=f"{field}[{i}][{i}]")
    # the first asymmetric entry in row order lies above the diagonal (its mirror comes later),
    # so square tiles on and above the diagonal, a tile row at a time, find it
    for i0 in range(0, n, _CHECK_ROWS):
        found = []
        for j0 in range(i0, n, _CHECK_ROWS):
            tile = d[i0 : i0 + _CHECK_ROWS, j0 : j0 + _CHECK_ROWS]
            mirror = d[j0 : j0 + _CHECK_ROWS, i0 : i0 + _CHECK_ROWS].T
            if not np.array_equal(tile, mirror):
                i, j = map(int, np.argwhere(tile != mirror)[0])
                found.append((i0 + i, j0 + j))
        if found:
            i, j = min(found)
            raise GameError(
                f"must be symmetric: d[{i}][{j}] = {float(d[i, j])!r} but "
                f"d[{j}][{i}] = {float(d[j, i])!r}",
                field=f"{field}[{i}][{j}]",
            )


def _check_block(d: BlockMatrix, n: int, field: str) -> None:
    """The same rules on a block matrix's table (only the cluster pairs that occur count)."""
    if d.shape != (n, n):
        raise GameError(f"must be a full {n} x {n} matrix (one row per org)", field=field)
    if d.diagonal != 0:
        raise GameError(f"diagonal must be 0, got {d.diagonal!r}", field=f"{field}.diagonal")
    mu, used = d.means, d.occurring()
    bad = used & (~np.isfinite(mu) | (mu < 0) | (mu > MAX_DISTANCE))
    if bad.any():
        a, b = map(int, np.argwhere(bad)[0])
        raise GameError(
            f"entry must lie in [0, 2], got {float(mu[a, b])!r}", field=f"{field}.means[{a}][{b}]"
        )
    asym = np.argwhere(used & (mu != mu.T))
    if asym.size:
        a, b = map(int, asym[0])
        raise GameError(
            f"must be symmetric: means[{a}][{b}] = {float(mu[a, b])!r} but "
            f"means[{b}][{a}] = {float(mu[b, a])!r}",
            field=f"{field}.means[{a}][{b}]",
        )
