"""The auditor's mechanism 3: recomputes a market round from what the chain holds (real anvil)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from settlement import WAD, OrgSpec, SettlementClient, dev_account, market_config, market_orgs
from settlement.audit._mechanisms import RoundInputs, mechanism_for
from settlement.rules import MarketGraph


def _inputs(client: SettlementClient, round_id: int, table: bytes | None) -> RoundInputs:
    profiles = client.profiles(round_id)
    return RoundInputs(
        config=client.round_config(round_id),
        orgs=[OrgSpec(p.account, p.x_max, p.f_max, p.base) for p in profiles],
        rho_bps=[],
        deposits={i: p.deposited for i, p in enumerate(profiles) if p.joined},
        reports={},
        market_table=table,
    )


def test_market_round_recomputes_from_chain_inputs(
    client: SettlementClient, org_accounts: list[LocalAccount]
) -> None:
    accounts = org_accounts[40:44]
    config = market_config(
        now=client.chain_time(),
        coordinator=dev_account(1).address,
        lambda_pay=0.5,
        unit_wei=10**15,
        rounds=2,
    )
    orgs = market_orgs(
        [a.address for a in accounts], [300, 500, 200, 400], [0.05] * 4, [20000, 5000, 0, 12000]
    )
    round_id = client.market_round_open(config, orgs).round_id
    for i in range(4):
        client.deposit_submit(round_id, i, sender=accounts[i])
    d = [[0, WAD // 5, 3 * WAD // 10, WAD // 10]] * 4
    graphs = [
        MarketGraph.from_rows([[3, 1], [0], [], [0, 2]], d),
        MarketGraph.from_rows([[1], [], [], [2]], d),
    ]
    client.market_table_submit(round_id, graphs, sender=dev_account(1))
    client.settle(round_id)

    mechanism = mechanism_for(3)
    assert mechanism is not None and mechanism.name == "model-sharing market"
    table = client.report_table(round_id)
    got = mechanism.recompute(_inputs(client, round_id, table))
    profiles = client.profiles(round_id)
    assert got.outcome.payoffs == [p.payoff for p in profiles]
    assert got.outcome.bonds == [p.bond for p in profiles]
    assert got.outcome.digest == client.round_state(round_id).payoff_digest
    assert got.reference is not None
    assert (
        max(abs(a - b) for a, b in zip(got.outcome.payoffs, got.reference, strict=True))
        <= got.tolerance_wei
    )
    assert sum(got.outcome.payoffs) == 0 and any(got.outcome.payoffs)

    # a table the chain did not store (one distance changed) is caught: its digest differs
    forged = bytearray(table or b"")
    forged[-8:] = (2 * WAD).to_bytes(8, "big")  # the last edge's distance, now the largest
    other = mechanism.recompute(_inputs(client, round_id, bytes(forged)))
    assert other.outcome.digest != got.outcome.digest
