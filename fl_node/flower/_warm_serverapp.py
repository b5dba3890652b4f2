"""A warm ServerApp executor: the SuperExec of a SuperLink run with ``--isolation process``.

With its default ``--isolation subprocess``, Flower 1.41's SuperLink starts ``flower-superexec``,
which starts a fresh ``flwr-serverapp`` process for every run: it imports flwr's SuperLink
runtime, then the ServerApp's modules, the coordinator's session hooks, torch and scikit-learn
(for the central test split: 12 s of a loaded run's ServerApp went into importing it), before the
run's first message is sent. This executor asks the SuperLink's Runtime API for ServerApp tasks
with ``AcquireTask`` (as ``flower-superexec`` does), but imports all of that once and runs each
run in a child forked from itself, which calls Flower's own ``run_serverapp`` with the task's
token (the child mirrors its output to the SuperLink, so ``flwr run --stream`` shows the
ServerApp's log as before). Every run still gets its own process; it starts warm.

Run ``python -m fl_node.flower._warm_serverapp --runtime-api-address 127.0.0.1:PORT
[--root-certificates CA.pem]``; the SuperLink is started with ``--isolation process --port
PORT`` (its Runtime API shares the port, and the TLS, of the Fleet and Control APIs). The
executor and its run children die with the process that started it (parent-death signal, see
:func:`~fl_node.flower._processes.die_with_parent`). ``FEDSETTLE_SERVERAPP_ISOLATION=subprocess``
gives back Flower's own SuperExec.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from fl_node.flower._warm_executor import serve_tasks, warm_mode

__all__ = [
    "SERVERAPP_ISOLATION_ENV",
    "SERVERAPP_PRELOAD",
    "main",
    "serverapp_executor_argv",
    "superlink_isolation_args",
    "warm_serverapps",
]

SERVERAPP_ISOLATION_ENV = "FEDSETTLE_SERVERAPP_ISOLATION"
"""``warm`` (default): the SuperLink runs with ``--isolation process`` and this executor;
``subprocess``: Flower's own SuperExec and one fresh ``flwr-serverapp`` per run."""

#: imported once before the first run; a forked run finds them in ``sys.modules``
SERVERAPP_PRELOAD = (
    "flwr.superlink.runtime.run_serverapp",
    "flwr.supercore.logger",
    "fl_node.flower.server_app",
    "fl_node.coordinator.flower_hooks",
    "torch",
    # the ServerApp loads its central test split with scikit-learn's bundled datasets
    "sklearn.datasets",
)


def warm_serverapps(env: Mapping[str, str] | None = None) -> bool:
    """Whether a SuperLink gets the warm executor (``$FEDSETTLE_SERVERAPP_ISOLATION``).

    Raises
    ------
    ValueError
        If the variable holds anything but ``warm`` or ``subprocess``.
    """
    return warm_mode(
        env,
        SERVERAPP_ISOLATION_ENV,
        "one warm ServerApp executor next to the SuperLink",
        "Flower's fresh flwr-serverapp process per run",
    )


def superlink_isolation_args(warm: bool) -> list[str]:
    """The ``flower-superlink`` flags for the chosen path (none: Flower's default)."""
    return ["--isolation", "process"] if warm else []


def serverapp_executor_argv(
    host: str, port: int, root_certificates: Path | str | None
) -> list[str]:
    """The command line of a warm executor for the SuperLink serving ``host:port``.

    A wildcard ``host`` (``0.0.0.0``, ``::``) is reached on 127.0.0.1, as Flower's own SuperExec
    does; ``root_certificates`` is the CA of a SuperLink with TLS (None: ``--insecure``).
    """
    reach = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    reach = f"[{reach}]" if ":" in reach else reach
    argv = [
        sys.executable, "-m", "fl_node.flower._warm_serverapp",
        "--runtime-api-address", f"{reach}:{port}",
    ]  # fmt: skip
    if root_certificates is not None:
        argv += ["--root-certificates", str(root_certificates)]
    return argv


def _run_serverapp(runtime_api_address: str, certificates: bytes | None, token: str) -> None:
    """One ServerApp run with Flower's own ``run_serverapp`` (in the forked child)."""
    from queue import Queue

    from flwr.supercore.logger import mirror_output_to_queue, restore_output
    from flwr.superlink.runtime.run_serverapp import run_serverapp

    log_queue: Queue[str | None] = Queue()
    mirror_output_to_queue(log_queue)
    try:
        run_serverapp(
            runtime_api_address=runtime_api_address,
            log_queue=log_queue,
            token=token,
            insecure=certificates is None,
            certificates=certificates,
            parent_pid=os.getppid(),
            runtime_dependency_install=False,
        )
    finally:
        restore_output()


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``--runtime-api-address HOST:PORT [--root-certificates PEM]
    [--poll-interval S]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runtime-api-address", required=True, help="the SuperLink's HOST:PORT")
    parser.add_argument("--root-certificates", type=Path, help="CA (PEM) of a TLS SuperLink")
    parser.add_argument("--poll-interval", type=float, default=0.1, help="seconds (default 0.1)")
    args = parser.parse_args(argv)
    if not args.poll_interval > 0:
        parser.error(f"--poll-interval {args.poll_interval}: give a positive number of seconds")
    certificates = None
    if args.root_certificates is not None:
        if not args.root_certificates.is_file():
            parser.error(f"--root-certificates {args.root_certificates}: no such file")
        certificates = args.root_certificates.read_bytes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from flwr.supercore.constant import TaskType

    serve_tasks(
        args.runtime_api_address,
        task_type=TaskType.SERVER_APP.value,
        run_task=functools.partial(_run_serverapp, args.runtime_api_address, certificates),
        label="ServerApp",
        root_certificates=certificates,
        poll_interval=args.poll_interval,
        preload=SERVERAPP_PRELOAD,
    )


if __name__ == "__main__":
    main()
