"""With every warm part switched off, a deployment runs on Flower's stock processes only.

``FEDSETTLE_CLIENTAPP_ISOLATION``, ``FEDSETTLE_SERVERAPP_ISOLATION`` and
``FEDSETTLE_SUPERNODE_INTERVALS`` set to ``subprocess``: plain ``flower-supernode`` with Flower's
SuperExec and a fresh ``flwr-clientapp`` per message, a SuperLink with its own SuperExec and a
fresh ``flwr-serverapp``, the run submitted with the ``flwr run`` CLI. One real FL round on
digits over TLS with SuperNode authentication (the warm path runs in
tests/e2e/test_deployment_engine.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fl_node.flower._warm_executor import ISOLATION_ENV
from fl_node.flower._warm_serverapp import SERVERAPP_ISOLATION_ENV
from fl_node.flower._warm_supernode import INTERVALS_ENV
from fl_node.flower.deploy import LoopbackDeployment

pytestmark = pytest.mark.slow


def test_a_session_runs_on_flowers_stock_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in (ISOLATION_ENV, SERVERAPP_ISOLATION_ENV, INTERVALS_ENV):
        monkeypatch.setenv(variable, "subprocess")
    nodes = [{"partition-id": i, "num-partitions": 3, "num-threads": 1} for i in range(2)]
    with LoopbackDeployment(tmp_path, nodes) as dep:
        popen, result = dep.submit({"num-rounds": 1, "min-nodes": 2})
        assert isinstance(popen, subprocess.Popen)  # the flwr CLI, not the Control API client
        dep.wait(popen, result, timeout=480)
        assert dep.superlink is not None
        superlink_args = [str(a) for a in dep.superlink.popen.args]  # type: ignore[union-attr]
        node_logs = [p.log_path.read_text(errors="replace") for p in dep.supernodes]
        node_args = [[str(a) for a in p.popen.args] for p in dep.supernodes]  # type: ignore[union-attr]
    assert result.returncode == 0
    rounds = result.summary["history"]["rounds"]
    assert len(rounds) == 1 and sorted(rounds[0]["reporters"]) == sorted(dep.node_ids)
    assert rounds[0]["accuracy"] > 0.3
    assert "--isolation" not in superlink_args
    assert dep.serverapp_executor is None and dep.executors == {}
    assert "Start `flwr-serverapp` process" in result.log_path.read_text(errors="replace")
    for args, log in zip(node_args, node_logs, strict=True):
        assert args[0].endswith("flower-supernode") and "--isolation" not in args
        assert "Start `flwr-clientapp` process" in log
        assert "fedsettle:" not in log  # no shortened waits
