"""Runs submitted through the Control API from this process (a real run: the e2e tests)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from fl_node.flower._project import write_app_project
from fl_node.flower._warm_submit import _IMPORTS, prefetch_imports, start_run


def test_the_imports_are_prefetched_in_a_background_thread() -> None:
    thread = prefetch_imports()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert all(module in sys.modules for module in _IMPORTS)


def test_a_superlink_that_does_not_answer_ends_the_run_with_a_logged_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])  # closed again: nothing listens there
    app = write_app_project(tmp_path / "app", {"num-rounds": 1})
    handle = start_run(f"127.0.0.1:{port}", None, app, tmp_path / "run.log")
    assert handle.wait(timeout=120) == 1
    assert handle.poll() == 1 and handle.run_id is None
    log = (tmp_path / "run.log").read_text()
    assert f"to the SuperLink at 127.0.0.1:{port} failed: " in log
    assert "Successfully started run" not in log
    handle.kill()  # no run to stop: a no-op
