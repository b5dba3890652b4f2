"""Settlement mechanisms as plugins of the one round lifecycle (spec: "Mechanisms as plugins").

A round's mechanism is chosen by name (``fedsettle demo --mechanism NAME``, or
``[coordinator].mechanism`` in ``consortium.toml``); :func:`get_mechanism` returns it and the
coordinator (:class:`fl_node.coordinator.Coordinator`) drives every mechanism through the same
steps, for the embedded demo and the distributed runtime alike. :class:`Mechanism`
(:mod:`fl_node.mechanisms.base`) lists what a mechanism supplies.

Adding a mechanism
------------------
One module per package, plus its tests; no edits across the tree:

1. ``solver/``: the game (model, best response, equilibrium algorithms, baselines, checks).
2. ``settlement/`` and ``contracts/``: the payoff rule on chain and its exact Python mirror.
3. ``fl_node/mechanisms/<name>.py``: a class implementing :class:`Mechanism` (terms, strategy
   phase, silo agent, training plan, on-chain report, result and report rows), registered
   below in ``_REGISTRY`` under its name.
   A mechanism without a strategy phase (the market) is a :class:`SessionMechanism`
   (``has_strategy_phase = False``): the coordinator runs its ``run_session`` and
   ``submit_table`` in place of the strategy phase, training plan and reports
   (:mod:`fl_node.mechanisms.base`).
4. ``tests/fl_node/mechanisms/test_<name>.py``: its protocol methods, and one embedded round
   (``fl_node.demo.run_demo`` with ``mechanism=<name>``) that settles with exact budget balance.
"""

from __future__ import annotations

from typing import Any

from fl_node.mechanisms.base import (
    EmbeddedConsortium,
    Mechanism,
    NoStrategyPhase,
    SessionMechanism,
    SessionOutcome,
    SiloAgentLike,
    UnknownMechanism,
    session_of,
)
from fl_node.mechanisms.cogen import Cogen
from fl_node.mechanisms.market import ModelMarket
from fl_node.mechanisms.tradefl import TradeFL

__all__ = [
    "DEFAULT_MECHANISM",
    "Cogen",
    "EmbeddedConsortium",
    "Mechanism",
    "ModelMarket",
    "NoStrategyPhase",
    "SessionMechanism",
    "SessionOutcome",
    "SiloAgentLike",
    "TradeFL",
    "UnknownMechanism",
    "get_mechanism",
    "mechanism_names",
    "session_of",
]

#: the mechanism of ``fedsettle demo`` and of a consortium.toml without a mechanism key
DEFAULT_MECHANISM = "tradefl"

_REGISTRY: dict[str, Mechanism[Any]] = {
    TradeFL.name: TradeFL(),
    Cogen.name: Cogen(),
    ModelMarket.name: ModelMarket(),
}


def mechanism_names() -> list[str]:
    """The registered mechanism names, sorted."""
    return sorted(_REGISTRY)


def get_mechanism(name: str) -> Mechanism[Any]:
    """The mechanism registered as ``name``.

    Raises
    ------
    UnknownMechanism
        If no mechanism has that name; the message lists the registered ones.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownMechanism(
            f"unknown mechanism {name!r}; registered mechanisms: {', '.join(mechanism_names())}"
        ) from None
