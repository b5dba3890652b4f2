"""Rounds settled in an ERC-20 token: exact balance, permit deposits, fee-on-transfer refused."""

from __future__ import annotations

import random

import pytest
from fedsettle_helpers import deploy_token

from settlement import Phase, TokenShortfall, ValueMismatch

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def stablecoin(client, operator):
    return deploy_token(client, operator, "TestToken")


def test_token_round_settles_to_the_unit(
    rounds, client, stablecoin, coordinator, org_accounts
) -> None:
    r = rounds.open(
        5, token=stablecoin.address, coordinator=coordinator.address, gamma=10**6, seed=51
    )
    assert client.round_config(r.round_id).token == stablecoin.address
    eth_before = client.balance()
    held = stablecoin.balance_of(client.address)
    owed = client.liabilities(stablecoin.address)
    rounds.join(r, extra={i: 10 * i for i in range(5)})
    assert stablecoin.balance_of(client.address) == held + sum(r.deposits.values())
    assert client.liabilities(stablecoin.address) == owed + sum(r.deposits.values())
    assert client.balance() == eth_before  # no ether moved
    rounds.submit_table(r, rounds.random_reports(r, random.Random(51), [0, 1, 3]), coordinator)
    rounds.settle(r)
    out = r.expected()
    assert any(p < 0 for p in out.payoffs) and any(p > 0 for p in out.payoffs)
    wallets = [stablecoin.balance_of(a.address) for a in r.accounts]
    paid, deferred = rounds.push(r)
    assert deferred == {} and paid == dict(enumerate(out.payouts))
    assert [
        stablecoin.balance_of(a.address) - w for a, w in zip(r.accounts, wallets, strict=True)
    ] == out.payouts
    assert stablecoin.balance_of(client.address) == held
    assert client.liabilities(stablecoin.address) == owed
    state = client.round_state(r.round_id)
    assert state.total_withdrawn == state.total_deposits == sum(out.payouts)


def test_permit_deposit_and_no_ether(rounds, client, stablecoin, org_accounts) -> None:
    r = rounds.open(2, token=stablecoin.address, gamma=10**6, seed=52)
    bonds = r.expected().bonds
    a, b = r.accounts
    stablecoin.mint(a, a.address, bonds[0])
    assert stablecoin.allowance(a.address, client.address) == 0
    client.deposit_with_permit(r.round_id, 0, bonds[0], sender=a)  # no approve transaction
    assert client.profile_record(r.round_id, 0).deposited == bonds[0]
    stablecoin.mint(b, b.address, bonds[1])
    stablecoin.approve(b, client.address, bonds[1])
    data = client.contract.encode_abi("depositSubmit", args=[r.round_id, 1, bonds[1]])
    with pytest.raises(ValueMismatch) as ether:
        client._tx.send(b, client.address, data, value=1)
    assert (ether.value.expected, ether.value.sent) == (0, 1)
    client.deposit_submit(r.round_id, 1, bonds[1], sender=b)
    r.deposits.update({0: bonds[0], 1: bonds[1]})
    rounds.report(r, {0: (1000, 8), 1: (100, 1)})
    rounds.settle(r)
    paid = rounds.withdraw(r)
    assert paid == dict(enumerate(r.expected().payouts))
    assert sum(paid.values()) == sum(bonds)


def test_fee_on_transfer_token_refused(rounds, client, operator) -> None:
    fee = deploy_token(client, operator, "FeeToken")
    r = rounds.open(2, token=fee.address, gamma=10**6, seed=53)
    a = r.accounts[0]
    bond = r.expected().bonds[0]
    assert bond >= 100
    fee.mint(a, a.address, bond)
    fee.approve(a, client.address, bond)
    with pytest.raises(TokenShortfall) as short:
        client.deposit_submit(r.round_id, 0, bond, sender=a)
    assert (short.value.expected, short.value.received) == (bond, bond - bond // 100)
    assert fee.balance_of(client.address) == 0
    assert client.liabilities(fee.address) == 0
    assert client.profile_record(r.round_id, 0).joined is False
    assert client.phase_of(r.round_id) == Phase.DEPOSIT
