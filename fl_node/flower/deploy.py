"""Flower's deployment engine on loopback: one SuperLink and one SuperNode per silo.

Every component is a separate process; TLS (self-signed CA) and SuperNode authentication are on.
Each SuperNode runs with ``--isolation process`` next to its own warm ClientApp executor
(:mod:`fl_node.flower._warm_executor`) unless ``$FEDSETTLE_CLIENTAPP_ISOLATION`` is
``subprocess`` (Flower's fresh ``flwr-clientapp`` process per message), and starts through
:mod:`fl_node.flower._warm_supernode` (shorter idle-pull and reply waits) unless
``$FEDSETTLE_SUPERNODE_INTERVALS`` is ``subprocess``. The SuperLink runs with ``--isolation
process`` next to a warm ServerApp executor (:mod:`fl_node.flower._warm_serverapp`) unless
``$FEDSETTLE_SERVERAPP_ISOLATION`` is ``subprocess`` (a fresh ``flwr-serverapp`` per run).
The apps are the installed ``fl_node.flower.server_app:app`` / ``client_app:app``: each run
writes a small generated Flower app project (just a ``pyproject.toml`` naming them, with the
run's config) and submits it through the SuperLink's Control API from this process
(:mod:`fl_node.flower._warm_submit`), or with ``flwr run <app> <connection> --stream`` when
``$FEDSETTLE_SERVERAPP_ISOLATION`` is ``subprocess``.

Example
-------
>>> from fl_node.flower.deploy import LoopbackDeployment  # doctest: +SKIP
>>> nodes = [{"partition-id": i, "num-partitions": 3} for i in range(3)]
>>> with LoopbackDeployment("/tmp/fl", nodes) as dep:  # doctest: +SKIP
...     result = dep.run({"num-rounds": 2, "min-nodes": 3})
...     print(result.summary["history"]["accuracy"])
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fl_node.flower._certs import (
    NodeKeyPair,
    TlsFiles,
    generate_node_key_pair,
    generate_tls_files,
)
from fl_node.flower._coordinator import CoordinatorConfig
from fl_node.flower._processes import (
    ManagedProcess,
    flower_env,
    free_port,
    start_process,
    wait_for_port,
)
from fl_node.flower._project import RunResult, toml_value, write_app_project
from fl_node.flower._silo import load_silo
from fl_node.flower._warm_executor import executor_argv, warm_clientapps
from fl_node.flower._warm_serverapp import (
    serverapp_executor_argv,
    superlink_isolation_args,
    warm_serverapps,
)
from fl_node.flower._warm_submit import RunHandle, register_supernode, start_run
from fl_node.flower._warm_supernode import fast_supernode, supernode_command

__all__ = [
    "CONNECTION",
    "LoopbackDeployment",
    "ManagedProcess",
    "NodeKeyPair",
    "RunResult",
    "TlsFiles",
    "flower_env",
    "free_port",
    "generate_node_key_pair",
    "generate_tls_files",
    "start_process",
    "toml_value",
    "wait_for_port",
    "write_app_project",
]

CONNECTION = "fedsettle"
"""Name of the SuperLink connection written to ``$FLWR_HOME/config.toml``."""


class LoopbackDeployment:
    """SuperLink + one SuperNode per node config, as separate processes on 127.0.0.1.

    Parameters
    ----------
    workdir : Path
        Receives certificates, keys, logs, the private ``FLWR_HOME`` and run outputs.
    node_configs : sequence of mapping
        One SuperNode per entry, with that node config (see :mod:`fl_node.flower._silo`).
    start_timeout : float
        Seconds to wait for each component to come up.
    """

    def __init__(
        self,
        workdir: Path | str,
        node_configs: Sequence[Mapping[str, Any]],
        *,
        start_timeout: float = 60.0,
    ) -> None:
        if not node_configs:
            raise ValueError("node_configs is empty; give one node config per silo")
        self.workdir = Path(workdir).resolve()
        self.node_configs = [dict(c) for c in node_configs]
        self.start_timeout = start_timeout
        self.flwr_home = self.workdir / "flwr-home"
        self.env = flower_env(self.flwr_home)
        self.port = 0
        self.tls: TlsFiles | None = None
        self.node_ids: list[int] = []
        self.superlink: ManagedProcess | None = None
        self.supernodes: list[ManagedProcess] = []
        self.executors: dict[str, ManagedProcess] = {}
        self.warm = warm_clientapps(self.env)
        self.warm_server = warm_serverapps(self.env)
        self.fast_supernodes = fast_supernode(self.env)
        self.serverapp_executor: ManagedProcess | None = None
        self._spawned: list[ManagedProcess] = []
        self._runs = 0

    def _bin(self, name: str) -> str:
        return str(Path(sys.executable).parent / name)

    def _cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._bin("flwr"), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=self.start_timeout,
            check=False,
        )

    def start(self) -> None:
        """Create TLS material and node keys, start the SuperLink, register and start nodes."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.flwr_home.mkdir(parents=True, exist_ok=True)
        self.tls = generate_tls_files(self.workdir / "tls")
        self.port = free_port()
        (self.flwr_home / "config.toml").write_text(
            f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
            f'address = "127.0.0.1:{self.port}"\n'
            f"root-certificates = {toml_value(self.tls.ca_cert)}\n",
            encoding="utf-8",
        )
        logs = self.workdir / "logs"
        self.superlink = start_process(
            "superlink",
            [
                self._bin("flower-superlink"),
                "--ssl-ca-certfile",
                str(self.tls.ca_cert),
                "--ssl-certfile",
                str(self.tls.server_cert),
                "--ssl-keyfile",
                str(self.tls.server_key),
                "--enable-supernode-auth",
                "--disable-runtime-dependency-installation",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *superlink_isolation_args(self.warm_server),
            ],
            env=self.env,
            log_path=logs / "superlink.log",
            cwd=self.workdir,
        )
        wait_for_port(self.port, timeout=self.start_timeout, proc=self.superlink)
        if self.warm_server:
            self.serverapp_executor = start_process(
                "serverapp-executor",
                serverapp_executor_argv("127.0.0.1", self.port, self.tls.ca_cert),
                env=self.env,
                log_path=logs / "serverapp-executor.log",
                cwd=self.workdir,
            )
        keys = [
            generate_node_key_pair(self.workdir / "keys", f"supernode-{i}")
            for i in range(len(self.node_configs))
        ]
        # Each registration is a Control API call (a CLI process on the subprocess path).
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            self.node_ids = list(pool.map(self._register, keys))
        started = []
        for i, node_config in enumerate(self.node_configs):
            node_config.setdefault("cache-dir", str(self.workdir / "cache" / f"supernode-{i}"))
            # Fails fast on a bad node config and fills the data cache before the first message.
            load_silo(node_config)
            started.append(self.spawn_supernode(f"supernode-{i}", node_config, keys[i].private_key))
        self.supernodes = [proc for proc, _ in started]
        for proc, port in started:
            wait_for_port(port, timeout=self.start_timeout, proc=proc)

    def spawn_supernode(
        self,
        name: str,
        node_config: Mapping[str, Any],
        private_key: Path | None,
        *extra_args: str,
    ) -> tuple[ManagedProcess, int]:
        """Start one ``flower-supernode`` against this SuperLink (TLS on; keyed if given).

        :meth:`start` uses it for the configured silos (whose keys it registered first); it is
        public so operators and tests can add a node, e.g. one whose key was never registered.

        Returns
        -------
        (ManagedProcess, int)
            The process and the port of its Runtime API.
        """
        if self.tls is None:
            raise RuntimeError("the deployment is not started; call start() or use `with`")
        config_file = self.workdir / "node-config" / f"{name}.toml"
        config_file.parent.mkdir(parents=True, exist_ok=True)
        config_file.write_text(
            "".join(f'"{k}" = {toml_value(v)}\n' for k, v in node_config.items()),
            encoding="utf-8",
        )
        port = free_port()
        argv = [
            self._bin("flower-supernode"),
            "--superlink", f"127.0.0.1:{self.port}",
            "--root-certificates", str(self.tls.ca_cert),
            "--node-config", str(config_file),
            "--host", "127.0.0.1",
            "--port", str(port),
        ]  # fmt: skip
        if private_key is not None:
            argv += ["--auth-supernode-private-key", str(private_key)]
        if self.warm:
            argv += ["--isolation", "process"]
        # Its own FLWR_HOME, as on a separate machine: SuperNodes install the app bundle
        # there, and concurrent installs into one directory could collide.
        env = flower_env(self.workdir / f"flwr-home-{name}")
        proc = start_process(
            name,
            supernode_command([*argv, *extra_args], fast=self.fast_supernodes),
            env=env,
            log_path=self.workdir / "logs" / f"{name}.log",
            cwd=self.workdir,
        )
        self._spawned.append(proc)
        if self.warm:
            executor = start_process(
                f"{name}-executor",
                executor_argv(f"127.0.0.1:{port}"),
                env=env,
                log_path=self.workdir / "logs" / f"{name}-executor.log",
                cwd=self.workdir,
            )
            self.executors[name] = executor
            self._spawned.append(executor)
        return proc, port

    def _register(self, keys: NodeKeyPair) -> int:
        if self.warm_server:  # the Control API from this process, as the coordinator does
            assert self.tls is not None
            node_id = register_supernode(
                f"127.0.0.1:{self.port}", self.tls.ca_cert, keys.public_key
            )
            if node_id is None:
                raise RuntimeError(f"{keys.public_key}: the new SuperLink already had this key")
            return node_id
        done = self._cli(
            "supernode", "register", str(keys.public_key), CONNECTION, "--format", "json"
        )
        match = re.search(r'"node-id":\s*(\d+)', done.stdout)
        if done.returncode != 0 or match is None:
            raise RuntimeError(
                f"registering {keys.public_key} with the SuperLink failed "
                f"(exit {done.returncode}): {done.stdout.strip()} {done.stderr.strip()}"
            )
        return int(match.group(1))

    def submit(
        self, config: CoordinatorConfig | Mapping[str, Any], extra: Mapping[str, Any] | None = None
    ) -> tuple[subprocess.Popen[bytes] | RunHandle, RunResult]:
        """Start a run without waiting; return its handle and its result.

        With the warm ServerApp path the run is started through the Control API from this
        process (:func:`~fl_node.flower._warm_submit.start_run`), else with ``flwr run
        --stream``; both handles have ``poll``/``wait``/``kill``.

        ``config`` is a :class:`CoordinatorConfig` or run config overrides of its defaults;
        ``extra`` adds keys for the session hooks. ``out-dir`` is set to a fresh directory.
        """
        if self.superlink is None:
            raise RuntimeError("the deployment is not started; call start() or use `with`")
        self._runs += 1
        out_dir = self.workdir / f"run-{self._runs}"
        if isinstance(config, CoordinatorConfig):
            values = config.to_run_config()
        else:
            values = {**CoordinatorConfig().to_run_config(), **config}
        values.update({"out-dir": str(out_dir), **dict(extra or {})})
        app_dir = write_app_project(out_dir / "app", values)
        log_path = out_dir / "flwr-run.log"
        result = RunResult(
            returncode=-1, seconds=0.0, run_id=None, out_dir=out_dir, log_path=log_path
        )
        if self.warm_server:
            assert self.tls is not None
            return start_run(f"127.0.0.1:{self.port}", self.tls.ca_cert, app_dir, log_path), result
        log = log_path.open("wb")
        popen = subprocess.Popen(
            [self._bin("flwr"), "run", str(app_dir), CONNECTION, "--stream"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.workdir,
        )
        log.close()
        return popen, result

    def wait(
        self,
        popen: subprocess.Popen[bytes] | RunHandle,
        result: RunResult,
        *,
        timeout: float = 600.0,
    ) -> RunResult:
        """Wait for a submitted run to finish (kills the CLI after ``timeout`` seconds)."""
        start = time.monotonic()
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
            raise TimeoutError(
                f"the run did not finish within {timeout} s; see {result.log_path}"
            ) from None
        text = result.log_path.read_text(encoding="utf-8", errors="replace")
        match = re.search(r"Successfully started run (\d+)", text)
        result.returncode = popen.wait()
        result.seconds = time.monotonic() - start
        result.run_id = int(match.group(1)) if match else None
        return result

    def run(
        self,
        config: CoordinatorConfig | Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
        *,
        timeout: float = 600.0,
    ) -> RunResult:
        """Submit a run and wait for it; see :meth:`submit`."""
        start = time.monotonic()
        popen, result = self.submit(config, extra)
        self.wait(popen, result, timeout=timeout)
        result.seconds = time.monotonic() - start
        return result

    def kill_supernode(self, index: int) -> None:
        """SIGKILL SuperNode ``index``, its children and its executor, as if its machine died."""
        proc = self.supernodes[index]
        proc.kill()
        executor = self.executors.get(proc.name)
        if executor is not None:
            executor.kill()

    def stop(self) -> None:
        """Stop every process this deployment started (SuperNodes first, then the SuperLink)."""
        for proc in self._spawned:
            proc.stop()
        if self.serverapp_executor is not None:
            self.serverapp_executor.stop()
        if self.superlink is not None:
            self.superlink.stop()

    def __enter__(self) -> LoopbackDeployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
