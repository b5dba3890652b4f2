"""A silo checks every on-chain parameter, and the lock, before it deposits (real anvil)."""

from __future__ import annotations

import dataclasses

import pytest

from settlement import (
    AcceptedTerms,
    LockTooLong,
    OrgSpec,
    SettlementClient,
    TermsMismatch,
    check_round,
    market_bonds,
    market_config,
    market_orgs,
    pack_rho,
)

pytestmark = pytest.mark.chain

RHO = [[0, 0.3, 0.1], [0.3, 0, 0.6], [0.1, 0.6, 0]]


def _open(client: SettlementClient, operator, org_accounts, **config_changes):
    accepted = client.round_config_from_reals(
        gamma=10**12, lambda_="0.5", d_min="0.1", x_scale=10, deposit_window=600, report_window=600
    )
    orgs = [OrgSpec(a.address, 1000 + i, 4) for i, a in enumerate(org_accounts[:3])]
    terms = AcceptedTerms(config=accepted, orgs=orgs, rho=pack_rho(RHO))
    config = dataclasses.replace(accepted, **config_changes)
    return client.round_open(config, orgs, RHO, sender=operator).round_id, terms


def test_matching_round_passes_with_bond_and_lock(client, operator, org_accounts) -> None:
    rid, terms = _open(client, operator, org_accounts)
    chain = check_round(client, rid, terms, index=1, max_lock=1300)
    assert chain.gamma_wad == terms.config.gamma_wad
    strict = dataclasses.replace(terms, check_deadlines=True)
    assert check_round(client, rid, strict) == terms.config


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"gamma_wad": 10**12 * 10**18 + 1}, "gamma_wad"),
        ({"lambda_wad": 10**17}, "lambda_wad"),
        ({"d_min_wad": 2 * 10**17}, "d_min_wad"),
        ({"x_scale": 100}, "x_scale"),
        ({"coordinator": "0x" + "77" * 20}, "coordinator"),
    ],
)
def test_each_config_mismatch_names_the_field(
    client, operator, org_accounts, change, field
) -> None:
    rid, terms = _open(client, operator, org_accounts, **change)
    with pytest.raises(TermsMismatch) as err:
        check_round(client, rid, terms)
    assert err.value.field == field
    assert err.value.actual == change[field] or field == "coordinator"


def test_orgs_rho_and_deadline_mismatches(client, operator, org_accounts) -> None:
    rid, terms = _open(client, operator, org_accounts)
    other_orgs = [*terms.orgs[:2], dataclasses.replace(terms.orgs[2], x_max=5)]
    with pytest.raises(TermsMismatch) as orgs:
        check_round(client, rid, dataclasses.replace(terms, orgs=other_orgs))
    assert orgs.value.field == "orgs[2].x_max" and (orgs.value.expected, orgs.value.actual) == (
        5,
        1002,
    )
    other_rho = pack_rho([[0, 0.3, 0.1], [0.3, 0, 0.5], [0.1, 0.5, 0]])
    with pytest.raises(TermsMismatch) as rho:
        check_round(client, rid, dataclasses.replace(terms, rho=other_rho))
    assert rho.value.field == "rho[1][2]" and (rho.value.expected, rho.value.actual) == (5000, 6000)
    late = dataclasses.replace(terms.config, report_deadline=terms.config.report_deadline + 1)
    with pytest.raises(TermsMismatch) as deadline:
        check_round(client, rid, dataclasses.replace(terms, config=late, check_deadlines=True))
    assert deadline.value.field == "report_deadline"
    with pytest.raises(TermsMismatch, match="round_id"):
        check_round(client, 10**9, terms)


def test_lock_longer_than_max_lock_refused(client, operator, org_accounts) -> None:
    rid, terms = _open(client, operator, org_accounts)
    with pytest.raises(LockTooLong) as err:
        check_round(client, rid, terms, max_lock=600)
    assert err.value.max_lock == 600 and err.value.lock_seconds > 600
    assert "max_lock" in str(err.value)


def test_a_market_round_checks_each_slot_bond_against_the_market_mirror(
    client, operator, org_accounts
) -> None:
    """Mechanism 3: the bond check uses the market's rule (TradeFL's rejects mechanism 3)."""
    coordinator = org_accounts[3].address
    config = market_config(
        now=client.chain_time(), coordinator=coordinator, lambda_pay=0.5, unit_wei=10**16, rounds=3
    )
    orgs = market_orgs(
        [a.address for a in org_accounts[:3]], [300, 500, 200], [0.05, 0.02, 0.08], [2e4, 5e3, 0]
    )
    rid = client.market_round_open(config, orgs, sender=operator).round_id
    terms = AcceptedTerms(config=config, orgs=orgs, rho=bytes(3 * 2))
    bonds = market_bonds(config, orgs)
    assert any(bonds)  # importers' worst-case payments are bonded
    for i in range(3):
        check_round(client, rid, terms, index=i, max_lock=7200)
        assert int(client.required_bond(rid, i)) == bonds[i]
    other = dataclasses.replace(terms, orgs=[*orgs[:2], dataclasses.replace(orgs[2], x_max=1)])
    with pytest.raises(TermsMismatch, match=r"orgs\[2\]\.x_max"):
        check_round(client, rid, other, index=2)
