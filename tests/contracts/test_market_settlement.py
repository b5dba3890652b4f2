"""Mechanism 3 (the model-sharing market) in the core contract, on the session's real anvil.

The coordinator's table carries every FL round's graph and distances; the contract computes the
payments (checked against the exact mirror ``settlement.rules``), bonds cover the worst case and
the payouts sum to the deposits to the wei.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settlement import (
    WAD,
    ContractError,
    NotJoined,
    Phase,
    SettlementClient,
    TableAlreadySubmitted,
    WrongCaller,
    dev_account,
    market_bonds,
    market_config,
    market_orgs,
    market_payoffs,
    market_table_of,
    unpack_market_table,
    warp_to,
)
from settlement.rules import MarketGraph, edge_payments

UNIT_WEI = 10**15  # wei per 1.0 unit of utility


def _open(
    client: SettlementClient,
    accounts: list[LocalAccount],
    N: list[int],
    K: list[float],
    rounds: int,
    *,
    join: list[int] | None = None,
) -> tuple[int, Any, list[Any]]:
    coordinator = dev_account(1)
    config = market_config(
        now=client.chain_time(),
        coordinator=coordinator.address,
        lambda_pay=0.5,
        unit_wei=UNIT_WEI,
        rounds=rounds,
        deposit_window=600,
    )
    orgs = market_orgs([a.address for a in accounts], N, [0.05] * len(N), K)
    round_id = client.market_round_open(config, orgs).round_id
    for i in range(len(N)) if join is None else join:
        client.deposit_submit(round_id, i, sender=accounts[i])
    return round_id, config, orgs


def _settle_and_pay(client: SettlementClient, round_id: int, accounts: list[LocalAccount]) -> None:
    client.settle(round_id)
    assert client.phase_of(round_id) == Phase.SETTLED
    client.payout_batch(round_id)


def _full_graph(m: int, dist: int) -> MarketGraph:
    return MarketGraph.from_rows(
        [[j for j in range(m) if j != i] for i in range(m)], [[dist] * m for _ in range(m)]
    )


def test_market_round_pays_the_mirror_and_balances_exactly(
    client: SettlementClient, org_accounts: list[LocalAccount]
) -> None:
    accounts = org_accounts[:4]
    N, K = [300, 500, 200, 400], [20000.0, 5000.0, 0.0, 12000.0]
    round_id, config, orgs = _open(client, accounts, N, K, rounds=2)
    d = [[0, 2 * WAD // 10, 3 * WAD // 10, WAD // 10]] * 4
    graphs = [
        MarketGraph.from_rows([[3, 1], [0], [], [0, 2]], d),
        MarketGraph.from_rows([[1], [], [], [2]], d),
    ]
    receipt = client.market_table_submit(round_id, graphs, sender=dev_account(1))
    assert receipt.events_named("ReportTableSubmitted")[0].args["reports"] == 4
    assert unpack_market_table(4, client.report_table(round_id) or b"") == graphs
    expected = market_payoffs(market_table_of(config, orgs), graphs)
    assert sum(expected) == 0 and any(expected)
    deposits = [p.deposited for p in client.profiles(round_id)]
    _settle_and_pay(client, round_id, accounts)
    profiles = client.profiles(round_id)
    assert [p.payoff for p in profiles] == expected
    assert [p.score for p in profiles] == N  # a market slot is settled at its N
    state = client.round_state(round_id)
    assert state.total_withdrawn == state.total_deposits == sum(deposits)
    assert all(p.withdrawn for p in profiles)


def test_bonds_cover_the_worst_case(
    client: SettlementClient, org_accounts: list[LocalAccount]
) -> None:
    """Every importer takes every exporter at distance 0 in every covered round: the largest
    payments any table can make; each payout stays >= 0 with deposits equal to the bonds."""
    accounts = org_accounts[4:9]
    N, K = [100, 900, 300, 50, 700], [50000.0, 1000.0, 30000.0, 80000.0, 0.0]
    rounds = 3
    round_id, config, orgs = _open(client, accounts, N, K, rounds=rounds)
    bonds = market_bonds(config, orgs)
    assert [client.required_bond(round_id, i) for i in range(5)] == bonds
    assert bonds[4] == 0 and min(bonds[:4]) > 0  # a pure seller bonds nothing
    graphs = [_full_graph(5, 0)] * rounds
    client.market_table_submit(round_id, graphs, sender=dev_account(1))
    _settle_and_pay(client, round_id, accounts)
    payoffs = [p.payoff for p in client.profiles(round_id)]
    assert payoffs == market_payoffs(market_table_of(config, orgs), graphs)
    table = market_table_of(config, orgs)
    r = edge_payments(table, graphs[0])
    for i in range(5):
        paid = rounds * sum(r[e] for e in range(4 * i, 4 * i + 4))  # row i: 4 edges
        assert paid <= bonds[i]  # what i pays in the worst case, before its export income
        assert (paid > 0) == (K[i] > 0)
        assert -payoffs[i] <= bonds[i]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(2, 6), rounds=st.integers(1, 3))
def test_random_market_rounds_balance_to_the_wei(
    client: SettlementClient, org_accounts: list[LocalAccount], seed: int, m: int, rounds: int
) -> None:
    rng = random.Random(seed)
    accounts = org_accounts[10 : 10 + m]
    N = [rng.randint(1, 5000) for _ in range(m)]
    K = [rng.choice([0.0, float(rng.randint(1, 10**6))]) for _ in range(m)]
    join = sorted(rng.sample(range(m), rng.randint(2, m)))
    round_id, config, orgs = _open(client, accounts, N, K, rounds=rounds, join=join)
    before = [client.balance(a.address) for a in accounts]
    graphs = []
    for _ in range(rng.randint(1, rounds)):  # a table may carry fewer FL rounds than covered
        rows = [
            [j for j in rng.sample(join, len(join)) if j != i and rng.random() < 0.6]
            if i in join
            else []
            for i in range(m)
        ]
        dist = [[rng.randint(0, 2 * WAD) for _ in range(m)] for _ in range(m)]
        graphs.append(MarketGraph.from_rows(rows, dist))
    if len(join) < m:  # deposits close at the deadline
        warp_to(client.w3, config.deposit_deadline + 1)
    client.market_table_submit(round_id, graphs, sender=dev_account(1))
    _settle_and_pay(client, round_id, accounts)
    profiles = client.profiles(round_id)
    expected = market_payoffs(market_table_of(config, orgs), graphs)
    assert [p.payoff for p in profiles] == expected
    state = client.round_state(round_id)
    assert state.total_withdrawn == state.total_deposits
    # each account got its deposit back plus its payoff (gas is paid by the senders' txs only
    # for deposits, which happened before `before`)
    after = [client.balance(a.address) for a in accounts]
    assert sum(after) - sum(before) == sum(p.deposited for p in profiles)


def test_table_rules(client: SettlementClient, org_accounts: list[LocalAccount]) -> None:
    accounts = org_accounts[20:23]
    round_id, _, _ = _open(client, accounts, [100, 200, 300], [1e4, 1e4, 1e4], 2, join=[0, 1])
    d = [[WAD // 10] * 3] * 3
    # deposits still open (slot 2 may join): no table yet
    with pytest.raises(ContractError, match="WrongPhase"):
        client.market_table_submit(
            round_id, [MarketGraph.from_rows([[1], [], []], d)], sender=dev_account(1)
        )
    client.deposit_submit(round_id, 2, sender=accounts[2])
    with pytest.raises(WrongCaller):  # only the coordinator's account
        client.market_table_submit(
            round_id, [MarketGraph.from_rows([[1], [], []], d)], sender=accounts[0]
        )
    with pytest.raises(ContractError, match="MarketBadExporter"):
        client.market_table_submit(
            round_id, [MarketGraph.from_rows([[0], [], []], d)], sender=dev_account(1)
        )
    with pytest.raises(ContractError, match="rounds"):  # more FL rounds than the bonds cover
        client.market_table_submit(
            round_id, [MarketGraph.from_rows([[1], [], []], d)] * 3, sender=dev_account(1)
        )
    client.market_table_submit(
        round_id, [MarketGraph.from_rows([[1], [0], []], d)], sender=dev_account(1)
    )
    with pytest.raises(TableAlreadySubmitted):  # one table per round
        client.market_table_submit(
            round_id, [MarketGraph.from_rows([[2], [], []], d)], sender=dev_account(1)
        )


def test_a_graph_may_not_name_a_slot_that_did_not_deposit(
    client: SettlementClient, org_accounts: list[LocalAccount], chain_snapshot: None
) -> None:
    """Silence: a slot absent from the deposits is left out of every graph; a silent depositor
    named in no graph trades nothing and gets its deposit back."""
    accounts = org_accounts[24:27]
    round_id, config, _ = _open(client, accounts, [100, 200, 300], [1e4] * 3, 1, join=[0, 1, 2])
    assert client.phase_of(round_id) == Phase.REPORT
    d = [[0] * 3] * 3
    client.market_table_submit(
        round_id, [MarketGraph.from_rows([[1], [], []], d)], sender=dev_account(1)
    )
    _settle_and_pay(client, round_id, accounts)
    p = client.profiles(round_id)
    assert p[2].payoff == 0 and p[0].payoff == -p[1].payoff < 0
    # a second round where slot 2 never deposits: naming it reverts NotJoined(2)
    round_id, _, _ = _open(client, accounts, [100, 200, 300], [1e4] * 3, 1, join=[0, 1])
    warp_to(client.w3, config.deposit_deadline + 601)
    with pytest.raises(NotJoined):
        client.market_table_submit(
            round_id, [MarketGraph.from_rows([[2], [], []], d)], sender=dev_account(1)
        )
    # the coordinator stays silent: after the report deadline anyone settles, nobody traded
    warp_to(client.w3, client.round_config(round_id).report_deadline + 1)
    _settle_and_pay(client, round_id, accounts)
    p = client.profiles(round_id)
    assert [q.payoff for q in p] == [0, 0, 0] and p[0].withdrawn and p[1].withdrawn
