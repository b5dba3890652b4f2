"""The market (mechanism 3) on Flower's deployment engine equals the in-process market.

A loopback SuperLink and three SuperNodes (TLS, SuperNode authentication, separate processes),
each holding one of the market's silos (breast_cancer, a Dirichlet split: three silos that do
trade; digits with three silos would put one in each label group) through its node config
(``market-split``). The
coordinator's :class:`~fl_node.coordinator._deployment.FlowerDeployment` connects to that
SuperLink and :meth:`ModelMarket.run_session` drives it: the ServerApp runs the market's round
loop over the Grid, the ClientApps train with the prox term. The same session on the embedded
runtime (in-process silos) gives the same graphs, payments and personalized accuracies, bit
for bit: the messages carry float64 vectors and every silo trains with one torch thread.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from fl_node.coordinator import ConsortiumConfig
from fl_node.coordinator._config import DeploymentSettings
from fl_node.coordinator._deployment import FlowerDeployment
from fl_node.demo import DemoOptions, _config
from fl_node.flower.deploy import LoopbackDeployment
from fl_node.market import market_node_config
from fl_node.mechanisms import get_mechanism, session_of
from fl_node.mechanisms.base import SessionOutcome
from fl_node.mechanisms.market import market_split

pytestmark = pytest.mark.slow

M = 3
DATASET = "breast_cancer"
ACCOUNTS = ["0x" + f"{i + 1:040x}" for i in range(M)]


@pytest.fixture(scope="module")
def market_config() -> ConsortiumConfig:
    """The demo's market consortium of three silos: the local round 0, then one priced round
    (its train messages carry the importers' prox centers), one local epoch each."""
    mech: Any = get_mechanism("market")
    opts = DemoOptions(mechanism="market", orgs=M, rounds=1, epochs=1, dataset=DATASET)
    names, sizes, _ = mech.demo_silos(M, dataset=DATASET, alpha=opts.dirichlet_alpha, seed=0)
    consortium = mech.demo_consortium(names, sizes, seed=0, epochs=opts.epochs)
    return _config(opts, "http://127.0.0.1:1", ACCOUNTS, names, sizes, consortium)  # type: ignore[no-any-return]


def _run(config: ConsortiumConfig, runtime: Any) -> tuple[SessionOutcome, float]:
    session = session_of(get_mechanism("market"))
    assert session is not None
    start = time.perf_counter()
    outcome = session.run_session(config, config.silos, runtime=runtime, note=lambda *a, **k: 0)
    return outcome, time.perf_counter() - start


@pytest.fixture(scope="module")
def flower_run(
    market_config: ConsortiumConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SessionOutcome, float, list[dict[str, Any]]]]:
    fl = market_config.fl
    split = market_split(fl.dataset, M)
    nodes = [
        {
            **market_node_config(
                split, M, s.partition_id, dataset=fl.dataset, alpha=fl.alpha, seed=fl.seed
            ),
            "silo-name": s.name,
            "num-threads": 1,
        }
        for s in market_config.silos
    ]
    workdir = tmp_path_factory.mktemp("market-flower")
    with LoopbackDeployment(workdir / "engine", nodes) as engine:
        assert engine.tls is not None
        config = dataclasses.replace(
            market_config,
            mode="deployment",
            deployment=DeploymentSettings(
                superlink=f"127.0.0.1:{engine.port}",
                root_certificates=engine.tls.ca_cert,
                start_superlink=False,
                node_wait_timeout_s=60.0,
                run_timeout_s=300.0,
            ),
            silos=tuple(
                dataclasses.replace(
                    s, supernode_public_key=engine.workdir / "keys" / f"supernode-{i}.pub"
                )
                for i, s in enumerate(market_config.silos)
            ),
        )
        events: list[dict[str, Any]] = []
        deployment = FlowerDeployment(
            config, workdir / "coordinator", lambda event, **kw: events.append({event: kw})
        )
        deployment.start()  # the keys are registered already: it says so and goes on
        try:
            outcome, seconds = _run(config, deployment)
        finally:
            deployment.stop()
            for i in range(M):  # the run is over: no need for a graceful stop of each node
                engine.kill_supernode(i)
        yield outcome, seconds, events


def test_the_market_on_flower_equals_the_in_process_market(
    market_config: ConsortiumConfig, flower_run: Any
) -> None:
    flower, flower_s, events = flower_run
    local, local_s = _run(market_config, None)
    print(f"market session: in-process {local_s:.1f} s, Flower deployment {flower_s:.1f} s")
    fr, lr = flower.details[0], local.details[0]
    assert len(fr.rounds) == len(lr.rounds) == 1
    assert sum(len(row) for r in lr.rounds for row in r.graph) > 0  # the silos do trade
    for got, want in zip(fr.rounds, lr.rounds, strict=True):
        assert got.graph == want.graph
        np.testing.assert_array_equal(got.distance, want.distance)
        np.testing.assert_array_equal(got.payments, want.payments)
        np.testing.assert_array_equal(got.net_payment, want.net_payment)
    assert fr.accuracy.history == lr.accuracy.history  # each silo on its own test split
    assert flower.training.history == local.training.history
    assert flower.training.accuracy == local.training.accuracy
    assert flower.table == local.table  # what the coordinator submits on chain
    # the coordinator followed the ServerApp's rounds as they ended (round 0 is local)
    rounds = [e["fl-round"]["round"] for e in events if "fl-round" in e]
    assert rounds == [0, 1]
