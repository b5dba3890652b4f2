"""A coordinator restart with the default in-memory SuperLink state: the daemons' SuperNodes
come back by themselves.

A SuperLink started by the coordinator keeps Flower's in-memory state
(``[runtime.deployment].superlink_state = "memory"``), so a restarted coordinator's new SuperLink
knows none of the old node ids. Real processes: the SuperLink with TLS and SuperNode
authentication from :func:`superlink_argv`, the daemon's :class:`SupernodeSupervisor` with its
node key. After the SuperLink is killed and a new one (fresh memory) registers the key again, the
old SuperNode is refused and exits, and the supervisor restarts it until the new SuperLink lists
the node online.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_helpers import free_port_block, wait_for

from fl_node.coordinator import DeploymentSettings, superlink_argv
from fl_node.daemon import ActionLog, SupernodeSettings, SupernodeSupervisor
from fl_node.flower._certs import generate_node_key_pair, generate_tls_files
from fl_node.flower._processes import ManagedProcess, flower_env, start_process, wait_for_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def _nodes(env: dict[str, str], cwd: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [str(BIN / "flwr"), "supernode", "list", "local", "--format", "json"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return list(json.loads(done.stdout)["nodes"])


def _register(env: dict[str, str], cwd: Path, public_key: Path) -> int:
    done = subprocess.run(
        [str(BIN / "flwr"), "supernode", "register", str(public_key), "local", "--format", "json"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return int(json.loads(done.stdout)["node-id"])


def test_supernodes_rejoin_a_restarted_in_memory_superlink(tmp_path: Path) -> None:
    port = free_port_block(2)
    tls = generate_tls_files(tmp_path / "tls")
    keys = generate_node_key_pair(tmp_path / "keys", "silo-1")
    settings = DeploymentSettings(
        superlink=f"127.0.0.1:{port}",
        root_certificates=tls.ca_cert,
        port=port,
        ssl_certfile=tls.server_cert,
        ssl_keyfile=tls.server_key,
    )
    assert settings.superlink_state == "memory"
    argv = superlink_argv(settings, tmp_path / "unused.db", str(BIN / "flower-superlink"))
    assert "--database" not in argv
    env = flower_env(tmp_path / "flwr-home")
    (tmp_path / "flwr-home").mkdir()
    (tmp_path / "flwr-home" / "config.toml").write_text(
        f'[superlink]\ndefault = "local"\n\n[superlink.local]\naddress = "127.0.0.1:{port}"\n'
        f'root-certificates = "{tls.ca_cert}"\n',
        encoding="utf-8",
    )

    def superlink(n: int) -> ManagedProcess:
        proc = start_process(
            f"superlink-{n}", argv, env=env, log_path=tmp_path / f"superlink-{n}.log", cwd=tmp_path
        )
        wait_for_port(port, timeout=60.0, proc=proc)
        return proc

    log = ActionLog(tmp_path / "actions.jsonl", name="silo-1", stream=None)
    node_settings = SupernodeSettings(
        superlink=f"127.0.0.1:{port}",
        root_certificates=tls.ca_cert,
        auth_private_key=keys.private_key,
        port=port + 1,
        restart_delay_s=0.5,
    )
    node_config = {"dataset": "digits", "partition-id": 0, "num-partitions": 3, "silo-name": "x"}
    supervisor = SupernodeSupervisor(node_settings, node_config, tmp_path / "supernode", log)
    first = superlink(1)
    second: ManagedProcess | None = None
    try:
        old_id = _register(env, tmp_path, keys.public_key)
        supervisor.start()
        started = supervisor.pid

        def online(node_id: int) -> bool:
            supervisor.check()
            return any(
                n["node-id"] == str(node_id) and n["status"] == "online"
                for n in _nodes(env, tmp_path)
            )

        wait_for(lambda: online(old_id), 90, "the SuperNode online on the first SuperLink", 0.5)
        first.kill()  # the coordinator died with its SuperLink (parent-death signal)
        second = superlink(2)  # the restarted coordinator's SuperLink: empty memory
        assert _nodes(env, tmp_path) == []
        new_id = _register(env, tmp_path, keys.public_key)
        wait_for(lambda: online(new_id), 120, "the SuperNode online on the new SuperLink", 0.5)
        assert supervisor.pid != started and supervisor.restarts >= 1
    finally:
        supervisor.stop(grace=10)
        first.stop()
        if second is not None:
            second.stop()
    events = [e["event"] for e in log.entries()]
    assert "supernode-exited" in events
    assert events.count("supernode-started") == supervisor.restarts + 1
