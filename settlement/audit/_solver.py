"""The real-valued cross-check of the exact payoffs: the paper's r_ij = gamma rho_ij (c_i - c_j).

The exact integer recomputation (:mod:`settlement._fixedpoint`) is what must match the chain to
the wei. This second, independent computation works in floating point from the real parameters,
the way the solver models the game, and must agree up to the contract's truncation (under one wei
per pair).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from settlement._fixedpoint import BPS, WAD


def real_payoffs(
    scores: Sequence[int | None],
    rho_bps: Sequence[Sequence[int]],
    gamma_wad: int,
    x_scale: int,
    f_scale: int,
) -> list[float]:
    """``R_i = sum_j gamma rho_ij (c_i - c_j)`` in wei over the depositors, in float64.

    Parameters
    ----------
    scores : sequence of int or None
        Exact on-chain scores; None for a slot that never deposited (``R_i = 0``).
    rho_bps : matrix of int
        Competition matrix in basis points.
    gamma_wad, x_scale, f_scale : int
        The round's parameters.

    Returns
    -------
    list of float
        Real-valued ``R_i`` in wei.
    """
    n = len(scores)
    mask = np.array([s is not None for s in scores])
    denom = x_scale * f_scale * WAD
    # exact int -> float of each c_i (scores can exceed float64's integer range)
    c = np.array([0.0 if s is None else s / denom for s in scores])
    rho = np.asarray(rho_bps, dtype=float).reshape(n, n) / BPS
    gamma = gamma_wad / WAD
    active = np.outer(mask, mask)
    diff = c[:, None] - c[None, :]
    r = gamma * np.where(active, rho * diff, 0.0).sum(axis=1)
    return [float(v) for v in r]
