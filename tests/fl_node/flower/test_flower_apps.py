"""The real Flower ClientApp on real messages, the message encoding, the generated app project."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flwr.app import Context, Message, Metadata, RecordDict
from flwr.cli.config_utils import load_and_validate
from numpy.typing import NDArray

from fl_node.flower import TRAIN_METRIC_KEYS, CoordinatorConfig, LocalSilo, Reply, Request
from fl_node.flower._protocol import (
    record_dict_to_reply,
    record_dict_to_request,
    reply_to_record_dict,
    request_to_record_dict,
)
from fl_node.flower.client_app import app as client_app
from fl_node.flower.deploy import write_app_project
from fl_node.flower.server_app import app as server_app


def _incoming(content: RecordDict, message_type: str) -> Message:
    """A message as a SuperNode hands it to the ClientApp."""
    meta = Metadata(
        run_id=1,
        message_id="m-1",
        src_node_id=0,
        dst_node_id=7,
        reply_to_message_id="",
        group_id="round-1",
        created_at=time.time(),
        ttl=60.0,
        message_type=message_type,
    )
    return Message(content=content, metadata=meta)  # type: ignore[call-overload]


def _context(silo: LocalSilo) -> Context:
    return Context(
        run_id=1,
        node_id=7,
        node_config=dict(silo.node_config),
        state=RecordDict(),
        run_config={},
    )


def test_request_and_reply_survive_flower_records() -> None:
    arrays: list[NDArray[Any]] = [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([1, 2], dtype=np.int64),
    ]
    req = record_dict_to_request(request_to_record_dict(Request({"d": 0.5, "k": "mlp"}, arrays)))
    assert req.config == {"d": 0.5, "k": "mlp"}
    assert req.arrays is not None
    for got, want in zip(req.arrays, arrays, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    rep = record_dict_to_reply(reply_to_record_dict(Reply({"loss": 1}, {"name": "a"}, None)))
    assert rep == Reply({"loss": 1.0}, {"name": "a"}, None)
    with pytest.raises(TypeError, match="cannot be sent"):
        request_to_record_dict(Request({"bad": [1, 2]}))  # type: ignore[dict-item]


def test_client_app_trains_on_a_real_train_message(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    silo = silos[2]
    request = Request({"round": 1, "d": 0.5, "model-kind": "mlp"}, initial_parameters)
    msg = _incoming(request_to_record_dict(request), "train")
    out = client_app(msg, _context(silo))
    assert not out.has_error()
    assert out.metadata.reply_to_message_id == "m-1"
    reply = record_dict_to_reply(out.content)
    assert tuple(reply.metrics) == TRAIN_METRIC_KEYS
    assert reply.metrics["num-examples-used"] == round(0.5 * len(silo.data) + 1e-9)
    assert reply.arrays is not None
    assert [a.shape for a in reply.arrays] == [a.shape for a in initial_parameters]
    assert any(
        not np.array_equal(a, b) for a, b in zip(reply.arrays, initial_parameters, strict=True)
    )


def test_client_app_answers_identity_and_rejects_unknown_actions(
    silos: dict[int, LocalSilo],
) -> None:
    out = client_app(_incoming(RecordDict(), "query.identity"), _context(silos[3]))
    assert record_dict_to_reply(out.content).info["num-examples"] == len(silos[3].data)
    with pytest.raises(ValueError, match="No query function registered"):
        client_app(_incoming(RecordDict(), "query.unknown"), _context(silos[3]))


def test_generated_app_project_is_a_valid_flower_app(tmp_path: Path) -> None:
    values = {**CoordinatorConfig(num_rounds=2).to_run_config(), "chain-rpc": "http://x:1"}
    app_dir = write_app_project(tmp_path / "app", values)
    config, warnings = load_and_validate(app_dir / "pyproject.toml")
    assert warnings == []
    app_cfg = config["tool"]["flwr"]["app"]
    assert app_cfg["components"] == {
        "serverapp": "fl_node.flower.server_app:app",
        "clientapp": "fl_node.flower.client_app:app",
    }
    assert app_cfg["config"]["num-rounds"] == 2
    assert app_cfg["config"]["chain-rpc"] == "http://x:1"
    assert CoordinatorConfig.from_run_config(app_cfg["config"]).num_rounds == 2
    assert server_app is not None
