"""``fedsettle node``: a silo's daemon (``run``), its config check (``check``), its records.

``fedsettle node run --config node.toml`` runs until SIGINT/SIGTERM: it joins the rounds where
the silo's account holds a slot, answers the coordinator's best-response queries over HTTP,
reports the attested contribution, withdraws the payout, supervises the silo's SuperNode and
logs every action to ``<state dir>/actions.jsonl`` and stderr. ``--once`` makes one pass over
the chain (deposit / report / withdraw what is due) and exits.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from fl_node.cli._exit import ExitCode, UserError
from fl_node.cli._options import add_log_format


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    node = sub.add_parser(
        "node",
        help="a silo's node daemon: join rounds, answer best-response queries, report, withdraw",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmds = node.add_subparsers(dest="node_command", required=True, metavar="SUBCOMMAND")

    p = cmds.add_parser("run", help="run the daemon until SIGINT/SIGTERM")
    p.add_argument("--config", type=Path, required=True, help="the silo's node.toml")
    p.add_argument(
        "--once", action="store_true", help="one pass over the chain, no HTTP agent, then exit"
    )
    p.add_argument("--quiet", action="store_true", help="log actions to the state dir only")
    add_log_format(p)
    p.set_defaults(func=_run)

    p = cmds.add_parser(
        "check", help="validate node.toml; print the account, data size s and endpoints"
    )
    p.add_argument("--config", type=Path, required=True, help="the silo's node.toml")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_check)

    p = cmds.add_parser("status", help="the daemon's round records (from its state dir)")
    p.add_argument("--config", type=Path, required=True, help="the silo's node.toml")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_status)


def _load(path: Path) -> Any:
    from fl_node.daemon import ConfigFileError, load_node_config

    try:
        return load_node_config(path)
    except ConfigFileError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None


def _daemon(config: Any, quiet: bool = False) -> Any:
    from fl_node.daemon import ConfigFileError, NodeDaemon
    from fl_node.data import DataError
    from fl_node.flower import SiloConfigError

    try:
        return NodeDaemon(config, log_stream=None if quiet else "stderr")
    except ConfigFileError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None
    except (DataError, SiloConfigError) as exc:
        raise UserError(f"node.toml: [data]: {exc}", ExitCode.DATA) from None


def _run(args: argparse.Namespace) -> int:
    from fl_node.daemon import ConfigFileError
    from settlement import SettlementError

    config = _load(args.config)
    started: list[Any] = []
    stop_requested = False

    def _stop(signum: int, frame: Any) -> None:
        nonlocal stop_requested
        stop_requested = True
        for daemon in started:
            daemon.stop()

    # before loading data and keys, so a stop during start-up is a clean stop too
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    daemon = _daemon(config, args.quiet)
    daemon.log.format = args.log_format
    started.append(daemon)
    if stop_requested:
        return int(ExitCode.OK)
    try:
        daemon.run(once=args.once)
    except ConfigFileError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None
    except SettlementError as exc:
        raise UserError(f"chain: {exc}", ExitCode.CHAIN) from None
    except OSError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None
    return int(ExitCode.OK)


def _check(args: argparse.Namespace) -> int:
    from fl_node.daemon import ConfigFileError
    from fl_node.data import DataError
    from fl_node.flower import SiloConfigError, load_silo

    config = _load(args.config)
    # no NodeDaemon: checking a config must work while its daemon runs (and holds the state dir)
    try:
        account = config.key.load()
        if config.market is not None:
            from fl_node.daemon._market import MarketSilo

            # a market silo's data size is its N in the market's split of its [data]
            s = MarketSilo(config.name, config.market, config.data).N
        else:
            silo = load_silo({**config.data.node_config(), "silo-name": config.name})
            s = len(silo.data)
    except ConfigFileError as exc:
        raise UserError(str(exc), ExitCode.CONFIG) from None
    except (DataError, SiloConfigError) as exc:
        raise UserError(f"node.toml: [data]: {exc}", ExitCode.DATA) from None
    info = {
        "name": config.name,
        "address": account.address,
        "key": config.key.describe(),
        "s": s,
        "data": config.data.node_config(),
        "rpc_url": config.chain.rpc_url,
        "contract": config.chain.contract_source(),
        "max_bond_wei": config.chain.max_bond_wei,
        "agent": f"http://{config.agent.host}:{config.agent.port}",
        "state_dir": str(config.state_dir),
        "compute_levels": None if config.cost is None else list(config.cost.F),
        "supernode": None,
    }
    entry = f"s = {s}\n" + ("" if config.cost is None else f"F_max = {config.cost.F[-1]}\n")
    if config.cogen is not None:
        import numpy as np

        # delta_i is the L1 distance of these counts / s to the consortium's qbar (the pooled
        # label mix, which one silo cannot see): the operator computes it from every silo's
        # counts; the price stays private to the daemon
        counts = np.bincount(silo.data.y, minlength=silo.meta.n_classes)
        info["cogen"] = {
            "price_per_cpu_second": config.cogen.price_per_cpu_second,
            "label_counts": [int(v) for v in counts],
        }
        entry += (
            f"# delta = L1 distance of label_counts / s to [terms].qbar\n"
            f"# label_counts = {info['cogen']['label_counts']}\n"
        )
    if config.market is not None:
        info["market"] = {"N": s, "c": config.market.c, "K": config.market.K}
        entry = f"N = {s}\nc = {config.market.c!r}\nK = {config.market.K!r}\n"
    if config.supernode is not None:
        from fl_node.daemon import supernode_argv

        info["supernode"] = supernode_argv(
            config.supernode,
            config.state_dir / "supernode" / "node-config.toml",
            "flower-supernode",
        )
    if args.format == "json":
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:15} {value}")
        print(
            f"\nconsortium.toml entry:\n[[silos]]\nname = {json.dumps(config.name)}\n"
            f'account = "{account.address}"\n{entry}'
        )
    return int(ExitCode.OK)


def _status(args: argparse.Namespace) -> int:
    from fl_node.daemon import StateDir

    config = _load(args.config)
    if not config.state_dir.is_dir():
        raise UserError(
            f"node.toml: [state].dir = {config.state_dir} does not exist yet; the daemon has not run"
        )
    records = [r.__dict__ for r in StateDir(config.state_dir, exclusive=False).rounds()]
    if args.format == "json":
        print(json.dumps(records, indent=2))
        return int(ExitCode.OK)
    print(
        f"{'round':>5} {'slot':>4} {'bond_wei':>22} {'terms':>5} {'assigned':>8} {'done':>5}  outcome"
    )
    for r in records:
        outcome = r["outcome"] or {}
        print(
            f"{r['round_id']:>5} {r['index']:>4} {r['bond_wei']:>22} "
            f"{'yes' if r['terms'] else 'no':>5} {'yes' if r['assignment'] else 'no':>8} "
            f"{'yes' if r['done'] else 'no':>5}  "
            + (
                f"{outcome.get('phase')} payoff={outcome.get('payoff_wei')} "
                f"withdrawn={outcome.get('withdrawn_wei')}"
                if outcome
                else (r["declined"] or "")
            )
        )
    sys.stdout.flush()
    return int(ExitCode.OK)
