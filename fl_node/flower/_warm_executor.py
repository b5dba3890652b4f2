"""A warm ClientApp executor: the SuperExec of a SuperNode run with ``--isolation process``.

Flower 1.41's ``flower-superexec`` starts a fresh ``flwr-clientapp`` process for every message.
Each one imports flwr's SuperNode CLI (FastAPI, SQLAlchemy, alembic), the ClientApp's modules and
torch before it pulls its task: 2-6 CPU-seconds per message on a small machine, for 0.2 s of
training. This executor does what ``flower-superexec`` does (it asks the SuperNode's Runtime API
for ClientApp tasks with ``AcquireTask``), but it imports all of that once and runs each task in
a child forked from itself, which calls Flower's own ``run_clientapp`` with the task's token.
Every task still gets its own process, as in Flower's process isolation (a crashing task takes
only itself down); it starts warm.

Run ``python -m fl_node.flower._warm_executor --runtime-api-address 127.0.0.1:PORT``; the
SuperNode is started with ``--isolation process --port PORT``. The executor and its task children
die with the process that started it (parent-death signal, see
:func:`~fl_node.flower._processes.die_with_parent`); a SuperNode that is not up yet or restarts is
retried every second.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence

from fl_node.flower._processes import die_with_parent

__all__ = [
    "ISOLATION_ENV",
    "PRELOAD",
    "executor_argv",
    "main",
    "serve",
    "warm_clientapps",
]

ISOLATION_ENV = "FEDSETTLE_CLIENTAPP_ISOLATION"
"""``warm`` (default): SuperNodes run with ``--isolation process`` and this executor;
``subprocess``: Flower's own SuperExec and one fresh ``flwr-clientapp`` per message."""

#: imported once before the first task; a forked task finds them in ``sys.modules``
PRELOAD = (
    "flwr.supernode.runtime.run_clientapp",
    "flwr.supernode.cli",
    "fl_node.flower.client_app",
    "torch",
)

_RETRY_S = 1.0


def warm_clientapps(env: Mapping[str, str] | None = None) -> bool:
    """Whether SuperNodes get the warm executor (``$FEDSETTLE_CLIENTAPP_ISOLATION``).

    Raises
    ------
    ValueError
        If the variable holds anything but ``warm`` or ``subprocess``.
    """
    value = (os.environ if env is None else env).get(ISOLATION_ENV, "warm").strip().lower()
    if value not in ("warm", "subprocess"):
        raise ValueError(
            f"{ISOLATION_ENV}={value!r}: give 'warm' (one warm ClientApp executor per SuperNode) "
            "or 'subprocess' (Flower's fresh flwr-clientapp process per message)"
        )
    return value == "warm"


def executor_argv(runtime_api_address: str) -> list[str]:
    """The command line of a warm executor for the SuperNode whose Runtime API is given."""
    return [
        sys.executable, "-m", "fl_node.flower._warm_executor",
        "--runtime-api-address", runtime_api_address,
    ]  # fmt: skip


def _run_task(runtime_api_address: str, token: str) -> None:
    """In the forked child: run one ClientApp task with Flower's ``run_clientapp``; never return."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from flwr.supernode.runtime.run_clientapp import run_clientapp

        run_clientapp(
            runtime_api_address=runtime_api_address,
            token=token,
            insecure=True,
            certificates=None,
            parent_pid=os.getppid(),
            runtime_dependency_install=False,
        )
        code = 0
    except SystemExit as done:  # flwr_exit ends every task with sys.exit
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:  # report, then leave the child without unwinding
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _reap(children: set[int]) -> None:
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def serve(
    runtime_api_address: str, *, poll_interval: float = 0.1, preload: Sequence[str] = PRELOAD
) -> None:
    """Acquire ClientApp tasks from the SuperNode's Runtime API forever; fork one child per task.

    Parameters
    ----------
    runtime_api_address : str
        ``host:port`` of the SuperNode's Runtime API (``flower-supernode --port``; plain HTTP on
        loopback, as between a SuperNode and the SuperExec it starts itself).
    poll_interval : float
        Seconds between two ``AcquireTask`` calls (``flower-superexec``: 1 s, or
        ``FLWR_SUPEREXEC_TASK_POLL_INTERVAL``).
    preload : sequence of str
        Modules imported once, before the first task.
    """
    for module in preload:
        importlib.import_module(module)
    from flwr.proto.runtime_pb2 import AcquireTaskRequest
    from flwr.supercore.constant import TaskType
    from flwr.supercore.interceptors import RuntimeVersionHttpInterceptor
    from flwr.supercore.retry import make_simple_http_retry_invoker
    from flwr.supercore.runtime import RuntimeHttpClient

    client = RuntimeHttpClient.from_server_address(
        server_address=runtime_api_address,
        insecure=True,
        root_certificates=None,
        interceptors=[RuntimeVersionHttpInterceptor(component_name="SuperExec")],
        retry_invoker=make_simple_http_retry_invoker(),
    )
    request = AcquireTaskRequest(supported_task_types=[TaskType.CLIENT_APP.value])
    children: set[int] = set()
    print(f"warm ClientApp executor ready for {runtime_api_address}", flush=True)
    while True:
        _reap(children)
        try:
            res = client.AcquireTask(request)
        except Exception as exc:  # the SuperNode is not up yet, or restarts
            print(f"Runtime API at {runtime_api_address} not reachable ({exc}); retrying")
            time.sleep(_RETRY_S)
            continue
        if res.HasField("task") and res.token:
            preexec = die_with_parent()
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                preexec()
                _run_task(runtime_api_address, res.token)
            children.add(pid)
            print(f"task {res.task.task_id}: forked pid {pid}", flush=True)
            continue  # another task may be waiting
        time.sleep(poll_interval)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``--runtime-api-address HOST:PORT [--poll-interval S]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runtime-api-address", required=True, help="the SuperNode's HOST:PORT")
    parser.add_argument("--poll-interval", type=float, default=0.1, help="seconds (default 0.1)")
    args = parser.parse_args(argv)
    if not args.poll_interval > 0:
        parser.error(f"--poll-interval {args.poll_interval}: give a positive number of seconds")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(args.runtime_api_address, poll_interval=args.poll_interval)


if __name__ == "__main__":
    main()
