"""Game configuration files (TOML) and the bundled presets.

Schema::

    [game]
    tau = 60.0            # deadline, s
    gamma = 0.005         # incentive intensity
    lam = 3e-6            # magnitude factor of compute in the contribution score
    w_e = 0.01            # payoff units per joule
    kappa = 1e-27         # effective capacitance
    G = 5.0               # training epochs (paper's accuracy form)
    D_min = 0.1           # smallest data fraction
    A0 = 1.0              # accuracy loss of the untrained model
    rho = [[0.0, 0.01], [0.01, 0.0]]   # full symmetric matrix, one row per [[org]], or a
                                       # file ("rho.npy", "rho.csv") or a structured form;
                                       # see solver.load_matrix
    symmetrize_rho = false             # optional: average rho with its transpose (warns)
    mechanism = "tradefl"              # optional: this schema (other names: other mechanisms)

    [accuracy]            # optional; default: the paper's form from A0 and G
    form = "power"        # "paper" or "power": P = a - b * Omega**(-c)
    a = 0.8
    b = 0.45
    c = 0.5

    [[org]]
    name = "org01"
    s = 1500              # local data size (samples in the presets)
    p = 1200.0            # profitability
    F = [1e9, 2e9, 3e9]   # compute levels, Hz, increasing
    eta = 6e7             # cycles per unit of data
    T1 = 2.0              # download time, s
    T3 = 2.0              # upload time, s
    e_comm = 0.0          # optional: communication energy, J

Unknown keys are rejected (a typo would otherwise silently fall back to a default).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from solver._accuracy import AccuracyFunction, PaperAccuracy, PowerLawAccuracy
from solver._errors import ConfigError, GameError
from solver._matrix import load_matrix
from solver._model import Game, Org, symmetrize_rho
from solver._sparse import issparse

__all__ = [
    "MECHANISM",
    "game_to_toml",
    "load_game",
    "load_preset",
    "parse_game",
    "preset_names",
    "read_toml",
]

GAME_KEYS = ("tau", "gamma", "lam", "w_e", "kappa", "G", "D_min", "A0", "rho")
GAME_OPTIONAL = ("symmetrize_rho", "mechanism")
#: the ``[game].mechanism`` name of this schema (absent means this one too)
MECHANISM = "tradefl"
ORG_KEYS = ("name", "s", "p", "F", "eta", "T1", "T3")
ORG_OPTIONAL = ("e_comm",)


def _table(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ConfigError(f"missing required key {key!r} in {where}", field=f"{where}.{key}")
    return data[key]


def _keys(
    data: Mapping[str, Any], required: tuple[str, ...], optional: tuple[str, ...], where: str
) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table", field=where)
    for k in required:
        _table(data, k, where)
    extra = sorted(set(data) - set(required) - set(optional))
    if extra:
        raise ConfigError(
            f"unknown key(s) {extra} in {where}; allowed: {sorted(required + optional)}",
            field=f"{where}.{extra[0]}",
        )


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"must be a number, got {value!r}", field=field)
    return float(value)


def _accuracy(data: Any) -> AccuracyFunction | None:
    if data is None:
        return None
    if not isinstance(data, Mapping) or "form" not in data:
        raise ConfigError("must be a table with a 'form' key", field="accuracy.form")
    form = data["form"]
    try:
        if form == "paper":
            _keys(data, ("form", "A0", "G"), (), "accuracy")
            return PaperAccuracy(
                _number(data["A0"], "accuracy.A0"), _number(data["G"], "accuracy.G")
            )
        if form == "power":
            _keys(data, ("form", "a", "b", "c"), (), "accuracy")
            return PowerLawAccuracy(*(_number(data[k], f"accuracy.{k}") for k in "abc"))
    except ConfigError:
        raise
    except GameError as exc:
        raise ConfigError(exc.detail, field=exc.field, org=exc.org) from None
    raise ConfigError(f"must be 'paper' or 'power', got {form!r}", field="accuracy.form")


def parse_game(data: Mapping[str, Any], *, base_dir: Path | None = None) -> Game:
    """Build a :class:`Game` from a parsed configuration mapping (see the module docstring).

    ``base_dir`` is the directory that a file name given for ``rho`` is relative to (default:
    the current directory; :func:`load_game` passes the config file's directory).

    Raises
    ------
    ConfigError
        Malformed structure (missing/unknown keys, wrong types).
    GameError
        Well-formed but invalid values (asymmetric rho, z_i <= 0, no feasible level, ...).
    """
    if not isinstance(data, Mapping):
        raise ConfigError("configuration must be a table", field="game")
    extra = sorted(set(data) - {"game", "org", "accuracy"})
    if extra:
        raise ConfigError(
            f"unknown top-level key(s) {extra}; expected [game], [[org]], [accuracy]",
            field=extra[0],
        )
    game = _table(data, "game", "config")
    _keys(game, GAME_KEYS, GAME_OPTIONAL, "game")
    orgs_raw = _table(data, "org", "config")
    if not isinstance(orgs_raw, list) or not orgs_raw:
        raise ConfigError("needs at least one [[org]] table", field="org")
    orgs = []
    for i, o in enumerate(orgs_raw):
        where = f"org[{i}]"
        _keys(o, ORG_KEYS, ORG_OPTIONAL, where)
        F = o["F"]
        if not isinstance(F, list) or not F:
            raise ConfigError(
                "must be a non-empty list of compute levels in Hz", field=f"{where}.F"
            )
        kwargs = {k: _number(o[k], f"{where}.{k}") for k in ("s", "p", "eta", "T1", "T3")}
        if "e_comm" in o:
            kwargs["e_comm"] = _number(o["e_comm"], f"{where}.e_comm")
        if not isinstance(o["name"], str):
            raise ConfigError(f"must be a string, got {o['name']!r}", field=f"{where}.name")
        levels = tuple(_number(f, f"{where}.F") for f in F)
        orgs.append(Org(name=o["name"], F=levels, **kwargs))
    mech = game.get("mechanism", MECHANISM)
    if mech != MECHANISM:
        raise ConfigError(
            f"this schema is mechanism {MECHANISM!r}, got {mech!r}; solve other mechanisms "
            "with `fedsettle solve --config` or solver.mechanism_module",
            field="game.mechanism",
        )
    rho_m = load_matrix(
        game["rho"],
        field="game.rho",
        n=len(orgs),
        base_dir=Path.cwd() if base_dir is None else base_dir,
        sparse=True,
        structured=True,
    )
    sym = game.get("symmetrize_rho", False)
    if not isinstance(sym, bool):
        raise ConfigError(f"must be true or false, got {sym!r}", field="game.symmetrize_rho")
    if sym:
        rho_m = symmetrize_rho(rho_m)
    scal = {k: _number(game[k], f"game.{k}") for k in GAME_KEYS if k != "rho"}
    return Game(orgs=tuple(orgs), rho=rho_m, accuracy=_accuracy(data.get("accuracy")), **scal)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML config file; every failure is a :class:`ConfigError` naming the path.

    Missing files, directories, unreadable files, bytes that are not UTF-8 and TOML syntax
    errors all end here, with ``field = "config"``.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"no such file: {str(p)!r}", field="config") from None
    except IsADirectoryError:
        raise ConfigError(
            f"{str(p)!r} is a directory; pass the TOML file inside it", field="config"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read {str(p)!r}: {exc.strerror or exc}", field="config"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{str(p)!r} is not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); "
            "save it as UTF-8",
            field="config",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{str(p)!r} is not valid TOML: {exc}", field="config") from None


def load_game(path: str | Path) -> Game:
    """Read a game from a TOML file (see the module docstring for the schema); file names in
    it (``rho = "rho.npy"``) are relative to the file's directory."""
    p = Path(path)
    return parse_game(read_toml(p), base_dir=p.parent)


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    files = resources.files("solver").joinpath("presets").iterdir()
    return sorted(f.name[: -len(".toml")] for f in files if f.name.endswith(".toml"))


def load_preset(name: str) -> Game:
    """Load a bundled preset, e.g. ``"paper-table2"``."""
    if name not in preset_names():
        raise ConfigError(f"unknown preset {name!r}; available: {preset_names()}", field="preset")
    text = resources.files("solver").joinpath("presets", f"{name}.toml").read_text()
    return parse_game(tomllib.loads(text))


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def game_to_toml(game: Game, *, header: str = "", rho_value: str | None = None) -> str:
    """Serialize a game to the TOML schema; ``header`` lines become comments.

    rho is written inline (dense) unless ``rho_value`` is given: TOML text written verbatim as
    the value of ``rho``, e.g. ``'"rho.npy"'`` for a matrix the caller saved next to the file.
    """
    lines = [f"# {h}" if h else "#" for h in header.splitlines()]
    lines.append("[game]")
    for k in GAME_KEYS[:-1]:
        lines.append(f"{k} = {_fmt(getattr(game, k))}")
    if rho_value is not None:
        lines.append(f"rho = {rho_value}")
    else:
        rho = game.rho.toarray() if issparse(game.rho) else np.asarray(game.rho)
        lines.append("rho = [")
        lines.extend("  [" + ", ".join(_fmt(v) for v in row) + "]," for row in rho)
        lines.append("]")
    acc = game.accuracy
    if isinstance(acc, PowerLawAccuracy):
        lines += [
            "",
            "[accuracy]",
            'form = "power"',
            f"a = {_fmt(acc.a)}",
            f"b = {_fmt(acc.b)}",
            f"c = {_fmt(acc.c)}",
        ]
    elif isinstance(acc, PaperAccuracy):
        lines += ["", "[accuracy]", 'form = "paper"', f"A0 = {_fmt(acc.A0)}", f"G = {_fmt(acc.G)}"]
    elif acc is not None:
        raise GameError(
            "only paper and power-law accuracy functions can be written to TOML", field="accuracy"
        )
    for o in game.orgs:
        lines += [
            "",
            "[[org]]",
            f"name = {_quote(o.name)}",
            f"s = {_fmt(o.s)}",
            f"p = {_fmt(o.p)}",
            "F = [" + ", ".join(_fmt(f) for f in o.F) + "]",
            f"eta = {_fmt(o.eta)}",
            f"T1 = {_fmt(o.T1)}",
            f"T3 = {_fmt(o.T3)}",
        ]
        if o.e_comm:
            lines.append(f"e_comm = {_fmt(o.e_comm)}")
    return "\n".join(lines) + "\n"


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
