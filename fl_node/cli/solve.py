"""``fedsettle solve``: solve a game from a TOML file or a bundled preset.

The config's ``[game].mechanism`` selects the game: absent or ``tradefl`` is the TradeFL
coopetition game; any other name is dispatched to the module ``solver.<name>`` through the
:class:`solver.Mechanism` protocol. With ``--format json`` every outcome, errors included, is one
JSON object on stdout (errors also go to stderr as text).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from fl_node.cli._exit import ExitCode, UserError
from fl_node.cli._options import positive_int

#: TradeFL algorithm names (kept here so that ``--help`` does not import the solver)
ALGORITHMS = ("dbr", "dbr-sim", "cgbd", "exact", "wpr", "gca", "fip", "tos")
#: TradeFL algorithms that iterate in rounds and take ``--max-rounds``
ROUND_ALGORITHMS = ("dbr", "dbr-sim", "wpr", "gca", "fip")
#: TradeFL algorithms that fall back to the potential maximizer at the round limit
FALLBACK_ALGORITHMS = ("dbr", "dbr-sim", "wpr")
#: market payments forms and the size up to which ``auto`` is dense (solver.market's
#: PAYMENTS_FORMS and DENSE_UP_TO; a test checks they agree)
PAYMENTS_FORMS = ("auto", "dense", "edges")
MARKET_DENSE_UP_TO = 500


def register(subparsers: Any) -> None:
    """Add the ``solve`` command."""
    p = subparsers.add_parser(
        "solve",
        help="compute strategies, payoffs and redistribution of a game",
        description=(
            "Solve the game described by a TOML file (or a bundled TradeFL preset) and print "
            "strategies, payoffs, redistribution, potential, welfare and the checks. "
            "[game].mechanism selects the game (default tradefl)."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--config", metavar="GAME.toml", help="game file ([game] table and [[org]] tables)"
    )
    src.add_argument("--preset", metavar="NAME", help="bundled preset, e.g. paper-table2")
    p.add_argument(
        "--algorithm",
        metavar="NAME",
        help=f"solver; tradefl: one of {', '.join(ALGORITHMS)} (default: exact)",
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.add_argument(
        "--ir-range",
        action="store_true",
        help="also compute the gamma range where every payoff at equilibrium is >= 0",
    )
    p.add_argument(
        "--max-rounds",
        type=positive_int,
        metavar="N",
        help=f"round limit of {', '.join(ROUND_ALGORITHMS)} (default 1000)",
    )
    p.add_argument(
        "--no-fallback",
        action="store_true",
        help=(
            "at the round limit, report iteration_limit instead of continuing from the "
            f"certified potential maximizer ({', '.join(FALLBACK_ALGORITHMS)})"
        ),
    )
    p.add_argument(
        "--payments",
        choices=PAYMENTS_FORMS,
        help=(
            "market: form of payments and threshold in the output; dense: n x n matrices "
            "(row = importer); edges: lists parallel to graph (payments[i][k] is paid by org i "
            "to org graph[i][k]), computed without n x n arrays; auto (default): dense up to "
            f"{MARKET_DENSE_UP_TO} orgs, edges above. The output's payments_form says which"
        ),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Solve and print; exit code SOLVER when the algorithm did not succeed."""
    try:
        out, text, ok = _solve(args)
    except UserError as exc:
        if args.format == "json":
            error = {"code": int(exc.code), "kind": exc.code.name.lower(), "message": str(exc)}
            print(json.dumps({"success": False, "error": error}, indent=2))
        raise
    if args.format == "json":
        # Indented for a person at a terminal; compact for pipes and files, where json's C
        # encoder is about 4x faster (a 1,000-org market result is tens of MB).
        indent = 2 if sys.stdout.isatty() else None
        print(json.dumps(out, indent=indent, allow_nan=False))
    else:
        print(text)
    return int(ExitCode.OK if ok else ExitCode.SOLVER)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if args.max_rounds is not None:
        opts["max_rounds"] = args.max_rounds
    if args.no_fallback:
        opts["fallback"] = False
    if args.ir_range:
        opts["ir_range"] = True
    if args.payments is not None:
        opts["payments"] = args.payments
    return opts


def _solve(args: argparse.Namespace) -> tuple[dict[str, Any], str, bool]:
    import solver

    try:
        if args.preset:
            return _tradefl(args, solver.load_preset(args.preset))
        path = Path(args.config)
        data = solver.read_toml(path)
        name = solver.config_mechanism(data)
        if name == solver.MECHANISM:
            return _tradefl(args, solver.parse_game(data, base_dir=path.parent))
        mech = solver.mechanism_module(name)
        load_parsed = getattr(mech, "load_parsed", None)
        config = mech.load_config(path) if load_parsed is None else load_parsed(data, path)
        out = mech.solve_cli(config, args.algorithm, _options(args))
    except solver.GameError as exc:
        code = ExitCode.USAGE if exc.field == "algorithm" else ExitCode.CONFIG
        raise UserError(str(exc), code) from None
    except solver.SolverError as exc:  # ProblemTooLargeError, FitError, ...
        raise UserError(str(exc), ExitCode.SOLVER) from None
    text = json.dumps(out, indent=2, allow_nan=False) if args.format == "table" else ""
    return out, text, bool(out.get("success", True))


def _tradefl(args: argparse.Namespace, game: Any) -> tuple[dict[str, Any], str, bool]:
    import solver

    algorithm = args.algorithm or "exact"
    if algorithm not in ALGORITHMS:
        raise UserError(
            f"--algorithm: unknown algorithm {algorithm!r} for mechanism tradefl; choose from "
            f"{list(ALGORITHMS)}",
            ExitCode.USAGE,
        )
    kwargs: dict[str, Any] = {}
    if args.max_rounds is not None:
        if algorithm not in ROUND_ALGORITHMS:
            raise UserError(
                f"--max-rounds applies to {list(ROUND_ALGORITHMS)}, not {algorithm!r}",
                ExitCode.USAGE,
            )
        kwargs["max_rounds"] = args.max_rounds
    if args.no_fallback and algorithm in FALLBACK_ALGORITHMS:
        kwargs["fallback"] = False
    res = solver.solve(game, algorithm, **kwargs)
    ir = solver.ir_gamma_range(game) if args.ir_range else None
    out = res.to_dict()
    out["mechanism"] = solver.MECHANISM
    if ir is not None:
        out["ir_gamma_range"] = [[a, b if math.isfinite(b) else None] for a, b in ir.intervals]
    return out, _table(res, ir) if args.format == "table" else "", bool(res.success)


def _table(res: Any, ir: Any) -> str:
    names = list(res.names)
    w = max(4, *(len(n) for n in names))
    head = (
        f"{'org':<{w}}  {'d':>7}  {'f (GHz)':>8}  {'payoff':>12}  {'R_i':>11}  {'nash gap':>9}  IR"
    )
    lines = [
        f"algorithm {res.algorithm}: {res.status} - {res.message}",
        "",
        head,
        "-" * len(head),
    ]
    for i, n in enumerate(names):
        lines.append(
            f"{n:<{w}}  {res.d[i]:7.4f}  {res.f[i] / 1e9:8.4f}  {res.payoffs[i]:12.6g}  "
            f"{res.redistribution[i]:11.4g}  {res.nash_gap[i]:9.2g}  "
            f"{'yes' if res.individually_rational[i] else 'NO'}"
        )
    lines += [
        "",
        f"potential        {res.potential:.12g}"
        + (f"   (bound {res.bound:.12g}, gap {res.gap:.2g})" if res.bound is not None else ""),
        f"social welfare   {res.social_welfare:.10g}",
        f"budget balance   {res.budget_balance:.3g}   (sum of R_i)",
        f"Nash equilibrium {'yes' if res.is_nash else 'no'}   feasible {'yes' if res.feasible else 'no'}",
        f"iterations       {res.iterations}   time {res.seconds * 1e3:.1f} ms",
    ]
    if ir is not None:
        spans = ", ".join(f"[{a:.6g}, {b:.6g}]" for a, b in ir.intervals) or "none found"
        lines.append(f"IR gamma range   {spans}")
    return "\n".join(lines)
