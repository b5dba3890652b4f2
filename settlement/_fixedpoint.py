"""The one fixed-point module: scales, exact real -> integer conversion, the packed weight triangle.

Scales (shared with ``contracts/FedSettle.sol``):

- :data:`WAD` = 10**18 for ``gammaWad``, ``lambdaWad`` and ``dMinWad``;
- :data:`BPS` = 10_000 for rho entries (basis points, ``1.0 == 10_000``);
- ``xScale`` / ``fScale`` per round for the reports (``x_real = x / xScale``).

Rounding of conversions: a real value is read exactly (ints, ``Decimal``, ``Fraction`` and decimal
strings as written; a float through its shortest round-trip decimal ``repr``, so ``0.1`` is exactly
one tenth), multiplied by the scale and **truncated toward zero**, the same rule the contract uses
for money. Pass ``exact=True`` to reject values that the scale cannot represent.

The contract's arithmetic is mirrored in ``settlement._rules`` (scores, bonds, payoffs) and
``settlement._digests`` (digests).
"""

from __future__ import annotations

import math
import warnings
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

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
    """Validate ``matrix`` (see :func:`rho_to_bps`) and pack its strict upper triangle.

    Returns
    -------
    bytes
        ``n(n-1)/2`` big-endian ``uint16`` entries ``(i, j)``, ``i < j``, row-major
        (``n(n-1)`` bytes): the contract's weight triangle.

    Examples
    --------
    >>> pack_rho([[0.0, 0.5, 0.1], [0.5, 0.0, 0.2], [0.1, 0.2, 0.0]]).hex()
    '138803e807d0'
    """
    bps = rho_to_bps(matrix, unit=unit, symmetrize=symmetrize)
    n = len(bps)
    return b"".join(bps[i][j].to_bytes(2, "big") for i in range(n) for j in range(i + 1, n))


def triangle_size(n: int) -> int:
    """Bytes of the packed triangle for ``n`` organizations: ``n(n-1)``."""
    return n * (n - 1)


def unpack_rho(data: bytes, n: int | None = None) -> list[list[int]]:
    """Inverse of :func:`pack_rho` (no range check): the full symmetric matrix in bps.

    ``n`` defaults to the size whose triangle has ``len(data)`` bytes.
    """
    if n is None:
        n = (1 + math.isqrt(1 + 4 * len(data))) // 2
    if len(data) != triangle_size(n):
        raise RhoError(f"rho: {len(data)} bytes is not the n(n-1)-byte triangle of n = {n} orgs")
    rho = [[0] * n for _ in range(n)]
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            rho[i][j] = rho[j][i] = int.from_bytes(data[k : k + 2], "big")
            k += 2
    return rho


RHO_CHUNK = 24_574
"""Bytes per stored rho chunk (every chunk but the last; the contract's ``RHO_CHUNK``)."""


def rho_chunks(data: bytes) -> list[bytes]:
    """The packed triangle cut as the contract stores it: ``roundOpen`` + ``rhoAppend`` calls."""
    return [data[k : k + RHO_CHUNK] for k in range(0, len(data), RHO_CHUNK)] or [b""]
