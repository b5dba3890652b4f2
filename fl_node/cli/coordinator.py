"""``fedsettle coordinator``: run a consortium's settlement round; make deployment credentials.

``fedsettle coordinator run --config consortium.toml`` deploys (or attaches to) the contract,
opens a round, waits for the silos' deposits, runs the strategy phase against the silo daemons'
HTTP agents, trains (embedded runtime, or the Flower deployment engine), sends each silo its
attested assignment, waits for the reports, calls ``payoffCalculate`` and writes a result JSON.
``--devnet`` lets it warp an anvil chain's clock past deadlines instead of waiting for them.
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path
from typing import Any

from fl_node.cli._exit import ExitCode, UserError
from fl_node.cli._options import add_log_format, positive_int


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    coord = sub.add_parser(
        "coordinator",
        help="the consortium coordinator: open, run and settle a round",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = coord.add_subparsers(dest="coordinator_command", required=True, metavar="SUBCOMMAND")

    p = cmds.add_parser("run", help="run one settlement round end to end")
    p.add_argument("--config", type=Path, required=True, help="the consortium.toml")
    p.add_argument(
        "--devnet",
        action="store_true",
        help="on anvil: warp chain time past deposit/report deadlines after the timeouts",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="result JSON path (default: [coordinator].result); with --rounds, the latest "
        "round's (every round's is also in the state dir as result-round-<id>.json)",
    )
    p.add_argument(
        "--rounds",
        type=positive_int,
        default=1,
        help="settlement rounds to run back to back in this process (default 1): the chain "
        "connection, the SuperLink and the start-up are paid once; stops after a round that "
        "did not settle",
    )
    p.add_argument("--quiet", action="store_true", help="log actions to the state dir only")
    add_log_format(p)
    p.set_defaults(func=_run)

    p = cmds.add_parser("check", help="validate consortium.toml and print its summary")
    p.add_argument("--config", type=Path, required=True, help="the consortium.toml")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--live",
        action="store_true",
        help="also ask every silo daemon's /health and compare account, s, chain id and "
        "contract with the consortium and the chain (exit 3 naming each mismatch)",
    )
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per daemon (--live)")
    p.set_defaults(func=_check)

    p = cmds.add_parser(
        "status", help="the round's phase, deposits, reports and deadlines (state dir + chain)"
    )
    p.add_argument("--config", type=Path, required=True, help="the consortium.toml")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_status)

    p = cmds.add_parser(
        "init",
        help="write a devnet consortium.toml and one node-N.toml per silo (anvil dev keys)",
    )
    p.add_argument("--out", type=Path, required=True, help="directory to write into")
    p.add_argument("--silos", type=int, default=3, help="number of silos (default 3)")
    p.add_argument("--rpc-url", default="http://127.0.0.1:8545", help="the anvil JSON-RPC URL")
    p.add_argument("--dataset", default="digits", help="bundled dataset the silos partition")
    p.add_argument("--seed", type=int, default=0, help="seed of data partition and parameters")
    p.add_argument("--base-port", type=int, default=8601, help="first silo agent port")
    p.add_argument("--rounds", type=int, default=2, help="FL rounds")
    p.add_argument(
        "--mechanism",
        choices=("tradefl", "cogen", "market"),
        default="tradefl",
        help="the round's mechanism: data fraction + compute level (tradefl, default), "
        "synthetic-data generation (cogen) or the model-sharing market (market; embedded "
        "runtime only)",
    )
    p.add_argument(
        "--token",
        help="settle in this ERC-20 (a stablecoin's address; [chain].token of every file; "
        "default ETH)",
    )
    p.add_argument(
        "--unit-wei",
        type=int,
        help="base units of the asset per unit of game payoff ([units].unit_wei; a 6-decimal "
        "stablecoin: e.g. 1000000000 = 1,000 per unit; default 1e18 wei, cogen and market 1e16)",
    )
    p.add_argument(
        "--runtime",
        choices=("embedded", "deployment"),
        default="embedded",
        help="FL runtime: in the coordinator's process, or Flower SuperLink + SuperNodes",
    )
    p.add_argument("--superlink-port", type=int, default=9092, help="SuperLink port")
    p.add_argument(
        "--supernode-base-port", type=int, default=9094, help="first SuperNode runtime API port"
    )
    p.add_argument(
        "--compose",
        action="store_true",
        help="docker-compose variant: service host names, deployment runtime, /credentials",
    )
    p.add_argument(
        "--contract",
        choices=("deployment-file", "predicted"),
        default="deployment-file",
        help="how the silos learn the contract: from the coordinator's deployment.json (default)"
        " or the address of the operator's first deployment on a fresh chain",
    )
    p.add_argument(
        "--force", action="store_true", help="overwrite existing configs that differ (edited)"
    )
    p.set_defaults(func=_init)

    p = cmds.add_parser(
        "credentials",
        help="create the SuperLink's TLS files (self-signed CA) and SuperNode auth key pairs",
    )
    p.add_argument("--out", type=Path, required=True, help="directory to write into")
    p.add_argument("--silos", type=int, default=3, help="SuperNode key pairs to create")
    p.add_argument(
        "--hosts",
        default="127.0.0.1,localhost",
        help="comma-separated names/IPs the SuperLink certificate is valid for",
    )
    p.add_argument(
        "--keep", action="store_true", help="leave existing files in place (idempotent start-up)"
    )
    p.add_argument(
        "--per-silo",
        type=Path,
        metavar="DIR",
        help="give each silo only its own files: DIR/silo-N/keys/supernode-N (moved out of "
        "--out, which keeps the .pub) and DIR/silo-N/tls/ca.crt",
    )
    p.set_defaults(func=_credentials)


def _load(path: Path) -> Any:
    from fl_node.coordinator import load_consortium_config
    from fl_node.daemon import ConfigFileError

    try:
        return load_consortium_config(path)
    except ConfigFileError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    from fl_node.coordinator import Coordinator, CoordinatorError
    from fl_node.daemon import ConfigFileError
    from settlement import SettlementError

    config = _load(args.config)
    if args.out is not None:
        config = dataclasses.replace(config, result_path=args.out.resolve())

    def _interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # unwinds the steps, so child processes are stopped

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        coordinator = Coordinator(
            config, devnet=args.devnet, log_stream=None if args.quiet else "stderr"
        )
        coordinator.log.format = args.log_format
        result = coordinator.run(rounds=args.rounds, on_result=_print_result)
    except ConfigFileError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None
    except CoordinatorError as exc:
        cause = exc.__cause__
        code = ExitCode.CHAIN if isinstance(cause, SettlementError) else ExitCode.FAILURE
        if isinstance(cause, ConfigFileError | ValueError) and "[" in str(cause):
            code = ExitCode.CONFIG
        raise UserError(str(exc), code) from None
    return int(ExitCode.OK if result["status"] == "settled" else ExitCode.FAILURE)


def _print_result(result: dict[str, Any]) -> None:
    """One JSON line per round on stdout, as each round's result is written."""
    keys = ("status", "round_id", "contract", "sum_R_wei")
    print(json.dumps({k: result[k] for k in keys}), flush=True)


def _check(args: argparse.Namespace) -> int:
    import dataclasses

    config = _load(args.config)
    if args.live:
        return _check_live(config, args)
    for spec in (config.operator, config.coordinator_key):
        if spec is not None:
            from fl_node.daemon import ConfigFileError

            try:
                spec.load()
            except ConfigFileError as exc:
                raise UserError(str(exc), ExitCode.CONFIG) from None
    info = {
        "rpc_url": config.rpc_url,
        "contract": config.contract or "(deploy)",
        "operator": config.operator.describe(),
        "attest": config.attest,
        "runtime": config.mode,
        "mechanism": config.mechanism,
        "state_dir": str(config.state_dir),
        "silos": [
            {
                "index": s.index,
                "name": s.name,
                "account": s.account,
                "s": s.s,
                "endpoint": s.endpoint,
            }
            for s in config.silos
        ],
        "fl": dataclasses.asdict(config.fl),
    }
    if args.format == "json":
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            if key != "silos":
                print(f"{key:10} {value}")
        for s in info["silos"]:
            print(f"silo {s['index']}: {s['name']:12} {s['account']} s={s['s']:g} {s['endpoint']}")
    return int(ExitCode.OK)


def _chain_error(exc: Exception) -> UserError:
    return UserError(f"chain: {exc}", ExitCode.CHAIN)


def _check_live(config: Any, args: argparse.Namespace) -> int:
    from fl_node.coordinator import preflight
    from settlement import ChainUnavailable

    try:
        report = preflight(config, timeout=args.timeout)
    except ChainUnavailable as exc:
        raise _chain_error(exc) from None
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        c = report.contract
        print(f"chain     {report.rpc_url} (chain id {report.chain_id})")
        print(f"contract  {c.address or '-'} ({c.source})")
        for s in report.silos:
            h = s.health or {}
            state = "ok" if s.ok else "FAIL"
            print(f"{state:4} {s.name:12} {s.endpoint} {h.get('address', '-')} s={h.get('s', '-')}")
    if report.ok:
        return int(ExitCode.OK)
    raise UserError(
        "the daemons disagree with the consortium:\n  " + "\n  ".join(report.problems),
        ExitCode.CONFIG,
    )


def _status(args: argparse.Namespace) -> int:
    from fl_node.coordinator import round_status, status_lines
    from settlement import ChainUnavailable

    config = _load(args.config)
    try:
        status = round_status(config)
    except ChainUnavailable as exc:
        raise _chain_error(exc) from None
    if args.format == "json":
        print(json.dumps(status, indent=2, default=str))
    else:
        print("\n".join(status_lines(status)))
    return int(ExitCode.OK)


def _init(args: argparse.Namespace) -> int:
    from fl_node.coordinator import ScaffoldConflict, ScaffoldOptions, next_steps, scaffold

    try:
        options = ScaffoldOptions(
            silos=args.silos,
            rpc_url=args.rpc_url,
            dataset=args.dataset,
            seed=args.seed,
            base_port=args.base_port,
            rounds=args.rounds,
            compose=args.compose,
            runtime=args.runtime,
            superlink_port=args.superlink_port,
            supernode_base_port=args.supernode_base_port,
            contract=args.contract,
            mechanism=args.mechanism,
            token=_token_arg(args.token),
            unit_wei=_positive("--unit-wei", args.unit_wei),
        )
        for path in scaffold(args.out, options, force=args.force):
            print(path)
    except ScaffoldConflict as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None
    except ValueError as exc:
        raise UserError(str(exc), ExitCode.USAGE) from None
    print("\nnext steps:")
    for i, step in enumerate(next_steps(args.out, options), 1):
        print(f"  {i}. {step}")
    return int(ExitCode.OK)


def _credentials(args: argparse.Namespace) -> int:
    import os
    import shutil

    from fl_node.flower.deploy import generate_node_key_pair, generate_tls_files

    if args.silos < 0:
        raise UserError(f"--silos {args.silos}: must be >= 0", ExitCode.USAGE)
    hosts = tuple(h.strip() for h in args.hosts.split(",") if h.strip())
    if not hosts:
        raise UserError("--hosts: give at least one host name or IP", ExitCode.USAGE)
    out = Path(args.out)
    written = []
    tls_dir = out / "tls"
    if not (args.keep and (tls_dir / "ca.crt").is_file()):
        tls = generate_tls_files(tls_dir, hosts=hosts)
        written += [tls.ca_cert, tls.server_cert, tls.server_key]
    for i in range(1, args.silos + 1):
        silo = None if args.per_silo is None else Path(args.per_silo) / f"silo-{i}"
        private = (out if silo is None else silo) / "keys" / f"supernode-{i}"
        if args.keep and private.is_file() and (out / "keys" / f"supernode-{i}.pub").is_file():
            continue
        pair = generate_node_key_pair(out / "keys", f"supernode-{i}")
        written += [pair.private_key, pair.public_key]
        if silo is not None:
            private.parent.mkdir(parents=True, exist_ok=True)
            os.replace(pair.private_key, private)  # the coordinator keeps only the .pub
            written[-2] = private
    if args.per_silo is not None:
        for i in range(1, args.silos + 1):
            ca = Path(args.per_silo) / f"silo-{i}" / "tls" / "ca.crt"
            ca.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tls_dir / "ca.crt", ca)
            written.append(ca)
    for path in written:
        print(path)
    return int(ExitCode.OK)


def _token_arg(value: str | None) -> str | None:
    """``--token``: a checksummed ERC-20 address, or a usage error naming the fix."""
    if value is None:
        return None
    from eth_utils import is_address, to_checksum_address

    if not is_address(value):
        raise ValueError(f"--token {value!r}: give the ERC-20 contract's address (0x + 40 hex)")
    return str(to_checksum_address(value))


def _positive(flag: str, value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise ValueError(f"{flag} {value}: give a positive integer (base units per payoff unit)")
    return value
