"""The fixed-point module: exact conversions, rho packing, and the contract's integer arithmetic."""

from __future__ import annotations

import itertools
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement import (
    BPS,
    WAD,
    ConfigError,
    RhoError,
    div_trunc,
    pack_rho,
    pair_transfer,
    payoff_digest,
    payoffs,
    required_bonds,
    rho_to_bps,
    score,
    score_range,
    to_bps,
    to_scaled,
    to_wad,
    unpack_rho,
    x_min,
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
    assert len(packed) == 2 * 9
    assert packed[2:4] == (5000).to_bytes(2, "big")
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
    with pytest.raises(RhoError, match="square"):
        unpack_rho(b"\x00" * 6)
    with pytest.raises(RhoError, match="whole number"):
        unpack_rho(b"\x00" * 3)


# -------------------------------------------------------------------------- arithmetic
def test_score_is_exact_contribution() -> None:
    # c = x/xs + lambda f/fs = 12/10 + 0.5 * 3/4 = 1.575
    s = score(12, 3, to_wad("0.5"), 10, 4)
    assert Fraction(s, 10 * 4 * WAD) == Fraction("1.575")


def test_pair_transfer_truncates_toward_zero() -> None:
    # gamma=1 wei/unit, rho=1, c_i - c_j = -(3/2) / 2 ... choose values with a fractional result
    gamma_wad, xs, fs = to_wad(1), 2, 1
    s_i, s_j = score(1, 0, 0, xs, fs), score(4, 0, 0, xs, fs)  # c_i = 0.5, c_j = 2
    t = pair_transfer(s_i, s_j, BPS, gamma_wad, xs, fs)
    assert t == -1  # exact value -1.5: toward zero, not floor (-2)
    assert pair_transfer(s_j, s_i, BPS, gamma_wad, xs, fs) == 1
    assert pair_transfer(s_i, s_j, 0, gamma_wad, xs, fs) == 0


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.one_of(st.none(), st.integers(0, 10**30)), min_size=2, max_size=7),
    gamma_wad=st.integers(0, 10**30),
    data=st.data(),
)
def test_payoffs_budget_balanced_and_antisymmetric(scores, gamma_wad, data) -> None:
    n = len(scores)
    rho = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            rho[i][j] = rho[j][i] = data.draw(st.integers(0, BPS))
    pay = payoffs(scores, rho, gamma_wad, 3, 7)
    assert sum(pay) == 0
    assert all(p == 0 for p, s in zip(pay, scores, strict=True) if s is None)
    reporters = [s for s in scores if s is not None]
    if len(reporters) == n == 2:
        assert pay[0] == pair_transfer(scores[0], scores[1], rho[0][1], gamma_wad, 3, 7)


def test_x_min_is_ceiling() -> None:
    assert x_min(to_wad("0.1"), 1000) == 100
    assert x_min(to_wad("0.1"), 1001) == 101
    assert x_min(1, 1) == 1
    assert x_min(WAD, 17) == 17


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_bond_is_exact_worst_case(data) -> None:
    """Brute force over extreme reports: min R_i over all outcomes == -bond_i."""
    n = data.draw(st.integers(2, 4))
    x_max = [data.draw(st.integers(1, 50)) for _ in range(n)]
    f_max = [data.draw(st.integers(1, 5)) for _ in range(n)]
    params = {
        "gamma_wad": data.draw(st.sampled_from([0, 10**9, to_wad("3.7"), 10**30])),
        "lambda_wad": data.draw(st.sampled_from([0, to_wad("0.5"), to_wad(3)])),
        "d_min_wad": data.draw(st.sampled_from([1, to_wad("0.3"), WAD])),
        "x_scale": data.draw(st.sampled_from([1, 3])),
        "f_scale": data.draw(st.sampled_from([1, 2])),
    }
    rho = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            rho[i][j] = rho[j][i] = data.draw(st.integers(0, BPS))
    bonds = required_bonds(x_max, f_max, rho, **params)
    lam, dmin, xs, fs = (params[k] for k in ("lambda_wad", "d_min_wad", "x_scale", "f_scale"))
    ranges = [
        score_range(x_max[i], f_max[i], lambda_wad=lam, d_min_wad=dmin, x_scale=xs, f_scale=fs)
        for i in range(n)
    ]
    worst = [0] * n
    # each org absent, at its minimum or at its maximum score (R_i is monotone in every score)
    for choice in itertools.product([None, 0, 1], repeat=n):
        scores = [None if c is None else ranges[i][c] for i, c in enumerate(choice)]
        pay = payoffs(scores, rho, params["gamma_wad"], xs, fs)
        worst = [min(w, p) for w, p in zip(worst, pay, strict=True)]
    assert worst == [-b for b in bonds]


def test_payoff_digest_encoding() -> None:
    accounts = ["0x" + "11" * 20, "0x" + "22" * 20]
    expected = keccak(
        encode(["uint256", "address", "uint256", "int256"], [0, accounts[0], 5, -3])
        + encode(["uint256", "address", "uint256", "int256"], [1, accounts[1], 9, 3])
    )
    assert payoff_digest(accounts, [5, 9], [-3, 3]) == expected
    assert payoff_digest(accounts, [5, 9], [3, -3]) != expected
    with pytest.raises(ConfigError):
        payoff_digest(accounts, [5], [0, 0])
