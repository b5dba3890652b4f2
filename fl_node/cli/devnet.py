"""``fedsettle devnet``: a local anvil chain for the quickstart, one that survives a kill.

It runs the project's anvil (``npm ci`` installs it) in the foreground until Ctrl-C/SIGTERM, with
mainnet's per-transaction gas cap (``--enable-tx-gas-limit``, 16,777,216, so gas figures hold on
a real chain) and, with ``--state FILE``, the chain kept in FILE: loaded at start if it exists,
written every ``--state-interval`` seconds and on exit. A SIGKILL loses at most the last
interval, so a coordinator that remembers its contract finds it again after a restart.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fl_node.cli._exit import ExitCode, UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "devnet",
        help="run a local anvil chain (per-tx gas cap, optional state file surviving kills)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8545, help="JSON-RPC port (default 8545)")
    p.add_argument("--state", type=Path, help="keep the chain in this file (load + save)")
    p.add_argument(
        "--state-interval",
        type=int,
        default=5,
        help="seconds between saves of --state (default 5)",
    )
    p.add_argument("--chain-id", type=int, default=31337, help="chain id (default 31337)")
    p.add_argument("--accounts", type=int, default=10, help="funded dev accounts (default 10)")
    p.add_argument("--dry-run", action="store_true", help="print the anvil command, do not run")
    p.set_defaults(func=_devnet)


def devnet_argv(args: argparse.Namespace, binary: str) -> list[str]:
    """The anvil command line for the parsed ``fedsettle devnet`` options."""
    argv = [
        binary,
        "--host", args.host,
        "--port", str(args.port),
        "--chain-id", str(args.chain_id),
        "--accounts", str(args.accounts),
        "--enable-tx-gas-limit",
    ]  # fmt: skip
    if args.state is not None:
        argv += ["--state", str(args.state), "--state-interval", str(args.state_interval)]
    return argv


def _devnet(args: argparse.Namespace) -> int:
    from fl_node.flower._processes import PortInUse, ensure_port_free
    from settlement import AnvilNotFound, find_anvil

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: give a TCP port (1-65535)", ExitCode.USAGE)
    if args.state_interval < 1:
        raise UserError(f"--state-interval {args.state_interval}: must be >= 1", ExitCode.USAGE)
    try:
        binary = str(find_anvil())
    except AnvilNotFound as exc:
        raise UserError(str(exc), ExitCode.CHAIN) from None
    if args.state is not None:
        args.state = args.state.resolve()
        args.state.parent.mkdir(parents=True, exist_ok=True)
    argv = devnet_argv(args, binary)
    if args.dry_run:
        print(" ".join(argv))
        return int(ExitCode.OK)
    try:
        ensure_port_free(args.host, args.port, what="the devnet", hint="pass another --port")
    except PortInUse as exc:
        raise UserError(str(exc), ExitCode.CHAIN) from None
    kept = (
        f"kept in {args.state} (saved every {args.state_interval} s and on exit)"
        if args.state is not None
        else "not kept (pass --state FILE to survive restarts)"
    )
    print(f"devnet: http://{args.host}:{args.port}, chain id {args.chain_id}; state {kept}")
    sys.stdout.flush()
    # anvil takes this process's place: Ctrl-C and SIGTERM reach it directly (it saves its state)
    os.execv(binary, argv)
    return int(ExitCode.OK)  # pragma: no cover - execv does not return
