"""One round of the distributed topology, every component its own process: anvil, ``fedsettle
coordinator init``, three ``fedsettle node run`` daemons and ``fedsettle coordinator run``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proc_helpers import FEDSETTLE, free_port_block, wait_for

from fl_node.daemon import load_node_config
from settlement import AnvilBackend, SettlementClient


@dataclass
class RoundRun:
    cfg: Path  # the configs `coordinator init` wrote
    result: dict[str, Any]
    client: SettlementClient
    node_states: list[Path]
    seconds: float  # from the daemons' start to the last withdrawal
    stderr: str  # the coordinator's
    stdout: str = ""  # the coordinator's: one JSON line per round


@contextmanager
def distributed_round(
    root: Path,
    *,
    init: Sequence[str] = (),
    run: Sequence[str] = (),
    env: dict[str, str] | None = None,
    before_run: Callable[[Path], None] | None = None,
) -> Iterator[RoundRun]:
    """Init 3 silos (extra ``init`` flags), run the daemons and the coordinator (``--devnet``
    plus ``run``), wait for every withdrawal of every round the coordinator printed and a clean
    SIGTERM exit of every daemon.

    ``before_run(cfg)`` runs once the daemons started, before ``coordinator run`` (e.g. a first
    coordinator that dies mid-round, so that ``coordinator run`` resumes it)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with AnvilBackend(accounts=6, tx_gas_limit=True) as chain:
        cfg = root / "cfg"
        subprocess.run(
            [FEDSETTLE, "coordinator", "init", "--out", str(cfg), "--silos", "3",
             "--rpc-url", chain.rpc_url, "--base-port", str(free_port_block(3)), *init],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        nodes = [load_node_config(cfg / f"node-{i}.toml") for i in (1, 2, 3)]
        start = time.monotonic()
        daemons = [
            subprocess.Popen(
                [FEDSETTLE, "node", "run", "--config", str(cfg / f"node-{i}.toml")],
                stdout=subprocess.DEVNULL,
                stderr=(root / f"node-{i}.err").open("wb"),
                env=env,
            )
            for i in (1, 2, 3)
        ]
        try:
            if before_run is not None:
                before_run(cfg)
            coordinator = subprocess.run(
                [FEDSETTLE, "coordinator", "run", "--config", str(cfg / "consortium.toml"),
                 "--devnet", "--out", str(root / "result.json"), *run],
                capture_output=True, text=True, timeout=300, env=env,
            )  # fmt: skip
            assert coordinator.returncode == 0, coordinator.stderr[-3000:]
            result = json.loads((root / "result.json").read_text())
            client = SettlementClient.at(chain, result["contract"])
            rounds = [json.loads(line)["round_id"] for line in coordinator.stdout.splitlines()]
            wait_for(
                lambda: all(p.withdrawn for r in rounds for p in client.profiles(r)),
                60,
                "every withdrawal",
            )
            seconds = time.monotonic() - start
            for proc in daemons:
                proc.send_signal(signal.SIGTERM)
            codes = [proc.wait(timeout=60) for proc in daemons]
            assert codes == [0, 0, 0]
            yield RoundRun(cfg, result, client, [n.state_dir for n in nodes], seconds,
                           coordinator.stderr, coordinator.stdout)  # fmt: skip
        finally:
            for proc in daemons:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def actions(state_dir: Path) -> list[dict[str, Any]]:
    """The lines of a daemon's or the coordinator's ``actions.jsonl`` (none if not written yet)."""
    path = state_dir / "actions.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.is_file() else []
