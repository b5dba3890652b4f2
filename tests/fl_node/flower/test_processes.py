"""Child processes die with their parent, a restart reaps orphans, a taken port fails loudly."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from proc_helpers import gone, spawn_parent, wait_for

from fl_node.flower._processes import (
    PortInUse,
    argv_port,
    flower_env,
    group_members,
    port_holder,
    reap_pid_file,
    start_process,
    write_pid_file,
)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listener(port: int) -> list[str]:
    """A stand-in child: listens on ``port`` and spawns a grandchild into its group."""
    code = (
        "import socket, subprocess, sys, time\n"
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "time.sleep(600)\n"
    )
    return [sys.executable, "-c", code, "--host", "127.0.0.1", "--port", str(port)]


def test_child_dies_with_a_sigkilled_parent_and_the_restart_reaps_the_rest(tmp_path: Path) -> None:
    port = _free_port()
    parent, child = spawn_parent(_listener(port), tmp_path)
    try:
        wait_for(lambda: _listening(port), 30, "the child's port")
        wait_for(lambda: len(group_members(child)) == 2, 30, "the child's own child")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        wait_for(lambda: gone(child), 10, "the child to die with its parent")
        wait_for(lambda: not _listening(port), 10, "the port to be released")
        # the grandchild outlives its parent but stays in the group the pid file names
        assert len(group_members(child)) == 1
        assert reap_pid_file(tmp_path / "child.pid") == child
        assert group_members(child) == []
        assert not (tmp_path / "child.pid").exists()
    finally:
        parent.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child, signal.SIGKILL)


def test_a_restart_reaps_the_process_group_of_the_pid_file(tmp_path: Path) -> None:
    port = _free_port()
    # an orphan group (no parent-death signal), as a parent on another machine image would leave
    orphan = subprocess.Popen(_listener(port), start_new_session=True)
    try:
        wait_for(lambda: _listening(port), 30, "the orphan's port")
        wait_for(lambda: len(group_members(orphan.pid)) == 2, 30, "the orphan's grandchild")
        grandchild = next(p for p in group_members(orphan.pid) if p != orphan.pid)
        write_pid_file(tmp_path / "child.pid", orphan.pid, _listener(port))
        proc = start_process(
            "child", _listener(port), env=flower_env(tmp_path / "home"),
            log_path=tmp_path / "child.log", cwd=tmp_path,
        )  # fmt: skip
        try:
            assert orphan.wait(timeout=10) == -signal.SIGKILL
            assert gone(grandchild)
            wait_for(lambda: _listening(port), 30, "the new child's port")
            assert f'"pid": {proc.pid}' in (tmp_path / "child.pid").read_text()
        finally:
            proc.stop(grace=2)
        assert not (tmp_path / "child.pid").exists()
        assert group_members(proc.pid) == []
    finally:
        orphan.kill()


def test_a_taken_port_fails_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = int(holder.getsockname()[1])
        assert port_holder(port) is not None and f"pid {os.getpid()} " in str(port_holder(port))
        with pytest.raises(PortInUse) as info:
            start_process(
                "flower-superlink", ["/bin/sleep", "60", "--port", str(port)],
                env=dict(os.environ), log_path=tmp_path / "x.log", cwd=tmp_path,
                port_hint="change [runtime.deployment].port",
            )  # fmt: skip
    message = str(info.value)
    assert f"port {port} on 127.0.0.1 is already in use (held by pid {os.getpid()} " in message
    assert "flower-superlink cannot start" in message
    assert "change [runtime.deployment].port" in message
    assert not (tmp_path / "x.pid").exists() and not (tmp_path / "x.log").exists()


def test_argv_port_reads_host_and_port() -> None:
    assert argv_port(["x", "--host", "0.0.0.0", "--port", "9092"]) == ("0.0.0.0", 9092)
    assert argv_port(["x", "--port", "9"]) == ("127.0.0.1", 9)
    assert argv_port(["x", "--insecure"]) is None


def test_a_real_superlink_dies_with_its_sigkilled_parent(tmp_path: Path) -> None:
    port = _free_port()
    binary = str(Path(sys.executable).parent / "flower-superlink")
    argv = [binary, "--insecure", "--database", ":flwr-in-memory-state:", "--port", str(port)]
    parent, superlink = spawn_parent(argv, tmp_path)
    try:
        wait_for(lambda: _listening(port), 60, "the SuperLink's port", 0.2)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        wait_for(lambda: gone(superlink), 15, "the SuperLink to die with its parent")
        wait_for(lambda: not _listening(port), 15, "the SuperLink's port to be released")
        # what the SuperLink spawned (its SuperExec) stays in its group: a restart reaps it
        reap_pid_file(tmp_path / "child.pid")
        assert group_members(superlink) == []
    finally:
        parent.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(superlink, signal.SIGKILL)
