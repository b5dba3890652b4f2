"""One entry point over every algorithm, by the names the CLI uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solver._baselines import fip, gca, tos, wpr
from solver._cgbd import cgbd
from solver._dbr import dbr
from solver._errors import GameError
from solver._exact import maximize_potential
from solver._model import Game
from solver._result import SolveResult

__all__ = ["ALGORITHMS", "solve"]

_TABLE: dict[str, Callable[..., SolveResult]] = {
    "dbr": dbr,
    "dbr-sim": lambda g, **kw: dbr(g, mode="simultaneous", **kw),
    "cgbd": cgbd,
    "exact": maximize_potential,
    "wpr": wpr,
    "gca": gca,
    "fip": fip,
    "tos": tos,
}

#: algorithm names accepted by :func:`solve` (and ``fedsettle solve --algorithm``)
ALGORITHMS: tuple[str, ...] = tuple(_TABLE)


def solve(game: Game, algorithm: str = "exact", **options: Any) -> SolveResult:
    """Solve ``game`` with the named algorithm.

    Parameters
    ----------
    game
        The game.
    algorithm
        One of :data:`ALGORITHMS`: ``dbr`` (sequential best response, paper Alg. 2),
        ``dbr-sim`` (simultaneous, damped), ``cgbd`` (paper Alg. 1), ``exact`` (certified
        potential maximizer), and the baselines ``wpr``, ``gca``, ``fip``, ``tos``.
    **options
        Passed to the algorithm's function (e.g. ``max_rounds`` for DBR, ``cuts`` for CGBD).

    Returns
    -------
    SolveResult

    Examples
    --------
    >>> from solver import load_preset, solve
    >>> res = solve(load_preset("paper-table2"), "exact")
    >>> res.status, res.is_nash
    (<Status.OPTIMAL: 'optimal'>, True)
    """
    try:
        fn = _TABLE[algorithm]
    except KeyError:
        raise GameError(
            f"unknown algorithm {algorithm!r}; choose from {list(ALGORITHMS)}", field="algorithm"
        ) from None
    return fn(game, **options)
