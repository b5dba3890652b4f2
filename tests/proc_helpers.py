"""Process helpers shared by the tests that start real processes (daemons, e2e, deployment)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FEDSETTLE = str(Path(sys.executable).parent / "fedsettle")


def free_port_block(count: int) -> int:
    """A port p such that p .. p+count-1 are free on 127.0.0.1 right now."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + count >= 65535:
            continue
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no block of free ports found")


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    poll: float = 0.1,
    alive: Callable[[], str | None] | None = None,
) -> Any:
    """Poll ``predicate`` until truthy (returned); fail on timeout, or as soon as ``alive``
    names a process that died."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        died = alive() if alive is not None else None
        if died is not None:
            raise AssertionError(f"while waiting for {what}: {died}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def gone(pid: int) -> bool:
    """Whether ``pid`` exited (a zombie not yet reaped by init counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] == "Z"


#: a parent process that starts ``argv`` with start_process, prints the child's pid, then waits
_PARENT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from fl_node.flower._processes import flower_env, start_process
    argv, workdir, name = json.loads(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    proc = start_process(name, argv, env=flower_env(workdir / "home"),
                         log_path=workdir / f"{name}.log", cwd=workdir)
    print(proc.pid, flush=True)
    time.sleep(600)
    """
)


def spawn_parent(
    argv: list[str], workdir: Path, name: str = "child"
) -> tuple[subprocess.Popen[str], int]:
    """Start a parent process that starts ``argv`` as ``name`` with ``start_process`` (as the
    coordinator and the daemons do; its log is ``workdir/<name>.log``); return the parent and
    the child's pid."""
    workdir.mkdir(parents=True, exist_ok=True)
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, json.dumps(argv), str(workdir), name],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert parent.stdout is not None
    line = parent.stdout.readline()
    assert line.strip().isdigit(), f"the parent printed {line!r}"
    return parent, int(line)
