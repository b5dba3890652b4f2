"""The warm ServerApp path: its settings, its command lines, and that it dies with its parent.

Its runs go through the real SuperLink in tests/e2e/test_deployment_engine.py (LoopbackDeployment)
and tests/e2e/test_deployment_settlement.py (the coordinator); the stock path, with every warm
part switched off, runs a real session in tests/fl_node/flower/test_warm_fallback.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from proc_helpers import free_port_block, gone, spawn_parent, wait_for

from fl_node.coordinator import DeploymentSettings, superlink_argv
from fl_node.flower._processes import reap_pid_file, write_pid_file
from fl_node.flower._warm_serverapp import (
    SERVERAPP_ISOLATION_ENV,
    main,
    serverapp_executor_argv,
    warm_serverapps,
)

BIN = Path(sys.executable).parent


def test_warm_is_the_default_and_subprocess_restores_flowers_superexec() -> None:
    assert warm_serverapps({})
    assert not warm_serverapps({SERVERAPP_ISOLATION_ENV: " Subprocess"})
    with pytest.raises(ValueError, match=rf"{SERVERAPP_ISOLATION_ENV}='proc'.*'subprocess'"):
        warm_serverapps({SERVERAPP_ISOLATION_ENV: "proc"})


def test_the_executor_reaches_a_wildcard_superlink_on_loopback_with_its_ca() -> None:
    argv = serverapp_executor_argv("0.0.0.0", 9092, "/creds/ca.crt")
    assert argv[:3] == [sys.executable, "-m", "fl_node.flower._warm_serverapp"]
    assert argv[3:] == [
        "--runtime-api-address", "127.0.0.1:9092", "--root-certificates", "/creds/ca.crt",
    ]  # fmt: skip
    assert serverapp_executor_argv("::", 9, None)[3:] == ["--runtime-api-address", "127.0.0.1:9"]
    assert serverapp_executor_argv("::1", 9, None)[-1] == "[::1]:9"
    assert serverapp_executor_argv("10.0.0.5", 9, None)[-1] == "10.0.0.5:9"


def test_the_warm_superlink_runs_flowers_process_isolation_flag() -> None:
    settings = DeploymentSettings(superlink="127.0.0.1:9092", root_certificates=None, insecure=True)
    stock = superlink_argv(settings, Path("/x.db"), "flower-superlink")
    warm = superlink_argv(settings, Path("/x.db"), "flower-superlink", warm_serverapp=True)
    assert "--isolation" not in stock
    assert warm == [*stock, "--isolation", "process"]
    text = subprocess.run(
        [str(BIN / "flower-superlink"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"--isolation \{subprocess,process\}", text)


def test_a_missing_ca_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--runtime-api-address", "127.0.0.1:1", "--root-certificates", str(tmp_path / "ca")])
    assert exited.value.code == 2
    assert f"--root-certificates {tmp_path / 'ca'}: no such file" in capsys.readouterr().err


def test_the_executor_dies_with_its_sigkilled_parent(tmp_path: Path) -> None:
    # nothing listens on the port: the executor keeps retrying, as before its SuperLink is up
    argv = serverapp_executor_argv("127.0.0.1", free_port_block(1), None)
    parent, executor = spawn_parent(argv, tmp_path, "serverapp-executor")
    log = tmp_path / "serverapp-executor.log"
    try:
        wait_for(lambda: "executor ready" in log.read_text(errors="replace"), 120, "the loop", 0.2)
        assert "object pull backoff 0.05-2.0 s" in log.read_text()  # its runs pull with it
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        wait_for(lambda: gone(executor), 15, "the executor to die with its parent", 0.1)
    finally:
        parent.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(executor, signal.SIGKILL)


def test_a_recycled_pid_running_another_python_program_is_not_reaped(tmp_path: Path) -> None:
    # the warm processes are `python -m MODULE`: their pid files name the module, not "python"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file = tmp_path / "serverapp-executor.pid"
        write_pid_file(pid_file, other.pid, serverapp_executor_argv("127.0.0.1", 9, None))
        assert json.loads(pid_file.read_text())["program"] == "fl_node.flower._warm_serverapp"
        assert reap_pid_file(pid_file) is None
        assert other.poll() is None and not pid_file.exists()
    finally:
        other.kill()
        other.wait()
