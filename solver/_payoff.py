"""Payoffs of the coopetition game (paper eqs. 6-11) and the corrected weighted potential.

With x_i = d_i s_i, Omega = sum_j x_j, c_i = x_i + lam f_i and q_i = sum_j rho_ij p_j:

    C_i = p_i P(Omega) - w_e E_i - D_i + R_i
    E_i = kappa f_i^2 eta_i x_i + e_comm_i                  (eq. 8, with eta_i kept)
    D_i = q_i [P(Omega) - P(Omega - x_i)]                    (eqs. 6-7)
    R_i = gamma sum_j rho_ij (c_i - c_j)                     (eqs. 9-10)
    Phi = P(Omega) + sum_k [gamma rhobar_k c_k - w_e kappa f_k^2 eta_k x_k] / z_k

Phi is the weighted potential with weights z_i = p_i - q_i (the paper's eq. 15 is wrong; see
``shared/spec/mechanisms.md`` 1.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError
from solver._model import Game
from solver._sparse import issparse

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "PayoffParts",
    "contributions",
    "payoff_parts",
    "payoffs",
    "potential",
    "redistribution_matrix",
    "social_welfare",
]

FloatArray = NDArray[np.float64]


def _profile(game: Game, d: ArrayLike, f: ArrayLike) -> tuple[FloatArray, FloatArray]:
    dd = np.asarray(d, dtype=float)
    ff = np.asarray(f, dtype=float)
    for name, a in (("d", dd), ("f", ff)):
        if a.shape != (game.n,):
            raise GameError(
                f"must have one entry per organization ({game.n}), got shape {a.shape}", field=name
            )
        if not np.all(np.isfinite(a)):
            raise GameError("entries must be finite", field=name)
    return dd, ff


def contributions(game: Game, d: ArrayLike, f: ArrayLike) -> FloatArray:
    """Contribution scores c_i = d_i s_i + lam f_i."""
    dd, ff = _profile(game, d, f)
    return dd * game.arrays.s + game.lam * ff


@dataclass(frozen=True, eq=False)
class PayoffParts:
    """The parts of every organization's payoff at one profile (arrays of length n).

    ``energy`` is E_i in joules (the payoff subtracts ``w_e * energy``); ``payoff`` is C_i.
    """

    revenue: FloatArray
    energy: FloatArray
    damage: FloatArray
    redistribution: FloatArray
    payoff: FloatArray


def _redistribution(game: Game, c: FloatArray) -> FloatArray:
    rc = np.asarray(game.rho @ c, dtype=float).ravel()
    return game.gamma * (game.arrays.rhobar * c - rc)


def payoff_parts(game: Game, d: ArrayLike, f: ArrayLike) -> PayoffParts:
    """Revenue, energy, competition damage, redistribution and payoff of every organization.

    Parameters
    ----------
    game
        The game.
    d, f
        Data fraction and compute (Hz) per organization, in org order. Feasibility is not
        required (TOS is evaluated outside the deadline); see :func:`solver.feasible`.

    Returns
    -------
    PayoffParts
        Arrays of length n; ``payoff = revenue - w_e * energy - damage + redistribution``.
    """
    dd, ff = _profile(game, d, f)
    a = game.arrays
    x = dd * a.s
    omega = math.fsum(x)
    P = game.P
    p_all = float(P.value(omega))
    revenue = a.p * p_all
    energy = game.kappa * ff**2 * a.eta * x + a.e_comm
    rest = omega - x
    # an org alone in the game (q_i = 0) suffers no damage even though P(0) may be -inf
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = p_all - P.value(np.where(a.q > 0, rest, omega))
    damage = np.where(a.q > 0, a.q * gain, 0.0)
    red = _redistribution(game, x + game.lam * ff)
    payoff = revenue - game.w_e * energy - damage + red
    return PayoffParts(revenue, energy, damage, red, payoff)


def payoffs(game: Game, d: ArrayLike, f: ArrayLike) -> FloatArray:
    """Payoffs C_i (paper eq. 11, with eta_i in the energy term)."""
    return payoff_parts(game, d, f).payoff


def social_welfare(game: Game, d: ArrayLike, f: ArrayLike) -> float:
    """Social welfare sum_i C_i."""
    return math.fsum(payoffs(game, d, f))


def potential(game: Game, d: ArrayLike, f: ArrayLike) -> float:
    """The weighted potential Phi (spec 1.2 #2): C_i(dev) - C_i = z_i (Phi(dev) - Phi).

    Parameters
    ----------
    game
        The game.
    d, f
        Data fraction and compute (Hz) per organization.

    Returns
    -------
    float
        P(Omega) + sum_k [gamma rhobar_k c_k - w_e kappa f_k^2 eta_k x_k] / z_k.

    Examples
    --------
    >>> import numpy as np
    >>> from solver import load_preset, payoffs
    >>> g = load_preset("paper-table2")
    >>> d, f = np.full(g.n, 0.5), g.arrays.F[:, 1]
    >>> d2 = d.copy(); d2[0] = 0.3
    >>> lhs = payoffs(g, d2, f)[0] - payoffs(g, d, f)[0]
    >>> bool(np.isclose(lhs, g.z[0] * (potential(g, d2, f) - potential(g, d, f)), rtol=1e-9))
    True
    """
    dd, ff = _profile(game, d, f)
    a = game.arrays
    x = dd * a.s
    terms = (
        game.gamma * a.rhobar * (x + game.lam * ff) - game.w_e * game.kappa * ff**2 * a.eta * x
    ) / a.z
    return game.P.value_scalar(math.fsum(x)) + math.fsum(terms)


def redistribution_matrix(game: Game, d: ArrayLike, f: ArrayLike) -> FloatArray | sp.csr_matrix:
    """Pairwise transfers r_ij = gamma rho_ij (c_i - c_j) (dense, or sparse for a sparse rho)."""
    c = contributions(game, d, f)
    if issparse(game.rho):
        import scipy.sparse as sp

        coo = sp.coo_matrix(game.rho)
        vals = game.gamma * coo.data * (c[coo.row] - c[coo.col])
        return sp.csr_matrix((vals, (coo.row, coo.col)), shape=coo.shape)
    return game.gamma * np.asarray(game.rho) * (c[:, None] - c[None, :])
