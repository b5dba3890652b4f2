"""The cogen game of a setting (measured D, delta, c; fitted a, b, alpha_D) and its schemes.

The game and its algorithms are :mod:`solver.cogen`'s; this module only feeds it what the
training side measured and names the schemes the experiment compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fl_node.cogen import LossFit
from fl_node.experiments._cogen_setting import CogenOptions, CogenSetting
from solver.cogen import CogenGame, CogenOrg, CogenResult, solve

__all__ = ["LABELS", "SCHEMES", "build_game", "measured_welfare", "solve_schemes"]

#: solver.cogen algorithm names of the compared schemes, equilibrium first
SCHEMES = ("fixed-point", "no-redistribution", "blind", "random", "max", "none")

LABELS = {
    "fixed-point": "equilibrium",
    "no-redistribution": "no redistribution",
    "blind": "competition-blind",
    "random": "random",
    "max": "everyone x_max",
    "none": "no generation",
}

#: smallest loss scale passed to the game (it requires a > 0; a fit may put a at its bound 0)
A_FLOOR = 1e-12


def build_game(
    setting: CogenSetting, fit: LossFit, opts: CogenOptions, *, gamma: float, kappa: float
) -> CogenGame:
    """The game of ``setting`` with competition ``gamma_ij = gamma`` (i != j) and ``kappa``."""
    n = len(setting.silos)
    orgs = tuple(
        CogenOrg(
            name=f"silo-{i}",
            D=float(setting.D[i]),
            delta=float(setting.delta[i]),
            theta=float(opts.theta),
            c=float(setting.costs[i].c),
            x_max=float(setting.x_max[i]),
        )
        for i in range(n)
    )
    return CogenGame(
        orgs=orgs,
        a=max(float(fit.a), A_FLOOR),
        b=float(fit.b),
        alpha_D=float(fit.alpha_D),
        kappa=float(kappa),
        q=float(opts.q),
        gamma=float(gamma) * (np.ones((n, n)) - np.eye(n)),
    )


def solve_schemes(
    game: CogenGame, *, seed: int, schemes: Sequence[str] = SCHEMES
) -> dict[str, CogenResult]:
    """Every scheme's profile in ``game`` (the random baseline drawn with ``seed``)."""
    return {k: solve(game, k, seed=seed) if k == "random" else solve(game, k) for k in schemes}


def measured_welfare(
    setting: CogenSetting,
    fit: LossFit,
    opts: CogenOptions,
    *,
    loss_none: float,
    loss: float,
    delta_mixed: Sequence[float],
    x: Sequence[int],
) -> dict[str, Any]:
    """Welfare of a trained profile, with the measured loss in place of the fitted one.

    ``sum_i theta [(L_meas(0) - L_meas(x)) + alpha_D (delta_i - delta_i^mixed)] - sum_i c_i x_i``:
    the global part is the measured validation loss of the run against the run without
    generation; the private part uses the measured mixed heterogeneity and the fitted alpha_D.
    Redistribution and competition losses sum to 0 over the silos and do not enter.
    """
    theta = float(opts.theta)
    n = len(x)
    global_gain = theta * n * (loss_none - loss)
    private_gain = theta * fit.alpha_D * float(np.sum(np.subtract(setting.delta, delta_mixed)))
    cost = float(np.dot([c.c for c in setting.costs], x))
    return {
        "welfare": global_gain + private_gain - cost,
        "global_gain": global_gain,
        "private_gain": private_gain,
        "cost": cost,
    }
