"""The market's reported parameters: per organization N_i, c_i, K_i, and the payment weight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError

__all__ = ["Market", "check_distance"]

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
    matrix is a bug upstream, so it is rejected rather than repaired. Returns a read-only copy.
    """
    d = np.array(distance, dtype=float)
    if d.shape != (n, n):
        raise GameError(f"must be a full {n} x {n} matrix (one row per org)", field=field)
    bad = ~np.isfinite(d) | (d < 0) | (d > MAX_DISTANCE)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise GameError(
            f"entry must lie in [0, 2], got {float(d[i, j])!r}", field=f"{field}[{i}][{j}]"
        )
    diag = np.flatnonzero(np.diag(d) != 0)
    if diag.size:
        i = int(diag[0])
        raise GameError(f"diagonal must be 0, got {float(d[i, i])!r}", field=f"{field}[{i}][{i}]")
    asym = np.argwhere(d != d.T)
    if asym.size:
        i, j = map(int, asym[0])
        raise GameError(
            f"must be symmetric: d[{i}][{j}] = {float(d[i, j])!r} but d[{j}][{i}] = {float(d[j, i])!r}",
            field=f"{field}[{i}][{j}]",
        )
    d.setflags(write=False)
    return d
