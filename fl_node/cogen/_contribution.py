"""Measured marginal contribution of each silo's update: leave-one-out on a validation set.

The value of a set S of silos is minus the validation loss of the weighted average of their
updates; silo i's contribution is ``v(all) - v(all without i)``, so a silo whose update helps the
global model scores > 0 and one that harms it scores < 0. With one silo the aggregate without it
does not exist and the value of the empty set is the loss of the round's starting model
(likewise when the others' weights are all 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from torch import nn

from fl_node.aggregation import weighted_average
from fl_node.data import ArrayDataset
from fl_node.training import evaluate

__all__ = ["leave_one_out"]


def leave_one_out(
    model: nn.Module,
    updates: Sequence[Sequence[NDArray[np.generic]]],
    weights: Sequence[float],
    validation: ArrayDataset,
    *,
    start: Sequence[NDArray[np.generic]] | None = None,
) -> list[float]:
    """Leave-one-out contribution of each update, in validation-loss units (higher is better).

    Parameters
    ----------
    model : torch.nn.Module
        Architecture of the updates (not modified).
    updates : sequence of list of ndarray
        One trained parameter list per silo, from the same round.
    weights : sequence of float
        Aggregation weights of the round (``D_i + x_i``).
    validation : ArrayDataset
        Held-out data none of the silos trained on.
    start : list of ndarray or None
        The round's starting global model: the value of the empty set when there is one silo.

    Returns
    -------
    list of float
        ``loss(all but i) - loss(all)`` per silo.
    """
    n = len(updates)
    if n == 0:
        raise ValueError("no updates: leave-one-out needs at least one silo's update")
    if len(weights) != n:
        raise ValueError(f"got {len(weights)} weights for {n} updates; give one per update")
    full = evaluate(model, validation, weighted_average(updates, weights)).loss
    out = []
    for i in range(n):
        rest = [u for j, u in enumerate(updates) if j != i]
        rest_w = [float(w) for j, w in enumerate(weights) if j != i]
        if sum(rest_w) > 0:
            loss_without = evaluate(model, validation, weighted_average(rest, rest_w)).loss
        elif start is not None:
            loss_without = evaluate(model, validation, start).loss
        else:
            raise ValueError(
                f"without update {i} no weight is left (a single silo, or the others weigh 0); "
                "pass start= (the round's starting model) as the value of the empty set"
            )
        out.append(float(loss_without - full))
    return out
