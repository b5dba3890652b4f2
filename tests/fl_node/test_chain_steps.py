"""The chain steps against a real anvil: exact gamma, the silo's checks before it deposits,
the coordinator's one table, settling and paying out (idempotent on restart)."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account
from eth_utils import keccak

from fl_node.agent import ConsortiumTerms
from fl_node.chain_steps import (
    ChainUnits,
    accepted_terms,
    join,
    open_round,
    payout,
    settle,
    submit_table,
    withdraw,
)
from settlement import LockTooLong, Phase, TermsMismatch, TokenClient, increase_time, set_balance

TERMS = ConsortiumTerms(
    names=("a", "b", "c"),
    p=(1000.0, 1500.0, 2000.0),
    rho=((0.0, 0.3, 0.2), (0.3, 0.0, 0.4), (0.2, 0.4, 0.0)),
    tau=10.0,
    gamma=0.07,
    lam=0.5,
    w_e=0.01,
    kappa=1e-27,
    D_min=0.1,
    A0=1.0,
    G=5.0,
)
SIZES = (120.0, 150.0, 90.0)
LEVELS = (8.0, 6.0, 4.0)


def test_gamma_is_converted_exactly() -> None:
    assert ChainUnits().gamma_wei(0.07) == 7 * 10**16
    assert ChainUnits(unit_wei=10**6).gamma_wei("0.000001") == 1
    terms = accepted_terms(TERMS, SIZES, LEVELS, ["0x" + "11" * 20] * 3)
    assert terms.config.gamma_wad == 7 * 10**16 * 10**18  # no 7.000000000000001e34


@pytest.fixture
def silos(anvil):
    keys = [Account.from_key(keccak(text=f"fedsettle-chain-steps-{i}")) for i in range(3)]
    for k in keys:
        set_balance(anvil.web3(), k.address, 10**24)
    return keys


@pytest.mark.chain
def test_round_with_checked_joins_and_one_table(client, operator, coordinator, silos) -> None:
    accounts = [k.address for k in silos]
    units = ChainUnits(unit_wei=10**9)
    rid = open_round(
        client, TERMS, SIZES, LEVELS, accounts, units=units, coordinator=coordinator.address
    )
    accepted = accepted_terms(
        TERMS, SIZES, LEVELS, accounts, units=units, coordinator=coordinator.address
    )
    # a silo that accepted other terms refuses, naming the field, and sends nothing
    other = accepted_terms(
        dataclasses.replace(TERMS, lam=0.6),
        SIZES,
        LEVELS,
        accounts,
        units=units,
        coordinator=coordinator.address,
    )
    with pytest.raises(TermsMismatch) as mismatch:
        join(client, rid, 0, silos[0], expected=other)
    assert mismatch.value.field == "lambda_wad"
    with pytest.raises(LockTooLong):
        join(client, rid, 0, silos[0], expected=accepted, max_lock=3600)
    assert client.round_state(rid).joined_count == 0
    for i, k in enumerate(silos):
        assert join(client, rid, i, k, expected=accepted, max_lock=7300) is not None
        assert join(client, rid, i, k, expected=accepted) is None  # idempotent
    rows = {0: (120_000, 8), 1: (15_000, 1)}  # silo 2 gets no assignment
    assert submit_table(client, rid, rows, coordinator) is not None
    assert submit_table(client, rid, rows, coordinator) is None  # reports closed
    assert settle(client, rid, operator) is not None
    assert settle(client, rid, operator) is None
    assert client.phase_of(rid) == Phase.SETTLED
    receipt, amount = withdraw(client, rid, 2, silos[2])  # one silo pulls
    assert (
        receipt is not None
        and amount == client.profile_record(rid, 2).deposited + client.profile_record(rid, 2).payoff
    )
    pushed = payout(client, rid, operator)  # the rest are pushed
    assert pushed is not None and len(pushed.events_named("PayoffTransferred")) == 2
    assert payout(client, rid, operator) is None
    assert client.round_state(rid).total_withdrawn == client.round_state(rid).total_deposits


@pytest.mark.chain
def test_token_round_join_approves_first(client, operator, silos) -> None:
    token = TokenClient.deploy(client.w3, operator, nonces=client.nonces)
    accounts = [k.address for k in silos]
    units = ChainUnits(unit_wei=10**3)
    rid = open_round(client, TERMS, SIZES, LEVELS, accounts, units=units, token=token.address)
    expected = accepted_terms(TERMS, SIZES, LEVELS, accounts, units=units, token=token.address)
    for i, k in enumerate(silos):
        token.mint(k, k.address, 10**12)
        join(client, rid, i, k, expected=expected)
    assert token.balance_of(client.address) == client.round_state(rid).total_deposits > 0
    increase_time(client.w3, 7300)
    settle(client, rid)
    payout(client, rid, operator)
    assert token.balance_of(client.address) == 0
