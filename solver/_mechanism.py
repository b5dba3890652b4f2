"""Mechanism registry: which game a config file describes, and the protocol its module follows.

A config file names its game in ``[game].mechanism``; absent or ``"tradefl"`` is the TradeFL
coopetition game of this package. Any other name ``M`` is the module ``solver.M`` (a subpackage
such as ``solver.cogen``), which must provide the two functions of :class:`Mechanism`.
``fedsettle solve --config`` reads the name with :func:`config_mechanism` and dispatches to
:func:`mechanism_module`; a new mechanism needs no change here or in the CLI.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from solver._config import MECHANISM
from solver._errors import ConfigError

__all__ = ["Mechanism", "config_mechanism", "mechanism_module", "mechanism_names"]

#: subpackages/modules of ``solver`` that are not mechanisms
_NOT_MECHANISMS = frozenset({"presets"})


@runtime_checkable
class Mechanism(Protocol):
    """What ``solver.<name>`` provides so that ``fedsettle solve --config`` can run it.

    ``load_config(path)`` reads and validates the config file (raising
    :class:`solver.ConfigError` / :class:`solver.GameError` naming the field, which the CLI
    turns into exit code 3) and returns the mechanism's own config object.
    ``solve_cli(config, algorithm, options)`` solves it: ``algorithm`` is the ``--algorithm``
    value or ``None`` for the mechanism's default; ``options`` holds the generic CLI options
    that were given (``max_rounds: int``, ``fallback: bool``, ``ir_range: bool``, ``payments:
    str`` for the market's output form), and a mechanism ignores those it has no use for. It
    returns a JSON-ready dict, printed as the command's output; ``"success": False`` in it makes
    the CLI exit with code 5 (solver).

    Optionally, ``load_parsed(data, path)`` does what ``load_config(path)`` does from the
    already-parsed TOML mapping ``data`` of the file at ``path`` (file names in it are relative to
    ``path``'s directory); the CLI, which parses the file to read ``[game].mechanism``, then
    calls it instead of ``load_config``, so that a large file is parsed once.

    Errors: a :class:`solver.GameError` with ``field="algorithm"`` (unknown algorithm name)
    exits 2, any other :class:`solver.GameError` / :class:`solver.ConfigError` exits 3, any
    other :class:`solver.SolverError` (e.g. :class:`solver.ProblemTooLargeError`) exits 5; with
    ``--format json`` each is also printed as ``{"success": false, "error": {...}}``.
    """

    def load_config(self, path: Path) -> Any:
        """Read and validate the config file at ``path``."""
        ...

    def solve_cli(
        self, config: Any, algorithm: str | None, options: dict[str, Any]
    ) -> dict[str, Any]:
        """Solve ``config`` and return a JSON-ready result."""
        ...


def mechanism_names() -> list[str]:
    """The known mechanism names: ``tradefl`` and every public module/subpackage of ``solver``
    (found without importing them)."""
    import solver

    found = {
        m.name
        for m in pkgutil.iter_modules(solver.__path__)
        if not m.name.startswith("_") and m.name not in _NOT_MECHANISMS
    }
    return [MECHANISM, *sorted(found - {MECHANISM})]


def config_mechanism(data: dict[str, Any]) -> str:
    """The ``[game].mechanism`` name of a parsed config (``"tradefl"`` when absent)."""
    game = data.get("game")
    name = game.get("mechanism", MECHANISM) if isinstance(game, dict) else MECHANISM
    if not isinstance(name, str) or not name:
        raise ConfigError(f"must be a mechanism name, got {name!r}", field="game.mechanism")
    return name


def mechanism_module(name: str) -> Mechanism:
    """The module implementing mechanism ``name`` (not ``tradefl``, which is this package).

    Raises
    ------
    ConfigError
        ``field = "game.mechanism"``: unknown name (the message lists the known ones), or a
        module that lacks ``load_config``/``solve_cli``.
    """
    known = mechanism_names()
    if name == MECHANISM or name not in known or not name.isidentifier():
        raise ConfigError(
            f"unknown mechanism {name!r}; known: {known}"
            if name != MECHANISM
            else "tradefl is solved by solver.load_game/solver.solve",
            field="game.mechanism",
        )
    module = importlib.import_module(f"solver.{name}")
    if not isinstance(module, Mechanism):
        raise ConfigError(
            f"module solver.{name} does not provide load_config(path) and "
            "solve_cli(config, algorithm, options)",
            field="game.mechanism",
        )
    return cast(Mechanism, module)
