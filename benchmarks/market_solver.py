"""Market solver timings, the misreport effect in the pure model, and MarketRule gas on anvil.

1. ``solve_round`` (thresholds by bisection, greedy rows, payments, IR) on
   ``solver.market.random_market(n, seed)``, median wall seconds of ``--repeat`` runs, split into
   the threshold bisection and the rest, with the graph's edge count.
2. ``misreport_study``: one random client reports 2x its data size, or 2x its cost, in
   ``--markets`` random markets (4 to 12 orgs); its true utility gain over truthful reporting.
3. Gas of ``MarketRule.settleRound`` and ``bonds`` (via the test harness, compiled with solc-js
   and deployed on a fresh anvil; ``eth_estimateGas`` of the pure calls) for the greedy graphs of
   random markets; skipped with ``--no-gas``.

Prints JSON and writes it to ``benchmarks/results/market_solver.json``.

Usage: ``python benchmarks/market_solver.py [--ns 10,30,100,300,1000] [--markets 1000] [--no-gas]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import solver.market as sm
from settlement import AnvilBackend, dev_account
from settlement.rules import MarketGraph, MarketTable

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "market_solver.json"
HARNESS = ("contracts/rules/MarketRule.sol", "contracts/test/MarketRuleHarness.sol")
WAD = 10**18


def bench_solver(ns: list[int], seeds: int, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for n in ns:
        for seed in range(seeds):
            market, d = sm.random_market(n, seed)
            t_thr, t_all = [], []
            for _ in range(repeat):
                t0 = time.perf_counter()
                sm.thresholds(market, d)
                t1 = time.perf_counter()
                res = sm.solve_round(market, d)
                t_all.append(time.perf_counter() - t1)
                t_thr.append(t1 - t0)
            row = {
                "n": n,
                "seed": seed,
                "solve_round_seconds": round(statistics.median(t_all), 6),
                "thresholds_seconds": round(statistics.median(t_thr), 6),
                "edges": int(sum(len(r) for r in res.graph)),
                "all_ir": bool(res.ir.all()),
                "budget_balance": res.budget_balance,
            }
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    return rows


def bench_misreport(markets: int) -> list[dict[str, Any]]:
    out = []
    for n_factor, c_factor in ((2.0, 1.0), (1.0, 2.0)):
        t0 = time.perf_counter()
        study = sm.misreport_study(markets, n_factor=n_factor, c_factor=c_factor, seed=0)
        row = {**study.to_dict(), "seconds": round(time.perf_counter() - t0, 3)}
        print(json.dumps(row), file=sys.stderr)
        out.append(row)
    return out


def _harness(chain: AnvilBackend) -> Any:
    spec = importlib.util.spec_from_file_location(
        "compile_contracts", ROOT / "scripts" / "compile_contracts.py"
    )
    assert spec is not None and spec.loader is not None
    cc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cc)
    sources = {name: (ROOT / name).read_text(encoding="utf-8") for name in HARNESS}
    output, _ = cc.compile_solcjs(cc.standard_input(sources))
    cc._raise_on_errors(output)
    compiled = output["contracts"][HARNESS[1]]["MarketRuleHarness"]
    w3 = chain.web3()
    factory = w3.eth.contract(
        abi=compiled["abi"], bytecode="0x" + compiled["evm"]["bytecode"]["object"]
    )
    tx = factory.constructor().transact({"from": dev_account(0).address})
    address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    return w3.eth.contract(address=address, abi=compiled["abi"])


def bench_gas(ns: list[int]) -> list[dict[str, Any]]:
    rows = []
    with AnvilBackend() as chain:
        h = _harness(chain)
        for n in ns:
            market, d = sm.random_market(n, 0, seller_share=0.0)
            res = sm.solve_round(market, d)
            table = MarketTable.from_reals(market.N, market.c, market.K, market.lambda_pay, 10**12)
            d_wad = [[int(v * WAD) for v in row] for row in d]
            graph = MarketGraph.from_rows(res.graph, d_wad)
            empty = MarketGraph.from_rows([()] * n, d_wad)
            gas = h.functions.settleRound(table.abi(), graph.abi()).estimate_gas()
            gas0 = h.functions.settleRound(table.abi(), empty.abi()).estimate_gas()
            gas_b = h.functions.bonds(list(table.n), list(table.k_wad), 10**12, 5).estimate_gas()
            edges = len(graph.exporters)
            row = {
                "n": n,
                "edges": edges,
                "settle_round_gas": gas,
                "settle_round_empty_graph_gas": gas0,
                "gas_per_edge": round((gas - gas0) / edges) if edges else None,
                "bonds_gas": gas_b,
            }
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="10,30,100,300,1000")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markets", type=int, default=1000)
    ap.add_argument("--gas-ns", default="3,9,30,60")
    ap.add_argument("--no-gas", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    ns = [int(v) for v in args.ns.split(",") if v]
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "solver": bench_solver(ns, args.seeds, args.repeat),
        "misreport": bench_misreport(args.markets),
    }
    if not args.no_gas:
        report["gas"] = bench_gas([int(v) for v in args.gas_ns.split(",") if v])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
