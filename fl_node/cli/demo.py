"""``fedsettle demo``: one full round on the embedded default (anvil, bundled data, torch)."""

from __future__ import annotations

import argparse
from pathlib import Path

from fl_node.cli._exit import ExitCode, UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run a complete settlement round on a spawned anvil with bundled data",
        description=(
            "Spawn anvil, deploy the settlement contract, create N silos with non-IID data, "
            "run the strategy phase, train with torch, settle on chain and write a report. "
            "The demo is the consortium coordinator with in-process silos."
        ),
    )
    from fl_node.mechanisms import DEFAULT_MECHANISM, mechanism_names

    p.add_argument(
        "--mechanism",
        default=DEFAULT_MECHANISM,
        help=f"settlement mechanism: {', '.join(mechanism_names())} (default {DEFAULT_MECHANISM})",
    )
    p.add_argument("--orgs", type=int, default=5, help="number of silos (default 5)")
    p.add_argument("--rounds", type=int, default=5, help="FL rounds (default 5)")
    p.add_argument(
        "--dataset",
        default="digits",
        help="bundled dataset (digits, breast_cancer, wine, iris) or a .npz/.csv file",
    )
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="output directory")
    p.add_argument("--epochs", type=int, default=3, help="local epochs per FL round (eta)")
    p.add_argument("--seed", type=int, default=0, help="seed for data split and parameters")
    p.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="Dirichlet non-IID concentration (default 0.5; cogen 0.1, strongly non-IID)",
    )
    p.add_argument(
        "--no-attest",
        action="store_true",
        help="no coordinator: each silo reports its own assignment",
    )
    p.add_argument(
        "--token",
        action="store_true",
        help=(
            "settle in a test stablecoin (tUSD, 6 decimals) deployed on the spawned anvil: "
            "1 payoff unit = 1,000 tUSD, every silo minted 1,000,000 tUSD"
        ),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fl_node.demo import DemoOptions, run_demo

    try:
        opts = DemoOptions(
            orgs=args.orgs,
            rounds=args.rounds,
            dataset=args.dataset,
            out=args.out,
            seed=args.seed,
            alpha=args.alpha,
            epochs=args.epochs,
            attest=not args.no_attest,
            mechanism=args.mechanism,
            token=args.token,
        )
    except ValueError as exc:
        raise UserError(str(exc), ExitCode.USAGE) from None
    from fl_node.coordinator import CoordinatorError
    from fl_node.data import DataError
    from settlement import SettlementError

    try:
        result = run_demo(opts)
    except CoordinatorError as exc:
        if isinstance(exc.__cause__, DataError):
            raise UserError(f"data: {exc}", ExitCode.DATA) from None
        if isinstance(exc.__cause__, SettlementError):
            raise UserError(f"chain: {exc}", ExitCode.CHAIN) from None
        raise UserError(str(exc), ExitCode.FAILURE) from None
    except DataError as exc:
        raise UserError(f"data: {exc}", ExitCode.DATA) from None
    except SettlementError as exc:
        raise UserError(f"chain: {exc}", ExitCode.CHAIN) from None
    return int(ExitCode.OK if result["sum_R_wei"] == 0 else ExitCode.FAILURE)
