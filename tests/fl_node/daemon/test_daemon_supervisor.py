"""The daemon's SuperNode supervision with the real ``flower-supernode`` binary."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest
from daemon_helpers import free_port_block, wait_for

from fl_node.daemon import ActionLog, ConfigFileError, SupernodeSettings, SupernodeSupervisor


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_supernode_is_restarted_when_it_dies_and_stopped_with_its_group(tmp_path: Path) -> None:
    port = free_port_block(2)
    settings = SupernodeSettings(
        superlink=f"127.0.0.1:{port + 1}",  # nothing listens: the SuperNode keeps retrying
        root_certificates=None,
        auth_private_key=None,
        insecure=True,
        port=port,
        restart_delay_s=0.2,
    )
    log = ActionLog(tmp_path / "actions.jsonl", name="silo-1", stream=None)
    node_config = {"dataset": "digits", "partition-id": 0, "num-partitions": 3, "silo-name": "x"}
    supervisor = SupernodeSupervisor(settings, node_config, tmp_path / "supernode", log)
    assert '"silo-name" = "x"' in supervisor.config_file.read_text()
    assert supervisor.argv[1:4] == ["--superlink", f"127.0.0.1:{port + 1}", "--insecure"]
    try:
        supervisor.start()
        first = supervisor.pid
        assert first is not None
        wait_for(lambda: _listening(port), 60, "the SuperNode's runtime API port")
        os.killpg(first, signal.SIGKILL)  # the SuperNode crashes

        def restarted() -> bool:
            supervisor.check()
            return supervisor.pid != first

        wait_for(restarted, 30, "a restart", 0.1)
        assert supervisor.pid is not None and supervisor.restarts >= 1

        def serving() -> bool:
            supervisor.check()  # (a restart that lost a race for the port is restarted again)
            return supervisor.alive() and _listening(port)

        wait_for(serving, 60, "the restarted SuperNode's port")
        second = supervisor.pid
    finally:
        supervisor.stop(grace=10)
    assert second is not None and _gone(second)
    wait_for(lambda: not _listening(port), 10, "the port to be released")
    events = [e["event"] for e in log.entries()]
    assert events[:3] == ["supernode-started", "supernode-exited", "supernode-started"]
    assert events[-1] == "supernode-stopped"
    assert events.count("supernode-started") == supervisor.restarts + 1


def test_missing_tls_files_are_named_at_start(tmp_path: Path) -> None:
    settings = SupernodeSettings(
        superlink="127.0.0.1:9092",
        root_certificates=tmp_path / "absent-ca.crt",
        auth_private_key=None,
    )
    log = ActionLog(tmp_path / "actions.jsonl", name="silo-1", stream=None)
    supervisor = SupernodeSupervisor(settings, {}, tmp_path / "supernode", log)
    with pytest.raises(ConfigFileError, match=r"\[supernode\]\.root_certificates = .* does not"):
        supervisor.start()
    assert supervisor.pid is None
    supervisor.stop()  # nothing was started: a no-op
    assert log.entries() == []
