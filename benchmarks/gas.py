"""Gas cost of a full FedSettle round per number of organizations n, under mainnet's tx gas cap.

Spawns anvil with ``--enable-tx-gas-limit`` (16,777,216 gas per transaction), deploys FedSettle
and, for each n, runs a worst-case round: every org deposits, the coordinator submits every
org's report in one table, every weight off the diagonal is non-zero (the pair loops skip zero
entries). Settlement (``payoffCalculate``) and the push payouts (``payoutBatch``) run in the
largest chunks whose estimate stays under 90% of the cap. Every transaction is counted; who
pays is reported separately (operator: open and rho chunks; silos: deposits; coordinator: the
table; anyone: settlement and payouts).

Prints a JSON list, one object per n, and writes it to ``benchmarks/results/gas.json``.

Usage: ``python benchmarks/gas.py [--ns 2,10,50,100,500]``
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from settlement import (
    MAINNET_TX_GAS_CAP,
    AnvilBackend,
    OrgSpec,
    Phase,
    Receipt,
    SettlementClient,
    TransactionFailed,
    dev_account,
    pack_rho,
    set_balance,
)

RESULTS = Path(__file__).resolve().parent / "results" / "gas.json"

#: chunks are sized so a transaction's estimate stays under this share of the cap
HEADROOM = 0.9


class Bench:
    """One anvil, one deployed contract, a growing pool of funded org accounts."""

    def __init__(self, chain: AnvilBackend):
        self.chain = chain
        self.operator = dev_account(0)
        self.coordinator = dev_account(1)
        self.client = SettlementClient.deploy(chain, self.operator)
        self.accounts: list[LocalAccount] = []

    def accounts_for(self, n: int) -> list[LocalAccount]:
        w3 = self.chain.web3()
        while len(self.accounts) < n:
            account = Account.from_key(keccak(text=f"fedsettle-gas-{len(self.accounts)}"))
            set_balance(w3, account.address, 10**24)
            self.accounts.append(account)
        return self.accounts[:n]

    def _chunk(self, fn: str, n: int, *head: int) -> int:
        """The largest chunk (halving from n) whose estimated gas fits HEADROOM * cap."""
        chunk = n
        while chunk > 1:
            try:
                gas = self.client.estimate_gas(fn, *head, chunk, sender=self.operator)
                if gas <= HEADROOM * MAINNET_TX_GAS_CAP:
                    return chunk
            except TransactionFailed:
                pass
            chunk //= 2
        return 1

    def run_round(self, n: int) -> dict[str, Any]:
        client, rng = self.client, random.Random(n)
        accounts = self.accounts_for(n)
        rho = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                rho[i][j] = rho[j][i] = rng.randint(1, 10_000)
        orgs = [OrgSpec(a.address, 10_000, 16) for a in accounts]
        config = client.round_config_from_reals(
            gamma=10**9,
            lambda_="2.5",
            d_min="0.1",
            deposit_window=86_400,
            coordinator=self.coordinator.address,
        )
        started = time.perf_counter()
        opened = client.round_open(config, orgs, pack_rho(rho))
        rid = opened.round_id
        deposits = [client.deposit_submit(rid, i, sender=a) for i, a in enumerate(accounts)]
        table = {i: (rng.randint(1_000, 10_000), rng.randint(1, 16)) for i in range(n)}
        report = client.contribution_table_submit(rid, table, sender=self.coordinator)
        settle_chunk = self._chunk("payoffCalculate", n, rid)
        settles: list[Receipt] = []
        while client.phase_of(rid) == Phase.CALCULATE:
            settles.append(client.payoff_calculate(rid, settle_chunk))
        pay_chunk = n
        while pay_chunk > 1:
            try:
                gas = client.estimate_gas("payoutBatch", rid, 0, pay_chunk, sender=self.operator)
                if gas <= HEADROOM * MAINNET_TX_GAS_CAP:
                    break
            except TransactionFailed:
                pass
            pay_chunk //= 2
        payouts = [client.payout_batch(rid, s, pay_chunk) for s in range(0, n, pay_chunk)]
        state = client.round_state(rid)
        assert state.total_withdrawn == state.total_deposits, "budget balance broken"
        assert sum(p.payoff for p in client.profiles(rid)) == 0

        def total(receipts: list[Receipt]) -> int:
            return sum(r.gas_used for r in receipts)

        everything = [*opened.receipts, *deposits, report, *settles, *payouts]
        paid_by = {
            "operator": total(list(opened.receipts)),
            "silos": total(deposits),
            "coordinator": report.gas_used,
            "anyone": total(settles) + total(payouts),
        }
        return {
            "n": n,
            "roundOpen": opened.receipt.gas_used,
            "rhoAppend": [r.gas_used for r in opened.appends],
            "depositSubmit_max": max(r.gas_used for r in deposits),
            "contributionTableSubmit": report.gas_used,
            "payoffCalculate": [r.gas_used for r in settles],
            "payoffCalculate_chunk": settle_chunk,
            "payoutBatch": [r.gas_used for r in payouts],
            "payoutBatch_chunk": pay_chunk,
            "max_tx_gas": max(r.gas_used for r in everything),
            "total_gas": total(everything),
            "gas_per_org": round(total(everything) / n),
            "gas_per_org_by_payer": {k: round(v / n) for k, v in paid_by.items()},
            "transactions": len(everything),
            "tx_gas_cap": MAINNET_TX_GAS_CAP,
            "fits_cap": max(r.gas_used for r in everything) <= MAINNET_TX_GAS_CAP,
            "seconds": round(time.perf_counter() - started, 2),
        }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", default="2,10,50,100,500", help="comma-separated sizes to run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    results: list[dict[str, Any]] = []
    with AnvilBackend(tx_gas_limit=True) as chain:
        bench = Bench(chain)
        deploy_gas = bench.client.deploy_receipt.gas_used if bench.client.deploy_receipt else None
        print(f"deploy: {deploy_gas} gas", file=sys.stderr)
        for n in (int(v) for v in args.ns.split(",") if v):
            results.append({**bench.run_round(n), "deploy_gas": deploy_gas})
            print(json.dumps(results[-1]), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
