"""Whole-process timings of ``fedsettle solve --config FILE --format json`` for the cogen and the
market schemas, with the matrix (cogen ``gamma``, market ``distance``) as a ``.npy`` or ``.csv``
file or a ``block`` structure (issue 12; the tradefl rows are the ``cli`` section of
``solver.py``).

Targets: n = 1,000 under 2 s and n = 10,000 under 10 s (``meets_target`` compares the median).
Each row gives wall and CPU seconds and the machine's 1-minute load average. Above 500 orgs the
market writes ``payments`` and ``threshold`` on the graph's edges (``payments_form = "edges"``,
``fedsettle solve --payments auto``); the ``market-dense`` row asks for the n x n matrices
(``--payments dense``, about 22 MB of JSON at n = 1,000) to show what that form costs. A run that
exceeds ``--timeout`` seconds is recorded as such.

Prints JSON and writes it to ``benchmarks/results/mechanisms_cli.json``.

Usage: ``python benchmarks/mechanisms_cli.py [--repeat 3] [--timeout 120]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.solver import CLI_TARGET_SECONDS, _cli
from solver.cogen import random_cogen_game
from solver.market import random_market

RESULTS = Path(__file__).resolve().parent / "results" / "mechanisms_cli.json"
#: (mechanism, n, matrix form); "market-dense" is the market with --payments dense
CASES = (
    ("cogen", 1000, "npy"),
    ("cogen", 1000, "csv"),
    ("cogen", 1000, "block"),
    ("cogen", 10000, "npy"),
    ("cogen", 10000, "block"),
    ("market", 1000, "npy"),
    ("market", 1000, "csv"),
    ("market", 1000, "block"),
    ("market-dense", 1000, "npy"),
    ("market", 10000, "npy"),
    ("market", 10000, "block"),
)


def _block(n: int, inside: float, across: float) -> str:
    sizes = [n // 2, n - n // 2]
    return (
        f'{{ form = "block", sizes = {sizes}, '
        f"means = [[{inside!r}, {across!r}], [{across!r}, {inside!r}]] }}"
    )


def _save(directory: Path, name: str, matrix: np.ndarray, form: str) -> None:
    if form == "npy":
        np.save(directory / f"{name}.npy", matrix)
    else:
        np.savetxt(directory / f"{name}.csv", matrix, delimiter=",", fmt="%.17g")


def _cogen_config(directory: Path, n: int, form: str) -> str:
    game = random_cogen_game(n, seed=0)
    if form in ("npy", "csv"):
        g = game.gamma
        _save(directory, "gamma", g.toarray() if hasattr(g, "toarray") else np.asarray(g), form)
        gamma = f'"gamma.{form}"'
    else:  # Gamma_i near 0.25, as in random_cogen_game
        gamma = _block(n, 0.3 / n, 0.2 / n)
    head = (
        f'[game]\nmechanism = "cogen"\na = {game.a!r}\nb = {game.b!r}\n'
        f"alpha_D = {game.alpha_D!r}\nkappa = {game.kappa!r}\nq = {game.q!r}\ngamma = {gamma}\n"
    )
    orgs = "".join(
        f'\n[[org]]\nname = "{o.name}"\nD = {o.D!r}\ndelta = {o.delta!r}\ntheta = {o.theta!r}\n'
        f"c = {o.c!r}\nx_max = {o.x_max!r}\n"
        for o in game.orgs
    )
    return head + orgs


def _market_config(directory: Path, n: int, form: str) -> str:
    market, d = random_market(n, seed=0)
    if form in ("npy", "csv"):
        _save(directory, "distance", d, form)
        distance = f'"distance.{form}"'
    else:
        distance = _block(n, 0.2, 1.0)
    head = (
        f'[game]\nmechanism = "market"\nlambda_pay = {market.lambda_pay!r}\ndistance = {distance}\n'
    )
    orgs = "".join(
        f'\n[[org]]\nname = "{name}"\nN = {float(N)!r}\nc = {float(c)!r}\nK = {float(K)!r}\n'
        for name, N, c, K in zip(market.names, market.N, market.c, market.K, strict=True)
    )
    return head + orgs


def bench(repeat: int, timeout: float) -> list[dict[str, Any]]:
    cmd = _cli()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mech, n, form in CASES:
            d = Path(tmp) / f"{mech}-{n}-{form}"
            d.mkdir()
            text = (_cogen_config if mech == "cogen" else _market_config)(d, n, form)
            extra = ["--payments", "dense"] if mech == "market-dense" else []
            path = d / "game.toml"
            path.write_text(text)
            times, cpus, out_bytes, out = [], [], 0, {}
            row: dict[str, Any] = {"mechanism": mech, "n": n, "matrix_form": form}
            for _ in range(repeat):
                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                try:
                    proc = subprocess.run(
                        [*cmd, "solve", "--config", str(path), "--format", "json", *extra],
                        capture_output=True,
                        text=True,
                        check=False,
                        timeout=timeout,
                    )
                except subprocess.TimeoutExpired:
                    row["timed_out_after_seconds"] = timeout
                    break
                times.append(time.perf_counter() - t0)
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
                if proc.returncode != 0:
                    raise RuntimeError(f"{mech} {n} {form}: exit {proc.returncode}: {proc.stderr}")
                out_bytes, out = len(proc.stdout), json.loads(proc.stdout)
            row["config_bytes"] = sum(f.stat().st_size for f in d.iterdir())
            row["load_average_1min"] = round(os.getloadavg()[0], 2)
            row["target_seconds"] = CLI_TARGET_SECONDS.get(n)
            if times:
                med = statistics.median(times)
                row |= {
                    "output_bytes": out_bytes,
                    "seconds_median": round(med, 3),
                    "seconds_max": round(max(times), 3),
                    "cpu_seconds_median": round(statistics.median(cpus), 3),
                    "success": out.get("success"),
                    "payments_form": out.get("payments_form"),
                    "meets_target": None
                    if n not in CLI_TARGET_SECONDS
                    else med < row["target_seconds"],
                }
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    report = {
        "command": "fedsettle solve --config FILE --format json",
        "runs": bench(args.repeat, args.timeout),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
