"""Sessions: identity query, the strategy-phase and settlement hooks, the coordinator config."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from fl_node.flower import (
    QUERY_AGENT,
    Assignment,
    CoordinatorConfig,
    FLHistory,
    InProcessTransport,
    LocalSilo,
    Request,
    SiloIdentity,
    TrainConfig,
    Transport,
    load_silo,
    query_identities,
    run_coordinator,
    run_session,
)
from fl_node.flower._rounds import Evaluator
from fl_node.flower._silo import SiloConfigError


def test_identity_query_reports_each_silos_name_and_data_size(
    silos: dict[int, LocalSilo],
) -> None:
    identities, failed = query_identities(InProcessTransport(silos), timeout=10.0)
    assert failed == {}
    assert {n: (s.name, s.num_examples) for n, s in identities.items()} == {
        n: (f"silo-{n - 1}", len(silos[n].data)) for n in silos
    }


def test_hooks_see_identities_assign_a_subset_and_get_the_history(
    silos: dict[int, LocalSilo],
    initial_parameters: list[NDArray[Any]],
    evaluator: Evaluator,
) -> None:
    seen: dict[str, Any] = {}

    def before(nodes: Mapping[int, SiloIdentity], transport: Transport) -> dict[int, Any]:
        seen["nodes"] = dict(nodes)
        # Silo 2 stays out (e.g. it declined to deposit); the others contribute half their data.
        return {n: (0.5, 0.0, 0.5 * s.num_examples) for n, s in nodes.items() if n != 2}

    def after(history: FLHistory, dropped: Mapping[int, str]) -> None:
        seen["history"] = history
        seen["dropped"] = dict(dropped)

    result = run_session(
        InProcessTransport(silos),
        2,
        initial_parameters=initial_parameters,
        evaluate_fn=evaluator,
        train_config=TrainConfig(model_kind="mlp"),
        before_training=before,
        after_training=after,
    )
    assert sorted(seen["nodes"]) == [1, 2, 3]
    assert seen["history"] is result.history
    assert seen["dropped"] == {}
    assert all(r.asked == [1, 3] and r.reporters == [1, 3] for r in result.history.rounds)
    assert result.history.assignments[1] == Assignment(0.5, 0.0, 0.5 * len(silos[1].data))


def test_before_training_may_not_invent_nodes(
    silos: dict[int, LocalSilo], initial_parameters: list[NDArray[Any]]
) -> None:
    with pytest.raises(ValueError, match="unknown node"):
        run_session(
            InProcessTransport(silos),
            1,
            initial_parameters=initial_parameters,
            before_training=lambda nodes, transport: {99: (1.0, 0.0, 1.0)},
        )


def test_agent_queries_reach_the_silo_agent_and_a_missing_agent_is_that_silos_error(
    silos: dict[int, LocalSilo],
) -> None:
    def best_response(payload: dict[str, Any], silo: LocalSilo) -> dict[str, Any]:
        # A stand-in for the silo agent's private computation: answers from its own data.
        omega = float(payload["omega"])
        return {"d": min(1.0, omega / (omega + len(silo.data))), "name": silo.name}

    with_agent = load_silo(dict(silos[1].node_config), agent=best_response)
    transport = InProcessTransport({1: with_agent, 2: silos[2]})
    delivery = transport.send(
        QUERY_AGENT, {1: Request({"omega": 500.0}), 2: Request({"omega": 500.0})}, timeout=5.0
    )
    assert delivery.replies[1].info["name"] == "silo-0"
    assert delivery.replies[1].metrics["d"] == pytest.approx(500.0 / (500.0 + len(silos[1].data)))
    assert "has no agent" in delivery.failed[2]


def test_coordinator_writes_progress_result_and_model(
    silos: dict[int, LocalSilo], tmp_path: Path
) -> None:
    config = CoordinatorConfig(num_rounds=2, model_kind="mlp", out_dir=str(tmp_path))
    result = run_coordinator(InProcessTransport(silos), config)
    summary = json.loads((tmp_path / "result.json").read_text())
    events = [json.loads(line)["event"] for line in (tmp_path / "progress.jsonl").open()]
    assert events == [
        "session-start", "identified", "assigned", "round-start", "round-end", "round-start",
        "round-end", "session-end",
    ]  # fmt: skip
    assert summary["history"]["accuracy"] == result.history.accuracy
    assert summary["history"]["completed"] == [1, 2, 3]
    with np.load(tmp_path / "model.npz") as z:
        assert len(z.files) == len(result.history.parameters)


def test_run_config_parsing_names_bad_values() -> None:
    config = CoordinatorConfig.from_run_config({"num-rounds": 4, "lr": 0.1, "unrelated": "x"})
    assert (config.num_rounds, config.lr) == (4, 0.1)
    assert CoordinatorConfig.from_run_config(config.to_run_config()) == config
    with pytest.raises(ValueError, match="num-rounds"):
        CoordinatorConfig.from_run_config({"num-rounds": "many"})
    with pytest.raises(ValueError, match="federated-evaluation"):
        CoordinatorConfig.from_run_config({"federated-evaluation": 1})


def test_node_config_errors_name_the_key() -> None:
    with pytest.raises(SiloConfigError, match="partition-id"):
        load_silo({"num-partitions": 3})
    with pytest.raises(SiloConfigError, match="partition-id=5"):
        load_silo({"partition-id": 5, "num-partitions": 3})
    with pytest.raises(SiloConfigError, match="agent="):
        load_silo({"partition-id": 0, "num-partitions": 3, "agent": "no_colon"})


def test_the_data_cache_returns_the_same_partition(tmp_path: Path) -> None:
    config = {"partition-id": 2, "num-partitions": 3, "cache-dir": str(tmp_path)}
    fresh = load_silo(config)
    assert len(list(tmp_path.glob("silo-*.npz"))) == 1
    from fl_node.flower import _silo

    _silo._cache.clear()
    cached = load_silo(config)
    assert cached.meta == fresh.meta
    np.testing.assert_array_equal(cached.data.x, fresh.data.x)
    np.testing.assert_array_equal(cached.data.y, fresh.data.y)
