"""The fixed-point module: exact conversions and the packed weight triangle."""

from __future__ import annotations

import itertools
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from settlement import (
    BPS,
    RHO_CHUNK,
    WAD,
    ConfigError,
    RhoError,
    div_trunc,
    pack_rho,
    rho_chunks,
    rho_to_bps,
    to_bps,
    to_scaled,
    to_wad,
    triangle_size,
    unpack_rho,
)


# ------------------------------------------------------------------------- conversions
def test_floats_are_read_as_written() -> None:
    assert to_wad(0.1) == 10**17  # not 100000000000000005 (the binary float's exact value)
    assert to_wad(1e-18) == 1
    assert to_wad("0.3") == 3 * 10**17
    assert to_wad(Decimal("2.5")) == 25 * 10**17
    assert to_wad(Fraction(1, 3)) == 333_333_333_333_333_333
    assert to_wad(np.float64(0.25)) == 25 * 10**16
    assert to_bps(np.int64(1)) == BPS


def test_truncation_toward_zero() -> None:
    assert to_scaled("2.59", 10) == 25
    assert to_scaled("-2.59", 10, signed=True) == -25  # not -26 (floor)
    assert to_scaled(Fraction(-1, 3), 1, signed=True) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": -1, "scale": WAD}, "negative"),
        ({"value": float("nan"), "scale": WAD}, "finite"),
        ({"value": "abc", "scale": WAD}, "decimal"),
        ({"value": True, "scale": WAD}, "bool"),
        ({"value": [1], "scale": WAD}, "real number"),
        ({"value": "0.123", "scale": 100, "exact": True}, "multiple of 1/100"),
    ],
)
def test_conversion_errors_name_the_field(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        to_scaled(field="gamma", **kwargs)
    assert "gamma" in str(err.value)


def test_to_bps_range() -> None:
    assert to_bps(0.3333) == 3333
    with pytest.raises(ConfigError, match=r"above 1\.0"):
        to_bps(1.5, field="rho")


def test_div_trunc_is_solidity_division() -> None:
    for a, b in itertools.product([-7, -6, -1, 0, 1, 6, 7], [-3, -2, 1, 2, 3]):
        expected = abs(a) // abs(b) * (1 if (a >= 0) == (b > 0) else -1)
        assert div_trunc(a, b) == expected
    assert div_trunc(-7, 2) == -3 != -7 // 2
    with pytest.raises(ZeroDivisionError):
        div_trunc(1, 0)


# --------------------------------------------------------------------------------- rho
def test_pack_rho_layout_and_roundtrip() -> None:
    packed = pack_rho([[0, 0.5, 0.25], [0.5, 0, 1], [0.25, 1, 0]])
    # the strict upper triangle, row-major: (0,1) (0,2) (1,2)
    assert len(packed) == triangle_size(3) == 6
    assert packed == b"".join(v.to_bytes(2, "big") for v in (5000, 2500, 10_000))
    assert unpack_rho(packed) == [[0, 5000, 2500], [5000, 0, 10_000], [2500, 10_000, 0]]
    assert pack_rho(np.array([[0, 7], [7, 0]])) == pack_rho([[0, 7], [7, 0]])  # bps ints
    assert pack_rho(np.array([[0.0, 0.0007], [0.0007, 0.0]])) == pack_rho([[0, 7], [7, 0]])
    assert pack_rho([[0, 1], [1, 0]], unit="fraction") == pack_rho([[0, BPS], [BPS, 0]])


@pytest.mark.parametrize(
    ("matrix", "pattern"),
    [
        ([[0, 0.3], [0.2, 0]], r"rho\[0\]\[1\] = 0\.3 but rho\[1\]\[0\] = 0\.2.*symmetric"),
        ([[0.1, 0.3], [0.3, 0]], r"rho\[0\]\[0\].*diagonal must be 0"),
        ([[0, 1.2], [1.2, 0]], r"rho\[0\]\[1\] = 1\.2 is out of range"),
        ([[0, -0.1], [-0.1, 0]], r"rho\[0\]\[1\] = -0\.1 is out of range"),
        ([[0, 10_001], [10_001, 0]], r"rho\[0\]\[1\] = 10001 bps is out of range"),
        ([[0, 1], [1, 0, 2]], r"row 1 has 3 entries; a 2x2 matrix"),
        ([[0]], r"at least 2"),
        ([[0, "x"], ["x", 0]], r"rho\[0\]\[1\]"),
    ],
)
def test_rho_errors_name_the_entry(matrix, pattern) -> None:
    with pytest.raises(RhoError, match=pattern):
        pack_rho(matrix)


def test_symmetrize_on_request_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bps = rho_to_bps([[0, 3001], [2000, 0]], symmetrize=True)
    assert bps == [[0, 2500], [2500, 0]]
    assert "symmetrized 1" in str(caught[0].message)


def test_unpack_rho_rejects_bad_lengths() -> None:
    with pytest.raises(RhoError, match="n = 3"):
        unpack_rho(b"\x00" * 4, 3)
    with pytest.raises(RhoError, match="triangle"):
        unpack_rho(b"\x00" * 3)


def test_rho_chunks_cut_like_the_contract() -> None:
    n = 200
    data = bytes(range(256)) * (triangle_size(n) // 256) + b"\x01" * (triangle_size(n) % 256)
    chunks = rho_chunks(data)
    assert [len(c) for c in chunks] == [RHO_CHUNK, triangle_size(n) - RHO_CHUNK]
    assert b"".join(chunks) == data
    assert rho_chunks(b"\x00\x07") == [b"\x00\x07"]
