"""Cogen on the Flower deployment path: the plan reaches the ServerApp, the ClientApp mixes.

The coordinator writes the strategy phase's plan to the assignments file the ServerApp's hooks
read (:mod:`fl_node.coordinator.flower_hooks`); a cogen plan carries the synthetic-sample count
and the generator to train. A SuperNode's ClientApp process has no prepared generator: the real
ClientApp, given the train message built from that plan, trains the silo's own generator and
trains on D_i real plus exactly round(x_i) synthetic samples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_flower_apps import _context, _incoming  # the SuperNode's message and context

from fl_node.coordinator import ScaffoldOptions, load_consortium_config, scaffold
from fl_node.coordinator.flower_hooks import hooks, write_assignments
from fl_node.flower import Request, SiloIdentity, TrainConfig, load_silo
from fl_node.flower._protocol import record_dict_to_reply, request_to_record_dict
from fl_node.flower.client_app import app as client_app
from fl_node.mechanisms import get_mechanism
from fl_node.mechanisms.cogen import CogenStrategy
from fl_node.models import build_model, get_parameters


def test_a_cogen_plan_reaches_the_client_app_which_trains_its_own_generator(
    tmp_path: Path,
) -> None:
    paths = scaffold(tmp_path / "cfg", ScaffoldOptions(silos=2, mechanism="cogen", seed=7))
    config = load_consortium_config(paths[0])
    strategies = {s.name: CogenStrategy(s.name, 40.4 + 10 * s.index, s.s) for s in config.silos}
    plan = get_mechanism("cogen").training_plan(strategies, config)
    write_assignments(tmp_path / "assignments.json", plan)
    before = hooks({"assignments-file": str(tmp_path / "assignments.json")}).before_training
    assert before is not None
    entry = config.silos[1]
    node_config: dict[str, Any] = {
        "dataset": config.fl.dataset,
        "partition-id": entry.partition_id,
        "num-partitions": len(config.silos),
        "alpha": config.fl.alpha,
        "data-seed": config.fl.seed,
        "silo-name": entry.name,
    }
    silo = load_silo(node_config)  # as the SuperNode's ClientApp loads it: nothing prepared
    identity = SiloIdentity(5, entry.name, entry.partition_id, len(silo.data))
    (assignment,) = before({5: identity}, None).values()  # type: ignore[arg-type]
    assert assignment == plan[entry.name]
    assert assignment.extra["synthetic"] == 50 and assignment.x == entry.s + 50
    params = get_parameters(build_model(silo.meta, "auto", seed=0))
    message = TrainConfig(epochs=1).message_config(1, assignment)
    out = client_app(
        _incoming(request_to_record_dict(Request(message, params)), "train"), _context(silo)
    )
    assert not out.has_error()
    reply = record_dict_to_reply(out.content)
    assert reply.metrics["num-examples-total"] == len(silo.data) + 50
    assert reply.metrics["num-examples-used"] == len(silo.data) + 50  # d = 1: all of it
