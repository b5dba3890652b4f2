"""The one fixed-point module: scales, exact real -> integer conversion, and a Python mirror of the
contract's integer arithmetic (scores, pair transfers, payoffs, bonds, payoff digest).

Scales (shared with ``contracts/FedSettle.sol``):

- :data:`WAD` = 10**18 for ``gammaWad``, ``lambdaWad`` and ``dMinWad``;
- :data:`BPS` = 10_000 for rho entries (basis points, ``1.0 == 10_000``);
- ``xScale`` / ``fScale`` per round for the reports (``x_real = x / xScale``).

Rounding of conversions: a real value is read exactly (ints, ``Decimal``, ``Fraction`` and decimal
strings as written; a float through its shortest round-trip decimal ``repr``, so ``0.1`` is exactly
one tenth), multiplied by the scale and **truncated toward zero**, the same rule the contract uses
for money. Pass ``exact=True`` to reject values that the scale cannot represent.

The arithmetic functions are the "independent Python computation" that tests and the auditor
compare the chain against: integers only, Solidity's division (truncation toward zero, also for
negative numerators).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from eth_abi import encode as abi_encode
from eth_utils import keccak

from settlement._errors import ConfigError, RhoError

WAD = 10**18
"""Scale of ``gammaWad``, ``lambdaWad`` and ``dMinWad``."""

BPS = 10_000
"""Scale of rho entries (basis points)."""

Real = int | float | str | Decimal | Fraction


# ----------------------------------------------------------------------------- conversions
def _as_fraction(value: Any, field: str) -> Fraction:
    if hasattr(value, "item") and not isinstance(value, int):  # numpy scalar -> Python scalar
        value = value.item()
    if isinstance(value, bool):
        raise ConfigError(f"{field}: expected a number, got bool {value!r}")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{field}: {value!r} is not a finite number")
        return Fraction(Decimal(repr(float(value))))
    if isinstance(value, Decimal | str):
        try:
            dec = Decimal(value)
        except ArithmeticError as exc:
            raise ConfigError(f"{field}: {value!r} is not a decimal number") from exc
        if not dec.is_finite():
            raise ConfigError(f"{field}: {value!r} is not a finite number")
        return Fraction(dec)
    raise ConfigError(f"{field}: expected a real number, got {type(value).__name__} {value!r}")


def div_trunc(numerator: int, denominator: int) -> int:
    """Integer division rounded toward zero, like Solidity's ``/`` on ``int256``.

    Examples
    --------
    >>> div_trunc(-7, 2), div_trunc(7, 2), -7 // 2
    (-3, 3, -4)
    """
    if denominator == 0:
        raise ZeroDivisionError("div_trunc: denominator is 0")
    q = abs(numerator) // abs(denominator)
    return q if (numerator >= 0) == (denominator > 0) else -q


def div_ceil(numerator: int, denominator: int) -> int:
    """Ceiling division of non-negative integers (``(a + b - 1) / b`` in Solidity)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("div_ceil: needs numerator >= 0 and denominator > 0")
    return -(-numerator // denominator)


def to_scaled(
    value: Real,
    scale: int,
    *,
    field: str = "value",
    exact: bool = False,
    signed: bool = False,
) -> int:
    """Convert a real number to a fixed-point integer ``trunc(value * scale)``.

    Parameters
    ----------
    value : int, float, str, Decimal or Fraction
        The real value; floats are read through their shortest ``repr``.
    scale : int
        The fixed-point scale (``WAD``, ``BPS``, a round's ``xScale``...).
    field : str
        Name used in error messages.
    exact : bool
        Raise instead of truncating when ``value * scale`` is not an integer.
    signed : bool
        Allow negative values.

    Returns
    -------
    int
        ``value * scale`` truncated toward zero.

    Raises
    ------
    ConfigError
        If the value is not a finite real, is negative (unless ``signed``), or is not exactly
        representable with ``exact=True``.

    Examples
    --------
    >>> to_scaled(0.1, 10**18)
    100000000000000000
    >>> to_scaled("2.5", 3)
    7
    """
    if scale <= 0:
        raise ConfigError(f"{field}: scale must be a positive integer, got {scale!r}")
    frac = _as_fraction(value, field) * scale
    if frac < 0 and not signed:
        raise ConfigError(f"{field}: {value!r} is negative; it must be >= 0")
    result = math.trunc(frac)
    if exact and result != frac:
        raise ConfigError(
            f"{field}: {value!r} is not a multiple of 1/{scale}; round it or raise the scale"
        )
    return result


def to_wad(value: Real, *, field: str = "value", exact: bool = False) -> int:
    """``to_scaled(value, WAD)``: a non-negative real as a WAD integer (truncated)."""
    return to_scaled(value, WAD, field=field, exact=exact)


def to_bps(value: Real, *, field: str = "value", exact: bool = False) -> int:
    """``to_scaled(value, BPS)``: a real in [0, 1] as basis points (truncated)."""
    bps = to_scaled(value, BPS, field=field, exact=exact)
    if bps > BPS:
        raise ConfigError(f"{field}: {value!r} is above 1.0; it must be in [0, 1]")
    return bps


def from_scaled(value: int, scale: int) -> Fraction:
    """The exact real ``value / scale``."""
    return Fraction(value, scale)


# ----------------------------------------------------------------------------------- rho
RhoUnit = Literal["auto", "fraction", "bps"]


def _rows(matrix: Any) -> list[list[Any]]:
    if hasattr(matrix, "tolist"):  # numpy array
        matrix = matrix.tolist()
    try:
        rows = [list(row) for row in matrix]
    except TypeError as exc:
        raise RhoError("rho: expected a square matrix (a sequence of rows)") from exc
    n = len(rows)
    if n < 2:
        raise RhoError(f"rho: needs at least 2 organizations, got a {n}x{n} matrix")
    for i, row in enumerate(rows):
        if len(row) != n:
            raise RhoError(f"rho: row {i} has {len(row)} entries; a {n}x{n} matrix is needed")
    return rows


def rho_to_bps(matrix: Any, *, unit: RhoUnit = "auto", symmetrize: bool = False) -> list[list[int]]:
    """Validate a competition matrix and return it in basis points.

    Parameters
    ----------
    matrix : sequence of sequences or numpy array
        Square matrix, either fractions in [0, 1] or integer basis points in [0, 10000].
    unit : {"auto", "fraction", "bps"}
        ``"auto"``: a matrix of only integers is basis points, otherwise fractions.
        (A 0/1 integer matrix meant as fractions needs ``unit="fraction"``.)
    symmetrize : bool
        Replace an asymmetric matrix by ``(rho + rho.T) / 2`` (in bps, truncated) with a
        warning, instead of raising.

    Returns
    -------
    list of list of int
        The validated matrix in basis points.

    Raises
    ------
    RhoError
        Naming the first bad entry: out of range, non-zero diagonal, or asymmetric.
    """
    rows = _rows(matrix)
    n = len(rows)
    if unit == "auto":
        all_int = all(isinstance(v, int) and not isinstance(v, bool) for r in rows for v in r)
        unit = "bps" if all_int else "fraction"
    bps: list[list[int]] = []
    for i, row in enumerate(rows):
        out: list[int] = []
        for j, v in enumerate(row):
            field = f"rho[{i}][{j}]"
            if unit == "bps":
                if isinstance(v, bool) or not isinstance(v, int):
                    raise RhoError(f"{field} = {v!r}: basis-point entries must be integers")
                b = v
            else:
                try:
                    b = to_scaled(v, BPS, field=field, signed=True)
                except ConfigError as exc:
                    raise RhoError(str(exc)) from exc
            if not 0 <= b <= BPS:
                shown = f"{v!r} bps" if unit == "bps" else repr(v)
                raise RhoError(f"{field} = {shown} is out of range; entries must be in [0, 1]")
            out.append(b)
        bps.append(out)
    for i in range(n):
        if bps[i][i] != 0:
            raise RhoError(f"rho[{i}][{i}] = {rows[i][i]!r}: the diagonal must be 0")
    asym = [(i, j) for i in range(n) for j in range(i + 1, n) if bps[i][j] != bps[j][i]]
    if asym and not symmetrize:
        i, j = asym[0]
        raise RhoError(
            f"rho[{i}][{j}] = {rows[i][j]!r} but rho[{j}][{i}] = {rows[j][i]!r}: rho must be "
            "symmetric for exact budget balance; fix it or pass symmetrize=True"
        )
    if asym:
        warnings.warn(
            f"rho: symmetrized {len(asym)} asymmetric pair(s), first rho[{asym[0][0]}]"
            f"[{asym[0][1]}]; entries became (rho_ij + rho_ji) / 2 in bps",
            stacklevel=2,
        )
        for i, j in asym:
            bps[i][j] = bps[j][i] = (bps[i][j] + bps[j][i]) // 2
    return bps


def pack_rho(matrix: Any, *, unit: RhoUnit = "auto", symmetrize: bool = False) -> bytes:
    """Validate ``matrix`` (see :func:`rho_to_bps`) and pack it as the contract expects.

    Returns
    -------
    bytes
        ``n*n`` big-endian ``uint16`` entries, row-major (``2*n*n`` bytes).

    Examples
    --------
    >>> pack_rho([[0.0, 0.5], [0.5, 0.0]]).hex()
    '0000138813880000'
    """
    bps = rho_to_bps(matrix, unit=unit, symmetrize=symmetrize)
    return b"".join(v.to_bytes(2, "big") for row in bps for v in row)


def unpack_rho(data: bytes) -> list[list[int]]:
    """Inverse of :func:`pack_rho` (no validation beyond the length): the matrix in bps."""
    if len(data) % 2:
        raise RhoError(f"rho: {len(data)} bytes is not a whole number of uint16 entries")
    count = len(data) // 2
    n = math.isqrt(count)
    if n * n != count:
        raise RhoError(f"rho: {count} entries is not a square number (n*n)")
    flat = [int.from_bytes(data[2 * k : 2 * k + 2], "big") for k in range(count)]
    return [flat[i * n : (i + 1) * n] for i in range(n)]


# ------------------------------------------------------------------ the contract's arithmetic
def score(x: int, f: int, lambda_wad: int, x_scale: int, f_scale: int) -> int:
    """Exact contribution score ``x * fScale * WAD + lambdaWad * f * xScale``.

    ``c_i = score / (xScale * fScale * WAD)`` is the real contribution ``x_real + lambda f_real``.
    """
    return x * f_scale * WAD + lambda_wad * f * x_scale


def score_denominator(x_scale: int, f_scale: int) -> int:
    """``xScale * fScale * WAD``: divide a score by this to get the real ``c_i``."""
    return x_scale * f_scale * WAD


def pair_transfer(
    score_i: int, score_j: int, rho_ij_bps: int, gamma_wad: int, x_scale: int, f_scale: int
) -> int:
    """Transfer credited to ``i`` and debited from ``j`` (``i < j``), truncated toward zero.

    ``t_ij = gammaWad * rho_ij * (score_i - score_j) / (BPS * WAD * xScale * fScale * WAD)``.
    """
    numerator = gamma_wad * rho_ij_bps * (score_i - score_j)
    return div_trunc(numerator, BPS * WAD * x_scale * f_scale * WAD)


def payoffs(
    scores: Sequence[int | None],
    rho_bps: Sequence[Sequence[int]],
    gamma_wad: int,
    x_scale: int,
    f_scale: int,
) -> list[int]:
    """Every ``R_i`` in wei, computed once per unordered pair of reporters.

    Parameters
    ----------
    scores : sequence of int or None
        Exact scores; ``None`` for an org that did not report (its payoff is 0 and it takes part
        in no pair).
    rho_bps : matrix of int
        Competition matrix in basis points.

    Returns
    -------
    list of int
        ``R_i``; the list sums to exactly 0.
    """
    n = len(scores)
    out = [0] * n
    for i in range(n):
        si = scores[i]
        if si is None:
            continue
        for j in range(i + 1, n):
            sj = scores[j]
            if sj is None:
                continue
            t = pair_transfer(si, sj, rho_bps[i][j], gamma_wad, x_scale, f_scale)
            out[i] += t
            out[j] -= t
    return out


def x_min(d_min_wad: int, x_max: int) -> int:
    """Smallest admissible report ``ceil(dMinWad * xMax / WAD)``."""
    return div_ceil(d_min_wad * x_max, WAD)


F_MIN = 1
"""Smallest reportable compute level ``f`` (reports need ``1 <= f <= fMax``)."""


def score_range(
    x_max: int, f_max: int, *, lambda_wad: int, d_min_wad: int, x_scale: int, f_scale: int
) -> tuple[int, int]:
    """``(sMin, sMax)``: the scores of the smallest and the largest admissible report."""
    low = score(x_min(d_min_wad, x_max), F_MIN, lambda_wad, x_scale, f_scale)
    return low, score(x_max, f_max, lambda_wad, x_scale, f_scale)


def required_bonds(
    x_max: Sequence[int],
    f_max: Sequence[int],
    rho_bps: Sequence[Sequence[int]],
    *,
    gamma_wad: int,
    lambda_wad: int,
    d_min_wad: int,
    x_scale: int,
    f_scale: int,
) -> list[int]:
    """Every org's required bond: its exact worst-case liability.

    ``bond_i = sum_{j != i} trunc(gammaWad * rho_ij * max(0, sMax_j - sMin_i) / DENOM)``: rivals
    at their maximum score, ``i`` at its minimum (``x = ceil(dMin xMax_i)``, ``f = 1``), rivals that
    would owe ``i`` absent. Since each pair is truncated toward zero and truncation is monotone and
    odd, ``R_i >= -bond_i`` for every admissible set of reports.
    """
    n = len(x_max)
    ranges = [
        score_range(
            x_max[i],
            f_max[i],
            lambda_wad=lambda_wad,
            d_min_wad=d_min_wad,
            x_scale=x_scale,
            f_scale=f_scale,
        )
        for i in range(n)
    ]
    denom = BPS * WAD * x_scale * f_scale * WAD
    bonds = [0] * n
    for i in range(n):
        s_min_i = ranges[i][0]
        for j in range(n):
            gap = ranges[j][1] - s_min_i
            if j != i and gap > 0:
                bonds[i] += gamma_wad * rho_bps[i][j] * gap // denom
    return bonds


def payoff_digest(
    accounts: Sequence[str], scores: Sequence[int], payoffs_wei: Sequence[int]
) -> bytes:
    """The contract's payoff digest of a settled round.

    ``keccak256`` of the concatenation over every slot ``i = 0..n-1`` of
    ``abi.encode(uint256 i, address account, uint256 score, int256 payoff)``, with score and payoff
    0 for slots that did not report.
    """
    if not len(accounts) == len(scores) == len(payoffs_wei):
        raise ConfigError("payoff_digest: accounts, scores and payoffs must have equal lengths")
    table = b"".join(
        abi_encode(["uint256", "address", "uint256", "int256"], [i, a, s, p])
        for i, (a, s, p) in enumerate(zip(accounts, scores, payoffs_wei, strict=True))
    )
    return keccak(table)
