"""Cogen solver timings: the aggregate fixed point and the certified exact solver versus n.

Games are ``solver.cogen.random_cogen_game(n, seed)`` (the shape of the ``cogen-demo`` preset;
dense gamma up to n = 500, sparse ring competition with 8 neighbours above). Each timing is the
median of ``--repeat`` runs on a fresh copy of the game (derived arrays rebuilt inside the
timing) and includes the result's checks (payoffs, potential, the Nash check over unilateral
deviations, KKT residual), as a user of :func:`solver.cogen.solve` sees it. ``core_seconds`` is
the fixed-point iteration alone.

Reported per row: seconds, iterations (map evaluations / price bisection steps), Nash check,
KKT residual, the exact solver's certified relative gap (and the signed bound - potential,
which is at the rounding level of the potential), the largest |x_fp - x_exact| and the
share of organizations with an interior strategy.

Prints JSON and writes it to ``benchmarks/results/cogen_solver.json``.

Usage: ``python benchmarks/cogen_solver.py [--ns 10,100,1000,10000] [--seeds 3] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from solver.cogen import (
    CogenGame,
    aggregate_fixed_point,
    fixed_point,
    maximize_potential,
    random_cogen_game,
)

RESULTS = Path(__file__).resolve().parent / "results" / "cogen_solver.json"


def _timed(fn: Callable[[CogenGame], Any], game: CogenGame, repeat: int) -> tuple[float, Any]:
    times, res = [], None
    for _ in range(repeat):
        fresh = game.replace()  # a new object: cached arrays are rebuilt inside the timing
        t0 = time.perf_counter()
        res = fn(fresh)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), res


def bench(ns: list[int], seeds: int, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for n in ns:
        for seed in range(seeds):
            game = random_cogen_game(n, seed=seed)
            core, _ = _timed(aggregate_fixed_point, game, repeat)
            t_fp, fp = _timed(fixed_point, game, repeat)
            t_ex, ex = _timed(maximize_potential, game, repeat)
            inner = (fp.x > 0) & (fp.x < game.x_max)
            row = {
                "n": n,
                "seed": seed,
                "fixed_point": {
                    "seconds": round(t_fp, 6),
                    "core_seconds": round(core, 6),
                    "iterations": fp.iterations,
                    "status": str(fp.status),
                    "is_nash": fp.is_nash,
                    "kkt_residual": fp.residual,
                    "max_nash_gap_over_tol": float(np.max(fp.nash_gap / fp.nash_tol)),
                },
                "exact": {
                    "seconds": round(t_ex, 6),
                    "iterations": ex.iterations,
                    "status": str(ex.status),
                    "is_nash": ex.is_nash,
                    "gap": ex.gap,
                    "bound_minus_potential": ex.bound - ex.potential,
                },
                "max_abs_x_difference": float(np.max(np.abs(fp.x - ex.x))),
                "interior_share": float(inner.mean()),
                "total_generation": fp.total,
            }
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    return rows


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst case over seeds per n: the numbers the targets refer to."""
    out = []
    for n in sorted({r["n"] for r in rows}):
        rs = [r for r in rows if r["n"] == n]
        out.append(
            {
                "n": n,
                "fixed_point_max_seconds": max(r["fixed_point"]["seconds"] for r in rs),
                "fixed_point_core_max_seconds": max(r["fixed_point"]["core_seconds"] for r in rs),
                "exact_max_seconds": max(r["exact"]["seconds"] for r in rs),
                "exact_max_gap": max(r["exact"]["gap"] for r in rs),
                "max_kkt_residual": max(r["fixed_point"]["kkt_residual"] for r in rs),
                "max_abs_x_difference": max(r["max_abs_x_difference"] for r in rs),
                "all_nash": all(r[a]["is_nash"] for r in rs for a in ("fixed_point", "exact")),
                "min_interior_share": min(r["interior_share"] for r in rs),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="10,100,1000,10000")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    rows = bench([int(v) for v in args.ns.split(",") if v], args.seeds, args.repeat)
    report = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "summary": summarize(rows),
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary"], indent=2))


if __name__ == "__main__":
    main()
