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
prox centers out); :func:`run_market` drives it in-process with real training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fl_node.market._baselines import MethodResult, Setup, upload
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

__all__ = ["MarketParams", "MarketRun", "MarketStep", "market_round", "run_market"]

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
    """A market run: accuracies (as :class:`MethodResult`), the ledger over rounds (on the
    accepted reports), and each round's graph and net payments."""

    accuracy: MethodResult
    ledger: MarketLedger
    true_market: Market
    rounds: list[MarketRound] = field(default_factory=list)

    def true_utility(self) -> NDArray[np.float64]:
        """Every silo's utility summed over rounds, with its true N and c: gain of its true pool
        minus its net payment minus its true cost times its number of importers."""
        u = np.zeros(self.true_market.n)
        for r in self.rounds:
            a = adjacency(r.graph, self.true_market.n)
            g = gain(self.true_market, a @ self.true_market.N)
            u += g - r.net_payment - self.true_market.c * a.sum(axis=0)
        return u


def run_market(
    setup: Setup,
    true_market: Market,
    params: MarketParams,
    *,
    accepted: Market | None = None,
) -> MarketRun:
    """Run the market with real training for ``setup.rounds`` rounds (round 0 local).

    Parameters
    ----------
    setup
        Silos, model, theta0, rounds, local solver and per-silo behaviours.
    true_market
        The silos' true N, c, K (for the true utilities).
    params
        lambda_prox and eta (lambda_pay is the markets').
    accepted
        The market the coordinator solves (reported, or reported and bound, sizes and costs);
        default ``true_market``.
    """
    market = accepted if accepted is not None else true_market
    if market.n != setup.m or true_market.n != setup.m:
        raise ValueError(f"the market has {market.n} orgs but the setup {setup.m} silos")
    mu = params.lambda_prox / params.eta
    ledger = MarketLedger(market)
    thetas = [setup.theta0.copy() for _ in range(setup.m)]
    personal = list(thetas)
    sent = list(thetas)
    hist: list[list[float]] = []
    rounds: list[MarketRound] = []
    for r in range(setup.rounds):
        if r == 0:
            centers: tuple[Vector | None, ...] = (None,) * setup.m
        else:
            step = market_round(
                market,
                thetas,
                setup.theta0,
                params.eta,
                sent=sent,
                stall_tol=params.stall_tol,
            )
            rounds.append(ledger.add(step.result))
            centers = step.centers
        new = []
        for i in range(setup.m):
            c = centers[i]
            received = thetas[i] if c is None else c
            sent[i] = received
            trained = setup.train(i, r, received, c, mu if c is not None else 0.0)
            personal[i] = trained
            new.append(upload(setup.behaviours[i], trained, received))
        thetas = new
        hist.append(setup.accuracies(personal))
    return MarketRun(MethodResult("market", hist, personal), ledger, true_market, rounds)
