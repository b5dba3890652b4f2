"""Full rounds on a real anvil: open, join, report, settle, pay out; every number checked."""

from __future__ import annotations

import random

import pytest

from settlement import Phase, SettlementClient, params_digest

pytestmark = pytest.mark.chain


@pytest.mark.parametrize(
    ("n", "mode", "chunk"),
    [(2, "self", 0), (5, "table", 2), (20, "self", 0), (100, "table", 37)],
)
def test_full_round_matches_python(
    rounds, client: SettlementClient, coordinator, n: int, mode: str, chunk: int
) -> None:
    rng = random.Random(n)
    x_max = [rng.randint(50, 5_000) for _ in range(n)]
    f_max = [rng.randint(1, 16) for _ in range(n)]
    r = rounds.open(
        n,
        x_max=x_max,
        f_max=f_max,
        gamma=3 * 10**11,
        lambda_="12.5",
        seed=n,
        coordinator=coordinator.address if mode == "table" else "0x" + "00" * 20,
    )
    profiles = client.profiles(r.round_id)
    assert [p.bond for p in profiles] == r.expected().bonds
    assert [p.account for p in profiles] == [o.account for o in r.orgs]
    state = client.round_state(r.round_id)
    assert state.params_digest == params_digest(
        chain_id=client.chain_id,
        contract=client.address,
        round_id=r.round_id,
        config=r.config,
        orgs=r.orgs,
        triangle=r.rho,
    )
    assert client.round_rho(r.round_id) == r.rho
    assert client.phase_of(r.round_id) == Phase.DEPOSIT

    balance_before = client.balance()
    liabilities_before = client.liabilities()
    rounds.join(r, extra={i: rng.randint(0, 10**9) for i in range(n)})
    state = client.round_state(r.round_id)
    assert state.joined_count == n
    assert state.total_deposits == sum(r.deposits.values())
    assert client.liabilities() == liabilities_before + sum(r.deposits.values())
    # every slot joined: the deposit phase closes early
    assert client.phase_of(r.round_id) == Phase.REPORT

    reports = rounds.random_reports(r, rng)
    if mode == "table":
        rounds.submit_table(r, reports, coordinator)
    else:
        rounds.report(r, reports)
    # the table, or every depositor's report, closes reports early
    assert client.phase_of(r.round_id) == Phase.CALCULATE
    receipts = rounds.settle(r, chunk)
    assert len(receipts) == (1 if chunk == 0 else -(-n // chunk))
    out = r.expected()

    profiles = client.profiles(r.round_id)
    assert [p.score for p in profiles] == out.scores
    assert [p.payoff for p in profiles] == out.payoffs
    assert [(p.x, p.f) for p in profiles] == [reports[i] for i in range(n)]
    assert sum(p.payoff for p in profiles) == 0
    assert all(out.payoffs[i] >= -out.bonds[i] for i in range(n))
    events = [e for rc in receipts for e in rc.events_named("PayoffCalculated")]
    assert [(e.args["index"], e.args["payoff"]) for e in events] == list(enumerate(out.payoffs))
    (settled,) = receipts[-1].events_named("RoundSettled")
    assert (
        settled.args["payoffDigest"] == out.digest == client.round_state(r.round_id).payoff_digest
    )
    assert settled.args["depositors"] == n
    assert client.phase_of(r.round_id) == Phase.SETTLED

    if mode == "table":  # pushed in one batch by anyone
        paid, deferred = rounds.push(r)
        assert deferred == {}
    else:
        paid = rounds.withdraw(r)
    assert paid == {i: out.payouts[i] for i in range(n)}
    assert sum(paid.values()) == sum(r.deposits.values())
    assert client.balance() == balance_before
    assert client.liabilities() == liabilities_before
    state = client.round_state(r.round_id)
    assert state.total_withdrawn == state.total_deposits
    assert all(p.withdrawn for p in client.profiles(r.round_id))


def test_events_are_queryable_per_round_and_org(rounds, client: SettlementClient) -> None:
    r = rounds.open(3, seed=7)
    other = rounds.open(2, seed=8)
    rounds.join(r)
    rounds.report(r, {0: (500, 2), 1: (1000, 8), 2: (100, 1)})
    rounds.settle(r)
    rounds.withdraw(r)
    names = [e.name for e in client.events(round_id=r.round_id)]
    assert names[:2] == ["RoundOpened", "OrgRegistered"]
    for name, count in [
        ("OrgRegistered", 3),
        ("RhoAppended", 1),
        ("RoundReady", 1),
        ("DepositSubmitted", 3),
        ("ContributionSubmitted", 3),
        ("PayoffCalculated", 3),
        ("RoundSettled", 1),
        ("PayoffTransferred", 3),
    ]:
        assert names.count(name) == count, name
    assert all(e.round_id == r.round_id for e in client.events(round_id=r.round_id))
    assert len(client.events("OrgRegistered", round_id=other.round_id)) == 2
    deposits = client.events(["DepositSubmitted", "PayoffTransferred"], round_id=r.round_id)
    assert {e.args["account"] for e in deposits} == {o.account for o in r.orgs}
    (opened,) = client.events("RoundOpened", round_id=r.round_id)
    assert opened.args["config"] == r.config == client.round_config(r.round_id)


def test_partial_round_non_joiner_and_silent_depositor(rounds, client: SettlementClient) -> None:
    r = rounds.open(4, seed=11)
    rounds.join(r, [0, 1, 2])  # slot 3 never joins
    rounds.close_deposits(r)
    assert client.phase_of(r.round_id) == Phase.REPORT
    rounds.report(r, {0: (800, 3), 2: (200, 7)})  # slot 1 joined but never reports
    rounds.close_reports(r)
    (receipt,) = rounds.settle(r)
    out = r.expected()
    # the silent depositor is settled at its minimum report, the non-joiner takes no part
    assert (
        out.scores[1] == r.rule.min_score(r.orgs[1]) == client.profile_record(r.round_id, 1).score
    )
    assert out.payoffs[3] == out.scores[3] == 0
    assert sum(out.payoffs) == 0 and out.payoffs[1] != 0
    assert [e.args["index"] for e in receipt.events_named("PayoffCalculated")] == [0, 1, 2]
    assert client.round_state(r.round_id).payoff_digest == out.digest
    paid = rounds.withdraw(r)
    assert paid == {i: out.payouts[i] for i in range(3)}
    assert sum(paid.values()) == sum(r.deposits.values())
    assert client.profile_record(r.round_id, 3).joined is False
