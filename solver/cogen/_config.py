"""Cogen game configuration files (TOML) and the bundled ``cogen-*`` presets.

Schema (``[game] mechanism = "cogen"`` selects this game in ``fedsettle solve``)::

    [game]
    mechanism = "cogen"
    a = 2.0          # loss scale in L(X) = a (D + X)^-b + alpha_D Delta / (D + X)
    b = 0.5          # loss exponent
    alpha_D = 0.8    # weight of heterogeneity in the loss
    kappa = 1e-3     # redistribution intensity: R_i = kappa sum_j gamma_ij (s_i - s_j)
    q = 1.0          # optional (default 1): quality weight of a synthetic sample, s_i = D_i + q x_i
    gamma = [[0.0, 0.05], [0.05, 0.0]]   # competition matrix: symmetric, zero diagonal, >= 0

    [[org]]
    name = "org0"
    D = 1200.0       # real samples
    delta = 0.6      # L1 distance of its label distribution to the reference (0..2)
    theta = 5000.0   # money per unit of loss reduction
    c = 0.02         # cost per synthetic sample (money)
    x_max = 3000.0   # most synthetic samples it can generate

Unknown keys are rejected. Errors name the field as it is written in the file, e.g.
``org[2].delta``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from solver._block import BlockMatrix
from solver._errors import ConfigError
from solver.cogen._model import CogenGame, CogenOrg, check_value

__all__ = [
    "MECHANISM",
    "CogenConfig",
    "cogen_preset_names",
    "load_cogen_preset",
    "load_config",
    "load_parsed",
    "parse_config",
    "read_matrix",
]

#: the value of ``[game] mechanism`` that selects this game
MECHANISM = "cogen"
GAME_KEYS = ("mechanism", "a", "b", "alpha_D", "kappa", "gamma")
GAME_OPTIONAL = ("q",)
ORG_KEYS = ("name", "D", "delta", "theta", "c", "x_max")


@dataclass(frozen=True, eq=False)
class CogenConfig:
    """A validated cogen configuration: the game and the file it came from (if any)."""

    game: CogenGame
    path: Path | None = None


def _keys(data: Any, required: tuple[str, ...], optional: tuple[str, ...], where: str) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table", field=where)
    for k in required:
        if k not in data:
            raise ConfigError(f"missing required key {k!r} in {where}", field=f"{where}.{k}")
    extra = sorted(set(data) - set(required) - set(optional))
    if extra:
        raise ConfigError(
            f"unknown key(s) {extra} in {where}; allowed: {sorted(required + optional)}",
            field=f"{where}.{extra[0]}",
        )


def _value(name: str, value: Any, where: str) -> float:
    return check_value(name, value, where=where, error=ConfigError)


def read_matrix(
    value: Any, n: int, where: str, base_dir: Path | None = None
) -> NDArray[np.float64] | BlockMatrix:
    """The n x n competition matrix in any form :func:`solver.load_matrix` reads.

    Inline rows (one per ``[[org]]``), a ``.npy``/``.csv`` path relative to the config file
    (``base_dir``; the working directory when the mapping did not come from a file), or a
    structured form (``uniform``, ``block``, ``pairs``); ``uniform`` and ``block`` come back as a
    :class:`solver.BlockMatrix`, the others as a dense array.
    """
    from solver._matrix import load_matrix

    if isinstance(value, list):
        for i, row in enumerate(value):
            for j, v in enumerate(row if isinstance(row, list) else []):
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise ConfigError(f"must be a number, got {v!r}", field=f"{where}[{i}][{j}]")
    mat = load_matrix(value, field=where, n=n, base_dir=base_dir or Path.cwd(), structured=True)
    if isinstance(mat, np.ndarray):
        mat.setflags(write=False)  # ours: the game keeps it without a copy
    return mat


def parse_config(data: Mapping[str, Any], path: Path | None = None) -> CogenConfig:
    """Build a :class:`CogenConfig` from a parsed TOML mapping (schema in the module docstring).

    Raises
    ------
    ConfigError
        Malformed structure or out-of-range values, naming the field (``org[2].delta``).
    GameError
        Well-formed but inconsistent values: asymmetric gamma, a weight w_i <= 0.
    """
    if not isinstance(data, Mapping):
        raise ConfigError("configuration must be a table", field="game")
    extra = sorted(set(data) - {"game", "org"})
    if extra:
        raise ConfigError(
            f"unknown top-level key(s) {extra}; expected [game] and [[org]]", field=extra[0]
        )
    if "game" not in data:
        raise ConfigError("missing the [game] table", field="game")
    game = data["game"]
    _keys(game, GAME_KEYS, GAME_OPTIONAL, "game")
    if game["mechanism"] != MECHANISM:
        raise ConfigError(
            f"must be {MECHANISM!r} for this game, got {game['mechanism']!r}",
            field="game.mechanism",
        )
    orgs_raw = data.get("org")
    if not isinstance(orgs_raw, list) or not orgs_raw:
        raise ConfigError("needs at least one [[org]] table", field="org")
    orgs = []
    for i, o in enumerate(orgs_raw):
        where = f"org[{i}]"
        _keys(o, ORG_KEYS, (), where)
        if not isinstance(o["name"], str) or not o["name"]:
            raise ConfigError(
                f"must be a non-empty string, got {o['name']!r}", field=f"{where}.name"
            )
        vals = {k: _value(k, o[k], f"{where}.{k}") for k in ORG_KEYS if k != "name"}
        orgs.append(CogenOrg(name=o["name"], **vals))
    scal = {k: _value(k, game[k], f"game.{k}") for k in ("a", "b", "alpha_D", "kappa")}
    scal["q"] = _value("q", game.get("q", 1.0), "game.q")
    gamma = read_matrix(
        game["gamma"], len(orgs), "game.gamma", path.parent if path is not None else None
    )
    return CogenConfig(CogenGame(orgs=tuple(orgs), gamma=gamma, **scal), path)


def load_config(path: Path) -> CogenConfig:
    """Read a cogen game from a TOML file (see the module docstring for the schema)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"no such file: {p}", field="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}", field="config") from None
    return parse_config(data, p)


def load_parsed(data: Mapping[str, Any], path: Path) -> CogenConfig:
    """:func:`load_config` from the already-parsed TOML mapping ``data`` of the file ``path``
    (``solver.Mechanism``: the CLI parses the file once)."""
    return parse_config(data, Path(path))


def cogen_preset_names() -> list[str]:
    """Names of the bundled cogen presets (``solver/presets/cogen-*.toml``)."""
    files = resources.files("solver").joinpath("presets").iterdir()
    return sorted(
        f.name[: -len(".toml")]
        for f in files
        if f.name.startswith("cogen-") and f.name.endswith(".toml")
    )


def load_cogen_preset(name: str) -> CogenGame:
    """Load a bundled cogen preset, e.g. ``"cogen-demo"``."""
    if name not in cogen_preset_names():
        raise ConfigError(
            f"unknown cogen preset {name!r}; available: {cogen_preset_names()}", field="preset"
        )
    text = resources.files("solver").joinpath("presets", f"{name}.toml").read_text()
    return parse_config(tomllib.loads(text)).game
