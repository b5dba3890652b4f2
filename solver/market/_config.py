"""Market configuration files (TOML).

Schema::

    [game]
    mechanism = "market"
    lambda_pay = 0.5                       # weight of model distance in payments and thresholds
    distance = [[0.0, 0.4], [0.4, 0.0]]    # d_ij = 1 - cos(theta_i - theta0, theta_j - theta0)

    [[org]]
    name = "c0"
    N = 800.0     # data size (reported), > 0
    c = 0.05      # cost per export, >= 0
    K = 20000.0   # eagerness, >= 0; 0 = a pure seller that imports nothing

``distance`` is a full symmetric matrix, one row per [[org]], zero diagonal, entries in [0, 2].
Unknown keys are rejected (a typo would otherwise silently fall back to a default). Errors are
:class:`solver.ConfigError` naming the field, e.g. ``org[1].N``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from solver._block import BlockMatrix
from solver._errors import ConfigError, GameError
from solver.market._model import Market, check_distance_form

__all__ = ["MarketConfig", "load_config", "load_parsed", "parse_config", "read_distance"]

GAME_KEYS = ("mechanism", "lambda_pay", "distance")
ORG_KEYS = ("name", "N", "c", "K")


@dataclass(frozen=True, eq=False)
class MarketConfig:
    """A parsed market file: the reported parameters and the round's model distances (a
    :class:`solver.BlockMatrix` for the ``uniform`` and ``block`` forms, else a dense array)."""

    market: Market
    distance: NDArray[np.float64] | BlockMatrix


def _keys(data: Any, required: tuple[str, ...], where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table", field=where)
    for k in required:
        if k not in data:
            raise ConfigError(f"missing required key {k!r} in {where}", field=f"{where}.{k}")
    extra = sorted(set(data) - set(required))
    if extra:
        raise ConfigError(
            f"unknown key(s) {extra} in {where}; allowed: {sorted(required)}",
            field=f"{where}.{extra[0]}",
        )
    return data


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"must be a number, got {value!r}", field=field)
    return float(value)


def _as_config_error(exc: GameError, field: str | None) -> ConfigError:
    """The same error as a ConfigError (its message without GameError's "org, field: " prefix)."""
    prefix = str(GameError("", field=exc.field, org=exc.org))
    return ConfigError(str(exc)[len(prefix) :], field=field, org=exc.org)


def read_distance(
    value: Any, n: int, field: str = "game.distance", base_dir: Path | None = None
) -> NDArray[np.float64] | BlockMatrix:
    """The distance matrix in any form :func:`solver.load_matrix` reads (inline rows, a
    ``.npy``/``.csv`` path relative to the config file, or a structured form), then checked:
    symmetric, zero diagonal, entries in [0, 2]. ``uniform`` and ``block`` stay structured
    (:class:`solver.BlockMatrix`, checked on its table); the rest is a read-only array."""
    from solver._matrix import load_matrix

    raw = load_matrix(value, field=field, n=n, base_dir=base_dir or Path.cwd(), structured=True)
    try:
        return check_distance_form(raw, n, field)
    except GameError as exc:
        raise _as_config_error(exc, exc.field) from None


def parse_config(data: Mapping[str, Any], base_dir: Path | None = None) -> MarketConfig:
    """Build a :class:`MarketConfig` from a parsed mapping (see the module docstring)."""
    _keys(data, ("game", "org"), "config")
    game = _keys(data["game"], GAME_KEYS, "game")
    if game["mechanism"] != "market":
        raise ConfigError(
            f'must be "market" for a market file, got {game["mechanism"]!r}',
            field="game.mechanism",
        )
    orgs = data["org"]
    if not isinstance(orgs, list) or not orgs:
        raise ConfigError("needs at least one [[org]] table", field="org")
    names, vals = [], {k: [] for k in ("N", "c", "K")}  # type: ignore[var-annotated]
    for i, o in enumerate(orgs):
        where = f"org[{i}]"
        _keys(o, ORG_KEYS, where)
        if not isinstance(o["name"], str):
            raise ConfigError(f"must be a string, got {o['name']!r}", field=f"{where}.name")
        names.append(o["name"])
        for k in vals:
            vals[k].append(_number(o[k], f"{where}.{k}"))
    lam = _number(game["lambda_pay"], "game.lambda_pay")
    try:
        market = Market(names, N=vals["N"], c=vals["c"], K=vals["K"], lambda_pay=lam)
    except GameError as exc:
        fld = "game.lambda_pay" if exc.field == "lambda_pay" else exc.field
        raise _as_config_error(exc, fld) from None
    return MarketConfig(market, read_distance(game["distance"], market.n, base_dir=base_dir))


def load_config(path: Path) -> MarketConfig:
    """Read a market file (see the module docstring for the schema)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"no such file: {p}", field="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}", field="config") from None
    return parse_config(data, Path(path).parent)


def load_parsed(data: Mapping[str, Any], path: Path) -> MarketConfig:
    """:func:`load_config` from the already-parsed TOML mapping ``data`` of the file ``path``
    (``solver.Mechanism``: the CLI parses the file once)."""
    return parse_config(data, Path(path).parent)
