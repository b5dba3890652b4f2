"""Compute levels: a real calibration on this CPU and the level <-> threads/time mapping."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fl_node.compute import ComputeCalibration, calibrate, level_set
from fl_node.data import DataSplit


def test_calibration_measures_positive_rates_and_round_trips(cancer_split: DataSplit) -> None:
    data = cancer_split.train.subset(np.arange(96))
    cal = calibrate(data, cancer_split.meta, threads=(1,), repeats=1)
    assert set(cal.rates) == {1} and cal.rates[1] > 0
    assert cal.samples_per_run == 96
    assert (cal.dataset, cal.model_kind, cal.batch_size) == ("breast_cancer", "MLP", 32)
    assert cal.best_threads == 1 and cal.max_rate == cal.rates[1]
    again = ComputeCalibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again == cal


def _cal(clock_hz: float | None = 2.0e9) -> ComputeCalibration:
    return ComputeCalibration(
        dataset="digits",
        model_kind="MLP",
        batch_size=32,
        rates={1: 10_000.0, 2: 16_000.0},
        samples_per_run=1000,
        cpu="test",
        clock_hz=clock_hz,
        torch_version="x",
    )


def test_level_maps_to_threads_time_and_deadline_capacity() -> None:
    cal = _cal()
    assert cal.max_rate == 16_000.0 and cal.best_threads == 2
    assert cal.threads_for(5_000.0) == 1
    assert cal.threads_for(12_000.0) == 2
    assert cal.threads_for(50_000.0) == 2
    assert cal.attainable(16_000.0) and not cal.attainable(16_001.0)
    # T2 = eta * x / f with eta = local epochs; levels above the ceiling run at the ceiling.
    assert cal.predicted_seconds(800, 2, 4_000.0) == pytest.approx(0.4)
    assert cal.predicted_seconds(800, 2, 64_000.0) == pytest.approx(0.1)
    assert cal.max_samples_within(0.5, 2, 4_000.0) == 1000
    assert level_set(cal, [1.0, 0.25, 0.5]) == [4_000.0, 8_000.0, 16_000.0]
    with pytest.raises(ValueError, match="fractions must be in"):
        level_set(cal, [0.0])


def test_hz_levels_convert_through_measured_cycles_per_sample() -> None:
    cal = _cal()
    assert cal.cycles_per_sample == pytest.approx(2.0e5)
    assert cal.level_from_hz(1.0e9) == pytest.approx(5_000.0)
    with pytest.raises(ValueError, match="Hz levels cannot be converted"):
        _cal(clock_hz=None).level_from_hz(1.0e9)
