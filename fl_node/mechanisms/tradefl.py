"""TradeFL (mechanism 1): data fraction d and compute level f, contribution-weighted FedAvg.

Game: :mod:`solver` (aggregative potential game; a silo's best response depends on its rivals
only through their contributed data X_-i). Strategy phase: distributed best response, the
coordinator broadcasting X_-i and each silo answering with its own (d, f, x = d s)
(:mod:`fl_node.strategy_phase`, :class:`fl_node.agent.SiloAgent`). Training plan: train on a
d fraction of the data, paced at f samples/s, aggregated with weight x. Report: the on-chain
(x, f) integers (:func:`fl_node.chain_steps.to_report`); payoff rule: the contract's
``payoffCalculate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fl_node.agent import SiloAgent, Strategy
from fl_node.mechanisms.base import EmbeddedConsortium

if TYPE_CHECKING:
    from fl_node.coordinator import ConsortiumConfig, SiloEntry
    from fl_node.flower import Assignment
    from fl_node.strategy_phase import Responder, StrategyPhaseResult
    from settlement import AcceptedTerms, SettlementClient

__all__ = ["TradeFL"]


class TradeFL:
    """The first mechanism (the paper's TradeFL); strategies are :class:`fl_node.agent.Strategy`."""

    name = "tradefl"

    def open_round(
        self,
        client: SettlementClient,
        config: ConsortiumConfig,
        *,
        coordinator: str | None,
        windows: tuple[int, int],
    ) -> int:
        from fl_node.chain_steps import open_round

        return open_round(
            client,
            config.terms,
            [s.s for s in config.silos],
            [s.F_max for s in config.silos],
            [s.account for s in config.silos],
            units=config.units,
            coordinator=coordinator,
            windows=windows,
            token=config.token,
        )

    def accepted_terms(self, config: ConsortiumConfig, *, coordinator: str | None) -> AcceptedTerms:
        from fl_node.chain_steps import accepted_terms

        return accepted_terms(
            config.terms,
            [s.s for s in config.silos],
            [s.F_max for s in config.silos],
            [s.account for s in config.silos],
            units=config.units,
            coordinator=coordinator,
            token=config.token,
        )

    def terms_document(self, config: ConsortiumConfig) -> dict[str, Any]:
        from fl_node.daemon import terms_to_json, units_to_json

        return {"terms": terms_to_json(config.terms), "units": units_to_json(config.units)}

    def initial_strategies(
        self, config: ConsortiumConfig, silos: Sequence[SiloEntry]
    ) -> list[Strategy]:
        # everyone at D_min and its fastest level
        d_min = config.terms.D_min
        return [Strategy(s.name, d_min, s.F_max, d_min * s.s) for s in silos]

    def run_strategy_phase(
        self, responders: Sequence[Responder], initial: Sequence[Strategy], *, max_sweeps: int
    ) -> StrategyPhaseResult:
        from fl_node.strategy_phase import run_strategy_phase

        return run_strategy_phase(responders, initial, max_sweeps=max_sweeps)

    def silo_agent(self, private: Any, terms_document: Mapping[str, Any]) -> SiloAgent:
        from fl_node.daemon import restrict_terms, terms_from_json

        terms = terms_from_json(terms_document["terms"])
        active = terms_document.get("active", list(terms.names))
        return SiloAgent(private, restrict_terms(terms, active))

    def strategy_to_json(self, strategy: Strategy) -> dict[str, Any]:
        from fl_node.daemon import strategy_to_json

        return strategy_to_json(strategy)

    def strategy_from_json(self, document: Mapping[str, Any]) -> Strategy:
        from fl_node.daemon import strategy_from_json

        return strategy_from_json(document)

    def training_plan(
        self, strategies: Mapping[str, Strategy], config: ConsortiumConfig | None = None
    ) -> dict[str, Assignment]:
        from fl_node.flower import Assignment

        return {name: Assignment(d=s.d, f=s.f, x=s.x) for name, s in strategies.items()}

    def onchain_report(
        self, client: SettlementClient, round_id: int, silo: SiloEntry, strategy: Strategy
    ) -> tuple[int, int]:
        from fl_node.chain_steps import to_report

        return to_report(strategy, silo.s, client, round_id, silo.index)

    def assignment_fields(self, strategy: Strategy) -> dict[str, float]:
        return {"d": strategy.d, "f": strategy.f, "x": strategy.x}

    def strategy_fields(self, strategy: Strategy | None) -> dict[str, Any]:
        if strategy is None:
            return {"d": None, "f": None, "x": None}
        return self.assignment_fields(strategy)

    def demo_consortium(
        self,
        names: Sequence[str],
        sizes: Sequence[int],
        *,
        seed: int,
        epochs: int,
        silos: Sequence[Any] = (),
        progress: Any = None,
    ) -> EmbeddedConsortium:
        from fl_node.chain_steps import ChainUnits
        from fl_node.consortium import make_demo_consortium

        # The per-round deadline scales with the local epochs (eta), 0.3 s per epoch.
        drawn = make_demo_consortium(names, sizes, seed=seed, epochs=epochs, tau=0.3 * epochs)
        return EmbeddedConsortium(
            terms=drawn.terms,
            units=ChainUnits(),
            private=drawn.orgs,
            registry=tuple(
                {"F_max": o.F[-1], "p": p} for o, p in zip(drawn.orgs, drawn.terms.p, strict=True)
            ),
            full_information=drawn.game(),
        )

    def report_rows(
        self,
        consortium: EmbeddedConsortium,
        strategies: Sequence[Strategy],
        chain_rows: Sequence[Any],
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        import numpy as np

        from solver import evaluate

        check = evaluate(
            consortium.full_information,
            np.array([s.d for s in strategies]),
            np.array([s.f for s in strategies]),
        )
        lam = consortium.terms.lam
        rows = [
            {
                "d": s.d,
                "f": s.f,
                "x": s.x,
                "c": s.x + lam * s.f,
                "x_onchain": prof.x,
                "f_onchain": prof.f,
                "payoff": float(check.payoffs[i]),
                "R_game": float(check.redistribution[i]),
                "individually_rational": bool(check.individually_rational[i]),
            }
            for i, (s, prof) in enumerate(zip(strategies, chain_rows, strict=True))
        ]
        summary = {
            "is_nash": bool(check.is_nash),
            "potential": float(check.potential),
            "social_welfare": float(check.social_welfare),
        }
        return rows, summary
