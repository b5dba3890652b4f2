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

Every chain write a mechanism needs goes through :mod:`fl_node.chain_steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from fl_node.chain_steps import ChainUnits
    from fl_node.coordinator import ConsortiumConfig, SiloEntry
    from fl_node.flower import Assignment, LocalSilo
    from fl_node.strategy_phase import Responder, StrategyPhaseResult
    from settlement import AcceptedTerms, SettlementClient

__all__ = ["EmbeddedConsortium", "Mechanism", "SiloAgentLike", "UnknownMechanism"]

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
