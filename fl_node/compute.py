"""What a compute level f_i means on a CPU, and a calibration that measures it.

Definition
----------
The paper models local training time as ``T2_i = eta_i * d_i * s_i / f_i`` (eq. 2), with ``f_i``
in CPU cycles per second and ``eta_i`` in cycles per unit of data. On a silo's CPU the platform
uses the same law in directly measurable units:

* ``f_i`` is a **sample-processing rate in samples per second** (one sample processed = one
  forward and backward pass of that sample through the model) that the silo commits to its local
  training. :func:`fl_node.training.train_local` paces itself so that it never runs ahead of
  ``f_i``: processing ``epochs * x_i`` samples takes at least ``epochs * x_i / f_i`` seconds.
* ``eta_i`` is then the number of local epochs (passes per contributed sample per round), so the
  paper's ``T2`` is exactly the paced training time; the solver's deadline constraint
  ``T1 + eta d s / f + T3 <= tau`` is checked against real wall time.
* A level is **attainable** when it does not exceed the rate this CPU measurably reaches for the
  model (:func:`calibrate`); above it training runs flat out and ``achieved_rate < f_i`` shows it.
  The calibration also gives the thread count that reaches a level, and converts the paper's
  cycles-per-second levels to samples per second through the measured cycles per sample
  (``clock_hz / single-thread rate``).

Energy in the paper, ``kappa f^2 eta x``, keeps its form with ``f`` in these units; a consortium
that wants Hz-denominated levels converts with :meth:`ComputeCalibration.level_from_hz`.

``benchmarks/compute_levels.py`` records the measured ceilings and how closely paced training
matches ``eta * x / f`` (``benchmarks/results/compute_levels.json``).
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from fl_node.data import ArrayDataset, DatasetMeta
from fl_node.models import build_model
from fl_node.training import train_local

__all__ = ["ComputeCalibration", "calibrate", "cpu_clock_hz", "level_set"]


@dataclass(frozen=True)
class ComputeCalibration:
    """Measured local-training throughput of one model on this CPU.

    Attributes
    ----------
    dataset, model_kind : str
    batch_size : int
    rates : dict of int to float
        Thread count -> measured samples per second (median over repeats, after a warm-up).
    samples_per_run : int
        Samples processed in each timed run.
    cpu : str
    clock_hz : float or None
        Nominal clock of the CPU, when the OS reports it.
    torch_version : str
    """

    dataset: str
    model_kind: str
    batch_size: int
    rates: dict[int, float]
    samples_per_run: int
    cpu: str
    clock_hz: float | None
    torch_version: str

    @property
    def max_rate(self) -> float:
        """Highest measured rate over thread counts (samples/s): the ceiling of attainable f."""
        return max(self.rates.values())

    @property
    def best_threads(self) -> int:
        """Thread count that reached :attr:`max_rate`."""
        return max(self.rates, key=lambda t: self.rates[t])

    def attainable(self, level: float) -> bool:
        """Whether this CPU measurably sustains ``level`` samples/s for this model."""
        return 0 < level <= self.max_rate

    def threads_for(self, level: float) -> int:
        """Fewest threads whose measured rate reaches ``level`` (else :attr:`best_threads`)."""
        for t in sorted(self.rates):
            if self.rates[t] >= level:
                return t
        return self.best_threads

    def predicted_seconds(self, samples: int, epochs: int, level: float) -> float:
        """Local training time ``eta * x / f`` with ``eta = epochs``, capped by the CPU ceiling."""
        return epochs * samples / min(level, self.max_rate)

    def max_samples_within(self, seconds: float, epochs: int, level: float) -> int:
        """Most samples ``x`` a silo can train on at ``level`` and finish within ``seconds``."""
        return int(min(level, self.max_rate) * seconds / epochs)

    @property
    def cycles_per_sample(self) -> float | None:
        """Paper-unit ``eta`` for one epoch: clock cycles per processed sample on one thread."""
        if self.clock_hz is None or 1 not in self.rates:
            return None
        return self.clock_hz / self.rates[1]

    def level_from_hz(self, f_hz: float) -> float:
        """Convert a paper-style level in cycles/s to samples/s with the measured cycles/sample."""
        cps = self.cycles_per_sample
        if cps is None:
            raise ValueError(
                "this calibration has no clock rate or no single-thread measurement, so Hz "
                "levels cannot be converted; give levels in samples per second instead"
            )
        return f_hz / cps

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (thread counts become string keys)."""
        out = asdict(self)
        out["rates"] = {str(k): v for k, v in self.rates.items()}
        out["max_rate"] = self.max_rate
        out["best_threads"] = self.best_threads
        out["cycles_per_sample"] = self.cycles_per_sample
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ComputeCalibration:
        """Inverse of :meth:`to_dict` (derived fields are ignored)."""
        return cls(
            dataset=str(raw["dataset"]),
            model_kind=str(raw["model_kind"]),
            batch_size=int(raw["batch_size"]),
            rates={int(k): float(v) for k, v in raw["rates"].items()},
            samples_per_run=int(raw["samples_per_run"]),
            cpu=str(raw["cpu"]),
            clock_hz=None if raw.get("clock_hz") is None else float(raw["clock_hz"]),
            torch_version=str(raw["torch_version"]),
        )


def calibrate(
    data: ArrayDataset,
    meta: DatasetMeta,
    *,
    model_kind: str = "auto",
    batch_size: int = 32,
    threads: Sequence[int] = (1, 2),
    epochs: int = 1,
    repeats: int = 3,
    seed: int = 0,
) -> ComputeCalibration:
    """Measure unpaced local-training throughput (samples/s) for each thread count.

    Runs :func:`fl_node.training.train_local` exactly as a silo does (same model, optimizer and
    batch size, ``d = 1``), one warm-up run and then ``repeats`` timed runs per thread count, and
    keeps the median.

    Parameters
    ----------
    data : ArrayDataset
        Training data to time on (a silo's own data, or the bundled dataset).
    meta : DatasetMeta
    model_kind : str
        As in :func:`fl_node.models.build_model`.
    batch_size, epochs, repeats, seed : int
    threads : sequence of int
        torch thread counts to measure.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    if not threads or min(threads) < 1:
        raise ValueError(f"threads must be a non-empty list of counts >= 1; got {list(threads)}")
    model = build_model(meta, model_kind, seed=seed)
    kind = type(model).__name__
    rates: dict[int, float] = {}
    processed = 0
    for t in threads:
        train_local(
            model,
            None,
            data,
            d_fraction=1.0,
            epochs=1,
            batch_size=batch_size,
            seed=seed,
            num_threads=t,
        )
        samples: list[float] = []
        for r in range(repeats):
            start = time.perf_counter()
            res = train_local(
                model,
                None,
                data,
                d_fraction=1.0,
                epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                round_index=r,
                num_threads=t,
            )
            samples.append(res.samples_processed / (time.perf_counter() - start))
            processed = res.samples_processed
        rates[int(t)] = statistics.median(samples)
    return ComputeCalibration(
        dataset=meta.name,
        model_kind=kind,
        batch_size=batch_size,
        rates=rates,
        samples_per_run=processed,
        cpu=_cpu_name(),
        clock_hz=cpu_clock_hz(),
        torch_version=torch.__version__,
    )


def level_set(calibration: ComputeCalibration, fractions: Sequence[float]) -> list[float]:
    """Compute levels (samples/s) at the given fractions of the measured ceiling, ascending.

    This is how a consortium turns the paper's discrete set ``F_i = {F^(1) < ... < F^(m)}`` into
    levels every silo's CPU can honour, e.g. ``level_set(cal, [0.25, 0.5, 1.0])``.
    """
    if not fractions or any(not 0 < f <= 1 for f in fractions):
        raise ValueError(f"fractions must be in (0, 1]; got {list(fractions)}")
    return sorted(f * calibration.max_rate for f in fractions)


def cpu_clock_hz() -> float | None:
    """Nominal CPU clock from ``/proc/cpuinfo`` (Linux), or None when unavailable."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.lower().startswith("cpu mhz"):
            try:
                return float(line.split(":", 1)[1]) * 1e6
            except ValueError:
                return None
    return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
