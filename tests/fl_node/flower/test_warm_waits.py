"""Flower's fixed waits are shortened only on checked versions and unchanged code."""

from __future__ import annotations

import importlib.util
import inspect
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from fl_node.flower._warm_supernode import INTERVALS_ENV, fast_supernode, supernode_command
from fl_node.flower._warm_waits import (
    CHECKED_VERSIONS,
    IDLE_PULL_S,
    PULL_BACKOFF_CAP_S,
    PULL_INITIAL_BACKOFF_S,
    REPLY_WAIT_S,
    patch_pull_backoff,
    patch_supernode_waits,
)

#: the shape of Flower 1.41's SuperNode loop, as far as the patch relies on it
_LOOP = """
import time

def idle():
    time.sleep(3)

def reply():
    time.sleep(0.5)

def other():
    time.sleep(0.25)
    return time.monotonic()
"""

#: the shape of Flower 1.41's object pull helpers
_PULLS = """
def pull_objects(ids, fn, *, initial_backoff=1, backoff_cap=10):
    return initial_backoff, backoff_cap

def pull_and_inflate_object_from_tree(tree, fn, confirm, *, initial_backoff=1, backoff_cap=10):
    return initial_backoff, backoff_cap
"""


def _module(tmp_path: Path, name: str, source: str) -> types.ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def test_the_supernode_loop_gets_the_short_waits_and_keeps_every_other_sleep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = _module(tmp_path, "loop_ok", _LOOP)
    assert patch_supernode_waits(loop, "1.41.0") is None
    slept = _recorded_sleeps(monkeypatch)
    loop.idle()
    loop.reply()
    assert isinstance(loop.other(), float)  # the rest of `time` is the real module
    assert slept == [IDLE_PULL_S, REPLY_WAIT_S, 0.25]
    assert loop.time is not time and sys.modules["time"] is time  # only this module changed


def test_an_unchecked_version_or_changed_loop_keeps_flowers_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = _module(tmp_path, "loop_new", _LOOP)
    why = patch_supernode_waits(loop, "1.42.0")
    assert why is not None and "flwr 1.42.0 is not one of the checked versions" in why
    assert loop.time is time
    changed = _module(tmp_path, "loop_changed", _LOOP.replace("time.sleep(3)", "time.sleep(2)"))
    why = patch_supernode_waits(changed, "1.41.0")
    assert why is not None and "has no time.sleep(3) any more" in why
    slept = _recorded_sleeps(monkeypatch)
    loop.idle()
    changed.reply()
    assert slept == [3, 0.5]


def test_object_pulls_retry_sooner_only_where_the_stock_defaults_are(tmp_path: Path) -> None:
    pulls = _module(tmp_path, "pulls_ok", _PULLS)
    assert patch_pull_backoff(pulls, "1.41.0") is None
    expected = (PULL_INITIAL_BACKOFF_S, PULL_BACKOFF_CAP_S)
    assert pulls.pull_objects([], None) == expected
    assert pulls.pull_and_inflate_object_from_tree(None, None, None) == expected
    other = _module(tmp_path, "pulls_other", _PULLS.replace("backoff_cap=10", "backoff_cap=5"))
    why = patch_pull_backoff(other, "1.41.0")
    assert why is not None and "no stock backoff defaults" in why
    assert other.pull_objects([], None) == (1, 5)  # neither function was changed
    assert patch_pull_backoff(_module(tmp_path, "pulls_new", _PULLS), "2.0.0") is not None


def test_the_installed_flower_is_a_checked_version_with_the_waits_in_place() -> None:
    # what makes the patches apply in a deployment (the e2e test reads the SuperNode's log line)
    import flwr
    import flwr.supercore.inflatable.inflatable_utils as inflatable
    import flwr.supernode.start_client_internal as loop

    assert str(flwr.__version__).startswith(CHECKED_VERSIONS)
    source = inspect.getsource(loop)
    assert "time.sleep(3)" in source and "time.sleep(0.5)" in source
    for function in (inflatable.pull_objects, inflatable.pull_and_inflate_object_from_tree):
        assert function.__kwdefaults__ is not None
        # this process runs no SuperNode: the stock defaults are untouched here
        assert function.__kwdefaults__["initial_backoff"] == 1
        assert function.__kwdefaults__["backoff_cap"] == 10


def test_the_supernode_command_goes_through_the_entry_unless_stock() -> None:
    argv = ["/venv/bin/flower-supernode", "--superlink", "127.0.0.1:9092", "--port", "9094"]
    fast = supernode_command(argv, fast=True)
    assert fast[:3] == [sys.executable, "-m", "fl_node.flower._warm_supernode"]
    assert fast[3:] == argv[1:]
    assert supernode_command(argv, fast=False) == argv
    assert fast_supernode({}) and not fast_supernode({INTERVALS_ENV: "subprocess"})
    with pytest.raises(ValueError, match=rf"{INTERVALS_ENV}='fast'.*'warm'.*'subprocess'"):
        fast_supernode({INTERVALS_ENV: "fast"})
