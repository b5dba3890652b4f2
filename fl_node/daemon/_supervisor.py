"""Supervise the silo's ``flower-supernode``: start it, restart it when it dies, stop it on exit.

The SuperNode runs in its own session (process group), so stopping it also stops the ClientApp
processes it spawned; it dies with the daemon (parent-death signal), and a restarted daemon first
kills the group its pid file ``<state>/supernode/supernode.pid`` names, so a SIGKILLed daemon
leaves no SuperNode holding the port. A port taken by anything else fails the start loudly
(:class:`~fl_node.flower._processes.PortInUse`, naming the holder). Its node config (data settings, silo name, chain address) is written to
``<state>/supernode/node-config.toml`` from the daemon's own config, so the SuperNode trains on
exactly the data whose size the daemon reports on chain.

By default the SuperNode runs with ``--isolation process`` next to a warm ClientApp executor
(:mod:`fl_node.flower._warm_executor`, log ``clientapp-executor.log``, pid file
``clientapp-executor.pid``): it imports flwr, the ClientApp and torch once and forks one child
per message, instead of Flower's fresh ``flwr-clientapp`` process per message. The supervisor
keeps both alive and stops both; ``FEDSETTLE_CLIENTAPP_ISOLATION=subprocess`` restores Flower's
own SuperExec. The SuperNode itself starts through :mod:`fl_node.flower._warm_supernode` (Flower
1.41's idle pull of 3 s and reply wait of 0.5 s shortened; stock waits on other Flower versions);
``FEDSETTLE_SUPERNODE_INTERVALS=subprocess`` starts plain ``flower-supernode``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fl_node.daemon._config import SupernodeSettings
from fl_node.daemon._state import ActionLog
from fl_node.daemon._toml import ConfigFileError

if TYPE_CHECKING:  # fl_node.flower imports flwr: only a daemon that supervises needs it
    from fl_node.flower._processes import ManagedProcess

__all__ = ["SupernodeSupervisor", "supernode_argv"]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def supernode_argv(
    settings: SupernodeSettings,
    node_config_file: Path,
    binary: str,
    *,
    isolation: str | None = None,
) -> list[str]:
    """The ``flower-supernode`` command line for ``settings`` (``--isolation`` if given)."""
    argv = [binary, "--superlink", settings.superlink]
    if settings.insecure:
        argv.append("--insecure")
    else:
        argv += ["--root-certificates", str(settings.root_certificates)]
    if settings.auth_private_key is not None:
        argv += ["--auth-supernode-private-key", str(settings.auth_private_key)]
    argv += [
        "--node-config",
        str(node_config_file),
        "--host",
        settings.host,
        "--port",
        str(settings.port),
    ]
    if isolation is not None:
        argv += ["--isolation", isolation]
    return argv


def runtime_api_address(settings: SupernodeSettings) -> str:
    """Where a local executor reaches the SuperNode's Runtime API."""
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    return f"{host}:{settings.port}"


class SupernodeSupervisor:
    """Keeps one ``flower-supernode`` alive.

    Parameters
    ----------
    settings : SupernodeSettings
    node_config : mapping
        Node config values for the ClientApp (see :mod:`fl_node.flower._silo`).
    workdir : Path
        Receives ``node-config.toml``, ``supernode.log`` and the private ``FLWR_HOME``.
    log : ActionLog
    binary : str, optional
        The ``flower-supernode`` executable (default: the one next to this Python).
    """

    def __init__(
        self,
        settings: SupernodeSettings,
        node_config: Mapping[str, Any],
        workdir: Path,
        log: ActionLog,
        *,
        binary: str | None = None,
    ) -> None:
        self.settings = settings
        self.workdir = Path(workdir)
        self.log = log
        bin_dir = Path(sys.executable).parent
        self.binary = binary or str(bin_dir / "flower-supernode")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_file = self.workdir / "node-config.toml"
        self.config_file.write_text(
            "".join(f'"{k}" = {_toml_value(v)}\n' for k, v in node_config.items()),
            encoding="utf-8",
        )
        self.log_path = self.workdir / "supernode.log"
        # private FLWR_HOME, no telemetry or installs, this venv's bin first on PATH (the
        # SuperNode starts flwr-clientapp by name), its SuperExec polling for runs every 0.2 s
        from fl_node.flower._processes import flower_env
        from fl_node.flower._warm_executor import warm_clientapps
        from fl_node.flower._warm_supernode import fast_supernode

        self.env = flower_env(self.workdir / "flwr-home")
        self.warm = warm_clientapps(self.env)
        # the installed flower-supernode through fl_node.flower._warm_supernode (shorter waits)
        self.fast = binary is None and fast_supernode(self.env)
        self._proc: ManagedProcess | None = None
        self._executor: ManagedProcess | None = None
        self._died_at: float | None = None
        self.restarts = 0

    @property
    def argv(self) -> list[str]:
        isolation = "process" if self.warm else None
        return supernode_argv(self.settings, self.config_file, self.binary, isolation=isolation)

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def alive(self) -> bool:
        return self._proc is not None and self._proc.alive()

    def check_files(self) -> None:
        """Raise :class:`ConfigFileError` naming the field of a missing certificate or key."""
        for label, path in (
            ("root_certificates", self.settings.root_certificates),
            ("auth_private_key", self.settings.auth_private_key),
        ):
            if path is not None and not Path(path).is_file():
                raise ConfigFileError(
                    f"node.toml: [supernode].{label} = {str(path)!r} does not exist; create it "
                    "(fedsettle coordinator credentials) or fix the path"
                )

    def start(self) -> None:
        """Start the SuperNode (no-op while it runs).

        Raises
        ------
        ConfigFileError
            If a certificate or key file is missing.
        PortInUse
            If ``[supernode].port`` is taken (after reaping a previous daemon's SuperNode).
        """
        if self.alive():
            return
        from fl_node.flower._processes import start_process
        from fl_node.flower._warm_supernode import supernode_command

        self.check_files()
        command = supernode_command(self.argv, fast=self.fast)
        self._proc = start_process(
            "flower-supernode",
            command,
            env=self.env,
            log_path=self.log_path,
            cwd=self.workdir,
            port_hint="change [supernode].port in node.toml",
        )
        self._died_at = None
        executor = self._start_executor()
        self.log(
            "supernode-started", pid=self._proc.pid, argv=command, log=str(self.log_path),
            executor_pid=executor,
        )  # fmt: skip

    def _start_executor(self) -> int | None:
        """Start the warm ClientApp executor unless it runs (or is off); return its pid."""
        if not self.warm:
            return None
        if self._executor is None or not self._executor.alive():
            from fl_node.flower._processes import start_process
            from fl_node.flower._warm_executor import executor_argv

            self._executor = start_process(
                "clientapp-executor",
                executor_argv(runtime_api_address(self.settings)),
                env=self.env,
                log_path=self.workdir / "clientapp-executor.log",
                cwd=self.workdir,
            )
        return self._executor.pid

    def check(self) -> None:
        """Restart the SuperNode if it exited (after ``restart_delay_s``, at most
        ``max_restarts`` times)."""
        if self._proc is None:
            return
        if self._proc.alive():
            if self.warm and (self._executor is None or not self._executor.alive()):
                # restarted at once: the SuperNode keeps its tasks queued meanwhile
                self.log("clientapp-executor-restarted", pid=self._start_executor())
            return
        now = time.monotonic()
        if self._died_at is None:
            self._died_at = now
            self.log(
                "supernode-exited", pid=self._proc.pid, code=self._proc.popen.returncode,
                restarts=self.restarts,
            )  # fmt: skip
        if self.restarts >= self.settings.max_restarts:
            return
        if now - self._died_at >= self.settings.restart_delay_s:
            from fl_node.flower._processes import PortInUse

            self._sweep(self._proc)  # leftovers of the dead SuperNode's group
            self.restarts += 1
            try:
                self.start()
            except PortInUse as exc:  # counted as a restart; tried again after the delay
                self._died_at = now
                self.log("supernode-port-in-use", error=str(exc), restarts=self.restarts)

    def _sweep(self, proc: ManagedProcess) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the SuperNode's process group; SIGKILL what is left after ``grace`` s."""
        if self._executor is not None:
            self._executor.stop(grace=grace)
            self._executor = None
        proc = self._proc
        if proc is None:
            return
        proc.stop(grace=grace)
        self.log("supernode-stopped", pid=proc.pid, code=proc.popen.returncode)
        self._proc = None
