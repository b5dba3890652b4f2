"""Personalized FL through the model-sharing market (``mechanisms.md`` sections 3 and 3.1).

Round 0 is local training from theta0 (the models need a direction before distances mean
anything). In every later round the coordinator takes the silos' uploaded models, computes the
distances d_ij from theta0 (fixed), solves the market (:func:`solver.market.solve_round`) on the
accepted sizes, records the payments in a :class:`solver.market.MarketLedger`, and sends each
importer its prox center u_i (:func:`prox_center`); the importer then minimizes
``L_i(theta) + lambda_prox/(2 eta) ||theta - u_i||^2`` starting from u_i. A silo that imports
nothing trains locally from its own model.

Free-rider rule: the coordinator remembers the model it sent each silo (theta0 in round 0, the
prox center or, without imports, the silo's own last upload) and passes it to
:func:`distance_matrix`: a silo whose upload did not move from it gets distance 2 to everyone
(``MarketParams.stall_tol``; ``None`` turns the rule off, for before/after measurements only).

:func:`market_round` is the coordinator's step (runtime-agnostic: models in, graph, payments and
prox centers out); :func:`fl_node.market.run_market_rounds` drives it over a transport (the
silos train in-process or on Flower) and :func:`fl_node.market.run_market` in-process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fl_node.market._baselines import MethodResult
from fl_node.market._distance import STALL_TOL, distance_matrix, prox_center
from solver.market import (
    Market,
    MarketLedger,
    MarketRound,
    adjacency,
    gain,
    import_weights,
    solve_round,
)

__all__ = ["MarketParams", "MarketRun", "MarketStep", "market_round"]

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class MarketParams:
    """Economic and training parameters of the market.

    Attributes
    ----------
    lambda_pay : float
        Weight of the model distance in thresholds and payments.
    lambda_prox, eta : float
        Prox weight and step: the prox term is ``lambda_prox/(2 eta) ||theta - u_i||^2`` and
        the prox center takes a step ``eta`` along the weighted distance gradient.
    k_scale : float
        K_i = k_scale N_i u_i with u_i ~ U[0.5, 2] (sqrt(K_i/N_i) about sqrt(k_scale)).
    cost : tuple of float
        c_i ~ U[cost[0], cost[1]].
    stall_tol : float or None
        Free-rider rule: an upload whose RMS change per parameter from what the silo was sent is
        at most this gets distance 2 to everyone (:func:`fl_node.market.stalled`); None: no rule.
    """

    lambda_pay: float = 2.0
    lambda_prox: float = 0.05
    eta: float = 1.0
    k_scale: float = 100.0
    cost: tuple[float, float] = (0.01, 0.1)
    stall_tol: float | None = STALL_TOL

    def __post_init__(self) -> None:
        for name in ("lambda_pay", "lambda_prox", "eta", "k_scale"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)}")
        if self.eta == 0:
            raise ValueError("eta must be > 0 (it divides the prox weight)")
        if not 0 <= self.cost[0] <= self.cost[1]:
            raise ValueError(f"cost must be a range 0 <= lo <= hi; got {self.cost}")
        if self.stall_tol is not None and not self.stall_tol >= 0:
            raise ValueError(f"stall_tol must be >= 0 or None (no rule); got {self.stall_tol}")

    def draw(self, names: Sequence[str], sizes: ArrayLike, seed: int) -> Market:
        """The true market of silos with data sizes ``sizes`` (c_i, K_i drawn from ``seed``)."""
        N = np.asarray(sizes, dtype=float)
        rng = np.random.default_rng([seed, 3])
        K = self.k_scale * N * rng.uniform(0.5, 2.0, size=N.shape[0])
        c = rng.uniform(self.cost[0], self.cost[1], size=N.shape[0])
        return Market(list(names), N=N, c=c, K=K, lambda_pay=self.lambda_pay)


@dataclass(frozen=True)
class MarketStep:
    """One coordinator step: the solved round and every silo's prox center (None: no import)."""

    result: MarketRound
    centers: tuple[Vector | None, ...]


def market_round(
    market: Market,
    thetas: Sequence[Vector],
    theta0: Vector,
    eta: float,
    *,
    sent: Sequence[Vector] | None = None,
    stall_tol: float | None = STALL_TOL,
) -> MarketStep:
    """The coordinator's round: distances, graph, payments, prox centers.

    ``market`` holds the accepted reports (its N are the sizes the weights w_ij = N_j/N_i use).
    ``sent`` is what the coordinator sent each silo before it trained the uploaded ``thetas``;
    with it the free-rider rule of :func:`distance_matrix` applies (``sent`` or ``stall_tol``
    None: no rule).
    """
    if sent is None or stall_tol is None:
        d = distance_matrix(thetas, theta0)
    else:
        d = distance_matrix(thetas, theta0, sent=sent, stall_tol=stall_tol)
    result = solve_round(market, d)
    w = import_weights(market, result.graph)
    centers = tuple(
        prox_center(i, thetas, theta0, w[i], eta) if row else None
        for i, row in enumerate(result.graph)
    )
    return MarketStep(result, centers)


@dataclass
class MarketRun:
    """A market run: accuracies (as :class:`MethodResult`; its ``thetas`` are the silos' last
    uploads, what the coordinator holds), the ledger over rounds (on the accepted reports),
    each priced round's outcome and the wall time of every round (round 0 included)."""

    accuracy: MethodResult
    ledger: MarketLedger
    true_market: Market
    rounds: list[MarketRound] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (no models): per-round accuracies, distances, graphs, payments.

        The distances are exact (JSON floats round-trip): :meth:`from_dict` re-solves them.
        """
        return {
            "accuracy": self.accuracy.history,
            "distance": [r.distance.tolist() for r in self.rounds],
            "graphs": [[[int(j) for j in row] for row in r.graph] for r in self.rounds],
            "net_payment": [r.net_payment.tolist() for r in self.rounds],
            "round_seconds": self.round_seconds,
        }

    @classmethod
    def from_dict(
        cls, doc: Mapping[str, Any], market: Market, true_market: Market | None = None
    ) -> MarketRun:
        """The run recorded by :meth:`to_dict`, every round re-solved from its distances on
        ``market`` (the accepted reports); a graph that differs from the recorded one raises."""
        ledger = MarketLedger(market)
        rounds = []
        for k, (d, graph) in enumerate(zip(doc["distance"], doc["graphs"], strict=True), 1):
            r = ledger.add(solve_round(market, d))
            if [[int(j) for j in row] for row in r.graph] != [list(row) for row in graph]:
                raise ValueError(
                    f"market round {k}: the recorded graph {graph} is not the market's graph "
                    f"{[list(row) for row in r.graph]} of the recorded distances"
                )
            rounds.append(r)
        accuracy = MethodResult("market", [list(map(float, h)) for h in doc["accuracy"]], [])
        return cls(
            accuracy,
            ledger,
            true_market or market,
            rounds,
            [float(s) for s in doc.get("round_seconds", [])],
        )

    def true_utility(self) -> NDArray[np.float64]:
        """Every silo's utility summed over rounds, with its true N and c: gain of its true pool
        minus its net payment minus its true cost times its number of importers."""
        u = np.zeros(self.true_market.n)
        for r in self.rounds:
            a = adjacency(r.graph, self.true_market.n)
            g = gain(self.true_market, a @ self.true_market.N)
            u += g - r.net_payment - self.true_market.c * a.sum(axis=0)
        return u
