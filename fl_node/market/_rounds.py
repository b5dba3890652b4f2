"""The market's FL round loop over a :class:`~fl_node.flower.Transport` (either runtime).

:func:`run_market_rounds` is the one loop: :func:`fl_node.market.run_market` runs it over the
in-process transport, the Flower ServerApp over the Grid (:mod:`fl_node.flower._market_rounds`).
Round 0 sends every silo theta0 to train locally; every later round takes the silos' uploads,
runs the coordinator's step :func:`fl_node.market.market_round` (distances vs theta0, the
free-rider rule against what each silo was sent, the graph, payments, prox centers), adds it to
the ledger, and sends each silo one stateless train message (:mod:`fl_node.market._client`):
its prox center and the prox weight if it imports, else its own last upload. A market round
prices every slot, so a silo that does not answer in time, errs or sends a malformed model
stops the run with :class:`MarketRoundError` naming it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fl_node.flower._protocol import TRAIN, Reply, Request
from fl_node.flower._transports.base import Transport
from fl_node.market._baselines import MethodResult, Setup
from fl_node.market._client import architecture, market_local_silo
from fl_node.market._market import MarketParams, MarketRun, market_round
from fl_node.market._plan import MarketTraining
from solver.market import Market, MarketLedger

__all__ = ["MarketRoundError", "MarketRoundRecord", "run_market", "run_market_rounds"]

Vector = NDArray[np.float64]


class MarketRoundError(RuntimeError):
    """A market round lost a silo (no reply, an error, a malformed model): every slot is priced,
    so the run cannot go on without it."""


@dataclass(frozen=True)
class MarketRoundRecord:
    """One market round as it happened: the slots' accuracies and the phase's wall time."""

    round: int
    accuracy: list[float]
    imports: int
    train_seconds: float
    seconds: float


def _upload(reply: Reply, theta0: Vector) -> Vector | str:
    arrays = reply.arrays
    if arrays is None or len(arrays) != 1:
        return "the reply must carry exactly one flat model vector"
    theta = np.asarray(arrays[0], dtype=np.float64)
    if theta.shape != theta0.shape:
        return f"the model vector has shape {theta.shape}, theta0 {theta0.shape}"
    if not np.all(np.isfinite(theta)):
        return "the model vector has non-finite values"
    return theta


def run_market_rounds(
    transport: Transport,
    nodes: Sequence[int],
    market: Market,
    theta0: Vector,
    rounds: int,
    *,
    params: MarketParams,
    training: MarketTraining,
    true_market: Market | None = None,
    round_timeout: float | None = 60.0,
    on_round_end: Callable[[MarketRoundRecord], None] | None = None,
) -> MarketRun:
    """Run ``rounds`` market rounds (round 0 local) with the silos at ``nodes`` (slot order).

    Parameters
    ----------
    transport : Transport
    nodes : sequence of int
        The node id of every market slot, in ``market``'s org order.
    market : Market
        The accepted reports the coordinator solves every round.
    theta0 : ndarray
        The fixed initial model (flat float64 vector) the distances are measured from.
    rounds : int
        Rounds in all, the local round 0 included.
    params : MarketParams
        lambda_prox, eta and the free-rider rule.
    training : MarketTraining
        Local solver, seed and architecture sent with every message.
    true_market : Market, optional
        The silos' true reports (:meth:`MarketRun.true_utility`); default ``market``.
    round_timeout : float or None
        Deadline of each train phase in seconds (None: wait for every silo).
    on_round_end : callable, optional
        Receives each round's :class:`MarketRoundRecord`.

    Raises
    ------
    MarketRoundError
        If a silo drops out of a round.
    """
    if len(nodes) != market.n:
        raise ValueError(f"{len(nodes)} nodes for a market of {market.n} orgs; give one each")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1; got {rounds}")
    theta0 = np.asarray(theta0, dtype=np.float64)
    mu = params.lambda_prox / params.eta
    ledger = MarketLedger(market)
    run = MarketRun(MethodResult("market", [], []), ledger, true_market or market)
    thetas = sent = [theta0] * market.n
    for r in range(rounds):
        t0 = time.perf_counter()
        centers: Sequence[Vector | None] = (None,) * market.n
        if r > 0:
            # the free-rider rule compares each upload with what that silo was sent
            step = market_round(
                market, thetas, theta0, params.eta, sent=sent, stall_tol=params.stall_tol
            )
            run.rounds.append(ledger.add(step.result))
            centers = step.centers
        sent = [thetas[i] if c is None else c for i, c in enumerate(centers)]
        requests = {
            node: Request(training.message_config(r, i, 0.0 if c is None else mu), [sent[i]])
            for i, (node, c) in enumerate(zip(nodes, centers, strict=True))
        }
        delivery = transport.send(TRAIN, requests, timeout=round_timeout, group=f"market-{r}")
        problems = dict(delivery.failed)
        new: list[Vector] = []
        for node in nodes:
            reply = delivery.replies.get(node)
            got = "no reply" if reply is None else _upload(reply, theta0)
            if isinstance(got, str):
                problems.setdefault(node, got)
            else:
                new.append(got)
        if problems:
            lost = {market.names[nodes.index(n)]: why for n, why in sorted(problems.items())}
            raise MarketRoundError(
                f"market round {r}: silo(s) {lost} did not return a model; every slot of a "
                "market round trains and is priced, so the run stops (rerun with every silo, "
                "or raise the round timeout)"
            )
        thetas = new
        accuracy = [float(delivery.replies[n].metrics.get("accuracy", float("nan"))) for n in nodes]
        run.accuracy.history.append(accuracy)
        record = MarketRoundRecord(
            round=r,
            accuracy=accuracy,
            imports=sum(len(row) for row in run.rounds[-1].graph) if r > 0 else 0,
            train_seconds=delivery.seconds,
            seconds=time.perf_counter() - t0,
        )
        run.round_seconds.append(record.seconds)
        if on_round_end is not None:
            on_round_end(record)
    run.accuracy.thetas = thetas
    return run


def run_market(
    setup: Setup,
    true_market: Market,
    params: MarketParams,
    *,
    accepted: Market | None = None,
) -> MarketRun:
    """Run the market with real training for ``setup.rounds`` rounds (round 0 local), in-process.

    :func:`run_market_rounds` over an :class:`~fl_node.flower.InProcessTransport` whose silos
    hold ``setup``'s data and behaviours; the silos train one after another (node ids 1..m).

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
    from fl_node.flower._transports.inprocess import InProcessTransport

    market = accepted if accepted is not None else true_market
    if market.n != setup.m or true_market.n != setup.m:
        raise ValueError(f"the market has {market.n} orgs but the setup {setup.m} silos")
    kind, hidden, meta = architecture(setup.model)
    silos = {
        i + 1: market_local_silo(s, i, meta, b)
        for i, (s, b) in enumerate(zip(setup.silos, setup.behaviours, strict=True))
    }
    return run_market_rounds(
        InProcessTransport(silos, parallel=False),
        list(silos),
        market,
        setup.theta0,
        setup.rounds,
        params=params,
        training=MarketTraining(setup.hp, setup.seed, kind, hidden),
        true_market=true_market,
        round_timeout=None,
    )
