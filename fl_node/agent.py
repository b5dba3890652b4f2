"""The silo agent: a silo's private cost parameters and its own best response.

The TradeFL game is aggregative (spec 1.2 #4): org i's best response depends on its rivals only
through X_-i, the sum of their contributed data. An agent therefore needs its own private
parameters (eta_i, T1_i, T3_i, its compute levels), the public consortium parameters (p of every
org, rho, gamma, lambda, ...), and one number per query. Its private parameters never leave it;
only the strategy it picks crosses the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solver import Org, OrgView, PaperAccuracy, best_response

__all__ = ["ConsortiumTerms", "SiloAgent", "Strategy"]


@dataclass(frozen=True)
class Strategy:
    """One silo's strategy: data fraction ``d``, compute level ``f``; ``x = d * s`` its data."""

    name: str
    d: float
    f: float
    x: float


@dataclass(frozen=True)
class ConsortiumTerms:
    """What the coordinator broadcasts to every silo before the strategy phase.

    ``p`` (profitability) and ``rho`` are public per the mechanism; ``names`` fixes org order.
    """

    names: tuple[str, ...]
    p: tuple[float, ...]
    rho: tuple[tuple[float, ...], ...]
    tau: float
    gamma: float
    lam: float
    w_e: float
    kappa: float
    D_min: float
    A0: float
    G: float

    def weight(self, index: int) -> tuple[float, float]:
        """(z_i, rhobar_i) of org ``index``: z_i = p_i - sum_j rho_ij p_j, rhobar_i = sum_j rho_ij."""
        row = np.asarray(self.rho[index], dtype=float)
        p = np.asarray(self.p, dtype=float)
        return float(p[index] - row @ p), float(row.sum())


class SiloAgent:
    """A silo's decision maker. ``org`` holds the silo's own (partly private) parameters.

    Examples
    --------
    >>> agent = SiloAgent(org, terms)            # doctest: +SKIP
    >>> agent.respond(others_total=4200.0)        # doctest: +SKIP
    Strategy(name='silo-0', d=0.83, f=2.5e9, x=830.0)
    """

    def __init__(self, org: Org, terms: ConsortiumTerms) -> None:
        if org.name not in terms.names:
            raise ValueError(
                f"org {org.name!r} is not in the consortium's names {list(terms.names)}; "
                "use the name the coordinator registered"
            )
        self.org = org
        self.terms = terms
        self.index = terms.names.index(org.name)
        z, rhobar = terms.weight(self.index)
        self._view = OrgView(
            org=org,
            z=z,
            rhobar=rhobar,
            tau=terms.tau,
            gamma=terms.gamma,
            lam=terms.lam,
            w_e=terms.w_e,
            kappa=terms.kappa,
            D_min=terms.D_min,
            accuracy=PaperAccuracy(terms.A0, terms.G),
        )

    @property
    def name(self) -> str:
        return self.org.name

    def respond(self, others_total: float) -> Strategy:
        """Best response to the rivals' aggregate contributed data ``others_total``."""
        if not others_total >= 0.0:
            raise ValueError(f"others_total={others_total!r} must be a non-negative amount of data")
        br = best_response(self._view, float(others_total))
        return Strategy(self.name, br.d, br.f, br.x)
