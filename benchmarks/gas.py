"""Gas cost of a full FedSettle round per number of organizations n, under mainnet's tx gas cap.

Spawns anvil with ``--enable-tx-gas-limit`` (16,777,216 gas per transaction), deploys FedSettle
and, for each n, runs a worst-case round: every org joins and reports, every rho entry off the
diagonal is non-zero (the pair loops skip zero entries), and every report carries the coordinator's
EIP-712 attestation (the contract then runs ecrecover per report). It then searches the largest n whose
``roundOpen`` and ``payoffCalculate`` both fit the cap: doubling then bisection on the estimated
``roundOpen`` gas, then a real round at the candidate (stepping down while ``payoffCalculate``
does not fit).

Prints a JSON list, one object per n, and writes it to ``benchmarks/results/gas.json``.

Usage: ``python benchmarks/gas.py [--ns 2,10,50,100] [--no-search]``
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
    SettlementClient,
    TransactionFailed,
    dev_account,
    pack_rho,
    set_balance,
)

RESULTS = Path(__file__).resolve().parent / "results" / "gas.json"

#: FedSettle's hard cap on slots per round (MAX_ORGS: its org table must fit one contract's code)
MAX_ORGS = 511


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

    def inputs(self, n: int, seed: int) -> tuple[Any, list[OrgSpec], bytes]:
        rng = random.Random(seed)
        rho = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                rho[i][j] = rho[j][i] = rng.randint(1, 10_000)
        orgs = [OrgSpec(a.address, 10_000, 16) for a in self.accounts_for(n)]
        config = self.client.round_config_from_reals(
            gamma=10**9,
            lambda_="2.5",
            d_min="0.1",
            deposit_window=86_400,
            coordinator=self.coordinator.address,
        )
        return config, orgs, pack_rho(rho)

    def open_gas(self, n: int) -> int | None:
        """Estimated roundOpen gas at n, or None if the node refuses it (above the block limit)."""
        config, orgs, rho = self.inputs(n, seed=n)
        try:
            return self.client.estimate_gas(
                "roundOpen", config.to_abi(), [o.to_abi() for o in orgs], rho
            )
        except TransactionFailed:
            return None

    def open_fits(self, n: int) -> bool:
        gas = self.open_gas(n)
        return gas is not None and gas <= MAINNET_TX_GAS_CAP

    def run_round(self, n: int) -> dict[str, Any]:
        """A full worst-case round at n; raises TransactionFailed if a transaction hits the cap."""
        client, rng = self.client, random.Random(n)
        config, orgs, rho = self.inputs(n, seed=n)
        accounts = self.accounts_for(n)
        started = time.perf_counter()
        opened = client.round_open(config, orgs, rho)
        rid = opened.round_id
        bonds = [p.bond for p in client.profiles(rid)]
        deposits = [
            client.deposit_submit(rid, i, bonds[i], sender=a) for i, a in enumerate(accounts)
        ]
        reports = []
        for i, a in enumerate(accounts):
            x, f = rng.randint(1_000, 10_000), rng.randint(1, 16)
            attestation = client.sign_contribution(self.coordinator, rid, i, a.address, x, f)
            reports.append(client.contribution_submit(rid, i, x, f, attestation, sender=a))
        calculate = client.payoff_calculate(rid, rho)
        transfers = [client.payoff_transfer(rid, i, sender=a) for i, a in enumerate(accounts)]
        receipts = [opened.receipt, *deposits, *reports, calculate, *transfers]
        total = sum(r.gas_used for r in receipts)
        return {
            "n": n,
            "roundOpen": opened.receipt.gas_used,
            "depositSubmit_max": max(r.gas_used for r in deposits),
            "contributionSubmit_max": max(r.gas_used for r in reports),
            "payoffCalculate": calculate.gas_used,
            "payoffTransfer_max": max(r.gas_used for r in transfers),
            "max_tx_gas": max(r.gas_used for r in receipts),
            "total_gas": total,
            "gas_per_org": round(total / n),
            "transactions": len(receipts),
            "tx_gas_cap": MAINNET_TX_GAS_CAP,
            "attested_reports": True,
            "largest_fitting": False,
            "seconds": round(time.perf_counter() - started, 2),
        }

    def largest_open_n(self, limit: int) -> int:
        """Largest n whose roundOpen fits the cap: doubling, then bisection on the estimate."""
        lo, hi = 2, 4
        while hi <= limit and self.open_fits(hi):
            lo, hi = hi, hi * 2
        hi = min(hi, limit + 1)
        while hi - lo > 1:  # invariant: open_fits(lo) and not open_fits(hi)
            mid = (lo + hi) // 2
            if self.open_fits(mid):
                lo = mid
            else:
                hi = mid
        return lo

    def largest_n(self, limit: int, measured: list[dict[str, Any]]) -> dict[str, Any]:
        """The largest n whose whole round fits the cap, with that round's numbers.

        payoffCalculate may bind before roundOpen does. Its gas is a quadratic in n (one loop
        iteration per pair of reporters), so a fit through the measured rounds predicts where it
        crosses the cap; real rounds then confirm the candidate and that one more org fails.
        """
        n = self.largest_open_n(limit)
        binding = "roundOpen"
        predicted = _quadratic_crossing(
            [(r["n"], r["payoffCalculate"]) for r in measured], MAINNET_TX_GAS_CAP
        )
        if predicted is not None and predicted < n:
            n, binding = predicted, "payoffCalculate"
        row: dict[str, Any] | None = None
        while row is None:
            try:
                row = self.run_round(n)
            except TransactionFailed as exc:
                print(f"n={n}: {exc}; trying n={n - 1}", file=sys.stderr)
                n, binding = n - 1, "payoffCalculate"
        if binding == "payoffCalculate":  # confirm the next size really fails
            try:
                self.run_round(n + 1)
            except TransactionFailed:
                pass
            else:
                print(f"n={n + 1} fits after all; search again upward", file=sys.stderr)
                return self.largest_n(limit, [*measured, row])
        row["binding"] = binding
        row["largest_fitting"] = True
        row["roundOpen_estimate_at_n_plus_1"] = self.open_gas(n + 1)
        return row


def _quadratic_crossing(points: list[tuple[int, int]], cap: int) -> int | None:
    """Largest n with a + b n + c n^2 <= cap for the quadratic through the last three points."""
    if len(points) < 3:
        return None
    (x1, y1), (x2, y2), (x3, y3) = sorted(points)[-3:]

    # Lagrange form, evaluated by scanning n upward from the last measured size
    def f(x: float) -> float:
        return (
            y1 * (x - x2) * (x - x3) / ((x1 - x2) * (x1 - x3))
            + y2 * (x - x1) * (x - x3) / ((x2 - x1) * (x2 - x3))
            + y3 * (x - x1) * (x - x2) / ((x3 - x1) * (x3 - x2))
        )

    n = x3
    if f(n) > cap:
        return None
    while f(n + 1) <= cap and n < MAX_ORGS:
        n += 1
    return n


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", default="2,10,50,100", help="comma-separated sizes to run")
    parser.add_argument("--no-search", action="store_true", help="skip the largest-n search")
    parser.add_argument("--limit", type=int, default=MAX_ORGS, help="upper bound of the search")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    results: list[dict[str, Any]] = []
    with AnvilBackend(tx_gas_limit=True) as chain:
        bench = Bench(chain)
        deploy_gas = bench.client.deploy_receipt.gas_used if bench.client.deploy_receipt else None
        print(f"deploy: {deploy_gas} gas", file=sys.stderr)
        for n in (int(v) for v in args.ns.split(",") if v):
            results.append(bench.run_round(n))
            print(json.dumps(results[-1]), file=sys.stderr)
        if not args.no_search:
            row = bench.largest_n(args.limit, results)
            results = [r for r in results if r["n"] != row["n"]] + [row]
            results.sort(key=lambda r: r["n"])
            print(json.dumps(row), file=sys.stderr)
    for row in results:
        row["deploy_gas"] = deploy_gas
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
