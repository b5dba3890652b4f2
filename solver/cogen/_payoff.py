"""Payoffs of the cogen game and its weighted potential (with the redistribution term).

Derivation of the potential. Let org i move from x_i to x_i' (others fixed) and write
Delta-quantities for the change. L changes for everyone, beta only for i, so
Delta G_i = -theta_i (Delta L + Delta beta_i) and Delta G_j = -theta_j Delta L (j != i). Since
s_j is fixed for j != i, Delta R_i = kappa q Gamma_i Delta x_i. Hence

    Delta C_i = (1 + Gamma_i) Delta G_i - sum_j gamma_ij Delta G_j - c_i Delta x_i + Delta R_i
              = -w_i Delta L - theta_i (1 + Gamma_i) Delta beta_i - (c_i - kappa q Gamma_i) Delta x_i
              = w_i Delta Phi

with w_i = theta_i (1 + Gamma_i) - sum_j gamma_ij theta_j and

    Phi(x) = -L(X) - sum_k [theta_k (1 + Gamma_k) beta_k(x_k) + (c_k - kappa q Gamma_k) x_k] / w_k.

**Correction to the spec.** ``mechanisms.md`` section 2 writes the potential without the
``+ kappa q Gamma_k x_k / w_k`` term: that is the potential of the game without redistribution
only. With kappa > 0 and q > 0 the redistribution R_i = kappa sum_j gamma_ij (s_i - s_j) pays
org i kappa q Gamma_i per synthetic sample, which the potential must carry (tested in
``tests/solver/cogen/test_cogen_payoff.py``). The signs of the other terms are right.

-L is concave (L is a sum of convex decreasing terms) and each beta_k is convex, so with w > 0
Phi is concave on the box prod_k [0, x_k^max]: every local maximizer is global, and it is a
Nash equilibrium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.cogen._model import CogenGame, Incentives

__all__ = ["CogenParts", "payoff_parts", "potential", "social_welfare"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CogenParts:
    """The terms of every payoff: ``payoff = gain - competition - cost + redistribution``
    (``competition`` is Lambda_i = sum_j gamma_ij (G_j - G_i); ``score`` is s_i)."""

    gain: FloatArray
    competition: FloatArray
    cost: FloatArray
    redistribution: FloatArray
    score: FloatArray
    payoff: FloatArray


def payoff_parts(game: CogenGame, x: ArrayLike) -> CogenParts:
    """Every payoff term at profile ``x`` (evaluated directly from the definitions).

    Examples
    --------
    >>> from solver.cogen import load_cogen_preset, payoff_parts
    >>> g = load_cogen_preset("cogen-demo")
    >>> parts = payoff_parts(g, g.x_max / 2)
    >>> bool(abs(parts.redistribution.sum()) < 1e-9 * abs(parts.redistribution).sum())
    True
    """
    xx = game.profile(x)
    X = math.fsum(xx)
    lost = game.loss(0.0) - game.loss(X)
    gain = game.theta * (lost + game.gap(np.zeros(game.n)) - game.gap(xx))
    competition = game.mul_gamma(gain) - game.Gamma * gain
    cost = game.c * xx
    score = game.D + game.q * xx
    redistribution = game.kappa * (game.Gamma * score - game.mul_gamma(score))
    payoff = gain - competition - cost + redistribution
    return CogenParts(gain, competition, cost, redistribution, score, payoff)


def potential(game: CogenGame, x: ArrayLike, incentives: Incentives | None = None) -> float:
    """Phi(x) = -L(X) - sum_k [A_k / (D_k + x_k) + e_k x_k] / w_k.

    With the game's own incentives (default) this is the weighted potential derived in the
    module docstring (A_k / (D_k + x_k) = theta_k (1 + Gamma_k) beta_k(x_k)).
    """
    xx = game.profile(x)
    inc = game.incentives if incentives is None else incentives
    own = (inc.A / (game.D + xx) + inc.e * xx) / inc.w
    return float(-game.loss(math.fsum(xx)) - math.fsum(own))


def social_welfare(game: CogenGame, x: ArrayLike) -> float:
    """SW = sum_i C_i (with symmetric gamma the competition losses and transfers sum to zero,
    so SW = sum_i (G_i - c_i x_i))."""
    return math.fsum(payoff_parts(game, x).payoff)
