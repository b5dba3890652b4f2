"""Stuck rounds never lock funds: abandoning returns every deposit in full."""

from __future__ import annotations

import pytest

from settlement import CannotAbandon, Phase, SettlementClient, WrongPhase

pytestmark = pytest.mark.chain


def _assert_refunded(rounds, client: SettlementClient, r) -> None:
    before = client.balance()
    paid = rounds.withdraw(r)
    assert paid == r.deposits
    assert before - client.balance() == sum(r.deposits.values())
    state = client.round_state(r.round_id)
    assert state.total_withdrawn == state.total_deposits == sum(r.deposits.values())


def test_anyone_abandons_after_settle_deadline(rounds, client, org_accounts) -> None:
    r = rounds.open(3, seed=31)
    rounds.join(r, extra=17)
    rounds.report(r, {0: (1000, 8), 1: (100, 1)})  # slot 2 never reports
    outsider = org_accounts[50]
    rounds.close_reports(r)
    with pytest.raises(CannotAbandon) as early:
        client.round_abandon(r.round_id, sender=outsider)
    assert early.value.phase == Phase.CALCULATE
    rounds.warp_past(r.config.settle_deadline)
    receipt = client.round_abandon(r.round_id, sender=outsider)
    (event,) = receipt.events_named("RoundAbandoned")
    assert event.args["atPhase"] == Phase.CALCULATE
    assert event.args["caller"] == outsider.address
    assert client.phase_of(r.round_id) == Phase.ABANDONED
    with pytest.raises(WrongPhase):
        client.payoff_calculate(r.round_id)
    # the reporters' would-be payoffs are irrelevant: deposits come back whole
    _assert_refunded(rounds, client, r)


def test_operator_abandons_any_time_before_settlement(rounds, client, operator) -> None:
    r = rounds.open(4, seed=32)
    rounds.join(r, [0, 1, 2])
    assert client.phase_of(r.round_id) == Phase.DEPOSIT
    client.round_abandon(r.round_id, sender=operator)
    assert client.phase_of(r.round_id) == Phase.ABANDONED
    with pytest.raises(CannotAbandon) as twice:
        client.round_abandon(r.round_id, sender=operator)
    assert twice.value.phase == Phase.ABANDONED
    _assert_refunded(rounds, client, r)


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


def test_two_deposits_not_abandonable_by_outsider_early(rounds, client, org_accounts) -> None:
    r = rounds.open(2, seed=34)
    rounds.join(r)
    with pytest.raises(CannotAbandon):
        client.round_abandon(r.round_id, sender=org_accounts[52])
    rounds.report(r, {0: (500, 2), 1: (600, 3)})
    rounds.settle(r)
    paid = rounds.withdraw(r)
    assert sum(paid.values()) == sum(r.deposits.values())
