"""Measure what a compute level f_i means on this CPU and check that pacing honours it.

For each (dataset, model) pair: calibrate the unpaced local-training rate (samples/s) per torch
thread count, then train at levels 10%, 25%, 50%, 100% and 200% of the measured ceiling and compare
the wall time with the model ``T2 = eta * x / f`` (``eta`` = local epochs). Prints JSON and writes
``benchmarks/results/compute_levels.json``.

Run: ``python benchmarks/compute_levels.py [--repeats 5] [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from fl_node.compute import calibrate, level_set
from fl_node.data import SklearnSource
from fl_node.models import build_model
from fl_node.training import train_local

CASES = (("digits", "mlp"), ("digits", "cnn"), ("breast_cancer", "mlp"))
FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def measure(dataset: str, kind: str, repeats: int, threads: tuple[int, ...]) -> dict[str, Any]:
    split = SklearnSource(dataset).split(seed=0)
    cal = calibrate(split.train, split.meta, model_kind=kind, threads=threads, repeats=repeats)
    model = build_model(split.meta, kind, seed=0)
    levels = [*level_set(cal, FRACTIONS), 2.0 * cal.max_rate]
    pacing = []
    for level in levels:
        t = cal.threads_for(level)
        res = train_local(
            model, None, split.train, d_fraction=1.0, compute_level=level, epochs=1, num_threads=t
        )
        predicted = cal.predicted_seconds(res.num_samples, 1, level)
        pacing.append(
            {
                "level_samples_per_s": round(level, 1),
                "fraction_of_ceiling": round(level / cal.max_rate, 3),
                "attainable": cal.attainable(level),
                "threads": t,
                "samples": res.samples_processed,
                "predicted_s": round(predicted, 4),
                "measured_s": round(res.seconds, 4),
                "achieved_samples_per_s": round(res.achieved_rate, 1),
                "time_error": round(res.seconds / predicted - 1.0, 4),
            }
        )
    return {
        "dataset": dataset,
        "model": kind,
        "calibration": cal.to_dict(),
        "pacing": pacing,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per thread count")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "compute_levels.json",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = [measure(d, k, args.repeats, tuple(args.threads)) for d, k in CASES]
    report = {
        "benchmark": "compute_levels",
        "definition": (
            "f_i = committed local-training rate in samples/s (forward+backward passes); "
            "train_local paces to it, so T2 = eta * d_i * s_i / f_i with eta = local epochs"
        ),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "python": sys.version.split()[0],
        "results": results,
        "seconds": round(time.perf_counter() - start, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
