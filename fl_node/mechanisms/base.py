"""The :class:`Mechanism` protocol: what one mechanism supplies to the shared round lifecycle.

The lifecycle itself (open, join, strategy phase, train, report, settle, withdraw; resume and
error handling) is :class:`fl_node.coordinator.Coordinator`, the same for ``fedsettle demo``
(in-process silos, spawned anvil) and ``fedsettle coordinator run`` (silo daemons over HTTP).
It calls the round's mechanism for every step whose content differs between mechanisms:

======================  ==========================================================
step                    mechanism method
======================  ==========================================================
open                    :meth:`~Mechanism.open_round` (public terms, committed by digest)
strategy phase          :meth:`~Mechanism.terms_document` (what every silo receives),
                        :meth:`~Mechanism.initial_strategies`,
                        :meth:`~Mechanism.run_strategy_phase` (what crosses the network),
                        :meth:`~Mechanism.silo_agent` (what a silo computes privately)
train                   :meth:`~Mechanism.training_plan` (strategy -> local training and
                        aggregation weight)
report                  :meth:`~Mechanism.onchain_report`,
                        :meth:`~Mechanism.assignment_fields`
result and report.json  :meth:`~Mechanism.strategy_fields`, :meth:`~Mechanism.report_rows`
embedded demo           :meth:`~Mechanism.demo_consortium`
======================  ==========================================================

Mechanisms without a strategy phase
-----------------------------------
The model-sharing market (mechanism 3) has no strategy phase and no per-silo report: every silo
registers N_i, c_i, K_i once, and the coordinator recomputes the import graph and payments every
FL round from the silos' models. Such a mechanism is a :class:`SessionMechanism`
(``has_strategy_phase = False``, see :func:`session_of`). The coordinator runs the same steps
around it (connect, contract, open, deposits with the terms offer and every silo's check,
reports, settle, the links' withdrawals, the result document) and branches once, replacing the
``strategy``, ``training`` and ``assign`` steps with

======================  ==========================================================
step                    session mechanism method
======================  ==========================================================
``session``             :meth:`~SessionMechanism.run_session`: FL rounds with the
                        mechanism's own per-round coordinator step; returns a
                        :class:`SessionOutcome` (training outcome, each silo's
                        registered report as its strategy, the coordinator's table)
``table``               :meth:`~SessionMechanism.submit_table` (the coordinator's
                        one table transaction; skipped once it is on chain)
======================  ==========================================================

Its strategy-phase methods (:class:`NoStrategyPhase`) are never called by the coordinator;
:meth:`~Mechanism.silo_agent` is (``push_terms``): it builds the silo's check of the offered terms.

Every chain write a mechanism needs goes through :mod:`fl_node.chain_steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from fl_node.chain_steps import ChainUnits
    from fl_node.coordinator import ConsortiumConfig, SiloEntry, TrainingOutcome
    from fl_node.flower import Assignment, LocalSilo
    from fl_node.strategy_phase import Responder, StrategyPhaseResult
    from settlement import AcceptedTerms, SettlementClient

__all__ = [
    "EmbeddedConsortium",
    "Mechanism",
    "NoStrategyPhase",
    "SessionMechanism",
    "SessionOutcome",
    "SiloAgentLike",
    "UnknownMechanism",
    "session_of",
]

S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)


class UnknownMechanism(ValueError):
    """A mechanism name that is not registered; the message lists the registered names."""


class SiloAgentLike(Protocol[S_co]):
    """A silo's private decision maker: answers one strategy-phase query."""

    @property
    def name(self) -> str: ...

    def respond(self, others_total: float) -> S_co: ...


@dataclass(frozen=True)
class EmbeddedConsortium:
    """A consortium the embedded demo plays: public terms and every silo's private parameters.

    ``registry`` holds, per silo in slot order, the public fields the consortium registers for
    it (``F_max`` and ``p`` of :class:`fl_node.coordinator.SiloEntry`); ``full_information`` is
    the whole game, for the report's equilibrium checks only (no real silo reveals it).
    """

    terms: Any
    units: ChainUnits
    private: tuple[Any, ...]
    registry: tuple[Mapping[str, float], ...]
    full_information: Any


class Mechanism(Protocol[S]):
    """One settlement mechanism; ``S`` is its strategy type (what a silo chooses)."""

    #: registry name (``fedsettle demo --mechanism NAME``, ``[coordinator].mechanism``)
    name: str

    # ------------------------------------------------------------- game / terms
    def open_round(
        self,
        client: SettlementClient,
        config: ConsortiumConfig,
        *,
        coordinator: str | None,
        windows: tuple[int, int],
    ) -> int:
        """Open a round for ``config``'s silos and terms (through :mod:`fl_node.chain_steps`)."""
        ...

    def accepted_terms(self, config: ConsortiumConfig, *, coordinator: str | None) -> AcceptedTerms:
        """What a silo that accepted ``config`` compares the on-chain round with before paying."""
        ...

    def terms_document(self, config: ConsortiumConfig) -> dict[str, Any]:
        """The public terms every silo receives with ``POST /terms`` (besides round id etc.)."""
        ...

    # ---------------------------------------------------------- strategy phase
    def initial_strategies(self, config: ConsortiumConfig, silos: Sequence[SiloEntry]) -> list[S]:
        """The profile the strategy phase starts from, one per silo in ``silos``."""
        ...

    def run_strategy_phase(
        self, responders: Sequence[Responder], initial: Sequence[S], *, max_sweeps: int
    ) -> StrategyPhaseResult:
        """Query the silos until their strategies settle; drop silos that stop answering.

        A responder answers ``respond(others_total)``: one aggregate per query, which is what
        the daemon's ``POST /best-response`` carries. A mechanism whose silos need another
        message extends :class:`fl_node.coordinator.SiloLink` and the daemon's agent with it.
        """
        ...

    def silo_agent(self, private: Any, terms_document: Mapping[str, Any]) -> SiloAgentLike[S]:
        """A silo's agent from its ``private`` parameters and the pushed terms document."""
        ...

    def strategy_to_json(self, strategy: S) -> dict[str, Any]: ...

    def strategy_from_json(self, document: Mapping[str, Any]) -> S: ...

    # ----------------------------------------------------------- training plan
    def training_plan(
        self, strategies: Mapping[str, S], config: ConsortiumConfig | None = None
    ) -> dict[str, Assignment]:
        """How each silo trains and is weighted in aggregation, keyed by silo name.

        ``config`` (the round's consortium) adds session keys the silos' training processes
        need (cogen: which generator to train where none is prepared).
        """
        ...

    # ------------------------------------------------------------------ report
    def onchain_report(
        self, client: SettlementClient, round_id: int, silo: SiloEntry, strategy: S
    ) -> tuple[int, int]:
        """The integers the silo reports on chain for ``strategy`` (``contributionSubmit``)."""
        ...

    def assignment_fields(self, strategy: S) -> dict[str, float]:
        """The strategy's fields in the ``POST /assignment`` document (checked by the silo)."""
        ...

    # ---------------------------------------------------------------- results
    def strategy_fields(self, strategy: S | None) -> dict[str, Any]:
        """The strategy's columns in a silo's row of the result document (None: no strategy)."""
        ...

    def demo_consortium(
        self,
        names: Sequence[str],
        sizes: Sequence[int],
        *,
        seed: int,
        epochs: int,
        silos: Sequence[LocalSilo] = (),
        progress: Callable[[str], None] | None = None,
    ) -> EmbeddedConsortium:
        """Draw a consortium (public terms, private parameters) for the embedded demo.

        ``silos`` are the silos' data in slot order, for a mechanism whose silos measure
        their private parameters on it (cogen: generator cost); ``progress`` prints a line.
        """
        ...

    def report_rows(
        self, consortium: EmbeddedConsortium, strategies: Sequence[S], chain_rows: Sequence[Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The demo report's mechanism columns per silo and its ``equilibrium`` summary.

        ``chain_rows`` are the round's on-chain profiles (same order as ``strategies``).
        """
        ...


@dataclass
class SessionOutcome:
    """What a :class:`SessionMechanism`'s FL session hands back to the coordinator.

    Attributes
    ----------
    training : TrainingOutcome
        Who completed the session, and the per-round accuracy (the result's curve).
    strategies : dict
        Each silo's strategy-like record by name (the market: its registered report), for the
        result's rows (:meth:`Mechanism.strategy_fields`).
    table : object
        The coordinator's report table, in the form :meth:`SessionMechanism.submit_table` takes.
    details : object
        The mechanism's own record of the session (the market: its run), for its demo report.
    """

    training: TrainingOutcome
    strategies: dict[str, Any]
    table: Any
    details: Any = None


class SessionMechanism(Mechanism[S], Protocol):
    """A mechanism without a strategy phase (see the module docstring)."""

    #: always False; :func:`session_of` reads it
    has_strategy_phase: bool

    def run_session(
        self,
        config: ConsortiumConfig,
        silos: Sequence[SiloEntry],
        *,
        runtime: Any,
        note: Callable[..., None],
    ) -> SessionOutcome:
        """Run the FL session of the joined ``silos`` (``runtime``: None embedded, else the
        Flower deployment); ``note(event, **data)`` logs an action."""
        ...

    def submit_table(
        self, client: SettlementClient, round_id: int, table: Any, *, sender: Any
    ) -> Any:
        """Submit the coordinator's table (return its receipt; None if already on chain)."""
        ...

    def demo_silos(
        self, n: int, *, dataset: str, alpha: float, seed: int
    ) -> tuple[list[str], list[int], str]:
        """The embedded demo's silos: names, sizes and the progress line describing them."""
        ...

    def demo_report(
        self,
        opts: Any,
        outcome: SessionOutcome,
        client: SettlementClient,
        round_id: int,
        *,
        payouts: Sequence[int | None],
        gas: dict[str, int],
        mark: Callable[[str], None],
        marks: Mapping[str, float],
        progress: Callable[[str], None],
    ) -> dict[str, Any]:
        """The demo's ``report.json`` document of the settled round (chain still reachable)."""
        ...


class NoStrategyPhase:
    """The strategy-phase members of a :class:`SessionMechanism`: never called by the coordinator.

    A mechanism without a strategy phase has no best responses, no training plan and no
    per-silo on-chain report; calling one of these is a wiring error and says so.
    """

    name: str

    def _no_phase(self, member: str) -> TypeError:
        return TypeError(
            f"mechanism {self.name!r} has no strategy phase ({member}); the coordinator runs "
            "its run_session instead"
        )

    def run_strategy_phase(
        self, responders: Sequence[Responder], initial: Sequence[Any], *, max_sweeps: int
    ) -> StrategyPhaseResult:
        raise self._no_phase("run_strategy_phase")

    def training_plan(
        self, strategies: Mapping[str, Any], config: ConsortiumConfig | None = None
    ) -> dict[str, Assignment]:
        raise self._no_phase("training_plan")

    def onchain_report(
        self, client: SettlementClient, round_id: int, silo: SiloEntry, strategy: Any
    ) -> tuple[int, int]:
        raise self._no_phase("onchain_report")

    def assignment_fields(self, strategy: Any) -> dict[str, float]:
        raise self._no_phase("assignment_fields")


def session_of(mechanism: Mechanism[Any]) -> SessionMechanism[Any] | None:
    """``mechanism`` as a :class:`SessionMechanism`, or None if it has a strategy phase."""
    if getattr(mechanism, "has_strategy_phase", True):
        return None
    return cast("SessionMechanism[Any]", mechanism)
