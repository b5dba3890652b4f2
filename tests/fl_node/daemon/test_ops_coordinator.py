"""The coordinator's operator experience: it says what it waits for; one copy per state dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from daemon_helpers import FEDSETTLE, free_port_block, wait_for

from fl_node.coordinator import ScaffoldOptions, scaffold


@pytest.fixture(scope="module")
def no_chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], str]:
    """A scaffolded consortium whose chain is not started (yet)."""
    url = f"http://127.0.0.1:{free_port_block(1)}"
    out = tmp_path_factory.mktemp("no-chain") / "cfg"
    return scaffold(out, ScaffoldOptions(rpc_url=url, base_port=free_port_block(3))), url


def test_a_coordinator_without_chain_says_so_and_a_second_copy_is_refused(
    no_chain: tuple[list[Path], str], tmp_path: Path
) -> None:
    configs, url = no_chain
    err = tmp_path / "coordinator.err"
    with err.open("wb") as fh:
        first = subprocess.Popen(
            [FEDSETTLE, "coordinator", "run", "--config", str(configs[0])],
            stdout=subprocess.DEVNULL,
            stderr=fh,
        )
    try:
        wait_for(
            lambda: f"waiting for the chain at {url} (" in err.read_text(),
            60,
            "the coordinator to name the chain it waits for",
            0.2,
            alive=lambda: None if first.poll() is None else err.read_text(),
        )
        second = subprocess.run(
            [FEDSETTLE, "coordinator", "run", "--config", str(configs[0])],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 3, second.stderr
        assert f"is in use by pid {first.pid} (" in second.stderr
        assert "[coordinator].state_dir in consortium.toml" in second.stderr
    finally:
        first.terminate()
        first.wait(timeout=30)


@pytest.mark.parametrize("rounds", ["0", "-2", "two", "1.5"])
def test_rounds_must_be_a_whole_number_of_at_least_one(
    rounds: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fl_node.cli import main

    with pytest.raises(SystemExit) as info:
        main(["coordinator", "run", "--config", str(tmp_path / "c.toml"), "--rounds", rounds])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --rounds: must be a positive integer, got {rounds!r}" in err
