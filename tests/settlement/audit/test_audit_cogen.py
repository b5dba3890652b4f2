"""The auditor's mechanism-2 (cogen) recomputation against a round settled on a real anvil."""

from __future__ import annotations

import dataclasses

import pytest

from settlement import (
    MECHANISM_COGEN,
    OrgSpec,
    Phase,
    increase_time,
    round_config_from_reals,
    unpack_rho,
)
from settlement.audit import mechanism_for
from settlement.audit._mechanisms import RoundInputs

pytestmark = pytest.mark.chain

GAMMA = [[0, 0.1, 0.05, 0.2], [0.1, 0, 0.1, 0.1], [0.05, 0.1, 0, 0.3], [0.2, 0.1, 0.3, 0]]
BASE = [143, 107, 597, 388]
X_MAX = [286, 214, 1194, 0]
REPORTS = {0: (120, 0), 1: (214, 0)}  # slot 2 deposits and stays silent; slot 3 cannot generate


@pytest.fixture
def settled(client, org_accounts, chain_snapshot):
    """A cogen round: 4 slots, slot 2 silent (settled at x = 0), settled and read back."""
    config = round_config_from_reals(
        now=client.chain_time(),
        gamma="10000000000000000",  # kappa: 0.01 ETH per unit of score difference
        lambda_="0.75",  # q
        d_min=0,
        mechanism_id=MECHANISM_COGEN,
    )
    accounts = org_accounts[:4]
    orgs = [
        OrgSpec(a.address, x_max=xm, f_max=0, base=d)
        for a, xm, d in zip(accounts, X_MAX, BASE, strict=True)
    ]
    rid = client.round_open(config, orgs, GAMMA).round_id
    for i, a in enumerate(accounts):
        client.deposit_submit(rid, i, client.required_bond(rid, i) + 7 * i, sender=a)
    for i, (x, f) in REPORTS.items():
        client.contribution_submit(rid, i, x, f, sender=accounts[i])
    increase_time(client.w3, client.round_config(rid).report_deadline - client.chain_time() + 1)
    client.settle(rid)
    assert client.phase_of(rid) == Phase.SETTLED
    profiles = client.profiles(rid)
    inputs = RoundInputs(
        config=client.round_config(rid),
        orgs=[OrgSpec(p.account, p.x_max, p.f_max, p.base) for p in profiles],
        rho_bps=unpack_rho(client.round_rho(rid), len(profiles)),
        deposits={i: int(p.deposited) for i, p in enumerate(profiles) if p.joined},
        reports={i: (p.x, p.f) for i, p in enumerate(profiles) if p.reported},
    )
    return client, rid, inputs


def test_mechanism_2_recomputes_the_chain_to_the_wei(settled) -> None:
    client, rid, inputs = settled
    mechanism = mechanism_for(2)
    assert mechanism is not None and "cogen" in mechanism.name
    out = mechanism.recompute(inputs)
    profiles = client.profiles(rid)
    assert out.outcome.payoffs == [p.payoff for p in profiles]
    assert out.outcome.scores == [p.score for p in profiles]
    assert out.outcome.bonds == [p.bond for p in profiles]
    assert out.outcome.digest == client.round_state(rid).payoff_digest
    assert sum(out.outcome.payoffs) == 0
    assert sum(out.outcome.payouts) == sum(inputs.deposits.values())
    # the real-valued game formula agrees up to one truncation per pair
    assert out.reference is not None
    for exact, real in zip(out.outcome.payoffs, out.reference, strict=True):
        assert abs(exact - real) <= out.tolerance_wei
    # the silent depositor is settled at D_2 + q * 0, and paid for its real data
    assert out.outcome.scores[2] == BASE[2] * 10**18
    assert out.outcome.payoffs[2] > 0


def test_mechanism_2_names_its_inputs(settled) -> None:
    _, _, inputs = settled
    mechanism = mechanism_for(2)
    assert mechanism is not None
    params = mechanism.parameters(inputs)
    assert params["D"] == BASE
    assert params["q"] == 0.75
    assert float(params["kappa_wei_per_score"]) == 10**16
    assert params["x_max"] == X_MAX


def test_a_changed_report_no_longer_matches_the_chain(settled) -> None:
    client, rid, inputs = settled
    mechanism = mechanism_for(2)
    assert mechanism is not None
    forged = dataclasses.replace(inputs, reports={**inputs.reports, 0: (121, 0)})
    out = mechanism.recompute(forged)
    assert out.outcome.payoffs != [p.payoff for p in client.profiles(rid)]
    assert out.outcome.digest != client.round_state(rid).payoff_digest
