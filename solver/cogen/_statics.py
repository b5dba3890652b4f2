"""Comparative statics of the cogen equilibrium, measured (not asserted).

Seed 001 reports that milder heterogeneity and stronger competition stimulate generation; its
predecessor that a larger heterogeneity weight raises it (``mechanisms.md`` 2.1). This module
measures, in this formulation, how the equilibrium's total generation and welfare move when
every delta_i is scaled (``"heterogeneity"``), when gamma is scaled (``"competition"``) or when
kappa is set (``"redistribution"``), and names the direction it finds.

What the closed form says: x_i*(X) = sqrt(A_i / (e_i - w_i m(X))) - D_i, with A_i proportional
to delta_i and m(X) growing with Delta = sum_j D_j delta_j; raising heterogeneity raises both,
so each org's response curve moves up. Scaling gamma raises A_i (through 1 + Gamma_i), lowers
e_i (redistribution pays kappa q Gamma_i per sample) and changes w_i by
Gamma_i theta_i - sum_j gamma_ij theta_j (zero when all theta are equal). The measured
direction is what :func:`comparative_statics` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError
from solver.cogen._fixed_point import fixed_point
from solver.cogen._model import CogenGame

__all__ = ["Statics", "comparative_statics", "direction"]

FloatArray = NDArray[np.float64]
Parameter = Literal["heterogeneity", "competition", "redistribution"]


def direction(values: ArrayLike, rtol: float = 1e-9) -> str:
    """``"increasing"``, ``"decreasing"``, ``"flat"`` or ``"non-monotonic"`` (steps smaller
    than ``rtol`` times the largest |value| count as flat)."""
    v = np.asarray(values, dtype=float)
    d = np.diff(v)
    tol = rtol * max(float(np.max(np.abs(v))) if v.size else 0.0, 1e-300)
    up, down = bool(np.any(d > tol)), bool(np.any(d < -tol))
    if up and down:
        return "non-monotonic"
    return "increasing" if up else "decreasing" if down else "flat"


@dataclass(frozen=True, eq=False)
class Statics:
    """Equilibrium response to one parameter: per value, the total generation, the profile
    (rows: values) and the social welfare, with their measured directions."""

    parameter: str
    values: FloatArray
    total: FloatArray
    x: FloatArray
    welfare: FloatArray
    generation_direction: str
    welfare_direction: str


def comparative_statics(game: CogenGame, parameter: Parameter, values: ArrayLike) -> Statics:
    """Solve the equilibrium at each value of ``parameter`` and measure the directions.

    Parameters
    ----------
    game
        The base game.
    parameter
        ``"heterogeneity"``: every delta_i multiplied by the value (delta must stay <= 2);
        ``"competition"``: gamma multiplied by the value (every w_i must stay > 0);
        ``"redistribution"``: kappa set to the value.
    values
        Increasing values of the parameter.
    """
    vals = np.asarray(values, dtype=float)
    if vals.ndim != 1 or vals.size < 2 or np.any(np.diff(vals) <= 0):
        raise GameError("must be at least two strictly increasing values", field="values")
    games = {
        "heterogeneity": lambda v: game.scaled(delta=v),
        "competition": lambda v: game.scaled(gamma=v),
        "redistribution": lambda v: game.replace(kappa=v),
    }
    if parameter not in games:
        raise GameError(f"must be one of {sorted(games)}, got {parameter!r}", field="parameter")
    results = [fixed_point(games[parameter](float(v))) for v in vals]
    total = np.array([r.total for r in results])
    welfare = np.array([r.social_welfare for r in results])
    return Statics(
        parameter,
        vals,
        total,
        np.array([r.x for r in results]),
        welfare,
        direction(total),
        direction(welfare),
    )
