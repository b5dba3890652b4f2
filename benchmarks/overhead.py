"""Wall-time overhead of the settlement layer on Flower's deployment engine.

One run, one deployment: a SuperLink (TLS, SuperNode authentication) and one
``fedsettle node run`` daemon per silo, each supervising its own ``flower-supernode``, all on
loopback as separate processes, with the configs ``fedsettle coordinator init --runtime
deployment`` writes (bundled digits, Dirichlet partitions, seed 0). On that deployment it times,
in the order plain, settled, plain:

plain
    ``flwr run <app> --stream`` of a plain FedAvg session: identity query, then ``--rounds`` FL
    rounds with equal-effort assignments (every silo trains on all its data, unpaced, weighted by
    its sample count). No strategy phase, no chain.
settled
    The same session run by the real coordinator: anvil spawned, ``fedsettle coordinator run
    --devnet`` (deploys FedSettle, opens a round, waits for the daemons' deposits, runs
    distributed best response over the daemons' HTTP agents, trains through the same ServerApp
    with the strategy phase's assignments, sends attested assignments, waits for the daemons'
    ``contributionSubmit``, calls ``payoffCalculate``), then until every daemon withdrew.
settled-warm
    The round a running coordinator pays: ``fedsettle coordinator run --rounds 2`` on the
    settled session's chain (a daemon stops on a chain replaced under it), timed from the first
    round's result to the second round's last withdrawal. No process start-up, anvil spawn,
    connection or SuperLink step is in it.
plain-plan
    A plain session that trains the settled-warm round's own plan (its assignments file: d,
    paced f, x weights) with no chain and no coordinator: the settled Flower run without the
    settlement, so the direct comparison leaves the mechanism's paced training out.

The daemons poll the chain every ``--daemon-poll`` seconds (default 2.0: node.toml's default and
what ``coordinator init`` writes; polling much faster on one shared machine slows the Flower run
itself: docs/overhead.md).

The plain and settled sessions run the **warm path**: every SuperNode with ``--isolation
process`` next to a warm ClientApp executor (``fl_node.flower._warm_executor``) and started
through ``fl_node.flower._warm_supernode`` (Flower 1.41's idle pull, reply wait and object pull
backoff shortened), the SuperLink with ``--isolation process`` next to a warm ServerApp executor
(``fl_node.flower._warm_serverapp``) and Flower's in-memory state (``superlink_state =
"memory"``, the coordinator's default), each run submitted through the Control API from the
launcher's process (``fl_node.flower._warm_submit``; this benchmark for plain sessions, the
coordinator for the settled one). For the speed-up, the same run also times **baseline** plain
sessions before and after the others as the product ran before issue 11: Flower's stock
processes on a SQLite SuperLink state. The SuperLink (on a new SQLite file) and the daemons are
restarted with ``FEDSETTLE_CLIENTAPP_ISOLATION``, ``FEDSETTLE_SERVERAPP_ISOLATION`` and
``FEDSETTLE_SUPERNODE_INTERVALS`` set to ``subprocess`` (a fresh ``flwr-clientapp`` per message,
a fresh ``flwr-serverapp`` per run, the ``flwr run`` CLI). One **warm-file** session (the warm
processes on a SQLite state) splits the gain between the processes and the state. One
**plain-cli** session submits the plain run as a plain Flower operator does, with ``flwr run
<app> --stream`` (a new process): its start-up (``flwr_cli_start_s``) is what the operator's own
command costs, next to the coordinator process's. Order baseline-1, plain-1, settled,
settled-warm, plain-2, plain-plan, plain-cli, warm-file, baseline-2 (``--no-baseline`` skips
the baselines and warm-file).
``session_time_ratio_warm_vs_baseline`` = mean plain / mean baseline
session of the same run, the figure that counts on a shared, noisy machine; each session records
its load average.

Deployment-engine setup (SuperLink start, SuperNode key registration, daemons and SuperNodes
start, one warm-up session) is excluded from both. The coordinator re-registers the SuperNode
keys at its start (its ``superlink`` step; the keys are already registered, so it only confirms
them): that step is deployment setup too and is subtracted from the settled session.

Figures (``summary``): ``settlement_s`` = settled session - its Flower run. The coordinator
submits that run before its contract step (its ``submit`` step); the ServerApp identifies the
silos while the round opens and they deposit, and then waits for the strategy phase's plan.
Its Flower run (``flower_run_s``) is the submission-to-``result.json`` time less that wait
(``plan_wait_s``). Everything else in the session is the settlement layer's: anvil's spawn,
the coordinator process, chain transactions, the strategy phase where it is not hidden behind
the run's start, the waits for the daemons. ``overhead_pct`` = 100 * ``settlement_s`` / mean
plain session; ``direct_overhead_pct`` = 100 * (settled session - mean plain session) / mean
plain session (the plain difference: it gains from the coordinator not waiting for Flower's own
end of a run whose result is written, which a plain session does, and loses by the settled
run's training paced to the equilibrium's compute levels; +1.6% and +27% in two runs of session
6); ``ratio`` = settled session / mean plain session; ``warm_round`` the same figures for the
settled-warm round, with ``direct_vs_plan_pct`` its session against plain-plan's. Every session
also records the machine's CPU contention (load, busy %, the daemons' own CPU seconds), since
other jobs on a shared machine move Flower's phases by many seconds.

Prints a JSON document and writes it to ``benchmarks/results/overhead.json``.

Usage: ``python benchmarks/overhead.py [--silos 3] [--rounds 5] [--out PATH] [--workdir DIR]
[--no-baseline]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

# `python benchmarks/overhead.py` puts this directory first on sys.path, where
# benchmarks/solver.py would shadow the `solver` package the coordinator imports.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE]

from fl_node.coordinator import (  # noqa: E402
    ConsortiumConfig,
    ScaffoldOptions,
    coordinator_run_config,
    load_consortium_config,
    scaffold,
    superlink_argv,
)
from fl_node.coordinator._deployment import PLAN_FILE  # noqa: E402
from fl_node.coordinator.flower_hooks import HOOKS_REF  # noqa: E402
from fl_node.daemon import ActionLog, ChainSettings, load_node_config  # noqa: E402
from fl_node.flower._warm_executor import ISOLATION_ENV  # noqa: E402
from fl_node.flower._warm_serverapp import (  # noqa: E402
    SERVERAPP_ISOLATION_ENV,
    serverapp_executor_argv,
)
from fl_node.flower._warm_submit import start_run  # noqa: E402
from fl_node.flower._warm_supernode import INTERVALS_ENV  # noqa: E402
from fl_node.flower.deploy import (  # noqa: E402
    CONNECTION,
    ManagedProcess,
    RunResult,
    flower_env,
    generate_node_key_pair,
    generate_tls_files,
    start_process,
    toml_value,
    wait_for_port,
    write_app_project,
)
from settlement import AnvilBackend, SettlementClient  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "overhead.json"
#: the switches of every warm part (``warm`` or ``subprocess``, the stock Flower processes)
MODE_ENVS = (ISOLATION_ENV, SERVERAPP_ISOLATION_ENV, INTERVALS_ENV)
BIN = Path(sys.executable).parent
TARGET_PCT = 10.0
#: the baseline's SuperLink state: the SQLite file the coordinator ran its SuperLink on before
#: ``superlink_state`` (and its in-memory default) existed
BASELINE_STATE = "file"

#: node.toml's default chain poll interval (also what `coordinator init` writes): three daemons
#: polling much faster on this one machine slow the Flower run itself (see docs/overhead.md).
DAEMON_POLL_S: float = next(
    f.default for f in dataclasses.fields(ChainSettings) if f.name == "poll_interval_s"
)  # type: ignore[assignment]

#: coordinator steps that are chain transactions or the strategy phase (the settlement layer)
SETTLEMENT_STEPS = (
    "connect", "contract", "open", "submit", "deposits", "strategy", "assign", "reports",
)  # fmt: skip
SETTLE_STEP = "settle"


def _log(message: str) -> None:
    print(f"[overhead {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _free_block(count: int) -> int:
    """The first of ``count`` consecutive TCP ports on 127.0.0.1 that are free right now."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + count > 65535:
            continue
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) one live process used so far, from ``/proc``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine so far, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class _Meter:
    """CPU contention during one session: machine load, the daemons' own CPU, our children's."""

    def __init__(self, daemon_pids: list[int]) -> None:
        self.daemon_pids = daemon_pids
        self.load_start = os.getloadavg()[0]
        self.jiffies = _machine_jiffies()
        self.daemons = sum(_proc_cpu_s(pid) for pid in daemon_pids)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children = usage.ru_utime + usage.ru_stime

    def read(self, **extra_cpu_s: float) -> dict[str, Any]:
        busy, total = _machine_jiffies()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "load_avg_1m_start": round(self.load_start, 2),
            "load_avg_1m_end": round(os.getloadavg()[0], 2),
            # every process on the machine, this benchmark's included (100 = all cores busy)
            "machine_cpu_busy_pct": round(
                100.0 * (busy - self.jiffies[0]) / max(total - self.jiffies[1], 1), 1
            ),
            # the daemons' own processes (chain polling, HTTP agent), not their SuperNodes
            "daemons_cpu_s": round(
                sum(_proc_cpu_s(pid) for pid in self.daemon_pids) - self.daemons, 2
            ),
            # the flwr CLI (plain) or the coordinator process and its flwr CLIs (settled)
            "launcher_cpu_s": round(usage.ru_utime + usage.ru_stime - self.children, 2),
            **{k: round(v, 2) for k, v in extra_cpu_s.items()},
        }


class Bench:
    """The deployment (SuperLink + daemons with SuperNodes) and the timed sessions on it."""

    def __init__(
        self, workdir: Path, silos: int, rounds: int, daemon_poll: float | None = None
    ) -> None:
        self.workdir = workdir
        self.silos = silos
        self.rounds = rounds
        self.daemon_poll = daemon_poll
        self.cfg_dir = workdir / "cfg"
        self.logs = workdir / "logs"
        self.anvil_port = _free_block(1)
        self.superlink: ManagedProcess | None = None
        self.serverapp_executor: ManagedProcess | None = None
        self.creds = self.cfg_dir / "credentials"
        self._superlinks = 0
        #: (isolation, superlink_state) of the running SuperLink
        self.superlink_mode: tuple[str, str] | None = None
        self.daemons: list[subprocess.Popen[bytes]] = []
        self.env = flower_env(workdir / "flwr-home")
        self.config: ConsortiumConfig | None = None
        self.isolation = "warm"
        self._runs = 0
        #: the first settled session's anvil, kept for the next ones (closed at teardown)
        self.chain: AnvilBackend | None = None

    # ------------------------------------------------------------------ setup
    def setup(self) -> dict[str, float]:
        """Write configs, credentials and the ``flwr`` connection (the SuperLink starts with
        the daemons of each mode, :meth:`start_superlink`)."""
        times: dict[str, float] = {}
        t = time.perf_counter()
        link = _free_block(1)
        options = ScaffoldOptions(
            silos=self.silos,
            rpc_url=f"http://127.0.0.1:{self.anvil_port}",
            rounds=self.rounds,
            runtime="deployment",
            superlink_port=link,
            supernode_base_port=_free_block(self.silos),
            base_port=_free_block(self.silos),
        )
        scaffold(self.cfg_dir, options)
        self.daemon_poll = self._set_daemon_poll(self.daemon_poll)
        creds = self.creds = self.cfg_dir / options.credentials
        generate_tls_files(creds / "tls")
        for i in range(1, self.silos + 1):
            generate_node_key_pair(creds / "keys", f"supernode-{i}")
        consortium = self.cfg_dir / "consortium.toml"
        text = consortium.read_text(encoding="utf-8")
        # The benchmark owns the SuperLink, so both sessions run on the same one; the
        # coordinator only connects to it (and confirms the SuperNode keys are registered).
        patched = text.replace("start_superlink = true", "start_superlink = false")
        if patched == text:
            raise RuntimeError(f"{consortium} has no 'start_superlink = true' line to patch")
        consortium.write_text(patched, encoding="utf-8")
        self.config = load_consortium_config(consortium)
        settings = self.config.deployment
        assert settings is not None and settings.root_certificates is not None
        times["configs_s"] = time.perf_counter() - t

        t = time.perf_counter()
        home = self.workdir / "flwr-home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
            f"address = {toml_value(settings.superlink)}\n"
            f"root-certificates = {toml_value(settings.root_certificates)}\n",
            encoding="utf-8",
        )
        times["flwr_home_s"] = time.perf_counter() - t
        return times

    def start_superlink(self, isolation: str, state: str) -> float:
        """(Re)start the SuperLink in ``isolation`` mode (``warm``: ``--isolation process`` and
        a warm ServerApp executor; ``subprocess``: Flower's SuperExec and a fresh
        ``flwr-serverapp`` per run) with fresh ``state`` (``memory``: Flower's in-memory state,
        the coordinator's default; ``file``: a new SQLite file), and register the SuperNode
        keys."""
        assert self.config is not None and self.config.deployment is not None
        settings = self.config.deployment
        t = time.perf_counter()
        self.stop_superlink()
        creds = self.creds
        self._superlinks += 1
        self.superlink_mode = (isolation, state)
        # The coordinator's own command line for a SuperLink it starts, with the TLS files.
        argv = superlink_argv(
            dataclasses.replace(
                settings,
                superlink_state=state,
                ssl_certfile=creds / "tls" / "server.pem",
                ssl_keyfile=creds / "tls" / "server.key",
            ),
            self.workdir / f"superlink-{self._superlinks}.db",
            str(BIN / "flower-superlink"),
            warm_serverapp=isolation == "warm",
        )
        self.superlink = start_process(
            "superlink", argv, env=self.env, log_path=self.logs / "superlink.log", cwd=self.workdir
        )
        wait_for_port(settings.port, timeout=60.0, proc=self.superlink)
        if isolation == "warm":
            self.serverapp_executor = start_process(
                "serverapp-executor",
                serverapp_executor_argv(settings.host, settings.port, settings.root_certificates),
                env=self.env,
                log_path=self.logs / "serverapp-executor.log",
                cwd=self.workdir,
            )
        keys = [creds / "keys" / f"supernode-{i}.pub" for i in range(1, self.silos + 1)]
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            list(pool.map(self._register, keys))
        return time.perf_counter() - t

    @property
    def superlink_state(self) -> str | None:
        """The running SuperLink's state (``memory`` or ``file``), None before the first."""
        return self.superlink_mode[1] if self.superlink_mode else None

    def stop_superlink(self) -> None:
        """Stop the SuperLink and its ServerApp executor, if running."""
        for proc in (self.serverapp_executor, self.superlink):
            if proc is not None:
                proc.stop()
        self.serverapp_executor = self.superlink = None

    def mode_env(self) -> dict[str, str]:
        """This process's environment with every warm switch set to the current mode."""
        return {**os.environ, "PYTHONUNBUFFERED": "1", **dict.fromkeys(MODE_ENVS, self.isolation)}

    def start_daemons(self, isolation: str) -> float:
        """Start one ``fedsettle node run`` per silo, their SuperNodes in ``isolation`` mode
        (``warm`` or ``subprocess``: the ``MODE_ENVS`` switches); return seconds."""
        assert self.config is not None
        t = time.perf_counter()
        self.isolation = isolation
        env = self.mode_env()
        for i in range(1, self.silos + 1):
            with (self.logs / f"node-{i}.err").open("ab") as err:
                proc = subprocess.Popen(
                    [str(BIN / "fedsettle"), "node", "run", "--config",
                     str(self.cfg_dir / f"node-{i}.toml")],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                    env=env, cwd=self.workdir,
                )  # fmt: skip
            self.daemons.append(proc)
        agents = [s.endpoint for s in self.config.silos]
        _wait_for(lambda: all(self._agent_up(url) for url in agents), 120, "the daemons' agents")
        return time.perf_counter() - t

    def stop_daemons(self) -> None:
        """SIGTERM the daemons (each stops its SuperNode and executor) and wait for them."""
        for proc in self.daemons:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.daemons:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.daemons = []

    def _set_daemon_poll(self, seconds: float | None) -> float:
        """Set (or read) ``[chain].poll_interval_s`` of every node.toml; return the value."""
        pattern = re.compile(r"^poll_interval_s = (\S+)$", re.MULTILINE)
        values = set()
        for i in range(1, self.silos + 1):
            path = self.cfg_dir / f"node-{i}.toml"
            text = path.read_text(encoding="utf-8")
            match = pattern.search(text)
            if match is None:
                raise RuntimeError(f"{path} has no poll_interval_s line")
            if seconds is not None:
                text = pattern.sub(f"poll_interval_s = {seconds!r}", text, count=1)
                path.write_text(text, encoding="utf-8")
            values.add(float(seconds if seconds is not None else match.group(1)))
        return values.pop()

    def _register(self, public_key: Path) -> None:
        done = subprocess.run(
            [str(BIN / "flwr"), "supernode", "register", str(public_key), CONNECTION,
             "--format", "json"],
            env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        if not re.search(r'"node-id":\s*\d+', done.stdout):
            raise RuntimeError(
                f"registering {public_key} failed (exit {done.returncode}): "
                f"{done.stdout.strip()} {done.stderr.strip()}"
            )

    @staticmethod
    def _agent_up(url: str) -> bool:
        host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex((host, int(port))) == 0

    def teardown(self) -> None:
        self.stop_daemons()
        self.stop_superlink()
        if self.chain is not None:
            self.chain.close()
            self.chain = None

    # ------------------------------------------------------------------ sessions
    def plain(
        self,
        label: str,
        rounds: int | None = None,
        kind: str = "plain",
        plan: Path | None = None,
    ) -> dict[str, Any]:
        """One plain FedAvg session: ``flwr run --stream`` wall time and the ServerApp's phases.

        ``plan``: an assignments file of a settled run; the session then trains that plan
        (d, paced f, x weights: the coordinator's hooks read it at once) with no chain, no
        coordinator and no strategy phase."""
        assert self.config is not None
        self._runs += 1
        out = self.workdir / f"plain-{self._runs}"
        run_config = {
            **coordinator_run_config(self.config),
            "num-rounds": rounds or self.rounds,
            "min-nodes": self.silos,
            "node-wait-timeout": 120.0,
            "out-dir": str(out),
        }
        if plan is not None:
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(plan, out / PLAN_FILE)
            run_config.update({"hooks": HOOKS_REF, "assignments-file": str(out / PLAN_FILE)})
        app = write_app_project(out / "app", run_config)
        what = "FedAvg of the settled run's plan" if plan is not None else "plain FedAvg"
        _log(f"{label}: {what} session, {run_config['num-rounds']} rounds")
        meter = _Meter([d.pid for d in self.daemons])
        submitted = time.time()
        start = time.perf_counter()
        if self.isolation == "warm" and kind != "plain_cli":  # the Control API from here
            settings = self.config.deployment
            assert settings is not None
            handle = start_run(
                settings.superlink, settings.root_certificates, app, out / "flwr-run.log"
            )
            code = handle.wait(timeout=1800)
        else:
            with (out / "flwr-run.log").open("wb") as log:
                code = subprocess.run(
                    [str(BIN / "flwr"), "run", str(app), CONNECTION, "--stream"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=self.env, cwd=self.workdir, timeout=1800, check=False,
                ).returncode  # fmt: skip
        wall = time.perf_counter() - start
        contention = meter.read()
        result = out / "result.json"
        if code != 0 or not result.is_file():
            raise RuntimeError(f"{label}: flwr run failed; see {out / 'flwr-run.log'}")
        summary = json.loads(result.read_text(encoding="utf-8"))
        row: dict[str, Any] = {
            "label": label,
            "kind": kind,
            "isolation": self.isolation,
            "superlink_state": self.superlink_state,
            "wall_s": round(wall, 3),
            # from the submission (the CLI's spawn) to the ServerApp's first line
            "submit_to_session_start_s": _session_start(
                RunResult(code, wall, None, out, out / "flwr-run.log").events(), submitted
            ),
        }
        row.update(_flower_phases(summary, wall))
        row["contention"] = contention
        _log(f"{label}: {wall:.1f} s")
        return row

    def settled(self, label: str) -> dict[str, Any]:
        """The session with the whole settlement layer, from anvil's spawn to the last withdrawal."""
        assert self.config is not None
        out = self.workdir / "settled"
        out.mkdir(parents=True, exist_ok=True)
        _log(f"{label}: anvil + fedsettle coordinator run --devnet + daemons")
        marks: dict[str, float] = {}
        meter = _Meter([d.pid for d in self.daemons])
        start = time.perf_counter()
        chain = AnvilBackend(port=self.anvil_port, accounts=max(10, self.silos + 2),
                             tx_gas_limit=True)  # fmt: skip
        try:
            marks["anvil"] = time.perf_counter()
            self._coordinator_run(label, out)
            marks["coordinator"] = time.perf_counter()
            result = json.loads((out / "result.json").read_text(encoding="utf-8"))
            client = SettlementClient.at(chain, result["contract"])
            rid = int(result["round_id"])
            _wait_for(
                lambda: all(p.withdrawn for p in client.profiles(rid)), 300, "every withdrawal"
            )
            marks["withdrawn"] = time.perf_counter()
            contention = meter.read(anvil_cpu_s=_proc_cpu_s(chain.pid))
            roles = {self.config.operator.load().address.lower(): "operator"}
            roles.update({x.account.lower(): x.name for x in self.config.silos})
            txs = _chain_transactions(chain, roles)
        except BaseException:
            chain.close()
            raise
        # the daemons keep their records of this chain: later settled sessions run on it
        self.chain = chain
        row = self._settled_row(label, start, marks, result, txs)
        row["contention"] = contention
        _log(
            f"{label}: {row['wall_s']:.1f} s wall, {row['session_s']:.1f} s session, "
            f"{row['settlement_s']:.1f} s settlement"
        )
        return row

    def settled_warm(self, label: str) -> dict[str, Any]:
        """The second of two settlement rounds one ``fedsettle coordinator run --rounds 2``
        process runs back to back: the round a running coordinator pays.

        Its session runs from the first round's ``result-written`` (everything the process
        does between the rounds counts) to the later of its own ``result-written`` and its last
        ``withdrew`` (the daemons' action logs; both are wall-clock times of this machine)."""
        assert self.config is not None
        out = self.workdir / label
        out.mkdir(parents=True, exist_ok=True)
        _log(f"{label}: fedsettle coordinator run --rounds 2 --devnet + daemons")
        meter = _Meter([d.pid for d in self.daemons])
        # the settled session's chain: a daemon stops on a chain replaced under it
        chain = self.chain
        if chain is None:
            raise RuntimeError(f"{label}: runs on the chain of a settled session before it")
        state = self.config.state_dir
        logged = len(_actions(state))
        stdout = self._coordinator_run(label, out, "--rounds", "2")
        rounds = [json.loads(line)["round_id"] for line in stdout.splitlines()]
        if len(rounds) != 2:
            raise RuntimeError(f"{label}: expected two rounds, the coordinator printed {rounds}")
        result = json.loads((state / f"result-round-{rounds[1]}.json").read_text("utf-8"))
        client = SettlementClient.at(chain, result["contract"])
        _wait_for(lambda: all(p.withdrawn for p in client.profiles(rounds[1])), 300, "withdrawals")
        contention = meter.read(anvil_cpu_s=_proc_cpu_s(chain.pid))
        written = [e["time"] for e in _actions(state)[logged:] if e["event"] == "result-written"]
        withdrew = [
            e["time"]
            for i in range(1, self.silos + 1)
            for e in _actions(load_node_config(self.cfg_dir / f"node-{i}.toml").state_dir)
            if e["event"] == "withdrew" and e.get("round_id") == rounds[1]
        ]
        if len(written) != 2 or len(withdrew) != self.silos:
            raise RuntimeError(f"{label}: {len(written)} results, {len(withdrew)} withdrawals")
        end = max(written[1], *withdrew)
        session = end - written[0]
        steps = {k: float(v) for k, v in result["timings_s"].items()}
        run = result["training"]
        flower = _flower_run_s(result, steps)
        breakdown = {
            # from the first round's result to the second round's first step (Coordinator
            # state, the round's reset)
            "between_rounds": session - steps["total"] - (end - written[1]),
            **_step_parts(steps),
            "withdrawals_after_result": end - written[1],
        }
        row: dict[str, Any] = {
            "label": label,
            "kind": "settled_warm",
            "isolation": self.isolation,
            "superlink_state": self.superlink_state,
            "round_ids": rounds,
            "wall_s": round(session, 3),
            "session_s": round(session, 3),
            "training_step_s": round(steps["training"], 3),
            "flower_run_s": round(flower, 3),
            "plan_wait_s": round(float(run["plan_wait_s"]), 3),
            "settlement_s": round(session - flower, 3),
            "settlement_breakdown_s": {k: round(v, 3) for k, v in breakdown.items()},
            "coordinator_steps_s": steps,
            "strategy_phase": _phase_summary(result.get("strategy_phase")),
            "sum_R_wei": result["sum_R_wei"],
            "status": result["status"],
            "contention": contention,  # over both rounds of the process
        }
        summary = _training_run_summary(self.config, result)
        if summary is not None:
            row.update(_flower_phases(summary, flower))
        _log(f"{label}: {session:.1f} s session, {row['settlement_s']:.2f} s settlement")
        return row

    def _coordinator_run(self, label: str, out: Path, *extra: str) -> str:
        """``fedsettle coordinator run --devnet`` on the benchmark's consortium, its result in
        ``out``; return its stdout (one JSON line per round)."""
        with (out / "coordinator.err").open("wb") as err:
            done = subprocess.run(
                [str(BIN / "fedsettle"), "coordinator", "run", "--config",
                 str(self.cfg_dir / "consortium.toml"), "--devnet", "--quiet",
                 *extra, "--out", str(out / "result.json")],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                env=self.mode_env(), cwd=self.workdir, timeout=1800, check=False, text=True,
            )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(
                f"{label}: the coordinator exited {done.returncode}; see {out / 'coordinator.err'}"
            )
        return done.stdout

    def last_plan(self) -> Path:
        """The assignments file of the coordinator's latest Flower run."""
        assert self.config is not None
        runs = sorted((self.config.state_dir / "flower").glob(f"run-*/{PLAN_FILE}"),
                      key=lambda p: p.stat().st_mtime)  # fmt: skip
        if not runs:
            raise RuntimeError("no settled run wrote an assignments file yet")
        return runs[-1]

    def _settled_row(
        self,
        label: str,
        start: float,
        marks: dict[str, float],
        result: dict[str, Any],
        txs: dict[str, Any],
    ) -> dict[str, Any]:
        steps = {k: float(v) for k, v in result["timings_s"].items()}
        wall = marks["withdrawn"] - start
        coordinator_wall = marks["coordinator"] - marks["anvil"]
        setup = steps.get("superlink", 0.0)
        run = result.get("training") or {}
        flower = _flower_run_s(result, steps)
        breakdown = {
            "anvil_spawn": marks["anvil"] - start,
            # interpreter start, imports and config validation before the Coordinator exists,
            # plus writing the result and exiting
            "coordinator_process": coordinator_wall - steps["total"],
            **_step_parts(steps),
            "withdrawals": marks["withdrawn"] - marks["coordinator"],
        }
        session = wall - setup
        settlement = session - flower
        run_summary = _training_run_summary(self.config, result)
        row: dict[str, Any] = {
            "label": label,
            "kind": "settled",
            "isolation": self.isolation,
            "superlink_state": self.superlink_state,
            "wall_s": round(wall, 3),
            "deployment_setup_excluded_s": round(setup, 3),
            "session_s": round(session, 3),
            "training_step_s": round(steps["training"], 3),
            "flower_run_s": round(flower, 3),
            "plan_wait_s": round(float(run.get("plan_wait_s", 0.0)), 3),
            "settlement_s": round(settlement, 3),
            "settlement_breakdown_s": {k: round(v, 3) for k, v in breakdown.items()},
            "coordinator_steps_s": steps,
            "chain": txs,
            "strategy_phase": _phase_summary(result.get("strategy_phase")),
            "assignments": {
                s["name"]: {"d": s["d"], "f": s["f"], "x": s["x"], "R_wei": s["R_wei"]}
                for s in result["silos"]
            },
            "sum_R_wei": result["sum_R_wei"],
            "status": result["status"],
        }
        if run_summary is not None:
            row.update(_flower_phases(run_summary, flower))
        else:
            row["accuracy"] = result["accuracy"]
        return row


def _flower_phases(summary: dict[str, Any], wall: float) -> dict[str, Any]:
    """The Flower message phases of one session (from the ServerApp's ``result.json``)."""
    rounds = summary["history"]["rounds"]
    train = [float(r["train_seconds"]) for r in rounds]
    evaluation = [float(r["eval_seconds"]) for r in rounds]
    identity = float(summary["identity_seconds"])
    session = float(summary["seconds"])
    return {
        "server_session_s": round(session, 3),
        "identity_phase_s": round(identity, 3),
        "train_phases_s": [round(x, 3) for x in train],
        "central_eval_s": round(sum(evaluation), 3),
        "message_phases": 1 + len(train),
        "message_phases_s": round(identity + sum(train), 3),
        # the slowest silo's local training inside each train phase (the ClientApp's own timer)
        "local_train_max_s": [
            round(
                max((float(m["train-seconds"]) for m in r["train_metrics"].values()), default=0), 3
            )
            for r in rounds
        ],
        # flwr CLI start, app bundle upload, ServerApp process start and import, stream end
        "run_outside_session_s": round(wall - session, 3),
        "accuracy": [None if r["accuracy"] is None else round(r["accuracy"], 4) for r in rounds],
        "reporters_per_round": [len(r["reporters"]) for r in rounds],
    }


def _actions(state_dir: Path) -> list[dict[str, Any]]:
    """The action log of a coordinator's or a daemon's state dir."""
    return ActionLog(state_dir / "actions.jsonl", name="benchmark", stream=None).entries()


def _step_parts(steps: Mapping[str, float]) -> dict[str, float]:
    """A settled round's coordinator steps that belong to the settlement layer."""
    return {
        **{k: steps[k] for k in SETTLEMENT_STEPS if k in steps},
        "settle": steps.get(SETTLE_STEP, 0.0),
        # the coordinator's own time not inside a named step (state files, result reads)
        "coordinator_other": steps["total"] - sum(v for k, v in steps.items() if k != "total"),
    }


def _flower_run_s(result: Mapping[str, Any], steps: Mapping[str, float]) -> float:
    """Flower's own run in a settled round: from its submission (before the round opened) until
    the ServerApp wrote result.json, less the time it waited for the coordinator's plan."""
    run = result.get("training") or {}
    return float(run.get("seconds", steps["training"])) - float(run.get("plan_wait_s", 0.0))


def _session_start(events: list[dict[str, Any]], submitted: float) -> float | None:
    """Seconds from ``submitted`` (wall clock) to the ServerApp's ``session-start`` event."""
    start = next((e["time"] for e in events if e.get("event") == "session-start"), None)
    return None if start is None else round(float(start) - submitted, 3)


def _training_run_summary(
    config: ConsortiumConfig | None, result: dict[str, Any]
) -> dict[str, Any] | None:
    """The ServerApp's ``result.json`` of the coordinator's Flower run (its state dir)."""
    if config is None:
        return None
    runs = sorted((config.state_dir / "flower").glob("run-*/result.json"))
    if not runs:
        return None
    return dict(json.loads(runs[-1].read_text(encoding="utf-8")))


def _phase_summary(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if not doc:
        return None
    keep = ("converged", "sweeps", "queries", "messages", "seconds", "dropped")
    return {k: doc[k] for k in keep if k in doc}


def _chain_transactions(chain: AnvilBackend, roles: Mapping[str, str]) -> dict[str, Any]:
    """Every transaction on the devnet (anvil mines one block per transaction), by sender.

    ``roles`` maps lower-case addresses to names (operator, silos); others keep their address.
    """
    w3 = chain.web3()
    latest = int(w3.eth.block_number)
    count = 0
    gas = 0
    by_sender: dict[str, int] = {}
    for number in range(1, latest + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        gas += int(block["gasUsed"])
        for tx in block["transactions"]:
            count += 1
            address = str(cast(Mapping[str, Any], tx)["from"])
            sender = roles.get(address.lower(), address)
            by_sender[sender] = by_sender.get(sender, 0) + 1
    return {"transactions": count, "blocks": latest, "gas_used": gas, "by_sender": by_sender}


def _summarize(rows: list[dict[str, Any]], setup: dict[str, float]) -> dict[str, Any]:
    plain = [r for r in rows if r["kind"] == "plain"]
    settled = next(r for r in rows if r["kind"] == "settled")
    plain_wall = [r["wall_s"] for r in plain]
    plain_mean = statistics.fmean(plain_wall)
    settlement = settled["settlement_s"]
    session = settled["session_s"]
    return {
        "plain_session_s": plain_wall,
        "plain_session_mean_s": round(plain_mean, 3),
        "plain_session_spread_s": round(max(plain_wall) - min(plain_wall), 3),
        "settled_session_s": session,
        "settled_flower_run_s": settled["flower_run_s"],
        "settled_plan_wait_s": settled["plan_wait_s"],
        "settlement_s": settlement,
        # the same without anvil's spawn and the coordinator process's start-up
        "settlement_chain_and_strategy_s": round(
            settlement
            - settled["settlement_breakdown_s"]["anvil_spawn"]
            - settled["settlement_breakdown_s"]["coordinator_process"],
            3,
        ),
        "strategy_phase_s": settled["settlement_breakdown_s"].get("strategy"),
        # the Flower run alone: plain sessions (submission to the run's end) vs the
        # coordinator's (submission to result.json, less the wait for its plan)
        "flower_run_s": {"plain": plain_wall, "settled": settled["flower_run_s"]},
        "ratio": round(session / plain_mean, 4),
        "ratio_vs_each_plain": [round(session / w, 4) for w in plain_wall],
        "overhead_pct": round(100.0 * settlement / plain_mean, 2),
        # the plain difference of the two session times (noisy: the plain sessions alone spread
        # by plain_session_spread_s)
        "direct_overhead_pct": round(100.0 * (session - plain_mean) / plain_mean, 2),
        "settlement_share_of_settled_session_pct": round(100.0 * settlement / session, 2),
        "target_pct": TARGET_PCT,
        # direct: the settled session against the plain ones; decomposed: settlement_s
        "meets_target": {
            "direct": 100.0 * (session - plain_mean) / plain_mean < TARGET_PCT,
            "decomposed": 100.0 * settlement / plain_mean < TARGET_PCT,
        },
        **_flwr_cli(plain, [r for r in rows if r["kind"] == "plain_cli"], settlement, plain_mean),
        **_warm_round(
            [r for r in rows if r["kind"] == "settled_warm"],
            [r for r in rows if r["kind"] == "plain_plan"],
            plain_mean,
        ),
        "setup_excluded_s": {k: round(v, 3) for k, v in setup.items()},
        **_speedup(
            plain,
            [r for r in rows if r["kind"] == "baseline"],
            [r for r in rows if r["kind"] == "warm_file"],
        ),
    }


def _warm_round(
    warm: list[dict[str, Any]], plan: list[dict[str, Any]], plain_mean: float
) -> dict[str, Any]:
    """The settlement layer of a round in a running coordinator (``--rounds``): no process
    start-up, no anvil spawn, no connection or SuperLink step.

    ``plan``: the plain session that trained the same round's plan (d, paced f, x weights)
    without settlement. Against it the direct comparison leaves the mechanism's training out:
    ``plan_training_s`` = that session - the mean plain one is what the plan costs Flower,
    ``direct_vs_plan_pct`` what the settlement layer adds to the session on top."""
    if not warm:
        return {}
    row = warm[0]
    pct = 100.0 * row["settlement_s"] / plain_mean
    out: dict[str, Any] = {
        "session_s": row["session_s"],
        "flower_run_s": row["flower_run_s"],
        "plan_wait_s": row["plan_wait_s"],
        "settlement_s": row["settlement_s"],
        "overhead_pct": round(pct, 2),
        "direct_overhead_pct": round(100.0 * (row["session_s"] - plain_mean) / plain_mean, 2),
        "meets_target": pct < TARGET_PCT,
    }
    if plan:
        same = plan[0]["wall_s"]
        out["plain_plan_session_s"] = same
        out["plan_training_s"] = round(same - plain_mean, 3)
        out["direct_vs_plan_pct"] = round(100.0 * (row["session_s"] - same) / plain_mean, 2)
    return {"warm_round": out}


def _flwr_cli(
    plain: list[dict[str, Any]], cli: list[dict[str, Any]], settlement: float, plain_mean: float
) -> dict[str, Any]:
    """What starting a run with the ``flwr run`` CLI costs a plain Flower operator.

    The plain sessions submit from the benchmark's own process, which imported flwr long ago;
    an operator types ``flwr run <app> --stream``, a new process, as the settled session starts
    ``fedsettle coordinator run``. ``flwr_cli_start_s`` = the CLI session's submission to
    ``session-start`` less the in-process sessions' (the Flower rounds' noise does not enter).
    """
    lags = [r["submit_to_session_start_s"] for r in plain]
    if not cli or cli[0]["submit_to_session_start_s"] is None or None in lags:
        return {}
    start = cli[0]["submit_to_session_start_s"] - statistics.fmean(lags)
    return {
        "plain_cli_session_s": cli[0]["wall_s"],
        "flwr_cli_start_s": round(start, 3),
        # the settlement layer over what a plain operator's own command costs to start
        "settlement_over_flwr_cli_s": round(settlement - start, 3),
        "overhead_over_flwr_cli_pct": round(100.0 * (settlement - start) / plain_mean, 2),
    }


def _speedup(
    plain: list[dict[str, Any]],
    baseline: list[dict[str, Any]],
    warm_file: list[dict[str, Any]],
) -> dict[str, Any]:
    """Plain sessions on the warm path against the baseline sessions of the same run (Flower's
    stock processes on a SQLite SuperLink state): the figure that counts on a noisy machine;
    ``warm_file`` sessions split the gain between the processes and the state."""
    if not baseline:
        return {}
    new = statistics.fmean(r["wall_s"] for r in plain)
    old = statistics.fmean(r["wall_s"] for r in baseline)
    groups = {"warm": plain, "subprocess": baseline}
    if warm_file:
        groups["warm_file"] = warm_file
    phases = {
        kind: statistics.fmean(x for r in rows for x in r["train_phases_s"])
        for kind, rows in groups.items()
    }
    out = {
        "baseline_session_s": [r["wall_s"] for r in baseline],
        "baseline_session_mean_s": round(old, 3),
        "session_time_ratio_warm_vs_baseline": round(new / old, 4),
        "train_phase_mean_s": {k: round(v, 3) for k, v in phases.items()},
        "identity_phase_s": {
            k: [r["identity_phase_s"] for r in rows] for k, rows in groups.items()
        },
        "load_avg_1m_start": {
            r["label"]: r["contention"]["load_avg_1m_start"]
            for rows in groups.values()
            for r in rows
        },
    }
    if warm_file:
        # the warm processes with the baseline's SQLite SuperLink state: what the state costs
        mean = statistics.fmean(r["wall_s"] for r in warm_file)
        out["warm_file_session_s"] = [r["wall_s"] for r in warm_file]
        out["session_time_ratio_warm_file_vs_baseline"] = round(mean / old, 4)
        out["session_time_ratio_warm_vs_warm_file"] = round(new / mean, 4)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--silos", type=int, default=3, help="silos (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="FL rounds per session (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="result JSON path")
    parser.add_argument("--workdir", type=Path, help="keep configs and logs here (default: temp)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the 1-round warm-up session")
    parser.add_argument(
        "--daemon-poll",
        type=float,
        default=DAEMON_POLL_S,
        help=f"the daemons' [chain].poll_interval_s (default {DAEMON_POLL_S}, node.toml's "
        "default and what `coordinator init` writes)",
    )
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the baseline sessions (Flower's stock processes on a SQLite SuperLink "
        "state) run before and after the others, and the warm-file session",
    )
    args = parser.parse_args(argv)
    if args.silos < 2:
        parser.error(f"--silos {args.silos}: the settlement round needs at least 2 silos")
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: give at least 1 FL round")
    temp = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="fedsettle-overhead-")) if temp else args.workdir
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if not args.daemon_poll > 0:
        parser.error(f"--daemon-poll {args.daemon_poll}: give a positive number of seconds")
    bench = Bench(workdir, args.silos, args.rounds, args.daemon_poll)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []

    def daemons(isolation: str, state: str) -> None:
        bench.stop_daemons()
        mode = f"{isolation}_{state}"
        if (isolation, state) != bench.superlink_mode:
            # a SuperLink with fresh state, so the daemons' SuperNodes start after it
            setup[f"superlink_restart_{mode}_s"] = bench.start_superlink(isolation, state)
        setup[f"daemons_start_{mode}_s"] = bench.start_daemons(isolation)
        if not args.no_warmup:
            # the first session on fresh SuperNodes also waits for them to connect and
            # installs the app bundle on every node: keep it out of the comparison
            t = time.perf_counter()
            bench.plain(f"warm-up-{mode}", rounds=1)
            setup[f"warmup_session_{mode}_s"] = time.perf_counter() - t

    try:
        _log(f"setting up in {workdir}")
        setup = bench.setup()
        assert bench.config is not None and bench.config.deployment is not None
        state = bench.config.deployment.superlink_state
        if args.baseline:
            daemons("subprocess", BASELINE_STATE)
            rows.append(bench.plain("baseline-1", kind="baseline"))
        daemons("warm", state)
        rows += [bench.plain("plain-1"), bench.settled("settled")]
        # the second of two rounds in one coordinator process: what a running coordinator pays
        rows += [bench.settled_warm("settled-warm"), bench.plain("plain-2")]
        # the settled-warm round's own plan (d, paced f, x weights) without any settlement
        rows.append(bench.plain("plain-plan", kind="plain_plan", plan=bench.last_plan()))
        # as a plain Flower operator starts a run: `flwr run <app> --stream`, a new process
        rows.append(bench.plain("plain-cli", kind="plain_cli"))
        if args.baseline:
            if state != BASELINE_STATE:
                # the warm processes on the baseline's SQLite state: the state's share
                daemons("warm", BASELINE_STATE)
                rows.append(bench.plain("warm-file", kind="warm_file"))
            daemons("subprocess", BASELINE_STATE)
            rows.append(bench.plain("baseline-2", kind="baseline"))
    finally:
        bench.teardown()
    assert bench.config is not None
    fl = bench.config.fl
    doc = {
        "benchmark": "overhead",
        "config": {
            "silos": args.silos,
            "rounds": args.rounds,
            "dataset": fl.dataset,
            "alpha": fl.alpha,
            "seed": fl.seed,
            "epochs": fl.epochs,
            "lr": fl.lr,
            "runtime": "Flower deployment engine on loopback: SuperLink + one SuperNode per silo "
            "(supervised by its fedsettle node daemon), TLS with a self-signed CA, SuperNode "
            "authentication",
            "order": [r["label"] for r in rows],
            "clientapp_isolation": {r["label"]: r["isolation"] for r in rows},
            "daemon_poll_interval_s": bench.daemon_poll,
            "superlink_state": state,
            "python": platform.python_version(),
            "flwr": _version("flwr"),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
        },
        "summary": _summarize(rows, setup),
        "runs": rows,
        "total_benchmark_s": round(time.perf_counter() - started, 1),
    }
    text = json.dumps(doc, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    if temp:
        shutil.rmtree(workdir, ignore_errors=True)
    return doc


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
