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
import functools
import importlib
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from fl_node.flower._processes import die_with_parent

__all__ = [
    "ISOLATION_ENV",
    "PRELOAD",
    "executor_argv",
    "main",
    "serve",
    "serve_tasks",
    "warm_clientapps",
    "warm_mode",
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


def warm_mode(env: Mapping[str, str] | None, variable: str, warm: str, stock: str) -> bool:
    """Whether ``variable`` of ``env`` (default: ``os.environ``) asks for the warm path.

    ``warm`` (the default) or ``subprocess``; ``warm``/``stock`` say what each one means in the
    error message.

    Raises
    ------
    ValueError
        If the variable holds anything else.
    """
    value = (os.environ if env is None else env).get(variable, "warm").strip().lower()
    if value not in ("warm", "subprocess"):
        raise ValueError(f"{variable}={value!r}: give 'warm' ({warm}) or 'subprocess' ({stock})")
    return value == "warm"


def warm_clientapps(env: Mapping[str, str] | None = None) -> bool:
    """Whether SuperNodes get the warm executor (``$FEDSETTLE_CLIENTAPP_ISOLATION``).

    Raises
    ------
    ValueError
        If the variable holds anything but ``warm`` or ``subprocess``.
    """
    return warm_mode(
        env,
        ISOLATION_ENV,
        "one warm ClientApp executor per SuperNode",
        "Flower's fresh flwr-clientapp process per message",
    )


def executor_argv(runtime_api_address: str) -> list[str]:
    """The command line of a warm executor for the SuperNode whose Runtime API is given."""
    return [
        sys.executable, "-m", "fl_node.flower._warm_executor",
        "--runtime-api-address", runtime_api_address,
    ]  # fmt: skip


def _run_clientapp(runtime_api_address: str, token: str) -> None:
    """One ClientApp task with Flower's own ``run_clientapp`` (in the forked child)."""
    from flwr.supernode.runtime.run_clientapp import run_clientapp

    run_clientapp(
        runtime_api_address=runtime_api_address,
        token=token,
        insecure=True,
        certificates=None,
        parent_pid=os.getppid(),
        runtime_dependency_install=False,
    )


def _reap(children: dict[int, float]) -> None:
    """Reap finished children (pid -> fork time) and log how long each one ran."""
    for pid, started in list(children.items()):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done:
            del children[pid]
            code = os.waitstatus_to_exitcode(status)
            print(f"pid {pid}: exited {code} after {time.monotonic() - started:.2f} s", flush=True)


def serve_tasks(
    runtime_api_address: str,
    *,
    task_type: str,
    run_task: Callable[[str], None],
    label: str,
    root_certificates: bytes | None = None,
    poll_interval: float = 0.1,
    preload: Sequence[str] = (),
) -> None:
    """Acquire tasks of ``task_type`` from a Runtime API forever; fork one child per task.

    Parameters
    ----------
    runtime_api_address : str
        ``host:port`` of the Runtime API (a SuperNode's, or a SuperLink's).
    task_type : str
        Flower's ``TaskType`` value this executor takes (``CLIENT_APP``, ``SERVER_APP``).
    run_task : callable
        Runs one task, given its token, in the forked child; must not return.
    label : str
        Names the executor in its log (``"warm <label> executor ready ..."``).
    root_certificates : bytes, optional
        CA certificate (PEM) of a Runtime API served over TLS; None: plain HTTP.
    poll_interval : float
        Seconds between two ``AcquireTask`` calls (``flower-superexec``: 1 s, or
        ``FLWR_SUPEREXEC_TASK_POLL_INTERVAL``).
    preload : sequence of str
        Modules imported once, before the first task.
    """
    for module in preload:
        importlib.import_module(module)
    from fl_node.flower._warm_waits import shorten_flower_waits

    for line in shorten_flower_waits(supernode=False):
        print(line, flush=True)  # a forked task pulls its message's objects with this backoff
    from flwr.proto.runtime_pb2 import AcquireTaskRequest
    from flwr.supercore.interceptors import RuntimeVersionHttpInterceptor
    from flwr.supercore.retry import make_simple_http_retry_invoker
    from flwr.supercore.runtime import RuntimeHttpClient

    client = RuntimeHttpClient.from_server_address(
        server_address=runtime_api_address,
        insecure=root_certificates is None,
        root_certificates=root_certificates,
        interceptors=[RuntimeVersionHttpInterceptor(component_name="SuperExec")],
        retry_invoker=make_simple_http_retry_invoker(),
    )
    request = AcquireTaskRequest(supported_task_types=[task_type])
    children: dict[int, float] = {}
    print(f"warm {label} executor ready for {runtime_api_address}", flush=True)
    while True:
        _reap(children)
        try:
            res = client.AcquireTask(request)
        except Exception as exc:  # the Runtime API is not up yet, or restarts
            print(f"Runtime API at {runtime_api_address} not reachable ({exc}); retrying")
            time.sleep(_RETRY_S)
            continue
        if res.HasField("task") and res.token:
            preexec = die_with_parent()
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                preexec()
                _in_child(run_task, res.token)
            children[pid] = time.monotonic()
            print(f"task {res.task.task_id}: forked pid {pid}", flush=True)
            continue  # another task may be waiting
        time.sleep(poll_interval)


def _in_child(run_task: Callable[[str], None], token: str) -> None:
    """In the forked child: run one task; leave with its exit code, never unwinding."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        run_task(token)
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


def serve(
    runtime_api_address: str, *, poll_interval: float = 0.1, preload: Sequence[str] = PRELOAD
) -> None:
    """Acquire ClientApp tasks from the SuperNode's Runtime API forever (see
    :func:`serve_tasks`); the SuperNode serves it over plain HTTP on loopback, as to the
    SuperExec it starts itself."""
    from flwr.supercore.constant import TaskType

    serve_tasks(
        runtime_api_address,
        task_type=TaskType.CLIENT_APP.value,
        run_task=functools.partial(_run_clientapp, runtime_api_address),
        label="ClientApp",
        poll_interval=poll_interval,
        preload=preload,
    )


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
