"""Solver timings: DBR and the certified exact solver versus n, CGBD versus the exact optimum.

Games are ``solver.random_game(n, seed)`` (the shape of the paper's Table II, 5 compute levels,
dense rho up to n = 500 and sparse ring competition above), at the preset's gamma and at a
larger gamma where more compute levels are used. Each timing is the median of ``--repeat``
runs on a fresh copy of the game, so derived tables are rebuilt inside the timed call.

Reported per row: wall seconds, rounds / nodes / iterations, and for the exact solver the
certified relative gap; for CGBD the relative potential gap to the exact optimum, for both the
valid Lagrangian cuts and the paper's cuts (eq. 20 as written).

The ``cli`` section times ``fedsettle solve --config FILE --format json`` as whole processes
(interpreter start, imports, parsing, validation, solving, checks and JSON output), with the
competition matrix given in each of the config forms of :func:`solver.load_matrix`: a dense
``.npy`` or ``.csv`` file, a sparse ``pairs`` file, a ``block`` structure. Targets (issue 12):
n = 1,000 under 2 s and n = 10,000 under 10 s (``meets_target`` compares the median wall time).
Each row also gives the process's CPU time and the machine's 1-minute load average, since wall
times on a shared machine grow with its load. ``cli_import_seconds`` is the wall time of
``fedsettle solve --help``.

Prints JSON and writes it to ``benchmarks/results/solver.json``.

Usage: ``python benchmarks/solver.py [--ns 10,100,1000,10000] [--cgbd-ns 4,6,8,10] [--repeat 3]
[--cli-only]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import solver

RESULTS = Path(__file__).resolve().parent / "results" / "solver.json"
GAMMAS = (solver.TABLE2["gamma"], 0.0135)


def _timed(
    fn: Callable[[solver.Game], solver.SolveResult], game: solver.Game, repeat: int
) -> tuple[float, solver.SolveResult]:
    times, res = [], None
    for _ in range(repeat):
        fresh = game.replace()  # a new object: cached tables are rebuilt inside the timing
        t0 = time.perf_counter()
        res = fn(fresh)
        times.append(time.perf_counter() - t0)
    assert res is not None
    return statistics.median(times), res


def bench_scaling(ns: list[int], seeds: int, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for n in ns:
        for gamma in GAMMAS:
            for seed in range(seeds):
                game = solver.random_game(n, seed=seed, gamma=gamma)
                row: dict[str, Any] = {"n": n, "levels": 5, "gamma": gamma, "seed": seed}
                for name, fn in (
                    ("dbr", lambda g: solver.dbr(g, trace=False)),
                    ("dbr_sim", lambda g: solver.dbr(g, mode="simultaneous", trace=False)),
                    ("exact", lambda g: solver.maximize_potential(g, rtol=1e-9)),
                ):
                    sec, res = _timed(fn, game, repeat)
                    row[name] = {
                        "seconds": round(sec, 6),
                        "iterations": res.iterations,
                        "status": str(res.status),
                        "is_nash": res.is_nash,
                        "potential": res.potential,
                    }
                    if res.gap is not None:
                        row[name]["gap"] = res.gap
                ex = row["exact"]["potential"]
                for name in ("dbr", "dbr_sim"):
                    row[name]["potential_gap_vs_exact"] = (ex - row[name]["potential"]) / abs(ex)
                print(json.dumps(row), file=sys.stderr)
                rows.append(row)
    return rows


def bench_cgbd(ns: list[int], seeds: int) -> list[dict[str, Any]]:
    rows = []
    for n in ns:
        for gamma in GAMMAS:
            for seed in range(seeds):
                game = solver.random_game(n, seed=seed, gamma=gamma)
                exact = solver.maximize_potential(game)
                row: dict[str, Any] = {
                    "n": n,
                    "levels": 5,
                    "profiles": 5**n,
                    "gamma": gamma,
                    "seed": seed,
                }
                row["exact_seconds"] = round(exact.seconds, 6)
                for cuts in ("valid", "paper"):
                    t0 = time.perf_counter()
                    res = solver.cgbd(game.replace(), cuts=cuts, trace=False)  # type: ignore[arg-type]
                    row[f"cgbd_{cuts}"] = {
                        "seconds": round(time.perf_counter() - t0, 6),
                        "iterations": res.iterations,
                        "status": str(res.status),
                        "potential_gap_vs_exact": (exact.potential - res.potential)
                        / abs(exact.potential),
                    }
                print(json.dumps(row), file=sys.stderr)
                rows.append(row)
    return rows


def summarize(scaling: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst case over seeds and gammas per n: the numbers the targets refer to."""
    out = []
    for n in sorted({r["n"] for r in scaling}):
        rs = [r for r in scaling if r["n"] == n]
        out.append(
            {
                "n": n,
                "dbr_max_seconds": max(r["dbr"]["seconds"] for r in rs),
                "dbr_sim_max_seconds": max(r["dbr_sim"]["seconds"] for r in rs),
                "exact_max_seconds": max(r["exact"]["seconds"] for r in rs),
                "exact_max_gap": max(r["exact"]["gap"] for r in rs),
                "exact_max_nodes": max(r["exact"]["iterations"] for r in rs),
                "all_nash": all(r[a]["is_nash"] for r in rs for a in ("dbr", "dbr_sim", "exact")),
            }
        )
    return out


#: (n, form) cases of the CLI benchmark; dense forms only where an n x n array is reasonable
CLI_CASES = (
    (1000, "npy"),
    (1000, "csv"),
    (1000, "pairs"),
    (1000, "block"),
    (10000, "pairs"),
    (10000, "block"),
)
CLI_TARGET_SECONDS = {1000: 2.0, 10000: 10.0}


def _cli() -> list[str]:
    exe = shutil.which("fedsettle")
    if exe:
        return [exe]
    return [sys.executable, "-c", "import sys; from fl_node.cli import main; sys.exit(main())"]


def _write_config(directory: Path, n: int, form: str) -> Path:
    """A random Table-II game of n orgs with rho in the given config form, in ``directory``."""
    game = solver.random_game(n, seed=0)
    rho = game.rho
    if form == "npy":
        np.save(directory / "rho.npy", game.rho_dense())
        value = '"rho.npy"'
    elif form == "csv":
        np.savetxt(directory / "rho.csv", game.rho_dense(), delimiter=",", fmt="%.17g")
        value = '"rho.csv"'
    elif form == "pairs":
        upper = sp.triu(sp.csr_matrix(rho), 1).tocoo()
        np.save(directory / "pairs.npy", np.column_stack((upper.row, upper.col, upper.data)))
        value = '{ form = "pairs", pairs = "pairs.npy" }'
    else:  # two clusters: strong competition inside, weak across, z_i > 0 kept
        mu = 0.25 * 500 / (n * 1500)
        sizes = [n // 2, n - n // 2]
        value = (
            f'{{ form = "block", sizes = {sizes}, means = [[{2 * mu!r}, {0.5 * mu!r}], '
            f"[{0.5 * mu!r}, {2 * mu!r}]] }}"
        )
    path = directory / "game.toml"
    path.write_text(solver.game_to_toml(game, rho_value=value))
    return path


def bench_cli(repeat: int) -> dict[str, Any]:
    """Whole-process timings of ``fedsettle solve --config`` per (n, rho form)."""
    cmd = _cli()
    imports = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([*cmd, "solve", "--help"], check=True, capture_output=True)
        imports.append(time.perf_counter() - t0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, form in CLI_CASES:
            d = Path(tmp) / f"{n}-{form}"
            d.mkdir()
            path = _write_config(d, n, form)
            times, cpus, out = [], [], {}
            for _ in range(repeat):
                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                proc = subprocess.run(
                    [*cmd, "solve", "--config", str(path), "--format", "json"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                times.append(time.perf_counter() - t0)
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
                if proc.returncode != 0:
                    raise RuntimeError(f"{n} {form}: exit {proc.returncode}: {proc.stderr}")
                out = json.loads(proc.stdout)
            row = {
                "n": n,
                "rho_form": form,
                "config_bytes": sum(f.stat().st_size for f in d.iterdir()),
                "seconds_median": round(statistics.median(times), 3),
                "seconds_max": round(max(times), 3),
                "cpu_seconds_median": round(statistics.median(cpus), 3),
                "load_average_1min": round(os.getloadavg()[0], 2),
                "solve_seconds": round(out["seconds"], 4),
                "status": out["status"],
                "is_nash": out["is_nash"],
                "target_seconds": CLI_TARGET_SECONDS[n],
                "meets_target": statistics.median(times) < CLI_TARGET_SECONDS[n],
            }
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    return {
        "command": "fedsettle solve --config FILE --format json",
        "cli_import_seconds": round(statistics.median(imports), 3),
        "runs": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="10,100,1000,10000")
    ap.add_argument("--cgbd-ns", default="4,6,8,10")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument(
        "--cli-only",
        action="store_true",
        help="only the CLI section; the other sections are kept from the existing results file",
    )
    args = ap.parse_args()
    cli = bench_cli(args.repeat)
    if args.cli_only and args.out.exists():
        report = json.loads(args.out.read_text())
        report["cli"] = cli
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(cli, indent=2))
        return
    ns = [int(v) for v in args.ns.split(",") if v]
    cgbd_ns = [int(v) for v in args.cgbd_ns.split(",") if v]
    scaling = bench_scaling(ns, args.seeds, args.repeat)
    report = {
        "cli": cli,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "summary": summarize(scaling),
        "scaling": scaling,
        "cgbd": bench_cgbd(cgbd_ns, args.seeds),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
