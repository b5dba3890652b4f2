"""Contribution-weighted FedAvg: exact weighted mean by x_i, validation of weights and shapes."""

from __future__ import annotations

import numpy as np
import pytest

from fl_node.aggregation import (
    AggregationError,
    contribution_weighted_average,
    weighted_average,
)


def _update(v: float) -> list[np.ndarray]:
    return [np.full((2, 3), v, dtype=np.float32), np.array([v, -v], dtype=np.float32)]


def test_weighted_average_equals_hand_computed_mean() -> None:
    updates = [_update(1.0), _update(4.0), _update(10.0)]
    out = weighted_average(updates, [1, 2, 3])
    # (1*1 + 2*4 + 3*10) / 6 = 39 / 6 = 6.5
    assert np.allclose(out[0], 6.5) and np.allclose(out[1], [6.5, -6.5])
    assert out[0].dtype == np.float32 and out[0].shape == (2, 3)
    zero_weight = weighted_average(updates, [0.0, 1.0, 1.0])
    assert np.allclose(zero_weight[0], 7.0)


def test_contribution_weights_ignore_self_reported_counts() -> None:
    # What silos send back: parameters plus a number of examples they *claim* to have used.
    reports = {
        "alice": (_update(0.0), 100),
        "bob": (_update(1.0), 100),
        "mallory": (_update(9.0), 1_000_000),
    }
    # x_i = d_i * s_i fixed in the strategy phase.
    contributions = {"alice": 0.5 * 400, "bob": 1.0 * 300, "mallory": 0.2 * 500}
    out = contribution_weighted_average({k: r[0] for k, r in reports.items()}, contributions)
    expected = (0 * 200 + 1 * 300 + 9 * 100) / 600
    assert np.allclose(out[0], expected)
    claimed = sum(v * n for (u, n), v in zip(reports.values(), [0, 1, 9], strict=True))
    count_weighted = claimed / sum(n for _, n in reports.values())
    assert abs(float(out[0][0, 0]) - count_weighted) > 6


def test_absent_silos_are_dropped_and_weights_renormalized() -> None:
    contributions = {"a": 100.0, "b": 300.0, "dead": 600.0}
    out = contribution_weighted_average({"a": _update(2.0), "b": _update(6.0)}, contributions)
    assert np.allclose(out[0], (2 * 100 + 6 * 300) / 400)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0, -1.0], r"weight 1 is -1.0; weights must be finite and >= 0"),
        ([1.0, float("nan")], r"weight 1 is nan"),
        ([1.0, float("inf")], r"weight 1 is inf"),
        ([0.0, 0.0], r"weights sum to 0"),
        ([1.0], r"got 1 weights for 2 updates"),
    ],
)
def test_bad_weights_are_rejected(weights: list[float], message: str) -> None:
    with pytest.raises(AggregationError, match=message):
        weighted_average([_update(1.0), _update(2.0)], weights)


def test_mismatched_updates_are_rejected() -> None:
    with pytest.raises(AggregationError, match="no updates to aggregate"):
        weighted_average([], [])
    short = _update(1.0)[:1]
    with pytest.raises(AggregationError, match="update 1 has 1 arrays, update 0 has 2"):
        weighted_average([_update(1.0), short], [1, 1])
    wrong = [np.zeros((3, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)]
    with pytest.raises(AggregationError, match=r"update 1, array 0 has shape \(3, 2\)"):
        weighted_average([_update(1.0), wrong], [1, 1])
    with pytest.raises(AggregationError, match=r"no assigned contribution for silo\(s\) \['eve'\]"):
        contribution_weighted_average({"a": _update(1.0), "eve": _update(2.0)}, {"a": 1.0})
    with pytest.raises(AggregationError, match=r"weight 1 is -5.0.*\(update order: \['a', 'b'\]\)"):
        contribution_weighted_average({"a": _update(1.0), "b": _update(2.0)}, {"a": 1, "b": -5.0})
