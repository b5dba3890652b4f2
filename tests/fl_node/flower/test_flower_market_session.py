"""The market's one round loop through the transport seam: the ServerApp's session in-process.

:func:`fl_node.flower.run_market_coordinator` (what the Flower ServerApp runs for the market)
over an in-process transport whose silos load the market's data from their node config, as a
SuperNode's ClientApp does, gives exactly :func:`fl_node.market.run_market`'s rounds on the
same silos; the real ClientApp answers a market train message exactly as the handler does; a
dropped silo, a missing one or a size that differs from its report stops the session, named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_flower_apps import _context, _incoming  # the SuperNode's message and context

from fl_node.flower import (
    CoordinatorConfig,
    InProcessTransport,
    LocalSilo,
    MarketSessionError,
    Request,
    SiloConfigError,
    handle_train,
    load_silo,
    run_market_coordinator,
)
from fl_node.flower._protocol import record_dict_to_reply, request_to_record_dict
from fl_node.flower.client_app import app as client_app
from fl_node.market import (
    LocalTraining,
    MarketParams,
    MarketPlan,
    MarketRun,
    MarketTraining,
    Setup,
    build_silos,
    market_node_config,
    model_vector,
    run_market,
)

M, ROUNDS, SEED = 4, 3, 0


def _node_config(i: int) -> dict[str, Any]:
    return market_node_config("dirichlet", M, i, dataset="digits", alpha=0.3, seed=SEED)


@pytest.fixture(scope="module")
def plan() -> MarketPlan:
    silos = build_silos("dirichlet", M, seed=SEED, alpha=0.3)
    params = MarketParams()
    market = params.draw([s.name for s in silos.silos], silos.sizes, SEED)
    training = MarketTraining(LocalTraining(epochs=1), SEED, "mlp", (16,))
    return MarketPlan(market, params, ROUNDS, training, model_seed=SEED)


@pytest.fixture(scope="module")
def node_silos() -> dict[int, LocalSilo]:
    return {10 + i: load_silo(_node_config(i)) for i in range(M)}


@pytest.fixture(scope="module")
def reference(plan: MarketPlan) -> MarketRun:
    """run_market on build_silos' silos (the embedded runtime's path)."""
    silos = build_silos("dirichlet", M, seed=SEED, alpha=0.3)
    model = plan.initial_model(silos.meta)
    setup = Setup(silos.silos, model, model_vector(model), ROUNDS, plan.training.hp, SEED)
    return run_market(setup, plan.market, plan.params)


def _config(out: Path) -> CoordinatorConfig:
    return CoordinatorConfig(round_timeout=120.0, query_timeout=30.0, out_dir=str(out))


def test_the_server_session_over_a_transport_equals_run_market(
    tmp_path: Path, plan: MarketPlan, node_silos: dict[int, LocalSilo], reference: MarketRun
) -> None:
    # a round-trip through the plan's JSON: the ServerApp reads what the coordinator wrote
    plan.write(tmp_path / "plan.json")
    doc = run_market_coordinator(
        InProcessTransport(node_silos), _config(tmp_path), MarketPlan.read(tmp_path / "plan.json")
    )
    assert doc["nodes"] == sorted(node_silos)  # slots mapped to nodes by silo-name
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["history"] == doc["history"] and "error" not in saved
    run = MarketRun.from_dict(saved["history"], plan.market)
    assert len(run.rounds) == len(reference.rounds) == ROUNDS - 1
    assert sum(len(row) for r in run.rounds for row in r.graph) > 0  # silos do trade
    for got, want in zip(run.rounds, reference.rounds, strict=True):
        assert got.graph == want.graph
        np.testing.assert_array_equal(got.distance, want.distance)
        np.testing.assert_array_equal(got.payments, want.payments)
        np.testing.assert_array_equal(got.net_payment, want.net_payment)
    assert run.accuracy.history == reference.accuracy.history
    tampered = json.loads(json.dumps(saved["history"]))
    tampered["graphs"][-1][0] = [0]  # silo 0 importing itself: no market gives that graph
    with pytest.raises(ValueError, match="is not the market's graph"):
        MarketRun.from_dict(tampered, plan.market)
    events = [json.loads(x) for x in (tmp_path / "progress.jsonl").read_text().splitlines()]
    assert [e["round"] for e in events if e["event"] == "round-end"] == list(range(ROUNDS))


def test_the_client_app_answers_a_market_message_as_the_handler_does(
    plan: MarketPlan, node_silos: dict[int, LocalSilo]
) -> None:
    silo = node_silos[11]
    assert silo.test is not None and len(silo.data) == int(plan.market.N[1])
    theta0 = model_vector(plan.initial_model(silo.meta))
    request = Request(plan.training.message_config(2, 1, 0.05), [theta0 + 1e-3])
    direct = handle_train(silo, request)
    msg = _incoming(request_to_record_dict(request), "train")
    reply = record_dict_to_reply(client_app(msg, _context(silo)).content)
    assert direct.arrays is not None and reply.arrays is not None
    assert reply.arrays[0].dtype == np.float64
    np.testing.assert_array_equal(reply.arrays[0], direct.arrays[0])
    assert reply.metrics["accuracy"] == direct.metrics["accuracy"]
    assert not np.array_equal(reply.arrays[0], theta0 + 1e-3)  # it trained
    free = load_silo({**_node_config(1), "market-behaviour": "free_rider"})
    sent = handle_train(free, request)
    assert sent.arrays is not None
    np.testing.assert_array_equal(sent.arrays[0], theta0 + 1e-3)  # sends back what it got
    with pytest.raises(SiloConfigError, match="lacks config 'prox-mu'"):
        cfg = {k: v for k, v in request.config.items() if k != "prox-mu"}
        handle_train(silo, Request(cfg, request.arrays))
    with pytest.raises(SiloConfigError, match="has 1210 parameters"):
        handle_train(silo, Request(request.config, [theta0[:-1]]))


def test_a_dropped_missing_or_misreported_silo_stops_the_session_named(
    tmp_path: Path, plan: MarketPlan, node_silos: dict[int, LocalSilo]
) -> None:
    transport = InProcessTransport(node_silos)
    transport.drop(12)  # silo-2's SuperNode died
    with pytest.raises(MarketSessionError, match=r"silos \['silo-2'\] did not answer"):
        run_market_coordinator(transport, _config(tmp_path / "a"), plan)
    assert "silo-2" in json.loads((tmp_path / "a" / "result.json").read_text())["error"]

    wrong = plan.market.replace(N=plan.market.N + 1)
    bad = MarketPlan(wrong, plan.params, plan.rounds, plan.training)
    with pytest.raises(MarketSessionError, match="differ from the accepted N"):
        run_market_coordinator(InProcessTransport(node_silos), _config(tmp_path / "b"), bad)

    class DiesInRound1(InProcessTransport):
        """silo-3 answers the identity query and round 0, then stops answering."""

        def send(self, message_type: str, requests: Any, **kw: Any) -> Any:
            if any(r.config.get("round") == 1 for r in requests.values()):
                self.drop(13)
            return super().send(message_type, requests, **kw)

    with pytest.raises(MarketSessionError, match=r"market round 1: silo\(s\) \{'silo-3'"):
        run_market_coordinator(DiesInRound1(node_silos), _config(tmp_path / "c"), plan)
