"""The coordinator's settings (Flower run config) and the session it runs on a transport."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fl_node.data import get_source
from fl_node.flower._rounds import RoundRecord, TrainConfig
from fl_node.flower._session import (
    AfterTraining,
    BeforeTraining,
    SessionResult,
    centralized_evaluator,
    equal_effort_assignments,
    run_session,
)
from fl_node.flower._transports.base import Transport

__all__ = [
    "CoordinatorConfig",
    "SessionHooks",
    "load_hooks",
    "run_coordinator",
    "wait_for_session_nodes",
]

#: how often :func:`wait_for_session_nodes` asks ``nodes_needed`` and counts the nodes
NODE_POLL_S = 0.05


@dataclass(frozen=True)
class SessionHooks:
    """The lead's code plugged into a session: strategy phase and settlement.

    ``nodes_needed`` (optional) lets a session start before its plan exists: while the ServerApp
    waits for SuperNodes it returns None as long as the plan is not known, then the number of
    nodes the plan trains (see :func:`wait_for_session_nodes`); it raises to end the session
    (the plan was withdrawn, or never came).
    """

    before_training: BeforeTraining | None = None
    after_training: AfterTraining | None = None
    nodes_needed: Callable[[], int | None] | None = None


@dataclass(frozen=True)
class CoordinatorConfig:
    """Run config of the ServerApp (``[tool.flwr.app.config]`` keys, dashes for underscores).

    ``dataset``/``data_seed``/``test_fraction`` must match the silos' node config, so the
    held-out test set is the one the silos' training partitions were cut from. ``hooks`` is a
    ``"module:factory"`` reference; ``factory(run_config)`` returns a :class:`SessionHooks`.
    ``out_dir`` (if set) receives ``progress.jsonl``, ``result.json`` and ``model.npz``.
    """

    num_rounds: int = 3
    round_timeout: float = 60.0
    query_timeout: float = 60.0
    min_nodes: int = 1
    node_wait_timeout: float = 60.0
    dataset: str = "digits"
    data_seed: int = 0
    test_fraction: float = 0.25
    model_kind: str = "auto"
    model_seed: int = 0
    epochs: int = 1
    lr: float = 0.05
    batch_size: int = 32
    seed: int = 0
    federated_evaluation: bool = False
    #: score each silo's last-round update by leave-one-out on the held-out test split
    leave_one_out: bool = False
    hooks: str = ""
    out_dir: str = ""

    @classmethod
    def from_run_config(cls, run_config: Mapping[str, Any]) -> CoordinatorConfig:
        """Parse Flower run config values; unknown keys are ignored, bad types named."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f.name.replace("_", "-")
            if key not in run_config:
                continue
            raw = run_config[key]
            kind = type(getattr(cls(), f.name))
            try:
                if kind is bool and not isinstance(raw, bool):
                    raise ValueError
                values[f.name] = kind(raw)
            except (TypeError, ValueError):
                raise ValueError(
                    f"run config {key}={raw!r} must be of type {kind.__name__}"
                ) from None
        return cls(**values)

    def to_run_config(self) -> dict[str, Any]:
        """The inverse of :meth:`from_run_config`."""
        return {k.replace("_", "-"): v for k, v in asdict(self).items()}


def load_hooks(ref: str, run_config: Mapping[str, Any]) -> SessionHooks:
    """Resolve ``"module:factory"`` and call ``factory(run_config)`` (empty ref: no hooks)."""
    if not ref:
        return SessionHooks()
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise ValueError(f"hooks={ref!r} must have the form 'package.module:factory'")
    factory: Any = importlib.import_module(module)
    for part in attr.split("."):
        factory = getattr(factory, part)
    hooks = factory(run_config)
    return SessionHooks(
        before_training=getattr(hooks, "before_training", None),
        after_training=getattr(hooks, "after_training", None),
        nodes_needed=getattr(hooks, "nodes_needed", None),
    )


class NodeWaiter(Protocol):
    """The part of a transport :func:`wait_for_session_nodes` uses (a GridTransport's)."""

    def node_ids(self) -> list[int]: ...

    def wait_for_nodes(self, count: int, *, timeout: float) -> list[int]: ...


def wait_for_session_nodes(
    transport: NodeWaiter, config: CoordinatorConfig, hooks: SessionHooks
) -> list[int]:
    """Wait for the SuperNodes a session starts with; return their ids.

    Without ``hooks.nodes_needed``: ``config.min_nodes`` nodes within ``node_wait_timeout``.
    With it, the session may start before its plan exists (the coordinator submits the run
    while the silos deposit): it starts as soon as ``min_nodes`` nodes (every silo of the
    consortium) are connected, so the identity query overlaps the coordinator's strategy
    phase; or, once ``nodes_needed()`` names the plan's node count, when that many are
    connected (a silo that never joined the round is not waited for). The plan's own deadline
    is the hook's: ``nodes_needed`` raises when it passed.

    Raises
    ------
    NodesNotConnectedError
        If the nodes did not connect within ``node_wait_timeout`` (counted from when the plan
        was known, with ``nodes_needed``).
    """
    if hooks.nodes_needed is None:
        return transport.wait_for_nodes(config.min_nodes, timeout=config.node_wait_timeout)
    while True:
        need = hooks.nodes_needed()
        if need is not None:
            return transport.wait_for_nodes(need, timeout=config.node_wait_timeout)
        nodes = transport.node_ids()
        if len(nodes) >= config.min_nodes:
            return nodes
        time.sleep(NODE_POLL_S)


class _Progress:
    """Appends one JSON line per event, so a supervisor can follow the run from outside."""

    def __init__(self, out_dir: Path | None) -> None:
        self.path = None if out_dir is None else out_dir / "progress.jsonl"

    def __call__(self, event: str, **data: Any) -> None:
        if self.path is None:
            return
        line = json.dumps({"event": event, "time": time.time(), **data})
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def _leave_one_out(model: Any, validation: Any) -> Any:
    """A ``contribution_fn``: leave-one-out loss differences (:func:`fl_node.cogen.leave_one_out`)."""
    from fl_node.cogen import leave_one_out

    def score(updates: dict[int, Any], weights: dict[int, float], start: Any) -> dict[int, float]:
        nodes = sorted(updates)
        values = leave_one_out(
            model, [updates[n] for n in nodes], [weights[n] for n in nodes], validation,
            start=start,
        )  # fmt: skip
        return dict(zip(nodes, values, strict=True))

    return score


def run_coordinator(
    transport: Transport,
    config: CoordinatorConfig,
    hooks: SessionHooks | None = None,
    *,
    on_round_end: Callable[[RoundRecord], None] | None = None,
) -> SessionResult:
    """Run a full session on ``transport`` with ``config``; write outputs to ``config.out_dir``.

    ``on_round_end`` (optional) receives each :class:`RoundRecord` as its round ends.

    The global model is built from ``config.dataset`` (architecture ``model_kind``, initial
    weights from ``model_seed``) and evaluated after every round on the dataset's held-out test
    split.
    """
    from fl_node.models import build_model, get_parameters

    hooks = hooks or SessionHooks()
    out_dir = Path(config.out_dir) if config.out_dir else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    progress = _Progress(out_dir)
    split = get_source(config.dataset).split(
        test_fraction=config.test_fraction, seed=config.data_seed
    )
    model = build_model(split.meta, config.model_kind, seed=config.model_seed)

    def _end(record: RoundRecord) -> None:
        progress("round-end", **record.to_dict())
        if on_round_end is not None:
            on_round_end(record)

    def _before(identities: Mapping[int, Any], transport: Transport) -> Any:
        # the coordinator reads the wait for its plan from these two lines
        progress("identified", nodes=sorted(identities))
        plan = (hooks.before_training or equal_effort_assignments)(identities, transport)
        progress("assigned", nodes=sorted(plan))
        return plan

    progress("session-start", nodes=transport.node_ids(), config=asdict(config))
    result = run_session(
        transport,
        config.num_rounds,
        initial_parameters=get_parameters(model),
        evaluate_fn=centralized_evaluator(model, split.test),
        train_config=TrainConfig(
            epochs=config.epochs,
            lr=config.lr,
            batch_size=config.batch_size,
            seed=config.seed,
            model_kind=config.model_kind,
        ),
        round_timeout=config.round_timeout,
        query_timeout=config.query_timeout,
        before_training=_before,
        after_training=hooks.after_training,
        federated_evaluation=config.federated_evaluation,
        on_round_start=lambda rnd, asked: progress("round-start", round=rnd, asked=asked),
        on_round_end=_end,
        contribution_fn=_leave_one_out(model, split.test) if config.leave_one_out else None,
    )
    if out_dir is not None:
        summary = {"config": asdict(config), **result.to_dict()}
        (out_dir / "result.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        np.savez(out_dir / "model.npz", *result.history.parameters)
    progress("session-end", seconds=result.seconds)
    return result
