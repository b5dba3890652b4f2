"""One valid report per slot, and silence never pays (mechanisms.md 4.1), on a real anvil."""

from __future__ import annotations

import pytest

from settlement import (
    NoCoordinator,
    NotJoined,
    Phase,
    ReportOutOfBounds,
    ReportsByCoordinator,
    TableAlreadySubmitted,
    TableLength,
    WrongCaller,
    WrongPhase,
    pack_report_table,
)

pytestmark = pytest.mark.chain


def test_silent_payer_is_settled_at_its_minimum(rounds, client) -> None:
    """Replays the review's attack: an org that would owe money watches the others' reports and
    stays silent. It used to get R = 0 and its whole deposit back; now it is settled at its
    minimum report, which is never better than reporting what it was assigned."""
    r = rounds.open(3, x_max=1000, f_max=8, d_min="0.2", gamma=10**15, seed=41)
    rounds.join(r)
    assigned = (300, 2)  # what slot 2 was assigned: little, so it owes the others
    rounds.report(r, {0: (1000, 8), 1: (900, 7)})
    rounds.close_reports(r)
    rounds.settle(r)
    out = r.expected()
    silent = out.payoffs[2]
    assert silent < 0  # it pays
    assert (
        out.scores[2] == r.rule.min_score(r.orgs[2]) == client.profile_record(r.round_id, 2).score
    )
    assert client.profile_record(r.round_id, 2).reported is False
    assert client.profile_record(r.round_id, 2).payoff == silent
    # reporting the assignment would have paid at least as much as silence
    honest = r.rule.payoffs(
        [out.scores[0], out.scores[1], r.rule.score(r.orgs[2], *assigned)], r.rho_bps
    )[2]
    assert honest >= silent
    paid = rounds.withdraw(r)
    assert paid[2] == r.deposits[2] + silent < r.deposits[2]
    assert sum(paid.values()) == sum(r.deposits.values())


def test_coordinator_submits_one_table(rounds, client, coordinator, org_accounts) -> None:
    """The coordinator account itself submits every slot's report in one transaction, once: it
    cannot hand an org two signed reports to choose from, and no org can report for itself."""
    r = rounds.open(4, coordinator=coordinator.address, seed=42)
    rounds.join(r, [0, 1, 2])
    table = {0: (900, 5), 1: (500, 2)}  # slot 2 gets no assignment
    with pytest.raises(ReportsByCoordinator) as self_report:
        client.contribution_submit(r.round_id, 0, 900, 5, sender=org_accounts[0])
    assert self_report.value.coordinator == coordinator.address
    with pytest.raises(WrongPhase) as early:  # deposits still open
        rounds.submit_table(r, table, coordinator)
    assert early.value.actual == Phase.DEPOSIT
    rounds.close_deposits(r)
    with pytest.raises(WrongCaller) as outsider:
        rounds.submit_table(r, table, org_accounts[0])
    assert (outsider.value.expected, outsider.value.caller) == (
        coordinator.address,
        org_accounts[0].address,
    )
    with pytest.raises(NotJoined) as non_joiner:  # slot 3 never deposited
        rounds.submit_table(r, {**table, 3: (500, 2)}, coordinator)
    assert non_joiner.value.index == 3
    with pytest.raises(ReportOutOfBounds) as oob:
        rounds.submit_table(r, {**table, 1: (500, 9)}, coordinator)
    assert oob.value.field == "f[1]"
    short = client.contract.encode_abi(
        "contributionTableSubmit", args=[r.round_id, pack_report_table(3, table)]
    )
    with pytest.raises(TableLength) as length:
        client._tx.send(coordinator, client.address, short)
    assert (length.value.expected, length.value.actual) == (64, 48)
    receipt = rounds.submit_table(r, table, coordinator)
    (event,) = receipt.events_named("ReportTableSubmitted")
    assert event.args["reports"] == 2
    assert [e.args["index"] for e in receipt.events_named("ContributionSubmitted")] == [0, 1]
    # a second table, even one better for some org, is refused
    with pytest.raises(TableAlreadySubmitted):
        rounds.submit_table(r, {0: (1000, 8), 1: (1000, 8), 2: (1000, 8)}, coordinator)
    assert client.phase_of(r.round_id) == Phase.CALCULATE  # the table closes reports
    rounds.settle(r)
    out = r.expected()
    assert [p.payoff for p in client.profiles(r.round_id)] == out.payoffs
    assert out.scores[2] == r.rule.min_score(r.orgs[2])  # unassigned depositor: its minimum
    assert client.profile_record(r.round_id, 0).x == 900
    paid, deferred = rounds.push(r, sender=org_accounts[60])
    assert deferred == {} and paid == {i: out.payouts[i] for i in range(3)}


def test_table_needs_a_coordinator_round(rounds, client, coordinator) -> None:
    r = rounds.open(2, seed=43)
    rounds.join(r)
    with pytest.raises(NoCoordinator):
        rounds.submit_table(r, {0: (500, 2)}, coordinator)
