"""The Python mirror of the mechanism rules: scores, minimum reports, bonds, payoffs, digests."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from settlement import (
    BPS,
    MECHANISM_COGEN,
    MECHANISM_TRADEFL,
    WAD,
    ConfigError,
    OrgSpec,
    RoundConfig,
    Rule,
    payoff_digest,
    to_wad,
)

A = "0x" + "11" * 20


def _config(mechanism: int = MECHANISM_TRADEFL, **kw: int) -> RoundConfig:
    base = {
        "gamma_wad": to_wad(1),
        "lambda_wad": to_wad("0.5"),
        "d_min_wad": 0 if mechanism == MECHANISM_COGEN else to_wad("0.1"),
        "x_scale": 1,
        "f_scale": 1,
        "deposit_deadline": 1,
        "report_deadline": 2,
        "mechanism_id": mechanism,
    }
    return RoundConfig(**{**base, **kw})


def test_tradefl_score_is_exact_contribution() -> None:
    rule = Rule(_config(x_scale=10, f_scale=4))
    s = rule.score(OrgSpec(A, 100, 8), 12, 3)
    # c = x/xs + lambda f/fs = 12/10 + 0.5 * 3/4 = 1.575
    assert Fraction(s, rule.score_unit) == Fraction("1.575")
    assert rule.min_report(OrgSpec(A, 1001, 8)) == (101, 1)  # ceil(0.1 * 1001), f = 1


def test_cogen_score_counts_real_plus_weighted_synthetic() -> None:
    rule = Rule(_config(MECHANISM_COGEN, lambda_wad=to_wad("0.25"), x_scale=2))
    org = OrgSpec(A, 400, 0, base=1500)
    # s = D + q x_real = 1500 + 0.25 * 30 / 2
    assert Fraction(rule.score(org, 30, 0), rule.score_unit) == Fraction("1503.75")
    assert rule.min_report(org) == (0, 0)
    assert rule.bounds(org) == ((0, 400), (0, 0))
    with pytest.raises(ConfigError, match="f = 1"):
        rule.check_report(org, 5, 1)


def test_unknown_mechanism_names_the_field() -> None:
    with pytest.raises(ConfigError, match="mechanism_id: 3"):
        Rule(_config(mechanism_id=3))


def test_pair_transfer_truncates_toward_zero() -> None:
    rule = Rule(_config(gamma_wad=to_wad(1), lambda_wad=0, x_scale=2))
    org = OrgSpec(A, 10, 1)
    s_i, s_j = rule.score(org, 1, 0), rule.score(org, 4, 0)  # c_i = 0.5, c_j = 2
    assert rule.pair_transfer(s_i, s_j, BPS) == -1  # exact -1.5: toward zero, not floor (-2)
    assert rule.pair_transfer(s_j, s_i, BPS) == 1
    assert rule.pair_transfer(s_i, s_j, 0) == 0


def _matrix(n: int, draw) -> list[list[int]]:
    rho = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            rho[i][j] = rho[j][i] = draw(st.integers(0, BPS))
    return rho


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.one_of(st.none(), st.integers(0, 10**30)), min_size=2, max_size=7),
    gamma_wad=st.integers(0, 10**30),
    data=st.data(),
)
def test_payoffs_per_row_are_budget_balanced(scores, gamma_wad, data) -> None:
    n = len(scores)
    rho = _matrix(n, data.draw)
    rule = Rule(_config(gamma_wad=gamma_wad, x_scale=3, f_scale=7))
    pay = rule.payoffs(scores, rho)
    assert sum(pay) == 0  # rows computed alone still balance: trunc is odd
    assert all(p == 0 for p, s in zip(pay, scores, strict=True) if s is None)
    if n == 2 and None not in scores:
        assert pay[0] == rule.pair_transfer(scores[0], scores[1], rho[0][1]) == -pay[1]


@pytest.mark.parametrize("mechanism", [MECHANISM_TRADEFL, MECHANISM_COGEN])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_bond_is_exact_worst_case(mechanism: int, data) -> None:
    """Brute force over extreme reports: min R_i over all outcomes == -bond_i."""
    n = data.draw(st.integers(2, 4))
    cogen = mechanism == MECHANISM_COGEN
    orgs = [
        OrgSpec(
            "0x" + f"{i + 1:040x}",
            data.draw(st.integers(0 if cogen else 1, 50)),
            0 if cogen else data.draw(st.integers(1, 5)),
            data.draw(st.integers(0, 80)) if cogen else 0,
        )
        for i in range(n)
    ]
    config = _config(
        mechanism,
        gamma_wad=data.draw(st.sampled_from([0, 10**9, to_wad("3.7"), 10**30])),
        lambda_wad=data.draw(st.sampled_from([0, to_wad("0.5"), to_wad(3)])),
        d_min_wad=0 if cogen else data.draw(st.sampled_from([1, to_wad("0.3"), WAD])),
        x_scale=data.draw(st.sampled_from([1, 3])),
        f_scale=1 if cogen else data.draw(st.sampled_from([1, 2])),
    )
    rule = Rule(config)
    rho = _matrix(n, data.draw)
    bonds = rule.bonds(orgs, rho)
    ranges = [(rule.min_score(o), rule.max_score(o)) for o in orgs]
    worst = [0] * n
    # each org absent, at its minimum or at its maximum score (R_i is monotone in every score)
    for choice in itertools.product([None, 0, 1], repeat=n):
        scores = [None if c is None else ranges[i][c] for i, c in enumerate(choice)]
        pay = rule.payoffs(scores, rho)
        worst = [
            min(w, p) if s is not None else w for w, p, s in zip(worst, pay, scores, strict=True)
        ]
    assert worst == [-b for b in bonds]


def test_silent_depositor_settles_at_its_minimum() -> None:
    rule = Rule(_config())
    orgs = [OrgSpec(A, 100, 4), OrgSpec("0x" + "22" * 20, 100, 4), OrgSpec("0x" + "33" * 20, 9, 9)]
    scores = rule.settled_scores(orgs, [True, True, False], {0: (100, 4)})
    assert scores == [rule.score(orgs[0], 100, 4), rule.min_score(orgs[1]), None]


def test_payoff_digest_is_a_chain_over_slots() -> None:
    accounts = ["0x" + "11" * 20, "0x" + "22" * 20]
    kinds = ["bytes32", "uint256", "address", "uint256", "int256"]
    d1 = keccak(encode(kinds, [b"\x00" * 32, 0, accounts[0], 5, -3]))
    expected = keccak(encode(kinds, [d1, 1, accounts[1], 9, 3]))
    assert payoff_digest(accounts, [5, 9], [-3, 3]) == expected
    assert payoff_digest(accounts, [5, 9], [3, -3]) != expected
    with pytest.raises(ValueError, match="equal lengths"):
        payoff_digest(accounts, [5], [0, 0])
