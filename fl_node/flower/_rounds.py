"""The coordinator's FL round loop: per-node training configs, deadline, x-weighted FedAvg.

Plain and runtime-independent: it talks to silos only through a
:class:`~fl_node.flower.Transport`, so the Flower ServerApp and the embedded runtime run the
very same loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fl_node.aggregation import contribution_weighted_average
from fl_node.flower._protocol import EVALUATE, TRAIN, ConfigValue, Reply, Request
from fl_node.flower._transports.base import Transport

__all__ = [
    "Assignment",
    "Evaluator",
    "FLHistory",
    "RoundRecord",
    "TrainConfig",
    "run_fl_rounds",
]

Params = list[NDArray[Any]]
Evaluator = Callable[[Params], tuple[float, float]]
#: ``(updates by node, weights by node, round start) -> score by node`` (see run_fl_rounds)
ContributionFn = Callable[[dict[int, Params], dict[int, float], Params], Mapping[int, float]]
"""``evaluate(parameters) -> (accuracy, loss)`` on the coordinator's held-out test set."""


#: the train message config keys every mechanism's assignment shares
_COMMON_KEYS = ("round", "d", "f", "epochs", "lr", "batch-size", "seed", "model-kind")


@dataclass(frozen=True)
class Assignment:
    """What one silo does in training: data fraction ``d``, compute level ``f``, weight ``x``.

    ``f`` is a sample-processing rate in samples/s (see :mod:`fl_node.compute`), 0 for unpaced;
    ``x = d * s`` is the silo's aggregation weight, fixed by the strategy phase (TradeFL; other
    mechanisms fix other weights, e.g. cogen's ``D_i + x_i``). ``extra`` holds a mechanism's own
    keys of the train message config (cogen: ``synthetic`` samples to add to the real data, see
    :func:`fl_node.flower.handle_train`); they may not replace the common keys.
    """

    d: float
    f: float
    x: float
    extra: Mapping[str, ConfigValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 < self.d <= 1.0:
            raise ValueError(f"assignment d={self.d} must be in (0, 1] (the data fraction d_i)")
        if not self.f >= 0.0:
            raise ValueError(f"assignment f={self.f} must be >= 0 samples/s (0: unpaced)")
        if not (self.x > 0.0 and np.isfinite(self.x)):
            raise ValueError(f"assignment x={self.x} must be a positive weight (x_i = d_i s_i)")
        clash = sorted(set(self.extra) & set(_COMMON_KEYS))
        if clash:
            raise ValueError(f"assignment extra keys {clash} would replace common train keys")

    @classmethod
    def coerce(cls, value: Assignment | Sequence[float]) -> Assignment:
        """Accept an :class:`Assignment` or a ``(d, f, x)`` tuple."""
        if isinstance(value, Assignment):
            return value
        if len(value) != 3:
            raise ValueError(f"an assignment is (d, f, x); got {value!r}")
        d, f, x = value
        return cls(float(d), float(f), float(x))


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters sent with every train message (the same for all silos)."""

    epochs: int = 1
    lr: float = 0.05
    batch_size: int = 32
    seed: int = 0
    model_kind: str = "auto"

    def message_config(self, round_index: int, assignment: Assignment) -> dict[str, ConfigValue]:
        """The config of one node's train message in round ``round_index``."""
        return {
            "round": round_index,
            "d": assignment.d,
            "f": assignment.f,
            "epochs": self.epochs,
            "lr": self.lr,
            "batch-size": self.batch_size,
            "seed": self.seed,
            "model-kind": self.model_kind,
            **assignment.extra,
        }


@dataclass
class RoundRecord:
    """One FL round as it happened.

    ``asked`` got a train message; ``reporters`` answered in time and were aggregated with the
    normalized ``weights``; ``dropped`` maps the others to the reason. ``accuracy``/``loss`` are the
    coordinator's evaluation of the new global model (``None`` without an evaluator).
    """

    round: int
    asked: list[int]
    reporters: list[int]
    dropped: dict[int, str]
    weights: dict[int, float]
    accuracy: float | None
    loss: float | None
    train_metrics: dict[int, dict[str, float]]
    federated_metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (node ids become strings)."""
        out = asdict(self)
        for key in ("dropped", "weights", "train_metrics", "federated_metrics"):
            out[key] = {str(k): v for k, v in out[key].items()}
        return out


@dataclass
class FLHistory:
    """Everything the round loop produced: per-round records and the final global model."""

    assignments: dict[int, Assignment]
    rounds: list[RoundRecord] = field(default_factory=list)
    parameters: Params = field(default_factory=list)
    dropped: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0
    #: each reporter's measured contribution in the last round (``contribution_fn``), if scored
    contributions: dict[int, float] = field(default_factory=dict)

    @property
    def accuracy(self) -> list[float | None]:
        """Coordinator test accuracy after each round."""
        return [r.accuracy for r in self.rounds]

    @property
    def loss(self) -> list[float | None]:
        """Coordinator test loss after each round."""
        return [r.loss for r in self.rounds]

    @property
    def completed(self) -> list[int]:
        """Nodes that were assigned and never dropped: the ones to settle with."""
        return sorted(n for n in self.assignments if n not in self.dropped)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the model arrays)."""
        return {
            "assignments": {str(n): asdict(a) for n, a in self.assignments.items()},
            "rounds": [r.to_dict() for r in self.rounds],
            "accuracy": self.accuracy,
            "loss": self.loss,
            "leave_one_out": {str(n): v for n, v in self.contributions.items()},
            "dropped": {str(n): why for n, why in self.dropped.items()},
            "completed": self.completed,
            "seconds": self.seconds,
        }


def _valid_update(reply: Reply, reference: Params) -> str | None:
    arrays = reply.arrays
    if arrays is None:
        return "train reply without model arrays"
    if len(arrays) != len(reference) or any(
        np.shape(a) != np.shape(r) for a, r in zip(arrays, reference, strict=True)
    ):
        return "train reply arrays do not match the global model's shapes"
    if not all(np.all(np.isfinite(a)) for a in arrays):
        return "train reply contains non-finite values"
    return None


def run_fl_rounds(
    transport: Transport,
    assignments: Mapping[int, Assignment | Sequence[float]],
    num_rounds: int,
    *,
    initial_parameters: Params,
    evaluate_fn: Evaluator | None = None,
    train_config: TrainConfig | None = None,
    round_timeout: float | None = 60.0,
    federated_evaluation: bool = False,
    on_round_start: Callable[[int, list[int]], None] | None = None,
    on_round_end: Callable[[RoundRecord], None] | None = None,
    contribution_fn: ContributionFn | None = None,
) -> FLHistory:
    """Run ``num_rounds`` FL rounds with contribution-weighted FedAvg and a per-round deadline.

    Each round sends every still-active assigned node its own train config (its ``d`` and
    ``f``), waits at most ``round_timeout`` seconds, aggregates the updates that arrived with
    weights ``x`` (renormalized over the reporters), and evaluates the new global model. A node
    that misses a deadline, errs or sends a malformed update is recorded as dropped and is not
    asked again; the loop continues with the others.

    Parameters
    ----------
    transport : Transport
    assignments : mapping of node id to Assignment or (d, f, x)
        The silos that train, from the strategy phase.
    num_rounds : int
    initial_parameters : list of ndarray
        Initial global model.
    evaluate_fn : callable, optional
        ``(parameters) -> (accuracy, loss)`` on the coordinator's held-out test set.
    train_config : TrainConfig, optional
    round_timeout : float or None
        Deadline of each message phase in seconds (``None``: wait for every node).
    federated_evaluation : bool
        Also send an ``evaluate`` message to the round's reporters (another message phase).
    on_round_start, on_round_end : callable, optional
        Progress hooks: ``(round, asked_nodes)`` before sending, the :class:`RoundRecord` after.
    contribution_fn : callable, optional
        ``(updates, weights, start) -> {node: score}``, called once on the last round's updates
        (by node), their aggregation weights and that round's starting model; the result is
        ``history.contributions`` (e.g. leave-one-out, :func:`fl_node.cogen.leave_one_out`).

    Returns
    -------
    FLHistory
    """
    if num_rounds < 1:
        raise ValueError(f"num_rounds must be >= 1; got {num_rounds}")
    if not assignments:
        raise ValueError("assignments is empty; the strategy phase must assign at least one silo")
    if round_timeout is not None and round_timeout <= 0:
        raise ValueError(f"round_timeout must be > 0 seconds or None; got {round_timeout}")
    plan = {int(n): Assignment.coerce(a) for n, a in assignments.items()}
    cfg = train_config or TrainConfig()
    params: Params = [np.array(a, copy=True) for a in initial_parameters]
    history = FLHistory(assignments=plan, parameters=params)
    last: tuple[dict[int, Params], Params] | None = None
    start = time.perf_counter()
    for rnd in range(1, num_rounds + 1):
        t0 = time.perf_counter()
        asked = [n for n in sorted(plan) if n not in history.dropped]
        if not asked:
            break
        if on_round_start is not None:
            on_round_start(rnd, asked)
        round_start = params
        requests = {n: Request(cfg.message_config(rnd, plan[n]), params) for n in asked}
        delivery = transport.send(TRAIN, requests, timeout=round_timeout, group=f"round-{rnd}")
        dropped = dict(delivery.failed)
        updates: dict[int, Params] = {}
        metrics: dict[int, dict[str, float]] = {}
        for n, reply in sorted(delivery.replies.items()):
            problem = _valid_update(reply, params)
            if problem is not None:
                dropped[n] = problem
                continue
            assert reply.arrays is not None
            updates[n] = reply.arrays
            metrics[n] = dict(reply.metrics)
        weights: dict[int, float] = {}
        if updates:
            last = (updates, round_start)
            params = contribution_weighted_average(updates, {n: plan[n].x for n in updates})
            total = sum(plan[n].x for n in updates)
            weights = {n: plan[n].x / total for n in updates}
        for n, why in dropped.items():
            history.dropped.setdefault(n, f"round {rnd}: {why}")
        t1 = time.perf_counter()
        accuracy = loss = None
        if evaluate_fn is not None:
            accuracy, loss = (float(v) for v in evaluate_fn(params))
        fed: dict[int, dict[str, float]] = {}
        if federated_evaluation and updates:
            ev = transport.send(
                EVALUATE,
                {n: Request({"round": rnd, "model-kind": cfg.model_kind}, params) for n in updates},
                timeout=round_timeout,
                group=f"round-{rnd}-eval",
            )
            fed = {n: dict(r.metrics) for n, r in ev.replies.items()}
        record = RoundRecord(
            round=rnd,
            asked=asked,
            reporters=sorted(updates),
            dropped=dropped,
            weights=weights,
            accuracy=accuracy,
            loss=loss,
            train_metrics=metrics,
            federated_metrics=fed,
            train_seconds=delivery.seconds,
            eval_seconds=time.perf_counter() - t1,
            seconds=time.perf_counter() - t0,
        )
        history.rounds.append(record)
        history.parameters = params
        if on_round_end is not None:
            on_round_end(record)
    if contribution_fn is not None and last is not None:
        last_updates, last_start = last
        history.contributions = dict(
            contribution_fn(last_updates, {n: plan[n].x for n in last_updates}, last_start)
        )
    history.seconds = time.perf_counter() - start
    return history
