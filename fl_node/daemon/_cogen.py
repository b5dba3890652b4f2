"""A silo daemon's side of a cogen (mechanism 2) round: check the terms, train its generator.

The coordinator pushes :class:`fl_node.mechanisms.cogen.CogenTerms` with ``mechanism =
"cogen"``. Before accepting them the silo checks every on-chain field of the round against them
(:func:`cogen_pushed_terms` + :func:`settlement.check_round`), that its registered D_i is its
sample count and delta_i its own label heterogeneity against qbar; then it trains its own
generator of the consortium's kind on its data, in this process
(:func:`fl_node.mechanisms.cogen.train_silo_generator`, the same one the process that trains
the silo trains; it is also :func:`~fl_node.mechanisms.cogen.prepare_silo` d here),
and measures its private cost per sample c_i on it (CPU seconds times its
``[cogen].price_per_cpu_second``). Its agent answers with its exact best response to the
aggregate (:class:`fl_node.mechanisms.cogen.CogenAgent`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fl_node.mechanisms.cogen import train_silo_generator

if TYPE_CHECKING:
    from fl_node.chain_steps import ChainUnits
    from fl_node.cogen import ClassConditionalGenerator
    from fl_node.daemon._config import CogenSettings
    from fl_node.flower import LocalSilo
    from fl_node.mechanisms.cogen import CogenAgent, CogenTerms
    from settlement import AcceptedTerms, SettlementClient

__all__ = ["CogenSilo", "cogen_pushed_terms", "cogen_terms_from"]

#: |delta registered - delta measured| the silo accepts (float noise of the same formula)
_DELTA_TOL = 1e-9


def cogen_pushed_terms(
    client: SettlementClient, round_id: int, terms: CogenTerms, units: ChainUnits
) -> AcceptedTerms:
    """The round ``terms`` describe, with the round's own accounts and coordinator.

    The slots' numbers (``xMax``, ``fMax``, ``base``) come from the terms, so
    :func:`settlement.check_round` compares every slot's registered D_i and x_i^max too.
    """
    from fl_node.mechanisms.cogen import cogen_accepted_terms

    cfg = client.round_config(round_id)
    accounts = [p.account for p in client.profiles(round_id)]
    return cogen_accepted_terms(
        terms, units, accounts, coordinator=cfg.coordinator, token=cfg.token
    )


class CogenSilo:
    """One silo's data and pricing for cogen rounds (the daemon keeps one).

    Parameters
    ----------
    silo : LocalSilo
        The silo's own data.
    settings : CogenSettings or None
        Its ``[cogen]`` table (None: the silo refuses cogen rounds).
    seed : int
        The generator seed (``[data].seed``; the training process uses the consortium's
        ``[fl].seed``, the same for bundled partitions).
    """

    def __init__(self, silo: LocalSilo, settings: CogenSettings | None, seed: int = 0) -> None:
        self.silo = silo
        self.settings = settings
        self.seed = seed
        self._generators: dict[str, ClassConditionalGenerator] = {}
        self._costs: dict[tuple[str, float], dict[str, Any]] = {}

    def generator(self, kind: str) -> ClassConditionalGenerator:
        """This silo's own ``kind`` generator, trained on its data once (cached)."""
        known = self._generators.get(kind)
        if known is None:
            known = train_silo_generator(self.silo, kind, seed=self.seed)
            self._generators[kind] = known
        return known

    def warm(self, kind: str = "gmm") -> None:
        """Train the ``kind`` generator now (the daemon's start-up), not in a terms request."""
        self.generator(kind)

    def check(self, terms: CogenTerms, index: int) -> None:
        """Refuse terms that misstate this silo's D_i or delta_i, or its classes.

        Raises
        ------
        ValueError
            Naming the field and the fix.
        """
        import numpy as np

        from solver.cogen import heterogeneity

        if self.settings is None:
            raise ValueError(
                "this silo's node.toml has no [cogen] table (price_per_cpu_second): add it to "
                "join cogen rounds"
            )
        classes = self.silo.meta.n_classes
        if len(terms.qbar) != classes:
            raise ValueError(
                f"terms.qbar has {len(terms.qbar)} entries but this silo's data has {classes} "
                "classes; fix the consortium's [terms].qbar"
            )
        if terms.D[index] != float(len(self.silo.data)):
            raise ValueError(
                f"terms.D[{index}] = {terms.D[index]:g} but this silo holds "
                f"{len(self.silo.data)} samples; fix the consortium's [[silos]] s"
            )
        hist = np.bincount(self.silo.data.y, minlength=classes)
        own = float(heterogeneity(hist, np.asarray(terms.qbar)))
        if abs(own - terms.delta[index]) > _DELTA_TOL:
            raise ValueError(
                f"terms.delta[{index}] = {terms.delta[index]!r} but this silo's label "
                f"heterogeneity against qbar is {own!r}; fix the consortium's [[silos]] delta"
            )

    def price(self, terms: CogenTerms, index: int) -> dict[str, Any]:
        """Train this silo's generator of the terms' kind and measure its cost (cached).

        Returns the :class:`fl_node.cogen.GenerationCost` as a dict (``c`` is the cost per
        synthetic sample, private to the silo).
        """
        from fl_node.cogen import measure_cost
        from fl_node.mechanisms.cogen import prepare_silo

        assert self.settings is not None  # check() first
        generator = self.generator(terms.generator)
        prepare_silo(self.silo, generator, terms.qbar)
        key = (terms.generator, terms.x_max[index])
        known = self._costs.get(key)
        if known is not None:
            return known
        cost = measure_cost(
            generator,
            x_max=max(1, round(terms.x_max[index])),
            price_per_cpu_second=self.settings.price_per_cpu_second,
            seed=self.seed,
        )
        doc = dict(cost.to_dict())
        self._costs[key] = doc
        return doc

    def agent(self, terms: CogenTerms, index: int, c: float, active: Sequence[str]) -> CogenAgent:
        """The silo's agent among ``active``, with its measured cost ``c``."""
        from fl_node.mechanisms.cogen import CogenAgent
        from solver.cogen import CogenOrg

        own = CogenOrg(
            name=terms.names[index],
            D=terms.D[index],
            delta=terms.delta[index],
            theta=terms.theta[index],
            c=c,
            x_max=terms.x_max[index],
        )
        return CogenAgent(own, terms, list(active))


def cogen_terms_from(document: Mapping[str, Any]) -> CogenTerms:
    """The :class:`CogenTerms` of a pushed (or stored) terms document's ``cogen`` key."""
    from fl_node.mechanisms.cogen import CogenTerms

    doc = document.get("cogen")
    if not isinstance(doc, Mapping):
        raise ValueError("a cogen terms document needs a cogen object (CogenTerms.to_json)")
    return CogenTerms.from_json(doc)
