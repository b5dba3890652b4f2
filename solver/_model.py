"""The coopetition game of the TradeFL mechanism as validated value objects.

Units: ``s`` is the local data size in the unit the accuracy function expects (the presets use
samples), ``F`` compute levels in cycles per second, ``eta`` cycles per unit of data, ``T1``,
``T3`` and ``tau`` seconds, ``kappa`` the chip's effective capacitance (energy = kappa f^2 cycles),
``e_comm`` joules per round. ``w_e`` converts joules into payoff units.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from solver._accuracy import AccuracyFunction, PaperAccuracy
from solver._arrays import GameArrays, LevelTables
from solver._block import BlockMatrix
from solver._errors import GameError, RhoSymmetrizedWarning
from solver._sparse import issparse

__all__ = ["Game", "Org", "OrgView", "symmetrize_rho"]

FloatArray = NDArray[np.float64]


def _finite(value: Any, name: str, org: str | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise GameError(f"must be a number, got {value!r}", field=name, org=org)
    v = float(value)
    if not math.isfinite(v):
        raise GameError(f"must be finite, got {v!r}", field=name, org=org)
    return v


@dataclass(frozen=True)
class Org:
    """One organization: its data size ``s``, profitability ``p``, compute levels ``F`` (Hz,
    strictly increasing), cycles per unit of data ``eta``, download/upload times ``T1``/``T3``
    (s) and communication energy ``e_comm`` (J)."""

    name: str
    s: float
    p: float
    F: tuple[float, ...]
    eta: float
    T1: float
    T3: float
    e_comm: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise GameError("must be a non-empty string", field="name", org=repr(self.name))
        org = self.name
        for name in ("s", "p", "eta"):
            v = _finite(getattr(self, name), name, org)
            if v <= 0:
                raise GameError(f"must be > 0, got {v!r}", field=name, org=org)
            object.__setattr__(self, name, v)
        for name in ("T1", "T3", "e_comm"):
            v = _finite(getattr(self, name), name, org)
            if v < 0:
                raise GameError(f"must be >= 0, got {v!r}", field=name, org=org)
            object.__setattr__(self, name, v)
        if isinstance(self.F, str) or not isinstance(self.F, Sequence | np.ndarray):
            raise GameError("must be a list of compute levels in Hz", field="F", org=org)
        levels = tuple(_finite(f, "F", org) for f in self.F)
        if not levels:
            raise GameError("needs at least one compute level", field="F", org=org)
        if levels[0] <= 0 or any(b <= a for a, b in itertools.pairwise(levels)):
            raise GameError(
                f"levels must be positive and strictly increasing, got {list(levels)}",
                field="F",
                org=org,
            )
        object.__setattr__(self, "F", levels)


@dataclass(frozen=True)
class OrgView:
    """What organization i knows when it computes its best response: its own (private)
    parameters, its weight ``z`` and competition sum ``rhobar``, and the public consortium
    parameters. Rivals enter only through the aggregate of their data (see
    :func:`solver.best_response`)."""

    org: Org
    z: float
    rhobar: float
    tau: float
    gamma: float
    lam: float
    w_e: float
    kappa: float
    D_min: float
    accuracy: AccuracyFunction


def symmetrize_rho(rho: Any) -> Any:
    """Return (rho + rho^T) / 2, warning with :class:`RhoSymmetrizedWarning` if it changed.

    Budget balance (sum_i R_i = 0) holds for every strategy only with a symmetric rho, so the
    game rejects an asymmetric one; call this to opt in to symmetrizing instead. A sparse
    matrix stays sparse, a :class:`solver.BlockMatrix` a block matrix.
    """
    if isinstance(rho, BlockMatrix):
        mu = rho.means
        diff = float(np.max(np.abs(mu - mu.T), initial=0.0, where=rho.occurring()))
        if diff > 0:
            warnings.warn(
                f"rho was asymmetric (max |rho_ij - rho_ji| = {diff:.3g}); using (rho + rho^T)/2",
                RhoSymmetrizedWarning,
                stacklevel=2,
            )
        return BlockMatrix(rho.labels, 0.5 * (mu + mu.T), rho.diagonal)
    m = rho.tocsr().astype(float) if issparse(rho) else np.array(rho, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise GameError(f"must be a square matrix, got shape {m.shape}", field="rho")
    sym = 0.5 * (m + m.T)
    diff = abs(m - m.T).max() if issparse(m) else np.max(np.abs(m - m.T), initial=0.0)
    if diff > 0:
        warnings.warn(
            f"rho was asymmetric (max |rho_ij - rho_ji| = {diff:.3g}); using (rho + rho^T)/2",
            RhoSymmetrizedWarning,
            stacklevel=2,
        )
    return sym


@dataclass(frozen=True, eq=False)
class Game:
    """The coopetition game: organizations plus consortium parameters.

    ``rho`` is the competition matrix (dense array, scipy sparse or :class:`solver.BlockMatrix`;
    symmetric, entries in [0, 1], zero diagonal). ``accuracy`` overrides the data-accuracy
    function; by default it is the paper's form built from ``A0`` and ``G``
    (:class:`PaperAccuracy`). Construction validates everything and raises :class:`GameError`
    naming the field and organization.
    """

    orgs: tuple[Org, ...]
    tau: float
    gamma: float
    lam: float
    w_e: float
    kappa: float
    G: float
    D_min: float
    A0: float
    rho: Any
    accuracy: AccuracyFunction | None = field(default=None)

    def __post_init__(self) -> None:
        orgs = tuple(self.orgs)
        if not orgs:
            raise GameError("needs at least one organization", field="orgs")
        for i, o in enumerate(orgs):
            if not isinstance(o, Org):
                raise GameError(f"entry {i} is {type(o).__name__}, not Org", field="orgs")
        names = [o.name for o in orgs]
        if len(set(names)) != len(names):
            dup = sorted({x for x in names if names.count(x) > 1})
            raise GameError(f"organization names must be unique, repeated: {dup}", field="orgs")
        object.__setattr__(self, "orgs", orgs)
        for name in ("tau", "gamma", "lam", "w_e", "kappa", "G", "D_min", "A0"):
            object.__setattr__(self, name, _finite(getattr(self, name), name))
        for name, ok, rule in (
            ("tau", self.tau > 0, "> 0"),
            ("gamma", self.gamma >= 0, ">= 0"),
            ("lam", self.lam > 0, "> 0"),
            ("w_e", self.w_e >= 0, ">= 0"),
            ("kappa", self.kappa >= 0, ">= 0"),
            ("G", self.G > 0, "> 0"),
            ("D_min", 0 < self.D_min <= 1, "in (0, 1]"),
        ):
            if not ok:
                raise GameError(f"must be {rule}, got {getattr(self, name)!r}", field=name)
        if self.accuracy is not None and not isinstance(self.accuracy, AccuracyFunction):
            raise GameError("must be an AccuracyFunction or None", field="accuracy")
        problem = getattr(self.accuracy, "fit_problem", None)
        if problem is not None:
            raise GameError(
                f"{problem}; to use this P anyway, pass fit.accept() instead of fit.function",
                field="accuracy",
            )
        object.__setattr__(self, "rho", _validate_rho(self.rho, names))
        self._validate_weights_and_levels()

    def _validate_weights_and_levels(self) -> None:
        arr = self.arrays
        bad = np.flatnonzero(arr.z <= 0)
        if bad.size:
            i = int(bad[0])
            raise GameError(
                f"weight z = p - sum_j rho_ij p_j = {arr.z[i]:.6g} must be > 0 (p = {arr.p[i]:.6g}, "
                f"sum_j rho_ij p_j = {arr.q[i]:.6g}); lower this org's competition intensities "
                "or raise its profitability",
                field="rho",
                org=self.orgs[i].name,
            )
        none = np.flatnonzero(~arr.ok.any(axis=1))
        if none.size:
            i = int(none[0])
            o = self.orgs[i]
            raise GameError(
                f"no feasible compute level: even F = {o.F[-1]:.6g} Hz cannot process "
                f"D_min*s = {self.D_min * o.s:.6g} units within tau - T1 - T3 = "
                f"{self.tau - o.T1 - o.T3:.6g} s; raise tau or F, or lower eta, s or D_min",
                field="F",
                org=o.name,
            )
        lo, hi = (
            float(arr.lo.sum()),
            float(np.nanmax(np.where(arr.ok, arr.hi, np.nan), axis=1).sum()),
        )
        grid = np.geomspace(lo, max(hi, lo * (1 + 1e-9)), 9)
        der = self.P.derivative(grid)
        val = self.P.value(grid)
        if not (np.all(np.isfinite(der)) and np.all(np.isfinite(val))):
            raise GameError("P or P' is not finite on the feasible aggregates", field="accuracy")
        if np.any(der < 0) or np.any(np.diff(der) > 1e-12 * np.abs(der[:-1])):
            raise GameError(
                f"P must be increasing and concave on the feasible aggregates [{lo:.6g}, {hi:.6g}]",
                field="accuracy",
            )

    # -- convenience -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of organizations."""
        return len(self.orgs)

    @property
    def names(self) -> tuple[str, ...]:
        """Organization names in order."""
        return tuple(o.name for o in self.orgs)

    @cached_property
    def P(self) -> AccuracyFunction:
        """The data-accuracy function in use."""
        return self.accuracy if self.accuracy is not None else PaperAccuracy(self.A0, self.G)

    @property
    def z(self) -> FloatArray:
        """Potential weights z_i = p_i - sum_j rho_ij p_j."""
        return self.arrays.z

    @property
    def rhobar(self) -> FloatArray:
        """Row sums rhobar_i = sum_j rho_ij."""
        return self.arrays.rhobar

    def replace(self, **changes: Any) -> Game:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

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

    def view(self, org: int | str) -> OrgView:
        """The information organization ``org`` needs for its own best response."""
        i = self.index(org)
        return OrgView(
            org=self.orgs[i],
            z=float(self.arrays.z[i]),
            rhobar=float(self.arrays.rhobar[i]),
            tau=self.tau,
            gamma=self.gamma,
            lam=self.lam,
            w_e=self.w_e,
            kappa=self.kappa,
            D_min=self.D_min,
            accuracy=self.P,
        )

    def rho_dense(self) -> FloatArray:
        """rho as a dense array (a copy for sparse input)."""
        return self.rho.toarray() if issparse(self.rho) else np.array(self.rho)

    @cached_property
    def arrays(self) -> GameArrays:
        """Per-organization arrays derived from the game (read-only by convention)."""
        return GameArrays.build(self)

    @cached_property
    def tables(self) -> LevelTables:
        """Per-(organization, level) coefficients of payoffs and potential."""
        return LevelTables.build(self)


def _first_outside(mat: Any) -> tuple[int, int]:
    """Row and column of the first entry of ``mat`` (dense or sparse) outside [0, 1]."""
    if issparse(mat):
        coo = mat.tocoo()
        bad = np.flatnonzero((coo.data < 0) | (coo.data > 1))
        k = int(bad[np.lexsort((coo.col[bad], coo.row[bad]))[0]])
        return int(coo.row[k]), int(coo.col[k])
    flat = int(np.flatnonzero((mat < 0) | (mat > 1))[0])
    i, j = divmod(flat, mat.shape[1])
    return i, j


def _validate_block(rho: BlockMatrix, names: list[str]) -> BlockMatrix:
    """The rules of :func:`_validate_rho` on a block matrix's table (pairs that occur only)."""
    n = len(names)
    if rho.shape != (n, n):
        raise GameError(
            f"must be a {n} x {n} matrix (one row per org), got shape {rho.shape}", field="rho"
        )
    mu, used = rho.means, rho.occurring()
    if not (np.all(np.isfinite(mu[used])) and math.isfinite(rho.diagonal)):
        raise GameError("entries must be finite", field="rho")
    outside = np.argwhere(used & ((mu < 0) | (mu > 1)))
    if outside.size:
        a, b = (int(k) for k in outside[0])
        raise GameError(
            f"entries must lie in [0, 1], got block means [{a}][{b}] = {float(mu[a, b]):.6g}",
            field="rho",
        )
    if rho.diagonal != 0:
        raise GameError(f"diagonal rho_ii must be 0, got {rho.diagonal:.6g}", field="rho")
    asym = np.argwhere(used & (np.abs(mu - mu.T) > 1e-12))
    if asym.size:
        a, b = (int(k) for k in asym[0])
        raise GameError(
            f"must be symmetric for budget balance: block means [{a}][{b}] = {mu[a, b]:.6g} but "
            f"[{b}][{a}] = {mu[b, a]:.6g}; fix the matrix or symmetrize it explicitly with "
            "solver.symmetrize_rho",
            field="rho",
        )
    return rho


def _validate_rho(rho: Any, names: list[str]) -> Any:
    n = len(names)
    if isinstance(rho, BlockMatrix):
        return _validate_block(rho, names)
    if issparse(rho):
        mat = rho.tocsr().astype(float)
        data = mat.data
        diag = mat.diagonal()
        asym = abs(mat - mat.T)
        asym_max = float(asym.max()) if asym.nnz else 0.0
    else:
        try:
            mat = np.array(rho, dtype=float)
        except (TypeError, ValueError):
            raise GameError("must be an n x n matrix of numbers", field="rho") from None
        data = mat.ravel()
        diag = np.diagonal(mat) if mat.ndim == 2 else np.zeros(0)
        asym_max = (
            float(np.max(np.abs(mat - mat.T)))
            if mat.ndim == 2 and mat.shape[0] == mat.shape[1]
            else 0.0
        )
    if mat.ndim != 2 or mat.shape != (n, n):
        raise GameError(
            f"must be a {n} x {n} matrix (one row per org), got shape {mat.shape}", field="rho"
        )
    if not np.all(np.isfinite(data)):
        raise GameError("entries must be finite", field="rho")
    if data.size and (data.min() < 0 or data.max() > 1):
        i, j = _first_outside(mat)
        raise GameError(
            f"entries must lie in [0, 1], got rho[{names[i]!r}][{names[j]!r}] = "
            f"{float(mat[i, j]):.6g} (entry [{i}][{j}]; range of all entries "
            f"[{data.min():.6g}, {data.max():.6g}])",
            field="rho",
            org=names[i],
        )
    nz = np.flatnonzero(diag != 0)
    if nz.size:
        i = int(nz[0])
        raise GameError(
            f"diagonal rho_ii must be 0, got rho[{names[i]!r}][{names[i]!r}] = {float(diag[i]):.6g}",
            field="rho",
            org=names[i],
        )
    if asym_max > 1e-12:
        dense = mat.toarray() if issparse(mat) else mat
        ij = np.unravel_index(int(np.argmax(np.abs(dense - dense.T))), dense.shape)
        i, j = int(ij[0]), int(ij[1])
        raise GameError(
            f"must be symmetric for budget balance: rho[{names[i]!r}][{names[j]!r}] = {dense[i, j]:.6g} "
            f"but rho[{names[j]!r}][{names[i]!r}] = {dense[j, i]:.6g}; fix the matrix or "
            "symmetrize it explicitly with solver.symmetrize_rho",
            field="rho",
            org=names[i],
        )
    if issparse(mat):
        return mat
    mat.setflags(write=False)
    return mat
