"""``fedsettle solve``: solve a coopetition game from a TOML file or a bundled preset."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from fl_node.cli._exit import ExitCode, UserError

ALGORITHMS = ("dbr", "dbr-sim", "cgbd", "exact", "wpr", "gca", "fip", "tos")


def register(subparsers: Any) -> None:
    """Add the ``solve`` command."""
    p = subparsers.add_parser(
        "solve",
        help="compute strategies, payoffs and redistribution of a coopetition game",
        description=(
            "Solve the TradeFL coopetition game described by a TOML file (or a bundled preset) "
            "and print strategies, payoffs, redistribution, potential, welfare and the checks."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--config", metavar="GAME.toml", help="game file ([game] table and [[org]] tables)"
    )
    src.add_argument("--preset", metavar="NAME", help="bundled preset, e.g. paper-table2")
    p.add_argument(
        "--algorithm", choices=ALGORITHMS, default="exact", help="solver (default: exact)"
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.add_argument(
        "--ir-range",
        action="store_true",
        help="also compute the gamma range where every payoff at equilibrium is >= 0",
    )
    p.set_defaults(func=run)


def _load(args: argparse.Namespace) -> Any:
    import solver

    try:
        return solver.load_game(args.config) if args.config else solver.load_preset(args.preset)
    except solver.GameError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None


def run(args: argparse.Namespace) -> int:
    """Solve and print; exit code SOLVER when the algorithm did not succeed."""
    import solver

    game = _load(args)
    try:
        res = solver.solve(game, args.algorithm)
        ir = solver.ir_gamma_range(game) if args.ir_range else None
    except solver.ProblemTooLargeError as exc:
        raise UserError(str(exc), ExitCode.SOLVER) from None
    if args.format == "json":
        out = res.to_dict()
        if ir is not None:
            out["ir_gamma_range"] = [[a, b if math.isfinite(b) else None] for a, b in ir.intervals]
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print(_table(res, ir))
    return int(ExitCode.OK if res.success else ExitCode.SOLVER)


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
