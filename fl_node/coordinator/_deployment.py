"""The deployment runtime: the ServerApp on a Flower SuperLink the silos' SuperNodes join.

The coordinator (optionally) runs ``flower-superlink`` as a child with TLS and SuperNode
authentication, registers every silo's SuperNode public key (through the Control API, or
``flwr supernode register`` on the subprocess path), and submits the app with the ServerApp's
run config plus ``hooks = fl_node.coordinator.flower_hooks:hooks`` before the round opens
(:meth:`FlowerDeployment.begin_training`): the ServerApp starts and identifies the silos while
the round opens and they deposit, then waits for the assignments of the strategy phase, which
:meth:`FlowerDeployment.train` writes to the run's ``assignments.json`` (an abandoned round
writes an abort instead). The ServerApp writes ``result.json``; the node ids in it are mapped
back to silo names through the identity query's answers. The market (mechanism 3) has no
assignments: :meth:`FlowerDeployment.train_market` writes its
:class:`fl_node.market.MarketPlan` instead and submits the run with ``mechanism = "market"``.

By default the SuperLink runs ``--isolation process`` next to a warm ServerApp executor
(:mod:`fl_node.flower._warm_serverapp`) and the run is submitted through the Control API from this
process (:mod:`fl_node.flower._warm_submit`); ``$FEDSETTLE_SERVERAPP_ISOLATION=subprocess`` gives
Flower's own SuperExec with a fresh ``flwr-serverapp`` per run and ``flwr run <app> fedsettle
--stream``.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fl_node.coordinator._config import ConsortiumConfig, DeploymentSettings
from fl_node.coordinator._training import TrainingError, TrainingOutcome, coordinator_run_config

if TYPE_CHECKING:
    from fl_node.flower import Assignment
    from fl_node.market import MarketPlan

__all__ = ["FlowerDeployment", "PendingRun", "superlink_argv"]

#: the plan's file in a run's directory (see :mod:`fl_node.coordinator.flower_hooks`)
PLAN_FILE = "assignments.json"
#: the market session's plan in a run's directory
MARKET_FILE = "market-plan.json"
#: how often the coordinator looks at a run's progress
FINISH_POLL_S = 0.1
#: how long a withdrawn (or finished) run gets to end by itself before it is stopped
ABORT_WAIT_S = 10.0


@dataclass
class PendingRun:
    """A submitted Flower run: its directory, its ``Popen``-like handle and its follower."""

    out: Path
    proc: Any
    follower: _RoundFollower
    started: float
    #: its plan file is written (the plan, or an abort)
    planned: bool = False


def superlink_argv(
    settings: DeploymentSettings, database: Path, binary: str, *, warm_serverapp: bool = False
) -> list[str]:
    """The ``flower-superlink`` command line the coordinator runs for ``settings``.

    ``database`` is used only with ``superlink_state = "file"``; by default the SuperLink keeps
    Flower's in-memory state (see :attr:`DeploymentSettings.superlink_state`). With
    ``warm_serverapp`` it runs ``--isolation process``: the ServerApp runs are then taken by a
    warm executor (:func:`~fl_node.flower._warm_serverapp.serverapp_executor_argv`) that the
    caller starts next to it.
    """
    from fl_node.flower._warm_serverapp import superlink_isolation_args

    argv = [binary]
    if settings.insecure:
        argv.append("--insecure")
    else:
        argv += [
            "--ssl-ca-certfile", str(settings.root_certificates),
            "--ssl-certfile", str(settings.ssl_certfile),
            "--ssl-keyfile", str(settings.ssl_keyfile),
            "--enable-supernode-auth",
        ]  # fmt: skip
    return [
        *argv,
        "--disable-runtime-dependency-installation",
        *(["--database", str(database)] if settings.superlink_state == "file" else []),
        "--host", settings.host,
        "--port", str(settings.port),
        *superlink_isolation_args(warm_serverapp),
    ]  # fmt: skip


class FlowerDeployment:
    """A SuperLink connection (and, with ``start_superlink``, the SuperLink process)."""

    def __init__(
        self, config: ConsortiumConfig, workdir: Path, progress: Callable[..., None]
    ) -> None:
        from fl_node.flower._warm_serverapp import warm_serverapps
        from fl_node.flower.deploy import flower_env

        assert config.deployment is not None
        self.config = config
        self.settings: DeploymentSettings = config.deployment
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        self.env = flower_env(self.workdir / "flwr-home")
        self.superlink: Any = None
        self.serverapp_executor: Any = None
        self._runs = 0
        #: runs whose result is in while Flower still ends them (see :meth:`_finish_run`)
        self._tails: list[Any] = []
        try:
            #: the warm ServerApp path (executor next to the SuperLink, Control API submission)
            self.warm = warm_serverapps(self.env)
        except ValueError as exc:  # names the variable and its two values
            raise TrainingError(str(exc)) from None

    def _bin(self, name: str) -> str:
        return str(Path(sys.executable).parent / name)

    def start(self) -> None:
        """Start the SuperLink (if configured), write the connection, register SuperNodes."""
        from fl_node.flower.deploy import CONNECTION, start_process, toml_value, wait_for_port

        s = self.settings
        warm = self.warm
        self._withdraw_stale_plans()
        if warm:
            from fl_node.flower._warm_submit import prefetch_imports

            prefetch_imports()  # overlaps the chain steps before the Flower run
        for label, path in (
            ("root_certificates", s.root_certificates),
            ("ssl_certfile", s.ssl_certfile),
            ("ssl_keyfile", s.ssl_keyfile),
        ):
            if path is not None and not Path(path).is_file():
                raise TrainingError(
                    f"consortium.toml: [runtime.deployment].{label} = {str(path)!r} does not "
                    "exist; create the TLS files (`fedsettle coordinator credentials`) or fix it"
                )
        home = self.workdir / "flwr-home"
        home.mkdir(parents=True, exist_ok=True)
        lines = [
            f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]',
            f"address = {toml_value(s.superlink)}",
        ]
        lines.append(
            "insecure = true"
            if s.insecure
            else f"root-certificates = {toml_value(str(s.root_certificates))}"
        )
        (home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if s.start_superlink:
            from fl_node.flower._warm_serverapp import serverapp_executor_argv

            argv = superlink_argv(
                s,
                self.workdir / "superlink.db",
                self._bin("flower-superlink"),
                warm_serverapp=warm,
            )
            self.superlink = start_process(
                "superlink",
                argv,
                env=self.env,
                log_path=self.workdir / "superlink.log",
                cwd=self.workdir,
            )
            wait_for_port(s.port, timeout=60.0, proc=self.superlink)
            if warm:
                ca = None if s.insecure else s.root_certificates
                self.serverapp_executor = start_process(
                    "serverapp-executor",
                    serverapp_executor_argv(s.host, s.port, ca),
                    env=self.env,
                    log_path=self.workdir / "serverapp-executor.log",
                    cwd=self.workdir,
                )
            self.progress(
                "superlink-started",
                pid=self.superlink.pid,
                port=s.port,
                serverapp_executor=None if not warm else self.serverapp_executor.pid,
            )
        if not s.insecure:
            # each registration is a slow CLI process: run them side by side
            silos = self.config.silos
            with ThreadPoolExecutor(max_workers=len(silos)) as pool:
                list(pool.map(lambda x: self._register(x.name, x.supernode_public_key), silos))

    def _withdraw_stale_plans(self) -> None:
        """Abort the runs a previous coordinator process submitted but never gave a plan.

        Their ServerApps (on a SuperLink that outlived that process) would otherwise wait for
        the plan until ``run_timeout_s``; this process has submitted nothing yet.
        """
        from fl_node.coordinator.flower_hooks import write_abort

        for run in sorted(self.workdir.glob("run-*")):
            if (run / "app").is_dir() and not any(
                (run / name).exists() for name in (PLAN_FILE, MARKET_FILE, "result.json")
            ):
                write_abort(run / PLAN_FILE, "the coordinator that submitted this run restarted")
                self.progress("training-withdrawn", run=run.name, reason="coordinator restarted")

    def _register(self, name: str, public_key: Path | None) -> None:
        """Register ``name``'s SuperNode key: through the Control API from this process on the
        warm path (:func:`~fl_node.flower._warm_submit.register_supernode`), else with
        ``flwr supernode register``."""
        from fl_node.flower.deploy import CONNECTION

        if public_key is None or not Path(public_key).is_file():
            raise TrainingError(
                f"consortium.toml: [[silos]] {name}: supernode_public_key = "
                f"{str(public_key)!r} does not exist; point it at the SuperNode's .pub key"
            )
        if self.warm:
            from fl_node.flower._warm_submit import register_supernode

            s = self.settings
            try:
                node_id = register_supernode(
                    s.superlink, None if s.insecure else s.root_certificates, Path(public_key)
                )
            except (ValueError, RuntimeError) as exc:
                raise TrainingError(f"registering {name}'s SuperNode key failed: {exc}") from None
            if node_id is None:
                self.progress("supernode-registered", silo=name, note="already registered")
            else:
                self.progress("supernode-registered", silo=name, node_id=node_id)
            return
        done = subprocess.run(
            [self._bin("flwr"), "supernode", "register", str(public_key), CONNECTION,
             "--format", "json"],
            env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        text = done.stdout + done.stderr
        match = re.search(r'"node-id":\s*(\d+)', text)
        if match:
            self.progress("supernode-registered", silo=name, node_id=int(match.group(1)))
        elif "already" in text.lower():
            self.progress("supernode-registered", silo=name, note="already registered")
        else:
            raise TrainingError(
                f"registering {name}'s SuperNode key {public_key} failed (exit "
                f"{done.returncode}): {text.strip()[-500:]}"
            )

    def _start_run(
        self, min_nodes: int, prepare: Callable[[Path], Mapping[str, Any]]
    ) -> PendingRun:
        """Submit one Flower run; ``prepare(out)`` writes what the ServerApp reads into the run's
        directory and returns the run config keys (over the coordinator's) that name it."""
        from fl_node.flower.deploy import write_app_project

        self._runs += 1
        out = self.workdir / f"run-{int(time.time())}-{self._runs}"
        out.mkdir(parents=True, exist_ok=True)
        keys = prepare(out)
        run_config = {
            **coordinator_run_config(self.config),
            "min-nodes": min_nodes,
            "node-wait-timeout": self.settings.node_wait_timeout_s,
            "out-dir": str(out),
            **keys,
        }
        app = write_app_project(out / "app", run_config)
        log_path = out / "flwr-run.log"
        started = time.perf_counter()
        proc = self._submit(app, log_path)
        return PendingRun(out, proc, _RoundFollower(out / "progress.jsonl", self.progress), started)

    def _finish_run(self, run: PendingRun) -> tuple[dict[str, Any], float]:
        """Wait for the run's ``result.json``; return it and the run's wall time.

        The run is done for the coordinator when the ServerApp logs ``session-end`` (after it
        wrote ``result.json``): Flower's own end of the run (the ServerApp process exits, the
        SuperLink marks the run finished, the log stream notices) takes another 1.4-1.6 s here,
        which the coordinator spends on the assignments and settlement instead.
        """
        proc, follower, log_path = run.proc, run.follower, run.out / "flwr-run.log"
        deadline = time.monotonic() + self.settings.run_timeout_s
        while not follower.ended and proc.poll() is None:  # each FL round logged as it ends
            follower.poll()
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise TrainingError(
                    "the Flower run did not finish within [runtime.deployment]."
                    f"run_timeout_s = {self.settings.run_timeout_s}; see {log_path}"
                )
            time.sleep(FINISH_POLL_S)
        follower.poll()
        seconds = time.perf_counter() - run.started
        result = run.out / "result.json"
        if not result.is_file():
            raise TrainingError(
                f"the Flower run wrote no {result} (flwr exit code {proc.poll()}); see "
                f"{log_path} and {self.workdir / 'superlink.log'}"
            )
        self._tails.append(proc)
        return json.loads(result.read_text(encoding="utf-8")), seconds

    def begin_training(self, silos: int) -> PendingRun:
        """Submit the training run before its plan exists (before the round opens).

        The ServerApp identifies the silos as soon as all ``silos`` SuperNodes are connected,
        then waits (at most ``[runtime.deployment].run_timeout_s``) for :meth:`train` to write
        the plan, or for :meth:`abort_training`; the Flower run's start-up and identity query
        thereby overlap the deposits and the strategy phase.
        """
        from fl_node.coordinator.flower_hooks import HOOKS_REF

        def prepare(out: Path) -> dict[str, Any]:
            return {
                "hooks": HOOKS_REF,
                "assignments-file": str(out / PLAN_FILE),
                "plan-wait-timeout": self.settings.run_timeout_s,
            }

        return self._start_run(silos, prepare)

    def abort_training(self, run: PendingRun, reason: str) -> None:
        """Withdraw the plan of a run from :meth:`begin_training`; wait briefly for it to end."""
        from fl_node.coordinator.flower_hooks import write_abort

        write_abort(run.out / PLAN_FILE, reason)
        run.planned = True
        try:
            run.proc.wait(timeout=ABORT_WAIT_S)
        except subprocess.TimeoutExpired:
            # StopRun: best effort, the coordinator is ending the round (or failing) already
            with contextlib.suppress(Exception):
                run.proc.kill()
        self.progress("training-withdrawn", run=run.out.name, reason=reason)

    def train(self, plan: Mapping[str, Assignment], pending: PendingRun) -> TrainingOutcome:
        """Train the silos in ``plan`` (by name) in ``pending``, the run from
        :meth:`begin_training`: write its plan, wait for its result."""
        from fl_node.coordinator.flower_hooks import write_assignments

        write_assignments(pending.out / PLAN_FILE, plan)
        pending.planned = True
        summary, seconds = self._finish_run(pending)
        names = {int(n): ident["name"] for n, ident in summary["identities"].items()}
        history = summary["history"]
        for record in history["rounds"]:  # any round the progress file did not show
            pending.follower.emit(record)
        return TrainingOutcome(
            completed=[names[int(n)] for n in history["completed"] if int(n) in names],
            dropped={names.get(int(n), str(n)): why for n, why in summary["dropped"].items()},
            accuracy=list(history["accuracy"]),
            loss=list(history["loss"]),
            seconds=seconds,
            history=history,
            leave_one_out={
                names[int(n)]: float(v)
                for n, v in history.get("leave_one_out", {}).items()
                if int(n) in names
            },
            plan_wait_s=pending.follower.plan_wait_s,
        )

    def _submit(self, app: Path, log_path: Path) -> Any:
        """Start the run: through the Control API from this process on the warm path
        (:func:`~fl_node.flower._warm_submit.start_run`), else ``flwr run --stream``."""
        from fl_node.flower._warm_submit import start_run
        from fl_node.flower.deploy import CONNECTION

        s = self.settings
        if self.warm:
            return start_run(
                s.superlink, None if s.insecure else s.root_certificates, app, log_path
            )
        with log_path.open("wb") as log:
            return subprocess.Popen(
                [self._bin("flwr"), "run", str(app), CONNECTION, "--stream"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.env, cwd=self.workdir,
            )  # fmt: skip

    def train_market(self, plan: MarketPlan) -> dict[str, Any]:
        """Submit one Flower run of the market session ``plan`` (the ServerApp's
        :func:`fl_node.flower.run_market_coordinator`); return its ``result.json`` document.

        Raises
        ------
        TrainingError
            If the session stopped (a silo missing or dropped, a size that differs from its
            report): the ServerApp's reason.
        """

        def prepare(out: Path) -> dict[str, Any]:
            plan.write(out / MARKET_FILE)
            return {"mechanism": "market", "market-file": str(out / MARKET_FILE)}

        summary, seconds = self._finish_run(self._start_run(plan.market.n, prepare))
        if summary.get("error") or "history" not in summary:
            raise TrainingError(
                f"the market session on the deployment runtime stopped: "
                f"{summary.get('error', 'no history in result.json')}"
            )
        summary["seconds"] = seconds
        return dict(summary)

    def stop(self) -> None:
        """Stop the SuperLink (and its ServerApp executor) if this process started it.

        A ``flwr run`` CLI still streaming the end of a finished run is stopped too (the
        Control API client of the warm path is a thread of this process).
        """
        for proc in self._tails:
            if isinstance(proc, subprocess.Popen) and proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=ABORT_WAIT_S)
        self._tails.clear()
        if self.serverapp_executor is not None:
            self.serverapp_executor.stop()
            self.serverapp_executor = None
        if self.superlink is not None:
            self.superlink.stop()
            self.superlink = None


class _RoundFollower:
    """Follows the ServerApp's ``progress.jsonl`` and reports each FL round once, as it ends."""

    def __init__(self, path: Path, progress: Any) -> None:
        self.path = path
        self.progress = progress
        self.offset = 0
        self.seen: set[int] = set()
        #: the ServerApp logged ``session-end``: ``result.json`` is written
        self.ended = False
        #: when the ServerApp identified the silos and when it had their plan (its clock)
        self.times: dict[str, float] = {}

    @property
    def plan_wait_s(self) -> float:
        """How long the ServerApp waited for the plan after the identity query."""
        if "identified" not in self.times or "assigned" not in self.times:
            return 0.0
        return max(0.0, self.times["assigned"] - self.times["identified"])

    def poll(self) -> None:
        """Report the rounds that ended since the last poll (complete lines only)."""
        if not self.path.is_file():
            return
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        for line in chunk[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("event")
            if kind == "round-end":
                self.emit(event)
            elif kind in ("identified", "assigned"):
                self.times[kind] = float(event["time"])
            elif kind == "session-end":
                self.ended = True

    def emit(self, record: Mapping[str, Any]) -> None:
        rnd = int(record["round"])
        if rnd in self.seen:
            return
        self.seen.add(rnd)
        self.progress("fl-round", round=rnd, accuracy=record["accuracy"], loss=record["loss"])
