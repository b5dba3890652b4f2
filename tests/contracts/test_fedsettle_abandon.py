"""No veto after reports open, and no locked funds: who may abandon when (mechanisms.md 4.1)."""

from __future__ import annotations

import dataclasses

import pytest

from settlement import CannotAbandon, InvalidParameter, Phase, PhaseSpanTooLong, SettlementClient

pytestmark = pytest.mark.chain


def _assert_refunded(rounds, client: SettlementClient, r) -> None:
    before = client.balance()
    paid = rounds.withdraw(r)
    assert paid == r.deposits
    assert before - client.balance() == sum(r.deposits.values())
    state = client.round_state(r.round_id)
    assert state.total_withdrawn == state.total_deposits == sum(r.deposits.values())


def test_operator_abandons_only_in_deposit_phase(rounds, client, operator) -> None:
    r = rounds.open(4, seed=32)
    rounds.join(r, [0, 1, 2])
    assert client.phase_of(r.round_id) == Phase.DEPOSIT
    client.round_abandon(r.round_id, sender=operator)
    assert client.phase_of(r.round_id) == Phase.ABANDONED
    with pytest.raises(CannotAbandon) as twice:
        client.round_abandon(r.round_id, sender=operator)
    assert twice.value.phase == Phase.ABANDONED
    _assert_refunded(rounds, client, r)


def test_operator_cannot_veto_after_seeing_reports(rounds, client, operator) -> None:
    """Replays the review's attack: the operator saw every report and abandoned in Calculate,
    taking the payoff from the org that earned it. Now it reverts and the round settles."""
    r = rounds.open(3, seed=35)
    rounds.join(r)
    rounds.report(r, {0: (1000, 8), 1: (100, 1)})  # slot 2 still to report
    with pytest.raises(CannotAbandon) as in_report:
        client.round_abandon(r.round_id, sender=operator)
    assert in_report.value.phase == Phase.REPORT
    rounds.report(r, {2: (100, 1)})
    assert client.phase_of(r.round_id) == Phase.CALCULATE
    with pytest.raises(CannotAbandon) as in_calc:
        client.round_abandon(r.round_id, sender=operator)
    assert in_calc.value.phase == Phase.CALCULATE
    # long after every deadline nobody can abandon either; anyone can still settle
    rounds.warp_past(r.config.report_deadline + 365 * 86_400)
    with pytest.raises(CannotAbandon):
        client.round_abandon(r.round_id, sender=operator)
    (receipt,) = client.settle(r.round_id, sender=r.accounts[2])
    out = r.expected()
    assert out.payoffs[0] > 0
    assert receipt.events_named("RoundSettled")[0].args["payoffDigest"] == out.digest
    paid = rounds.withdraw(r)
    assert paid == dict(enumerate(out.payouts))


def test_fewer_than_two_deposits_abandonable_by_anyone(rounds, client, org_accounts) -> None:
    r = rounds.open(3, seed=33)
    rounds.join(r, [1])
    outsider = org_accounts[51]
    with pytest.raises(CannotAbandon) as during_deposit:
        client.round_abandon(r.round_id, sender=outsider)
    assert during_deposit.value.phase == Phase.DEPOSIT
    rounds.close_deposits(r)
    client.round_abandon(r.round_id, sender=outsider)
    _assert_refunded(rounds, client, r)


def test_two_deposits_not_abandonable_by_outsider(rounds, client, org_accounts) -> None:
    r = rounds.open(2, seed=34)
    rounds.join(r)
    with pytest.raises(CannotAbandon):
        client.round_abandon(r.round_id, sender=org_accounts[52])
    rounds.report(r, {0: (500, 2), 1: (600, 3)})
    rounds.settle(r)
    paid = rounds.withdraw(r)
    assert sum(paid.values()) == sum(r.deposits.values())


def test_deadlines_near_2_64_refused(rounds, client, operator) -> None:
    """Replays the lock attack: deadlines near 2^64 with one silent depositor would lock every
    deposit for ever. roundOpen now refuses any phase longer than MAX_PHASE_SPAN."""
    r = rounds.open(2, seed=36)
    span = int(client.contract.functions.MAX_PHASE_SPAN().call())
    assert span == 30 * 86_400
    now = client.chain_time()
    far = dataclasses.replace(r.config, deposit_deadline=2**64 - 2, report_deadline=2**64 - 1)
    with pytest.raises(PhaseSpanTooLong) as deposit:
        client.round_open(far, r.orgs, r.rho, sender=operator)
    assert deposit.value.field == "deposit" and deposit.value.max_span == span
    assert deposit.value.span >= 2**64 - 2 - now - 5
    late_report = dataclasses.replace(
        r.config, report_deadline=r.config.deposit_deadline + span + 1
    )
    with pytest.raises(PhaseSpanTooLong) as report:
        client.round_open(late_report, r.orgs, r.rho, sender=operator)
    assert (report.value.field, report.value.span) == ("report", span + 1)
    past = dataclasses.replace(r.config, deposit_deadline=now - 10)
    with pytest.raises(InvalidParameter) as old:
        client.round_open(past, r.orgs, r.rho, sender=operator)
    assert old.value.field == "deadlines"
    # the longest allowed spans open fine
    ok = dataclasses.replace(
        r.config, deposit_deadline=now + span - 60, report_deadline=now + 2 * span - 60
    )
    assert client.round_open(ok, r.orgs, r.rho, sender=operator).round_id > r.round_id
