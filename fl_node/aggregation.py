"""Contribution-weighted FedAvg.

The coordinator weights each silo's update by the data it was *assigned* to contribute in the
strategy phase, ``x_i = d_i * s_i``, and never by a count the silo reports with its update: a silo
cannot inflate its influence on the global model (or its settlement) by over-reporting.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

__all__ = ["AggregationError", "contribution_weighted_average", "weighted_average"]

K = TypeVar("K", bound=Hashable)


class AggregationError(ValueError):
    """Updates or weights cannot be aggregated; the message names the silo or array and the fix."""


def weighted_average(
    updates: Sequence[Sequence[NDArray[np.generic]]], weights: Sequence[float]
) -> list[NDArray[Any]]:
    """Average model updates layer by layer with weights ``weights`` (normalized to sum 1).

    Parameters
    ----------
    updates : sequence of list of ndarray
        One list of arrays per silo, all with the same count and shapes.
    weights : sequence of float
        One finite, non-negative weight per update, with a positive sum.

    Returns
    -------
    list of ndarray
        ``sum_i w_i * update_i / sum_i w_i``, accumulated in float64 and cast back to each
        array's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> weighted_average([[np.array([0.0])], [np.array([3.0])]], [2.0, 1.0])[0]
    array([1.])
    """
    if len(updates) == 0:
        raise AggregationError("no updates to aggregate; at least one silo must report")
    if len(weights) != len(updates):
        raise AggregationError(
            f"got {len(weights)} weights for {len(updates)} updates; give one weight per update"
        )
    w = np.empty(len(weights), dtype=np.float64)
    for i, value in enumerate(weights):
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise AggregationError(
                f"weight {i} is {value!r}; weights must be finite and >= 0 (x_i = d_i * s_i)"
            )
        w[i] = v
    total = float(w.sum())
    if total <= 0:
        raise AggregationError(
            "weights sum to 0; at least one reporting silo must have contributed data (x_i > 0)"
        )
    reference = [np.asarray(a) for a in updates[0]]
    for i, update in enumerate(updates[1:], start=1):
        if len(update) != len(reference):
            raise AggregationError(
                f"update {i} has {len(update)} arrays, update 0 has {len(reference)}; "
                "all silos must train the same model"
            )
        for j, (a, ref) in enumerate(zip(update, reference, strict=True)):
            if np.shape(a) != ref.shape:
                raise AggregationError(
                    f"update {i}, array {j} has shape {np.shape(a)}, update 0 has {ref.shape}; "
                    "all silos must train the same model"
                )
    out: list[NDArray[Any]] = []
    for j, ref in enumerate(reference):
        acc = np.zeros(ref.shape, dtype=np.float64)
        for update, wi in zip(updates, w, strict=True):
            if wi:
                acc += (wi / total) * np.asarray(update[j], dtype=np.float64)
        out.append(acc.astype(ref.dtype) if np.issubdtype(ref.dtype, np.floating) else acc)
    return out


def contribution_weighted_average(
    updates: Mapping[K, Sequence[NDArray[np.generic]]],
    contributions: Mapping[K, float],
) -> list[NDArray[Any]]:
    """FedAvg over the silos that reported, weighted by their assigned contributions ``x_i``.

    Parameters
    ----------
    updates : mapping silo -> list of ndarray
        The trained parameters each reporting silo sent back.
    contributions : mapping silo -> float
        ``x_i = d_i * s_i`` fixed in the strategy phase. Entries for silos that did not report
        are ignored (weights renormalize over the reporters); a reporter without an entry is an
        error. Counts the silos report themselves are deliberately not an input.

    Returns
    -------
    list of ndarray
    """
    missing = [k for k in updates if k not in contributions]
    if missing:
        raise AggregationError(
            f"no assigned contribution for silo(s) {missing}; pass x_i = d_i * s_i from the "
            "strategy phase for every silo that reported"
        )
    keys = list(updates)
    try:
        return weighted_average([updates[k] for k in keys], [contributions[k] for k in keys])
    except AggregationError as exc:
        # Re-word positional indices as silo ids, which is what an operator can act on.
        raise AggregationError(f"{exc} (update order: {keys})") from None
