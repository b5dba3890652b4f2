"""Misuse and attacks: each must fail with the exact decoded contract error, and hurt no one else."""

from __future__ import annotations

import dataclasses

import pytest
from fedsettle_helpers import ContractAccount

from settlement import (
    ZERO_ADDRESS,
    AlreadyDeposited,
    AlreadyReported,
    AlreadyWithdrawn,
    BadIndex,
    BondTooSmall,
    CannotAbandon,
    DuplicateAccount,
    InvalidParameter,
    NothingToWithdraw,
    NotJoined,
    NotOperator,
    OrgSpec,
    ParameterOverflow,
    Phase,
    ReentrancyGuardReentrantCall,
    ReportOutOfBounds,
    RhoComplete,
    RhoLength,
    RhoOutOfRange,
    SettlementClient,
    TransferFailed,
    UnknownRound,
    UnsupportedMechanism,
    ValueMismatch,
    WrongCaller,
    WrongPhase,
)

pytestmark = pytest.mark.chain


def _raw_triangle(entries: list[int]) -> bytes:
    # packed without Python-side validation, so the contract's checks are what is tested
    return b"".join(v.to_bytes(2, "big") for v in entries)


# ------------------------------------------------------------------------------ open
def test_not_operator_cannot_open(rounds, client: SettlementClient, org_accounts) -> None:
    r = rounds.open(2)
    with pytest.raises(NotOperator) as err:
        client.round_open(r.config, r.orgs, r.rho, sender=org_accounts[0])
    assert err.value.caller == org_accounts[0].address
    assert "operator" in str(err.value)


def test_rho_out_of_range_rejected_at_open(rounds, client, operator) -> None:
    r = rounds.open(3)
    with pytest.raises(RhoOutOfRange) as err:
        client.round_open(r.config, r.orgs, _raw_triangle([0, 10_000, 10_001]), sender=operator)
    assert err.value.args_by_name == {"offset": 4, "value": 10_001}


@pytest.mark.parametrize(
    ("entry", "value"), [(3, 0x7FFF), (15, 10_001), (16, 0x8000), (20, 0xFFFF), (20, 10_001)]
)
def test_rho_entry_above_bps_found_in_any_lane(rounds, client, operator, entry, value) -> None:
    # the check reads 16 entries per word: every lane and both ends of the range are caught,
    # and the error names the first bad entry's byte offset
    r = rounds.open(7)
    entries = [10_000] * 21
    entries[entry] = value
    with pytest.raises(RhoOutOfRange) as err:
        client.round_open(r.config, r.orgs, _raw_triangle(entries), sender=operator)
    assert err.value.args_by_name == {"offset": 2 * entry, "value": value}


def test_rho_length_rejected(rounds, client, operator) -> None:
    r = rounds.open(3)
    with pytest.raises(RhoLength) as err:
        client.round_open(r.config, r.orgs, r.rho[:-2], sender=operator)
    assert (err.value.expected, err.value.actual) == (6, 4)
    with pytest.raises(RhoComplete):
        client.rho_append(r.round_id, r.rho, sender=operator)


def test_bad_config_rejected(rounds, client, operator) -> None:
    r = rounds.open(2)
    cases = [
        (dataclasses.replace(r.config, x_scale=0), InvalidParameter, {"field": "xScale"}),
        (
            dataclasses.replace(r.config, d_min_wad=10**18 + 1),
            InvalidParameter,
            {"field": "dMinWad"},
        ),
        (
            dataclasses.replace(r.config, report_deadline=r.config.deposit_deadline),
            InvalidParameter,
            {"field": "deadlines"},
        ),
        (dataclasses.replace(r.config, mechanism_id=4), UnsupportedMechanism, {"mechanism_id": 4}),
        (dataclasses.replace(r.config, mechanism_id=0), UnsupportedMechanism, {"mechanism_id": 0}),
        (
            dataclasses.replace(r.config, token=r.orgs[0].account),
            InvalidParameter,
            {"field": "token"},
        ),
        (dataclasses.replace(r.config, gamma_wad=2**200), ParameterOverflow, {"field": "gammaWad"}),
    ]
    for config, error, attrs in cases:
        with pytest.raises(error) as err:
            client.round_open(config, r.orgs, r.rho, sender=operator)
        assert err.value.args_by_name == attrs
    with pytest.raises(DuplicateAccount) as dup:
        client.round_open(r.config, [r.orgs[0], r.orgs[0]], r.rho, sender=operator)
    assert dup.value.account == r.orgs[0].account
    for spec, field in [
        (OrgSpec(r.orgs[1].account, 0, 1), "xMax[1]"),
        (OrgSpec(r.orgs[1].account, 5, 0), "fMax[1]"),
        (OrgSpec(r.orgs[1].account, 5, 1, 7), "base[1]"),  # TradeFL slots have no base
    ]:
        with pytest.raises(InvalidParameter) as bad:
            client.round_open(r.config, [r.orgs[0], spec], r.rho, sender=operator)
        assert bad.value.field == field


# --------------------------------------------------------------------------- deposit
def test_deposit_errors(rounds, client: SettlementClient, org_accounts) -> None:
    r = rounds.open(3)
    bond = r.expected().bonds[0]
    assert bond > 0
    with pytest.raises(WrongCaller) as wrong:
        client.deposit_submit(r.round_id, 0, bond, sender=org_accounts[1])
    assert (wrong.value.expected, wrong.value.caller) == (
        r.orgs[0].account,
        org_accounts[1].address,
    )
    with pytest.raises(BondTooSmall) as small:
        client.deposit_submit(r.round_id, 0, bond - 1, sender=org_accounts[0])
    assert (small.value.required, small.value.sent) == (bond, bond - 1)
    assert "required bond" in str(small.value)
    with pytest.raises(UnknownRound):
        client.deposit_submit(10**9, 0, bond, sender=org_accounts[0])
    with pytest.raises(BadIndex) as bad:
        client.deposit_submit(r.round_id, 3, bond, sender=org_accounts[0])
    assert (bad.value.index, bad.value.n) == (3, 3)
    rounds.join(r, [0])
    with pytest.raises(AlreadyDeposited) as again:
        client.deposit_submit(r.round_id, 0, bond, sender=org_accounts[0])
    assert again.value.index == 0
    # msg.value must be the declared amount
    bond1 = r.expected().bonds[1]
    data = client.contract.encode_abi("depositSubmit", args=[r.round_id, 1, bond1])
    with pytest.raises(ValueMismatch) as value:
        client._tx.send(org_accounts[1], client.address, data, value=bond1 - 1)
    assert (value.value.expected, value.value.sent) == (bond1, bond1 - 1)
    # nothing above changed the books
    assert client.round_state(r.round_id).total_deposits == bond


# ---------------------------------------------------------------------------- report
def test_report_errors(rounds, client: SettlementClient, org_accounts) -> None:
    r = rounds.open(3, x_max=1000, f_max=8, d_min=0.25)
    rounds.join(r, [0, 1])
    rounds.close_deposits(r)
    with pytest.raises(NotJoined):
        client.contribution_submit(r.round_id, 2, 500, 2, sender=org_accounts[2])
    with pytest.raises(WrongCaller):
        client.contribution_submit(r.round_id, 0, 500, 2, sender=org_accounts[1])
    for (x, f), field, bounds in [
        ((249, 2), "x[0]", (250, 1000)),
        ((1001, 2), "x[0]", (250, 1000)),
        ((500, 0), "f[0]", (1, 8)),
        ((500, 9), "f[0]", (1, 8)),
    ]:
        with pytest.raises(ReportOutOfBounds) as oob:
            client.contribution_submit(r.round_id, 0, x, f, sender=org_accounts[0])
        assert oob.value.field == field
        assert (oob.value.min, oob.value.max) == bounds
        assert oob.value.value == (x if field[0] == "x" else f)
    rounds.report(r, {0: (250, 1)})
    with pytest.raises(AlreadyReported):
        client.contribution_submit(r.round_id, 0, 300, 1, sender=org_accounts[0])
    rounds.close_reports(r)
    with pytest.raises(WrongPhase) as late:
        client.contribution_submit(r.round_id, 1, 500, 2, sender=org_accounts[1])
    assert (late.value.expected, late.value.actual) == (Phase.REPORT, Phase.CALCULATE)
    assert client.round_state(r.round_id).reported_count == 1


# ----------------------------------------------------------------------- phase order
def test_phases_out_of_order(rounds, client: SettlementClient, org_accounts) -> None:
    r = rounds.open(2)
    a = org_accounts[0]
    rounds.join(r, [0])
    with pytest.raises(WrongPhase) as early_report:
        client.contribution_submit(r.round_id, 0, 500, 2, sender=a)
    assert (early_report.value.expected, early_report.value.actual) == (Phase.REPORT, Phase.DEPOSIT)
    with pytest.raises(WrongPhase) as early_calc:
        client.payoff_calculate(r.round_id)
    assert early_calc.value.actual == Phase.DEPOSIT
    with pytest.raises(WrongPhase) as early_withdraw:
        client.payoff_transfer(r.round_id, 0, sender=a)
    assert (early_withdraw.value.expected, early_withdraw.value.actual) == (
        Phase.SETTLED,
        Phase.DEPOSIT,
    )
    rounds.join(r, [1])
    with pytest.raises(WrongPhase) as calc_in_report:
        client.payoff_calculate(r.round_id)
    assert calc_in_report.value.actual == Phase.REPORT
    rounds.report(r, {0: (500, 2), 1: (900, 3)})
    rounds.settle(r)
    with pytest.raises(WrongPhase) as twice:
        client.payoff_calculate(r.round_id)
    assert twice.value.actual == Phase.SETTLED
    with pytest.raises(CannotAbandon) as abandon:
        client.round_abandon(r.round_id)
    assert abandon.value.phase == Phase.SETTLED
    fresh = rounds.open(2, seed=4)
    with pytest.raises(WrongPhase) as push_early:
        client.payout_batch(fresh.round_id)
    assert push_early.value.actual == Phase.DEPOSIT
    late = rounds.open(2, seed=3)
    rounds.close_deposits(late)
    with pytest.raises(WrongPhase) as late_deposit:
        client.deposit_submit(late.round_id, 0, late.expected().bonds[0], sender=a)
    # nobody joined: with no depositor to wait for, reports are closed at once
    assert late_deposit.value.actual == Phase.CALCULATE
    paid = rounds.withdraw(r)
    assert sum(paid.values()) == sum(r.deposits.values())


# -------------------------------------------------------------------------- withdraw
def test_withdraw_twice_and_non_joiner(rounds, client: SettlementClient, org_accounts) -> None:
    r = rounds.open(3)
    rounds.join(r, [0, 1])
    rounds.close_deposits(r)
    rounds.report(r, {0: (1000, 8), 1: (100, 1)})
    rounds.settle(r)
    paid = rounds.withdraw(r, [0])
    with pytest.raises(AlreadyWithdrawn):
        client.payoff_transfer(r.round_id, 0, sender=org_accounts[0])
    with pytest.raises(NothingToWithdraw):
        client.payoff_transfer(r.round_id, 2, sender=org_accounts[2])
    with pytest.raises(WrongCaller):
        client.payoff_transfer(r.round_id, 1, sender=org_accounts[0])
    paid.update(rounds.withdraw(r, [1]))
    assert paid == {0: r.expected().payouts[0], 1: r.expected().payouts[1]}
    assert sum(paid.values()) == sum(r.deposits.values())


def _contract_round(rounds, client, operator, org_accounts, name: str):
    hostile = ContractAccount.deploy(client, name, operator, client.address)
    accounts = [hostile, org_accounts[0], org_accounts[1]]
    r = rounds.open(3, accounts=accounts, seed=21)
    rounds.join(r)
    # the hostile slot contributes most, so it is owed money: the largest possible payout
    rounds.report(r, {0: (1000, 8), 1: (300, 2), 2: (100, 1)})
    rounds.settle(r)
    assert r.expected().payoffs[0] > 0
    return hostile, r


def test_reentrant_attacker_bubbling_fails_alone(rounds, client, operator, org_accounts) -> None:
    attacker, r = _contract_round(rounds, client, operator, org_accounts, "ReentrantAttacker")
    attacker.transact("setMode", 1, sender=operator)
    with pytest.raises(TransferFailed) as err:
        attacker.transact("withdraw", r.round_id, 0, sender=operator)
    assert err.value.to == attacker.address
    assert err.value.amount == r.expected().payouts[0]
    assert client.profile_record(r.round_id, 0).withdrawn is False
    paid = rounds.withdraw(r, [1, 2])  # others are unaffected
    assert paid == {1: r.expected().payouts[1], 2: r.expected().payouts[2]}


def test_reentrant_attacker_gets_paid_once(rounds, client, operator, org_accounts) -> None:
    attacker, r = _contract_round(rounds, client, operator, org_accounts, "ReentrantAttacker")
    attacker.transact("setMode", 2, sender=operator)
    before = client.balance()
    paid = rounds.withdraw(r)
    out = r.expected()
    assert paid == dict(enumerate(out.payouts))
    assert attacker.call("reentryAttempts") == 1
    assert attacker.call("reentrySuccesses") == 0
    assert isinstance(
        client.errors.decode(attacker.call("lastRevert")), ReentrancyGuardReentrantCall
    )
    assert attacker.call("received") == out.payouts[0]
    assert client.w3.eth.get_balance(attacker.address) == out.payouts[0]
    assert before - client.balance() == sum(out.payouts) == sum(r.deposits.values())


def test_reverting_recipient_blocks_no_one(rounds, client, operator, org_accounts) -> None:
    recipient, r = _contract_round(rounds, client, operator, org_accounts, "RevertingRecipient")
    with pytest.raises(TransferFailed):
        recipient.transact("withdraw", r.round_id, 0, sender=operator)
    paid = rounds.withdraw(r, [1, 2])
    out = r.expected()
    assert paid == {1: out.payouts[1], 2: out.payouts[2]}
    # once it accepts payments again it can still collect, exactly once
    recipient.transact("setAccepting", True, sender=operator)
    paid.update(rounds.withdraw(r, [0]))
    assert recipient.call("received") == out.payouts[0]
    assert sum(paid.values()) == sum(r.deposits.values())
    with pytest.raises(AlreadyWithdrawn):
        recipient.transact("withdraw", r.round_id, 0, sender=operator)


def test_forced_ether_does_not_break_accounting(rounds, client, operator) -> None:
    r = rounds.open(3, seed=9)
    rounds.join(r)
    forced = 12_345_678_901
    before = client.balance()
    liabilities = client.liabilities()
    feeder = ContractAccount.deploy(client, "ForceFeeder", operator, value=forced)
    feeder.transact("feed", client.address, sender=operator)
    assert client.balance() == before + forced
    assert client.liabilities() == liabilities
    rounds.report(r, {0: (700, 4), 1: (100, 1), 2: (1000, 8)})
    rounds.settle(r)
    paid = rounds.withdraw(r)
    assert paid == dict(enumerate(r.expected().payouts))
    assert sum(paid.values()) == sum(r.deposits.values())
    assert client.balance() == before + forced - sum(r.deposits.values())
    assert client.liabilities() == liabilities - sum(r.deposits.values())


def test_unknown_round_views(client: SettlementClient) -> None:
    assert client.phase_of(0) == Phase.NONE
    assert client.phase_of(10**12) == Phase.NONE
    with pytest.raises(UnknownRound) as err:
        client.round_state(10**12)
    assert err.value.round_id == 10**12
    assert client.operator() != ZERO_ADDRESS


def test_push_defers_a_refusing_recipient_to_pull(rounds, client, operator, org_accounts) -> None:
    recipient, r = _contract_round(rounds, client, operator, org_accounts, "RevertingRecipient")
    out = r.expected()
    paid, deferred = rounds.push(r, sender=org_accounts[61])
    # one bad recipient blocks only itself; the batch pays everyone else
    assert deferred == {0: out.payouts[0]}
    assert paid == {1: out.payouts[1], 2: out.payouts[2]}
    assert client.profile_record(r.round_id, 0).withdrawn is False
    assert client.liabilities() >= out.payouts[0]
    recipient.transact("setAccepting", True, sender=operator)
    paid.update(rounds.withdraw(r, [0]))  # the pull fallback
    assert recipient.call("received") == out.payouts[0]
    assert sum(paid.values()) == sum(r.deposits.values())
    again, _ = rounds.push(r)  # nothing left to push
    assert again == {}


def test_the_auditor_shows_a_refused_push_payout_until_it_is_pulled(
    rounds, client, operator, org_accounts, tmp_path
) -> None:
    from fastapi.testclient import TestClient

    from settlement.audit import AuditService, create_app

    recipient, r = _contract_round(rounds, client, operator, org_accounts, "RevertingRecipient")
    out = r.expected()
    rounds.push(r, sender=org_accounts[61])
    service = AuditService(tmp_path / "index.sqlite", w3=client.w3, contract=client.address)
    try:
        service.sync()
        api = TestClient(create_app(service))
        refused = api.get(f"/rounds/{r.round_id}/orgs/0").json()
        assert refused["payout_deferred"] is True and refused["withdrawn"] is False
        assert refused["owed_wei"] == out.payouts[0]  # still owed: it must pull
        assert api.get(f"/rounds/{r.round_id}/orgs/1").json()["payout_deferred"] is False
        recipient.transact("setAccepting", True, sender=operator)
        rounds.withdraw(r, [0])
        service.sync()
        pulled = api.get(f"/rounds/{r.round_id}/orgs/0").json()
        assert pulled["payout_deferred"] is True  # the history stays
        assert pulled["withdrawn"] is True and pulled["owed_wei"] == 0
    finally:
        service.close()
