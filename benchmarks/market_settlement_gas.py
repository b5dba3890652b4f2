"""Gas of a market settlement round (mechanism 3) on FedSettle, with the solver's greedy graphs.

For each number of orgs m, a random market (``solver.market.random_market``, seed 0) plays
``rounds`` FL rounds with fresh random model distances each round; the graphs come from
``solver.market.solve_round``. The benchmark opens one market round on anvil, every org deposits
its bond, the coordinator submits the one table, and ``payoffCalculate`` settles it. It records the
gas of each step, the edge count and whether the payouts sum to the deposits.

Writes ``benchmarks/results/market_settlement_gas.json``.
Usage: ``python -P benchmarks/market_settlement_gas.py [--ms 4,9,20] [--rounds 5]`` (``-P``: keep
benchmarks/solver.py from shadowing the ``solver`` package)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from eth_account import Account
from eth_utils import keccak

from settlement import (
    WAD,
    AnvilBackend,
    SettlementClient,
    dev_account,
    market_config,
    market_orgs,
    set_balance,
)
from settlement.rules import MarketGraph
from solver.market import random_distance, random_market, solve_round

OUT = Path(__file__).resolve().parent / "results" / "market_settlement_gas.json"


def run(client: SettlementClient, m: int, rounds: int) -> dict[str, object]:
    market, _ = random_market(m, seed=0)
    rng = np.random.default_rng(1)
    graphs = []
    for _ in range(rounds):
        d = random_distance(m, rng)
        played = solve_round(market, d)
        rows = [[int(j) for j in row] for row in played.graph]
        d_wad = [[min(int(v * WAD), 2 * WAD) for v in row] for row in d]
        graphs.append(MarketGraph.from_rows(rows, d_wad))
    accounts = [Account.from_key(keccak(text=f"market-gas-{i}")) for i in range(m)]
    for a in accounts:
        set_balance(client.w3, a.address, 10**24)
    N = [round(float(v)) for v in market.N]
    config = market_config(
        now=client.chain_time(),
        coordinator=dev_account(1).address,
        lambda_pay=market.lambda_pay,
        unit_wei=10**15,
        rounds=rounds,
    )
    orgs = market_orgs(
        [a.address for a in accounts], N, [float(v) for v in market.c], [float(v) for v in market.K]
    )
    opened = client.market_round_open(config, orgs)
    rid = opened.round_id
    deposits = [client.deposit_submit(rid, i, sender=accounts[i]).gas_used for i in range(m)]
    table = client.market_table_submit(rid, graphs, sender=dev_account(1))
    settle = client.settle(rid)
    client.payout_batch(rid)
    state = client.round_state(rid)
    return {
        "m": m,
        "fl_rounds": rounds,
        "edges": sum(len(g.exporters) for g in graphs),
        "gas_open": sum(r.gas_used for r in opened.receipts),
        "gas_deposit_mean": sum(deposits) // m,
        "gas_table_submit": table.gas_used,
        "gas_settle": sum(r.gas_used for r in settle),
        "payoffs_wei": [p.payoff for p in client.profiles(rid)],
        "exact_balance": state.total_withdrawn == state.total_deposits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ms", default="4,9,20")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with AnvilBackend(tx_gas_limit=True) as chain:
        client = SettlementClient.deploy(chain, dev_account(0))
        deploy_gas = client.deploy_receipt.gas_used if client.deploy_receipt else None
        results = [run(client, int(m), args.rounds) for m in args.ms.split(",")]
    out = {"deploy_gas": deploy_gas, "rounds": results}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2) + "\n")
    print(
        json.dumps(
            {
                **out,
                "rounds": [{k: v for k, v in r.items() if k != "payoffs_wei"} for r in results],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
