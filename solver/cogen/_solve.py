"""One entry point over every cogen algorithm, and the protocol ``fedsettle solve`` calls."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from solver._errors import ConfigError, GameError
from solver.cogen._baselines import (
    blind,
    everyone_max,
    no_generation,
    no_redistribution,
    random_generation,
)
from solver.cogen._config import CogenConfig
from solver.cogen._dbr import dbr
from solver.cogen._exact import maximize_potential
from solver.cogen._fixed_point import fixed_point
from solver.cogen._ir import ir_kappa_range
from solver.cogen._model import CogenGame
from solver.cogen._result import CogenResult

__all__ = ["ALGORITHMS", "DEFAULT_ALGORITHM", "solve", "solve_cli"]

_TABLE: dict[str, Callable[..., CogenResult]] = {
    "fixed-point": fixed_point,
    "dbr": dbr,
    "exact": maximize_potential,
    "none": no_generation,
    "blind": blind,
    "random": random_generation,
    "max": everyone_max,
    "no-redistribution": no_redistribution,
}

#: algorithm names accepted by :func:`solve` (and ``fedsettle solve`` for a cogen game)
ALGORITHMS: tuple[str, ...] = tuple(_TABLE)
DEFAULT_ALGORITHM = "fixed-point"


def _function(algorithm: str) -> Callable[..., CogenResult]:
    try:
        return _TABLE[algorithm]
    except KeyError:
        raise GameError(
            f"unknown cogen algorithm {algorithm!r}; choose from {list(ALGORITHMS)}",
            field="algorithm",
        ) from None


def solve(game: CogenGame, algorithm: str = DEFAULT_ALGORITHM, **options: Any) -> CogenResult:
    """Solve ``game`` with the named algorithm.

    Parameters
    ----------
    game
        The game.
    algorithm
        One of :data:`ALGORITHMS`: ``fixed-point`` (aggregate fixed point, default), ``dbr``
        (distributed best response), ``exact`` (certified potential maximizer), and the
        baselines ``none``, ``blind``, ``random``, ``max``, ``no-redistribution``.
    **options
        Keyword options of the algorithm's function (e.g. ``method`` for the fixed point,
        ``seed`` for ``random``); an unknown option is an error naming it.

    Examples
    --------
    >>> from solver.cogen import load_cogen_preset, solve
    >>> res = solve(load_cogen_preset("cogen-demo"), "exact")
    >>> res.status, res.is_nash
    (<Status.OPTIMAL: 'optimal'>, True)
    """
    fn = _function(algorithm)
    allowed = [p for p in inspect.signature(fn).parameters if p != "game"]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {unknown} for algorithm {algorithm!r}; allowed: {allowed}",
            field=f"options.{unknown[0]}",
        )
    return fn(game, **options)


def solve_cli(
    config: CogenConfig, algorithm: str | None, options: dict[str, Any]
) -> dict[str, Any]:
    """Solve a loaded configuration and return the JSON-ready result ``fedsettle solve`` prints.

    ``algorithm`` None means :data:`DEFAULT_ALGORITHM`. ``options`` are passed to the
    algorithm (see :func:`solve`), except ``payments`` (the market's; ignored) and ``ir_range``
    (bool): when true the result also has ``ir_kappa_range``, the kappa intervals where every
    payoff at equilibrium is >= 0 (``null`` for an unbounded end), and ``kappa_saturation``.
    """
    opts = dict(options)
    opts.pop("payments", None)  # the market's output option: nothing to do here
    ir_range = opts.pop("ir_range", False)
    if not isinstance(ir_range, bool):
        raise ConfigError(f"must be true or false, got {ir_range!r}", field="options.ir_range")
    res = solve(config.game, algorithm or DEFAULT_ALGORITHM, **opts)
    out = res.to_dict()
    if ir_range:
        kr = ir_kappa_range(config.game)
        out["ir_kappa_range"] = [[a, b if math.isfinite(b) else None] for a, b in kr.intervals]
        out["kappa_saturation"] = kr.saturation
    return out
