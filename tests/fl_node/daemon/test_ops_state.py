"""One instance per state dir, quiet hang-ups, readable logs and ``| head`` without a traceback."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_helpers import FEDSETTLE, DaemonProcess, actions, free_port_block, wait_for

from fl_node.coordinator import ScaffoldOptions, scaffold
from fl_node.daemon import (
    ActionLog,
    AgentHTTPServer,
    AgentService,
    CostSettings,
    RoundRecord,
    StateDir,
    StateDirInUse,
    load_node_config,
)


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A scaffolded devnet consortium whose chain does not exist (nothing here needs one)."""
    dead_rpc = f"http://127.0.0.1:{free_port_block(1)}"
    return scaffold(
        tmp_path_factory.mktemp("ops") / "cfg",
        ScaffoldOptions(rpc_url=dead_rpc, base_port=free_port_block(3), rounds=1),
    )


def _holder(state: Path) -> subprocess.Popen[str]:
    code = (
        "import sys, time\n"
        "from fl_node.daemon import StateDir\n"
        "held = StateDir(sys.argv[1]); print('locked', flush=True); time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(state)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_state_dir_is_held_by_one_process_until_it_dies(tmp_path: Path) -> None:
    state = tmp_path / "state"
    holder = _holder(state)
    try:
        with pytest.raises(StateDirInUse) as info:
            StateDir(state)
        message = str(info.value)
        assert f"the state dir {state.resolve()} is in use by pid {holder.pid} (" in message
        assert "[state].dir in node.toml" in message and "[coordinator].state_dir" in message
        reader = StateDir(state, exclusive=False)  # `node status` reads while the daemon runs
        assert reader.rounds() == []
        holder.send_signal(signal.SIGKILL)  # the kernel drops the flock with the process
        holder.wait(timeout=10)
        first = StateDir(state)
        second = StateDir(state)  # the same process may open its own dir twice
        first.save_round(RoundRecord(round_id=1, index=0, bond_wei=5))
        assert [r.round_id for r in second.rounds()] == [1]
        assert json.loads((state / "lock").read_text())["pid"] == os.getpid()
    finally:
        holder.kill()


def test_a_second_daemon_on_one_config_is_refused_and_status_still_reads(
    configs: list[Path], tmp_path: Path
) -> None:
    node = configs[1]
    state = load_node_config(node).state_dir
    first = DaemonProcess(node, tmp_path)
    try:
        wait_for(
            lambda: any(e["event"] == "agent-listening" for e in actions(state)),
            60,
            "the first daemon's agent",
            0.2,
            alive=lambda: None if first.proc.poll() is None else first.output(),
        )
        second = subprocess.run(
            [FEDSETTLE, "node", "run", "--config", str(node)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 3, second.stderr
        assert f"is in use by pid {first.proc.pid} (" in second.stderr
        assert "Traceback" not in second.stderr
        starts = [e for e in actions(state) if e["event"] == "started"]
        assert len(starts) == 1  # the refused copy wrote nothing into the first one's log
        # check and status work while the daemon holds the dir
        check = subprocess.run(
            [FEDSETTLE, "node", "check", "--config", str(node), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stderr
        assert json.loads(check.stdout)["name"] == "silo-1"
        # many records, read by `head`: the pipe closes early
        records = StateDir(state, exclusive=False)
        for rid in range(1, 4001):
            records.save_round(RoundRecord(round_id=rid, index=1, bond_wei=rid))
        piped = subprocess.run(
            f"{FEDSETTLE} node status --config {node} | head -n 2",
            shell=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert piped.stdout.splitlines()[1].split()[:2] == ["1", "1"]
        assert "BrokenPipeError" not in piped.stderr and "Traceback" not in piped.stderr
    finally:
        assert first.terminate() == 0


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[tuple[AgentHTTPServer, io.StringIO]]:
    stream = io.StringIO()
    service = AgentService(
        name="silo-1",
        address="0x" + "11" * 20,
        s=100,
        cost=CostSettings(eta=1.0, T1=1.0, T3=1.0, F=(1.0, 2.0)),
        contract="0x" + "22" * 20,
        state=StateDir(tmp_path / "state"),
        log=ActionLog(tmp_path / "state" / "actions.jsonl", name="silo-1", stream=stream),
    )
    with AgentHTTPServer(service, "127.0.0.1", 0) as server:
        yield server, stream


def test_a_client_hanging_up_mid_request_is_one_log_line_not_a_traceback(
    agent: tuple[AgentHTTPServer, io.StringIO], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    server, stream = agent
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"POST /terms HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
            # RST instead of FIN: the coordinator's process died
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    log = ActionLog(tmp_path / "state" / "actions.jsonl", name="silo-1", stream=None)
    wait_for(
        lambda: [e for e in log.entries() if e["event"] == "agent-client-gone"],
        10,
        "the hang-up to be logged",
    )
    with urllib.request.urlopen(server.url + "/health", timeout=10) as reply:  # still serving
        health = json.loads(reply.read())
    assert (health["name"], health["contract"], health["pid"]) == (
        "silo-1",
        "0x" + "22" * 20,
        os.getpid(),
    )
    assert health["chain"] is False and health["chain_id"] is None  # not connected yet
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred during processing" not in err
    assert "agent-client-gone" in stream.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_are_human_on_a_terminal_and_json_on_request(tmp_path: Path) -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    on_tty = ActionLog(tmp_path / "a.jsonl", name="silo-1", stream=terminal)
    piped = ActionLog(tmp_path / "b.jsonl", name="silo-1", stream=pipe)
    forced = ActionLog(tmp_path / "c.jsonl", name="silo-1", stream=_Terminal(), format="json")
    for log in (on_tty, piped, forced):
        log("deposited", round_id=3, amount_wei=10**18, note="two words")
    human = terminal.getvalue().strip()
    assert human.split(" ", 1)[1] == (
        'silo-1 deposited round_id=3 amount_wei=1000000000000000000 note="two words"'
    )
    assert json.loads(pipe.getvalue())["amount_wei"] == 10**18
    assert json.loads(forced.stream.getvalue())["event"] == "deposited"  # type: ignore[union-attr]
    assert json.loads((tmp_path / "a.jsonl").read_text())["round_id"] == 3  # the file stays JSON
