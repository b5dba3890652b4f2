"""Generator training time and cost per synthetic sample on this CPU (CVAE and GMM).

For silos of several sizes (digits, Dirichlet label skew), train each generator kind on one silo's
data and time it, time sampling of a probe batch, and price the cost per sample with
:func:`fl_node.cogen.measure_cost` (``c = price * (t_fit / x_max + t_sample)``, x_max = 2 D).
Quality (synthetic-only classifier accuracy on real test data of the seen classes) is reported
next to it. CPU seconds with one torch thread. Writes ``benchmarks/results/generator.json``.

Run: ``python benchmarks/generator.py [--repeats 3] [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from fl_node.cogen import (
    DEFAULT_PRICE_PER_CPU_SECOND,
    make_generator,
    measure_cost,
    measure_quality,
)
from fl_node.data import SklearnSource, partition

SILOS = (8, 4, 2, 1)  # the training set split into this many silos (silo 0: 89 .. 1348 samples)


def measure(kind: str, n_silos: int, repeats: int, probe: int) -> dict[str, Any]:
    split = SklearnSource("digits").split(seed=0)
    if n_silos == 1:
        data = split.train
    else:
        parts = partition(split.train.y, n_silos, alpha=1.0, seed=0, min_size=30)
        data = split.train.subset(parts[0])
    fits, samples, costs = [], [], []
    quality = None
    for r in range(repeats):
        gen = make_generator(kind, split.meta.n_classes).fit(data, seed=r)
        cost = measure_cost(gen, x_max=2 * len(data), probe_samples=probe, seed=r)
        fits.append(cost.fit_cpu_seconds)
        samples.append(cost.sample_cpu_seconds_per_sample)
        costs.append(cost.c)
        if quality is None:
            quality = measure_quality(gen, data, split.test, seed=r).to_dict()
    return {
        "generator": kind,
        "silo_samples": len(data),
        "classes_seen": int((data.y[:, None] == range(10)).any(axis=0).sum()),
        "repeats": repeats,
        "fit_cpu_seconds_median": statistics.median(fits),
        "fit_cpu_seconds": fits,
        "fit_cpu_seconds_per_training_sample": statistics.median(fits) / len(data),
        "sample_cpu_seconds_per_sample_median": statistics.median(samples),
        "x_max": 2 * len(data),
        "c_median": statistics.median(costs),
        "cpu_seconds_per_synthetic_sample": statistics.median(costs) / DEFAULT_PRICE_PER_CPU_SECOND,
        "quality": quality,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="trainings per case")
    parser.add_argument("--probe", type=int, default=2000, help="samples in the timed batch")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results" / "generator.json"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    cases = [measure(kind, n, args.repeats, args.probe) for kind in ("cvae", "gmm") for n in SILOS]
    report = {
        "benchmark": "generator",
        "definition": (
            "c = price_per_cpu_second * (fit CPU s / x_max + sampling CPU s per sample), "
            "x_max = 2 * silo samples; CPU seconds from time.process_time with 1 torch thread"
        ),
        "price_per_cpu_second": DEFAULT_PRICE_PER_CPU_SECOND,
        "options": {"cvae": "epochs 150, hidden 128, latent 8", "gmm": "3 diagonal components"},
        "cases": cases,
        "seconds": round(time.perf_counter() - start, 2),
        "platform": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
