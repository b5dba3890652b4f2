"""The ``fedsettle`` console script: :func:`fl_node.cli.console_main` exits with main's code and
the heap frozen (no final garbage collection), and it is what the installed script runs."""

from __future__ import annotations

import gc
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import fl_node.cli as cli


def test_the_installed_script_runs_console_main() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "fedsettle"]
    assert script.value == "fl_node.cli:console_main"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "fedsettle"), "solve", "--config", "/no/such.toml"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "/no/such.toml" in done.stderr  # main's code, its message


def test_console_main_freezes_the_heap_then_exits_with_mains_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 7)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as done:
        cli.console_main()
    assert done.value.code == 7
    assert calls == ["main", "freeze"]
