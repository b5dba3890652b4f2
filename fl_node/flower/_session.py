"""A whole coordinator session: identify silos, strategy phase hook, FL rounds, settlement hook."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fl_node.data import ArrayDataset
from fl_node.flower._protocol import QUERY_IDENTITY, ConfigValue, Request
from fl_node.flower._rounds import (
    Assignment,
    ContributionFn,
    Evaluator,
    FLHistory,
    RoundRecord,
    TrainConfig,
    run_fl_rounds,
)
from fl_node.flower._transports.base import Transport

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "AfterTraining",
    "BeforeTraining",
    "SessionResult",
    "SiloIdentity",
    "centralized_evaluator",
    "equal_effort_assignments",
    "query_identities",
    "run_session",
]


@dataclass(frozen=True)
class SiloIdentity:
    """What a silo reported about itself in the identity query."""

    node_id: int
    name: str
    partition_id: int
    num_examples: int
    info: dict[str, ConfigValue] = field(default_factory=dict)


BeforeTraining = Callable[
    [Mapping[int, SiloIdentity], Transport], Mapping[int, Assignment | Sequence[float]]
]
"""``before_training(nodes, transport) -> {node_id: Assignment or (d, f, x)}``.

The strategy phase (and the chain's open/deposit steps) run here. ``nodes`` are the silos that
answered the identity query; nodes left out of the result do not train. ``transport`` may be used
to send ``query.agent`` messages (best-response queries) to the silos."""

AfterTraining = Callable[[FLHistory, Mapping[int, str]], None]
"""``after_training(history, dropped_nodes)`` with ``dropped_nodes`` = node id -> reason.

Reports and settlement run here; ``history.completed`` lists the silos that reported every round."""


def query_identities(
    transport: Transport, *, timeout: float | None = 60.0
) -> tuple[dict[int, SiloIdentity], dict[int, str]]:
    """Ask every connected node who it is; return identities and the nodes that failed."""
    nodes = transport.node_ids()
    delivery = transport.send(
        QUERY_IDENTITY, {n: Request() for n in nodes}, timeout=timeout, group="identity"
    )
    identities: dict[int, SiloIdentity] = {}
    failed = dict(delivery.failed)
    for n, reply in delivery.replies.items():
        try:
            identities[n] = SiloIdentity(
                node_id=n,
                name=str(reply.info["silo-name"]),
                partition_id=int(reply.info["partition-id"]),
                num_examples=int(reply.info["num-examples"]),
                info=dict(reply.info),
            )
        except (KeyError, TypeError, ValueError) as exc:
            failed[n] = f"malformed identity reply: {exc!r}"
    return identities, failed


def equal_effort_assignments(
    nodes: Mapping[int, SiloIdentity], transport: Transport | None = None
) -> dict[int, Assignment]:
    """Default strategy: every silo contributes all its data, unpaced (``x_i = s_i``).

    This is plain FedAvg weighting; it is the baseline used when no strategy phase is given.
    """
    return {n: Assignment(d=1.0, f=0.0, x=float(s.num_examples)) for n, s in nodes.items()}


def centralized_evaluator(model: nn.Module, test: ArrayDataset) -> Evaluator:
    """An :data:`Evaluator` computing ``(accuracy, loss)`` of parameters on ``test``."""

    from fl_node.training import evaluate

    def _evaluate(parameters: list[NDArray[Any]]) -> tuple[float, float]:
        ev = evaluate(model, test, parameters)
        return ev.accuracy, ev.loss

    return _evaluate


@dataclass
class SessionResult:
    """Identities, assignments, the FL history and every node that dropped (with reasons)."""

    identities: dict[int, SiloIdentity]
    history: FLHistory
    dropped: dict[int, str]
    identity_seconds: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (node ids become strings; no model arrays)."""
        return {
            "identities": {str(n): asdict(s) for n, s in self.identities.items()},
            "history": self.history.to_dict(),
            "dropped": {str(n): why for n, why in self.dropped.items()},
            "identity_seconds": self.identity_seconds,
            "seconds": self.seconds,
        }


def run_session(
    transport: Transport,
    num_rounds: int,
    *,
    initial_parameters: list[NDArray[Any]],
    evaluate_fn: Evaluator | None = None,
    train_config: TrainConfig | None = None,
    round_timeout: float | None = 60.0,
    query_timeout: float | None = 60.0,
    before_training: BeforeTraining | None = None,
    after_training: AfterTraining | None = None,
    federated_evaluation: bool = False,
    on_round_start: Callable[[int, list[int]], None] | None = None,
    on_round_end: Callable[[RoundRecord], None] | None = None,
    contribution_fn: ContributionFn | None = None,
) -> SessionResult:
    """Identify the silos, call ``before_training``, run the FL rounds, call ``after_training``.

    Parameters
    ----------
    transport : Transport
    num_rounds : int
    initial_parameters : list of ndarray
    evaluate_fn, train_config, round_timeout, federated_evaluation, on_round_start, on_round_end
    contribution_fn
        As in :func:`run_fl_rounds`.
    query_timeout : float or None
        Deadline of the identity query.
    before_training : callable, optional
        See :data:`BeforeTraining`; default :func:`equal_effort_assignments`.
    after_training : callable, optional
        See :data:`AfterTraining`; default does nothing.

    Returns
    -------
    SessionResult
    """
    start = time.perf_counter()
    identities, failed = query_identities(transport, timeout=query_timeout)
    identity_seconds = time.perf_counter() - start
    if not identities:
        raise RuntimeError(
            f"no silo answered the identity query (failures: {failed}); "
            "check that the SuperNodes are connected and their node config is valid"
        )
    plan = (before_training or equal_effort_assignments)(identities, transport)
    unknown = sorted(set(plan) - set(identities))
    if unknown:
        raise ValueError(
            f"before_training assigned unknown node(s) {unknown}; assign only the nodes it "
            f"was given ({sorted(identities)})"
        )
    history = run_fl_rounds(
        transport,
        plan,
        num_rounds,
        initial_parameters=[np.asarray(a) for a in initial_parameters],
        evaluate_fn=evaluate_fn,
        train_config=train_config,
        round_timeout=round_timeout,
        federated_evaluation=federated_evaluation,
        on_round_start=on_round_start,
        on_round_end=on_round_end,
        contribution_fn=contribution_fn,
    )
    dropped = {**{n: f"identity: {why}" for n, why in failed.items()}, **history.dropped}
    if after_training is not None:
        after_training(history, dict(history.dropped))
    return SessionResult(
        identities=identities,
        history=history,
        dropped=dropped,
        identity_seconds=identity_seconds,
        seconds=time.perf_counter() - start,
    )
