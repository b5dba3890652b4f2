"""``fedsettle experiment``: experiments that train real models (results go to ``docs/``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from fl_node.cli._exit import ExitCode, UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "experiment",
        help="run an experiment with real FL training (e.g. the scheme comparison)",
        description="Experiments with real FL training; results, tables and plots go to --out.",
    )
    ex = p.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    s = ex.add_parser(
        "schemes",
        help="DBR, CGBD/exact, WPR, GCA, FIP and TOS trained with FedAvg; fit P and feed it back",
        description=(
            "On N non-IID silos of a bundled dataset: solve each scheme's strategies on the "
            "consortium game at gamma*, train contribution-weighted FedAvg with each silo on "
            "exactly its d_i fraction, record test accuracy per round, fit the data-accuracy "
            "function P from the runs and solve the game again with it. Writes schemes.json, "
            "schemes_table.md and PNG plots to --out."
        ),
    )
    s.add_argument("--orgs", type=int, default=10, help="number of silos (default 10)")
    s.add_argument("--rounds", type=int, default=10, help="FL rounds per run (default 10)")
    s.add_argument("--seeds", type=int, default=3, help="seeds to average over (default 3)")
    s.add_argument(
        "--out",
        type=Path,
        default=Path("docs/figures/experiments"),
        help="output directory (default docs/figures/experiments)",
    )
    s.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: at most 3 rounds, 1 seed, coarse gamma grid, one probe run",
    )
    s.add_argument("--dataset", default="digits", help="bundled dataset (default digits)")
    s.add_argument("--alpha", type=float, default=0.5, help="Dirichlet non-IID concentration")
    s.add_argument(
        "--gamma",
        type=float,
        default=None,
        help="incentive intensity (default: gamma* maximizing DBR's social welfare, per seed)",
    )
    s.add_argument("--tau", type=float, default=0.3, help="training deadline per round, s")
    s.add_argument("--kappa", type=float, default=1e-9, help="energy coefficient of the game")
    s.add_argument("--no-fip", action="store_true", help="leave out the FIP baseline")
    s.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    s.set_defaults(func=run_schemes_cmd)
    _register_cogen(ex)
    _register_market(ex)


def run_schemes_cmd(args: argparse.Namespace) -> int:
    from fl_node.experiments import SchemesOptions, run_schemes

    try:
        opts = SchemesOptions(
            orgs=args.orgs,
            rounds=args.rounds,
            seeds=args.seeds,
            out=args.out,
            quick=args.quick,
            dataset=args.dataset,
            alpha=args.alpha,
            gamma=args.gamma,
            tau=args.tau,
            kappa=args.kappa,
            fip=not args.no_fip,
            first_seed=args.first_seed,
        )
    except ValueError as exc:
        raise UserError(str(exc), ExitCode.USAGE) from None
    from fl_node.data import DataError
    from solver import GameError

    try:
        run_schemes(opts)
    except DataError as exc:
        raise UserError(f"data: {exc}", ExitCode.DATA) from None
    except GameError as exc:
        raise UserError(f"game: {exc}", ExitCode.CONFIG) from None
    return int(ExitCode.OK)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers (e.g. 0.1,0.5,2)"
        ) from None


def _register_cogen(ex: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = ex.add_parser(
        "cogen",
        help="synthetic-data generation: generators, real training, loss fit, equilibrium sweeps",
        description=(
            "On non-IID digits silos: each silo trains a label-conditioned generator on its own "
            "data (its cost per sample and quality measured), FedAvg trains on real plus "
            "synthetic data, the loss parameters a, b, alpha_D are fitted from the runs, and the "
            "cogen equilibrium and its baselines are solved and trained over sweeps of "
            "heterogeneity (Dirichlet alpha), competition and redistribution intensity. Writes "
            "cogen.json and PNG plots to --out."
        ),
    )
    c.add_argument(
        "--out",
        type=Path,
        default=Path("docs/figures/cogen"),
        help="output directory (default docs/figures/cogen)",
    )
    c.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1], help="seeds to run (default 0 1)"
    )
    c.add_argument("--orgs", type=int, default=5, help="number of silos (default 5)")
    c.add_argument("--alphas", type=_floats, help="Dirichlet alphas, e.g. 0.1,0.3,1,10")
    c.add_argument("--gammas", type=_floats, help="competition intensities of the sweep")
    c.add_argument("--kappas", type=_floats, help="redistribution intensities of the sweep")
    c.add_argument("--generator", choices=["cvae", "gmm"], default="cvae")
    c.add_argument("--rounds", type=int, default=6, help="FL rounds per run (default 6)")
    c.add_argument("--theta", type=float, default=1000.0, help="money per unit of loss (1000)")
    c.add_argument(
        "--price", type=float, default=10.0, help="money per CPU-second of generation (10)"
    )
    c.add_argument("--q", type=float, default=1.0, help="quality weight of a synthetic sample")
    c.add_argument(
        "--quick", action="store_true", help="smoke run: 1 seed, 2 alphas, GMM, 2 rounds"
    )
    c.set_defaults(func=run_cogen_cmd)


def run_cogen_cmd(args: argparse.Namespace) -> int:
    from fl_node.experiments._cogen_run import run_cogen
    from fl_node.experiments._cogen_setting import CogenOptions

    given = {
        k: getattr(args, k) for k in ("alphas", "gammas", "kappas") if getattr(args, k) is not None
    }
    try:
        opts = CogenOptions(
            out=args.out,
            seeds=tuple(args.seeds),
            orgs=args.orgs,
            generator=args.generator,
            rounds=args.rounds,
            theta=args.theta,
            price=args.price,
            q=args.q,
            **given,
        )
        if args.quick:
            opts = opts.quick()
    except ValueError as exc:
        raise UserError(str(exc), ExitCode.USAGE) from None
    from fl_node.cogen import GeneratorError
    from fl_node.data import DataError
    from solver import GameError

    try:
        run_cogen(opts)
    except DataError as exc:
        raise UserError(f"data: {exc}", ExitCode.DATA) from None
    except (GameError, GeneratorError) as exc:
        raise UserError(f"cogen: {exc}", ExitCode.CONFIG) from None
    return int(ExitCode.OK)


def _register_market(ex: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = ex.add_parser(
        "market",
        help="the model-sharing market (personalized FL) against Local/FedAvg/FedProx/Ditto/"
        "FedAMP/CFL/FedFomo/pFedGraph; free-riders, sign-flippers, size and cost liars",
        description=(
            "On 9 digits silos (3 label clusters, and a Dirichlet split) with their own test "
            "splits: personalized FL through the market (graph and payments every round) and the "
            "baselines on the same model and local epochs; robustness runs; x2 size liars with "
            "and without the Merkle size binding, and a x2 cost liar. Writes market.json and PNG "
            "plots to --out and the report to --doc."
        ),
    )
    m.add_argument(
        "--out",
        type=Path,
        default=Path("docs/figures/market"),
        help="output directory (default docs/figures/market)",
    )
    m.add_argument(
        "--doc",
        type=Path,
        default=Path("docs/market.md"),
        help="Markdown report path (default docs/market.md)",
    )
    m.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    m.add_argument("--rounds", type=int, default=10, help="FL rounds (default 10)")
    m.add_argument("--epochs", type=int, default=2, help="local epochs per round (default 2)")
    m.add_argument("--challenges", type=int, default=20, help="size challenges at join")
    m.set_defaults(func=run_market_cmd)


def run_market_cmd(args: argparse.Namespace) -> int:
    from fl_node.experiments._market import MarketOptions, run_market_experiment

    try:
        opts = MarketOptions(
            seeds=tuple(args.seeds),
            rounds=args.rounds,
            epochs=args.epochs,
            out=args.out,
            doc=args.doc,
            challenges=args.challenges,
        )
    except ValueError as exc:
        raise UserError(str(exc), ExitCode.USAGE) from None
    from fl_node.data import DataError

    try:
        run_market_experiment(opts)
    except DataError as exc:
        raise UserError(f"data: {exc}", ExitCode.DATA) from None
    return int(ExitCode.OK)
