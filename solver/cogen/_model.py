"""The cogen game: organizations that choose how many synthetic samples to generate.

A formulation after CoCoGen+ (seeds 000/001, whose equations are not available), not a copy of
it; ``shared/spec/mechanisms.md`` section 2 fixes it. With D = sum_j D_j real samples,
Delta = sum_j D_j delta_j and X = sum_j x_j synthetic ones:

    L(X)      = a (D + X)^(-b) + alpha_D Delta / (D + X)          global loss
    beta_i(x) = alpha_D delta_i D_i / (D_i + x)                   private gap
    G_i       = theta_i [L(0) + beta_i(0) - L(X) - beta_i(x_i)]   monetized gain
    Lambda_i  = sum_j gamma_ij (G_j - G_i)                        competition loss
    R_i       = kappa sum_j gamma_ij (s_i - s_j),  s_i = D_i + q x_i
    C_i       = G_i - Lambda_i - c_i x_i + R_i

Units: D, x in samples; theta money per unit of loss; c money per synthetic sample; kappa money
per unit of score difference per unit of gamma.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._block import BlockMatrix
from solver._errors import GameError
from solver._sparse import issparse

__all__ = ["CogenGame", "CogenOrg", "CogenView", "Incentives", "check_value"]

FloatArray = NDArray[np.float64]

_RULES: dict[str, tuple[str, Callable[[float], bool]]] = {
    "D": ("> 0", lambda v: v > 0),
    "delta": ("in [0, 2]", lambda v: 0 <= v <= 2),
    "theta": ("> 0", lambda v: v > 0),
    "c": (">= 0", lambda v: v >= 0),
    "x_max": (">= 0", lambda v: v >= 0),
    "a": ("> 0", lambda v: v > 0),
    "b": ("> 0", lambda v: v > 0),
    "alpha_D": (">= 0", lambda v: v >= 0),
    "kappa": (">= 0", lambda v: v >= 0),
    "q": (">= 0", lambda v: v >= 0),
}


def check_value(
    name: str,
    value: Any,
    *,
    where: str | None = None,
    org: str | None = None,
    error: type[GameError] = GameError,
) -> float:
    """Validate one scalar parameter ``name`` of the game or of an org; returns it as a float.

    Raises ``error`` (:class:`GameError` or a subclass) naming ``where`` (default ``name``,
    e.g. ``"org[2].delta"`` in a configuration file) and ``org``.
    """
    at = name if where is None else where
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise error(f"must be a number, got {value!r}", field=at, org=org)
    v = float(value)
    if not math.isfinite(v):
        raise error(f"must be finite, got {v!r}", field=at, org=org)
    rule, ok = _RULES[name]
    if not ok(v):
        raise error(f"must be {rule}, got {v!r}", field=at, org=org)
    return v


@dataclass(frozen=True)
class CogenOrg:
    """One organization: ``D`` real samples, heterogeneity ``delta`` (L1 distance of its label
    mix to the reference, see :func:`solver.cogen.heterogeneity`), ``theta`` money per unit of
    loss reduction, ``c`` cost per synthetic sample and ``x_max`` the most it can generate."""

    name: str
    D: float
    delta: float
    theta: float
    c: float
    x_max: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise GameError("must be a non-empty string", field="name", org=repr(self.name))
        for name in ("D", "delta", "theta", "c", "x_max"):
            object.__setattr__(self, name, check_value(name, getattr(self, name), org=self.name))


@dataclass(frozen=True, eq=False)
class Incentives:
    """What an organization optimizes, given the aggregate X: the part of its payoff that
    depends on its own x_i is ``-w_i L(X) - A_i / (D_i + x_i) - e_i x_i``.

    In the game itself ``w`` are the potential weights, ``A_i = theta_i (1 + Gamma_i) alpha_D
    delta_i D_i`` and ``e_i = c_i - kappa q Gamma_i`` (marginal cost net of redistribution).
    Baselines (competition-blind, no redistribution) are other incentives in the same game.
    """

    w: FloatArray
    A: FloatArray
    e: FloatArray


@dataclass(frozen=True)
class CogenView:
    """What organization i needs for its own best response: its private ``D``, ``x_max`` and
    incentive coefficients ``w``, ``A``, ``e``, plus the public loss parameters (``a``, ``b``,
    ``alpha_D`` and the consortium totals ``D_total``, ``Delta``). Rivals enter only through
    the broadcast aggregate."""

    name: str
    D: float
    x_max: float
    w: float
    A: float
    e: float
    a: float
    b: float
    alpha_D: float
    D_total: float
    Delta: float

    def marginal(self, X: float) -> float:
        """-L'(X) at aggregate X."""
        u = self.D_total + X
        return self.a * self.b * u ** (-self.b - 1.0) + self.alpha_D * self.Delta / (u * u)


def _validate_block(gamma: BlockMatrix, names: tuple[str, ...]) -> BlockMatrix:
    """The rules of :func:`_validate_gamma` on a block matrix's table (pairs that occur only)."""
    n = len(names)
    if gamma.shape != (n, n):
        raise GameError(
            f"must be a {n} x {n} matrix (one row per org), got shape {gamma.shape}", field="gamma"
        )
    mu, used = gamma.means, gamma.occurring()
    if not np.all(np.isfinite(mu[used])) or not math.isfinite(gamma.diagonal):
        raise GameError("entries must be finite", field="gamma")
    if used.any() and mu[used].min() < 0:
        raise GameError(f"entries must be >= 0, got {mu[used].min():.6g}", field="gamma")
    if gamma.diagonal != 0:
        raise GameError(f"diagonal gamma_ii must be 0, got {gamma.diagonal!r}", field="gamma")
    diff = np.where(used, np.abs(mu - mu.T), 0.0)
    if diff.size and diff.max() > 1e-12:
        a, b = (int(k) for k in np.unravel_index(int(np.argmax(diff)), diff.shape))
        i, j = int(np.flatnonzero(gamma.labels == a)[0]), int(np.flatnonzero(gamma.labels == b)[-1])
        raise GameError(
            f"must be symmetric, because budget balance (sum_i R_i = 0 for every strategy) needs "
            f"gamma_ij = gamma_ji: gamma[{names[i]!r}][{names[j]!r}] = {mu[a, b]:.6g} but "
            f"gamma[{names[j]!r}][{names[i]!r}] = {mu[b, a]:.6g} (block means [{a}][{b}] and "
            f"[{b}][{a}]); fix the matrix",
            field="gamma",
            org=names[i],
        )
    return gamma


#: rows (and columns) per tile of the dense gamma checks (bounds their working memory)
_TILE = 512


def _validate_gamma(gamma: Any, names: tuple[str, ...]) -> Any:
    n = len(names)
    if isinstance(gamma, BlockMatrix):
        return _validate_block(gamma, names)
    if issparse(gamma):
        import scipy.sparse as sp

        mat: Any = sp.csr_matrix(gamma, dtype=float)
        if mat.shape != (n, n):
            raise GameError(
                f"must be a {n} x {n} matrix (one row per org), got shape {mat.shape}",
                field="gamma",
            )
        finite, low, diag = bool(np.all(np.isfinite(mat.data))), mat.data, mat.diagonal()
        dense = None
    else:
        try:
            # a read-only float array cannot change under the game: no copy (a config's matrix)
            mat = np.asarray(gamma, dtype=float)
            if mat is gamma and mat.flags.writeable:
                mat = mat.copy()
        except (TypeError, ValueError):
            raise GameError("must be an n x n matrix of numbers", field="gamma") from None
        dense = mat
        if mat.ndim != 2 or mat.shape != (n, n):
            raise GameError(
                f"must be a {n} x {n} matrix (one row per org), got shape {mat.shape}",
                field="gamma",
            )
        blocks = [mat[i0 : i0 + _TILE] for i0 in range(0, n, _TILE)]
        finite = all(bool(np.isfinite(b).all()) for b in blocks)
        low = np.array([b.min() for b in blocks]) if finite else np.zeros(0)
        diag = np.diagonal(mat)
    if not finite:
        raise GameError("entries must be finite", field="gamma")
    if low.size and low.min() < 0:
        raise GameError(f"entries must be >= 0, got {low.min():.6g}", field="gamma")
    nz = np.flatnonzero(diag != 0)
    if nz.size:
        i = int(nz[0])
        raise GameError(
            f"diagonal gamma_ii must be 0, got {diag[i]!r}", field="gamma", org=names[i]
        )
    if dense is not None:
        asymmetric = any(
            np.abs(
                dense[i0 : i0 + _TILE, j0 : j0 + _TILE] - dense[j0 : j0 + _TILE, i0 : i0 + _TILE].T
            ).max(initial=0.0)
            > 1e-12
            for i0 in range(0, n, _TILE)
            for j0 in range(i0, n, _TILE)
        )
    else:
        diff = abs(mat - mat.T)
        asymmetric = bool(diff.nnz) and diff.max() > 1e-12
    if asymmetric:
        full = dense if dense is not None else mat.toarray()
        i, j = (int(k) for k in np.unravel_index(int(np.argmax(np.abs(full - full.T))), full.shape))
        raise GameError(
            f"must be symmetric, because budget balance (sum_i R_i = 0 for every strategy) needs "
            f"gamma_ij = gamma_ji: gamma[{names[i]!r}][{names[j]!r}] = {full[i, j]:.6g} but "
            f"gamma[{names[j]!r}][{names[i]!r}] = {full[j, i]:.6g}; fix the matrix",
            field="gamma",
            org=names[i],
        )
    if dense is not None and dense.flags.writeable:
        dense.setflags(write=False)
    return mat


@dataclass(frozen=True, eq=False)
class CogenGame:
    """The cogen game: organizations plus the loss, score and redistribution parameters.

    ``gamma`` is the competition matrix (dense array, scipy sparse or :class:`solver.BlockMatrix`,
    which stays structured; symmetric, >= 0, zero
    diagonal). Construction validates everything and raises :class:`solver.GameError` naming
    the field and organization, including a weight ``w_i <= 0``.
    """

    orgs: tuple[CogenOrg, ...]
    a: float
    b: float
    alpha_D: float
    kappa: float
    q: float
    gamma: Any = field(repr=False)

    def __post_init__(self) -> None:
        orgs = tuple(self.orgs)
        if not orgs:
            raise GameError("needs at least one organization", field="orgs")
        for i, o in enumerate(orgs):
            if not isinstance(o, CogenOrg):
                raise GameError(f"entry {i} is {type(o).__name__}, not CogenOrg", field="orgs")
        names = tuple(o.name for o in orgs)
        if len(set(names)) != len(names):
            dup = sorted({x for x in names if names.count(x) > 1})
            raise GameError(f"organization names must be unique, repeated: {dup}", field="orgs")
        object.__setattr__(self, "orgs", orgs)
        for name in ("a", "b", "alpha_D", "kappa", "q"):
            object.__setattr__(self, name, check_value(name, getattr(self, name)))
        object.__setattr__(self, "gamma", _validate_gamma(self.gamma, names))
        bad = np.flatnonzero(self.w <= 0)
        if bad.size:
            i = int(bad[0])
            raise GameError(
                f"weight w = theta (1 + Gamma) - sum_j gamma_ij theta_j = {self.w[i]:.6g} must be "
                f"> 0 (theta = {self.theta[i]:.6g}, Gamma = {self.Gamma[i]:.6g}, sum_j gamma_ij "
                f"theta_j = {self._rival_theta[i]:.6g}); lower this org's competition "
                "intensities or raise its theta",
                field="gamma",
                org=names[i],
            )

    # -- per-org arrays ------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of organizations."""
        return len(self.orgs)

    @property
    def names(self) -> tuple[str, ...]:
        """Organization names in order."""
        return tuple(o.name for o in self.orgs)

    def _col(self, name: str) -> FloatArray:
        return np.array([getattr(o, name) for o in self.orgs], dtype=float)

    @cached_property
    def D(self) -> FloatArray:
        """Real samples per org."""
        return self._col("D")

    @cached_property
    def delta(self) -> FloatArray:
        """Heterogeneity per org."""
        return self._col("delta")

    @cached_property
    def theta(self) -> FloatArray:
        """Money per unit of loss reduction, per org."""
        return self._col("theta")

    @cached_property
    def c(self) -> FloatArray:
        """Cost per synthetic sample, per org."""
        return self._col("c")

    @cached_property
    def x_max(self) -> FloatArray:
        """Largest generation per org."""
        return self._col("x_max")

    def mul_gamma(self, v: ArrayLike) -> FloatArray:
        """gamma @ v (dense or sparse gamma)."""
        return np.asarray(self.gamma @ np.asarray(v, dtype=float), dtype=float).ravel()

    @cached_property
    def Gamma(self) -> FloatArray:
        """Row sums Gamma_i = sum_j gamma_ij."""
        return np.asarray(self.gamma.sum(axis=1), dtype=float).ravel()

    @cached_property
    def _rival_theta(self) -> FloatArray:
        return self.mul_gamma(self.theta)

    @cached_property
    def w(self) -> FloatArray:
        """Potential weights w_i = theta_i (1 + Gamma_i) - sum_j gamma_ij theta_j."""
        return self.theta * (1.0 + self.Gamma) - self._rival_theta

    # -- the loss ------------------------------------------------------------------------------
    @cached_property
    def D_total(self) -> float:
        """D = sum_j D_j."""
        return math.fsum(self.D)

    @cached_property
    def Delta(self) -> float:
        """Delta = sum_j D_j delta_j."""
        return math.fsum(self.D * self.delta)

    def loss(self, X: ArrayLike) -> Any:
        """Global loss L(X) = a (D + X)^(-b) + alpha_D Delta / (D + X)."""
        u = self.D_total + np.asarray(X, dtype=float)
        return self.a * u ** (-self.b) + self.alpha_D * self.Delta / u

    def marginal(self, X: ArrayLike) -> Any:
        """Marginal loss reduction m(X) = -L'(X) > 0, decreasing in X."""
        u = self.D_total + np.asarray(X, dtype=float)
        return self.a * self.b * u ** (-self.b - 1.0) + self.alpha_D * self.Delta / (u * u)

    def gap(self, x: ArrayLike) -> FloatArray:
        """Private gaps beta_i(x_i) = alpha_D delta_i D_i / (D_i + x_i)."""
        return np.asarray(
            self.alpha_D * self.delta * self.D / (self.D + np.asarray(x, dtype=float)), dtype=float
        )

    # -- incentives ----------------------------------------------------------------------------
    @cached_property
    def incentives(self) -> Incentives:
        """The game's own incentive coefficients (see :class:`Incentives`)."""
        own = self.theta * (1.0 + self.Gamma)
        return Incentives(
            w=self.w,
            A=own * self.alpha_D * self.delta * self.D,
            e=self.c - self.kappa * self.q * self.Gamma,
        )

    def view(self, org: int | str, incentives: Incentives | None = None) -> CogenView:
        """The information organization ``org`` needs for its own best response."""
        i = self.index(org)
        inc = self.incentives if incentives is None else incentives
        return CogenView(
            name=self.orgs[i].name,
            D=float(self.D[i]),
            x_max=float(self.x_max[i]),
            w=float(inc.w[i]),
            A=float(inc.A[i]),
            e=float(inc.e[i]),
            a=self.a,
            b=self.b,
            alpha_D=self.alpha_D,
            D_total=self.D_total,
            Delta=self.Delta,
        )

    def index(self, org: int | str) -> int:
        """Position of an organization given its index or name."""
        if isinstance(org, str):
            try:
                return self.names.index(org)
            except ValueError:
                raise GameError(f"no organization named {org!r}", field="orgs") from None
        if not -self.n <= org < self.n:
            raise GameError(f"index {org} out of range for {self.n} organizations", field="orgs")
        return org % self.n

    def replace(self, **changes: Any) -> CogenGame:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def scaled(self, *, delta: float = 1.0, gamma: float = 1.0) -> CogenGame:
        """A copy with every delta_i multiplied by ``delta`` and gamma by ``gamma``."""
        orgs = tuple(replace(o, delta=o.delta * delta) for o in self.orgs)
        return replace(self, orgs=orgs, gamma=self.gamma * gamma)

    def profile(self, x: ArrayLike, name: str = "x") -> FloatArray:
        """Validate a strategy profile (one finite entry per org); returns a float array."""
        xx = np.asarray(x, dtype=float)
        if xx.shape != (self.n,):
            raise GameError(
                f"must have one entry per organization ({self.n}), got shape {xx.shape}",
                field=name,
            )
        if not np.all(np.isfinite(xx)):
            raise GameError("entries must be finite", field=name)
        return xx
