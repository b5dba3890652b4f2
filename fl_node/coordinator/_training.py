"""The FL training stage of a round, on either runtime, keyed by silo name.

Both runtimes run :func:`fl_node.flower.run_coordinator` (identity query, FedAvg weighted by the
mechanism's training plan, with a per-round deadline): ``embedded`` over
:class:`~fl_node.flower.InProcessTransport` with every silo's partition loaded in this process
(one machine; ``fedsettle demo``); ``deployment`` through the Flower ServerApp on a SuperLink
the silos' SuperNodes are connected to (:mod:`fl_node.coordinator._deployment`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fl_node.coordinator._config import ConsortiumConfig, SiloEntry

if TYPE_CHECKING:
    from fl_node.flower import Assignment

__all__ = [
    "TrainingError",
    "TrainingOutcome",
    "coordinator_run_config",
    "silo_node_config",
    "train_embedded",
]


class TrainingError(RuntimeError):
    """The training stage could not run; the message names the setting to fix."""


@dataclass
class TrainingOutcome:
    """Who completed every FL round (and may report), who dropped, and the model's curve."""

    completed: list[str]
    dropped: dict[str, str]
    accuracy: list[float | None]
    loss: list[float | None]
    #: the Flower run's wall time (deployment: from its submission until its result was written)
    seconds: float
    history: dict[str, Any] = field(default_factory=dict)
    #: each silo's leave-one-out score of its last-round update (validation-loss units, higher
    #: is better), by name; empty unless the mechanism asks for it (cogen)
    leave_one_out: dict[str, float] = field(default_factory=dict)
    #: of ``seconds``, how long the ServerApp waited for the coordinator's plan (deployment: the
    #: run is submitted while the silos deposit; the strategy phase ends the wait)
    plan_wait_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "dropped": self.dropped,
            "accuracy": self.accuracy,
            "loss": self.loss,
            "seconds": self.seconds,
            "history": self.history,
            "leave_one_out": self.leave_one_out,
            "plan_wait_s": self.plan_wait_s,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> TrainingOutcome:
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})


def silo_node_config(config: ConsortiumConfig, silo: SiloEntry) -> dict[str, Any]:
    """The node config of ``silo``'s partition (the keys its daemon's ``[data]`` produces)."""
    fl = config.fl
    return {
        "dataset": fl.dataset,
        "partition-id": silo.partition_id,
        "num-partitions": fl.num_partitions or len(config.silos),
        "alpha": fl.alpha,
        "data-seed": fl.seed,
        "test-fraction": fl.test_fraction,
        "partition-scheme": fl.scheme,
        "silo-name": silo.name,
        "address": silo.account,
    }


def coordinator_run_config(config: ConsortiumConfig) -> dict[str, Any]:
    """The ServerApp's run config (:class:`fl_node.flower.CoordinatorConfig` keys)."""
    from fl_node.flower import CoordinatorConfig

    fl = config.fl
    return CoordinatorConfig(
        num_rounds=fl.rounds,
        round_timeout=fl.round_timeout_s,
        query_timeout=fl.round_timeout_s,
        dataset=fl.dataset,
        data_seed=fl.seed,
        test_fraction=fl.test_fraction,
        model_kind=fl.model_kind,
        epochs=fl.epochs,
        lr=fl.lr,
        batch_size=fl.batch_size,
        seed=fl.seed,
        # the optional score of mechanism 2 (issue 9): each update's marginal contribution
        leave_one_out=config.mechanism == "cogen",
    ).to_run_config()


def train_embedded(
    config: ConsortiumConfig,
    plan: Mapping[str, Assignment],
    progress: Callable[..., None],
) -> TrainingOutcome:
    """Train the silos in ``plan`` (silo name -> assignment) in this process on their partitions.

    ``progress("fl-round", round=, accuracy=, loss=)`` is called as each FL round ends.

    Raises
    ------
    TrainingError
        If a silo's partition size differs from its registered ``s``.
    """
    from fl_node.flower import (
        CoordinatorConfig,
        InProcessTransport,
        SessionHooks,
        load_silo,
        run_coordinator,
    )

    silos = {}
    for silo in config.silos:
        if silo.name not in plan:
            continue
        local = load_silo({**silo_node_config(config, silo), "num-threads": 1})
        if len(local.data) != int(silo.s):
            raise TrainingError(
                f"consortium.toml: [silos][{silo.index}].s = {silo.s:g} but partition "
                f"{silo.partition_id} of {config.fl.dataset} holds {len(local.data)} samples; "
                f"set s = {len(local.data)}"
            )
        silos[silo.index + 1] = local
    by_node = {nid: plan[s.name] for nid, s in silos.items()}

    def before_training(identities: Mapping[int, Any], transport: Any) -> dict[int, Assignment]:
        return dict(by_node)

    run_config = CoordinatorConfig.from_run_config(coordinator_run_config(config))
    start = time.perf_counter()
    session = run_coordinator(
        InProcessTransport(silos),
        run_config,
        SessionHooks(before_training=before_training),
        on_round_end=lambda r: progress(
            "fl-round", round=r.round, accuracy=r.accuracy, loss=r.loss
        ),
    )
    history = session.history
    names = {nid: local.name for nid, local in silos.items()}
    return TrainingOutcome(
        completed=[names[n] for n in history.completed],
        dropped={names.get(n, str(n)): why for n, why in session.dropped.items()},
        accuracy=list(history.accuracy),
        loss=list(history.loss),
        seconds=time.perf_counter() - start,
        history=history.to_dict(),
        leave_one_out={names[n]: v for n, v in history.contributions.items()},
    )
