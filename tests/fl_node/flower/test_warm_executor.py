"""The warm ClientApp executor's settings (its sessions run in tests/e2e/test_deployment_*)."""

from __future__ import annotations

import sys

import pytest

from fl_node.flower._warm_executor import ISOLATION_ENV, executor_argv, main, warm_clientapps


def test_warm_is_the_default_and_subprocess_restores_flowers_superexec() -> None:
    assert warm_clientapps({})
    assert warm_clientapps({ISOLATION_ENV: " Warm "})
    assert not warm_clientapps({ISOLATION_ENV: "subprocess"})


def test_an_unknown_isolation_names_the_variable_and_the_choices() -> None:
    with pytest.raises(ValueError, match=rf"{ISOLATION_ENV}='proces'.*'warm'.*'subprocess'"):
        warm_clientapps({ISOLATION_ENV: "proces"})


def test_the_command_line_runs_this_python_on_the_runtime_api() -> None:
    argv = executor_argv("127.0.0.1:9094")
    assert argv[:3] == [sys.executable, "-m", "fl_node.flower._warm_executor"]
    assert argv[3:] == ["--runtime-api-address", "127.0.0.1:9094"]


def test_a_non_positive_poll_interval_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--runtime-api-address", "127.0.0.1:1", "--poll-interval", "0"])
    assert exited.value.code == 2
    assert "--poll-interval 0.0: give a positive number" in capsys.readouterr().err
