"""Write a ready-to-run devnet consortium: ``consortium.toml`` plus one ``node-N.toml`` per silo.

Parameters are drawn like the demo's (:func:`fl_node.consortium.make_demo_consortium`: interior
equilibrium, basis-point rho), each silo's ``s`` is the size of its bundled-data partition, keys
are anvil dev accounts (operator 0, coordinator 1, silo N = account N + 1) and the silos' contract
address is where the operator's first deployment lands on a fresh chain
(:func:`first_deployment_address`), which the coordinator makes when ``[chain].contract`` is
absent. ``compose=True`` writes the docker-compose variant (service host names, the deployment
runtime with TLS and SuperNode authentication, credentials under ``/credentials``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ScaffoldOptions", "first_deployment_address", "scaffold"]


def first_deployment_address(deployer: str, nonce: int = 0) -> str:
    """The address of the contract ``deployer`` creates with its ``nonce``-th transaction."""
    import rlp
    from eth_utils import keccak, to_checksum_address

    raw = keccak(rlp.encode([bytes.fromhex(deployer[2:]), nonce]))[12:]
    return str(to_checksum_address(raw))


@dataclass(frozen=True)
class ScaffoldOptions:
    silos: int = 3
    rpc_url: str = "http://127.0.0.1:8545"
    dataset: str = "digits"
    alpha: float = 0.5
    seed: int = 0
    base_port: int = 8601
    rounds: int = 2
    epochs: int = 1
    compose: bool = False
    runtime: str = "embedded"  # or "deployment" (forced by compose)
    superlink_port: int = 9092
    supernode_base_port: int = 9094
    credentials: str = "credentials"  # directory of `fedsettle coordinator credentials`
    poll_interval_s: float = 0.3
    join_timeout_s: float = 60.0
    report_timeout_s: float = 60.0


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _document(header: str, tables: Sequence[tuple[str, dict[str, Any]]]) -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for name, values in tables:
        lines += ["", name]
        lines += [f"{k} = {_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def scaffold(out: str | Path, options: ScaffoldOptions = ScaffoldOptions()) -> list[Path]:
    """Write ``consortium.toml`` and ``node-1.toml`` .. ``node-N.toml`` into ``out``.

    Returns
    -------
    list of Path
        The files written, consortium first.
    """
    from fl_node.consortium import make_demo_consortium
    from fl_node.flower import load_silo
    from settlement import dev_account

    if options.silos < 2:
        raise ValueError(f"silos={options.silos}: a consortium needs at least two silos")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n = options.silos
    names = [f"silo-{i}" for i in range(1, n + 1)]
    data = [
        {
            "dataset": options.dataset,
            "partition_id": i,
            "num_partitions": n,
            "alpha": options.alpha,
            "seed": options.seed,
        }
        for i in range(n)
    ]
    sizes = [
        len(
            load_silo(
                {
                    "dataset": d["dataset"],
                    "partition-id": d["partition_id"],
                    "num-partitions": n,
                    "alpha": d["alpha"],
                    "data-seed": d["seed"],
                }
            ).data
        )
        for d in data
    ]
    demo = make_demo_consortium(names, sizes, seed=options.seed, epochs=options.epochs)
    operator = dev_account(0)
    contract = first_deployment_address(operator.address)
    compose = options.compose
    rpc = "http://anvil:8545" if compose else options.rpc_url
    deployment = compose or options.runtime == "deployment"
    creds = "/credentials" if compose else options.credentials
    link = options.superlink_port
    # containers start slower than local processes and need no sub-second polling
    poll = max(options.poll_interval_s, 1.0) if compose else options.poll_interval_s
    join_timeout = max(options.join_timeout_s, 300.0) if compose else options.join_timeout_s
    report_timeout = max(options.report_timeout_s, 300.0) if compose else options.report_timeout_s

    def endpoint(i: int) -> str:
        if compose:
            return f"http://silo-{i + 1}:{options.base_port}"
        return f"http://127.0.0.1:{options.base_port + i}"

    written = []
    for i, (org, d) in enumerate(zip(demo.orgs, data, strict=True)):
        account = dev_account(i + 2)
        tables: list[tuple[str, dict[str, Any]]] = [
            ("[silo]", {"name": org.name}),
            (
                "[chain]",
                {
                    "rpc_url": rpc,
                    "contract": contract,
                    "max_bond_wei": str(10 * 10**18),
                    "poll_interval_s": poll,
                },
            ),
            ("[key]", {"dev_account": i + 2}),
            ("[cost]", {"eta": org.eta, "T1": org.T1, "T3": org.T3, "F": list(org.F)}),
            ("[data]", d),
            (
                "[agent]",
                {
                    "host": "0.0.0.0" if compose else "127.0.0.1",
                    "port": options.base_port if compose else options.base_port + i,
                },
            ),
            ("[state]", {"dir": "/var/lib/fedsettle/state" if compose else f"state/{org.name}"}),
        ]
        if deployment:
            tables.append(
                (
                    "[supernode]",
                    {
                        "superlink": f"coordinator:{link}" if compose else f"127.0.0.1:{link}",
                        "root_certificates": f"{creds}/tls/ca.crt",
                        "auth_private_key": f"{creds}/keys/supernode-{i + 1}",
                        "port": options.supernode_base_port + (0 if compose else i),
                    },
                )
            )
        path = out / f"node-{i + 1}.toml"
        path.write_text(
            _document(
                f"{org.name}'s node daemon (fedsettle node run --config {path.name}).\n"
                f"Account: anvil dev account {i + 2} ({account.address}); [cost] is private.",
                tables,
            ),
            encoding="utf-8",
        )
        written.append(path)

    t = demo.terms
    consortium: list[tuple[str, dict[str, Any]]] = [
        ("[chain]", {"rpc_url": rpc}),
        ("[chain.operator]", {"dev_account": 0}),
        (
            "[coordinator]",
            {
                "state_dir": "/var/lib/fedsettle/state" if compose else "state/coordinator",
                "attest": True,
            },
        ),
        ("[coordinator.key]", {"dev_account": 1}),
        (
            "[terms]",
            {
                "gamma": t.gamma,
                "lam": t.lam,
                "w_e": t.w_e,
                "kappa": t.kappa,
                "G": t.G,
                "D_min": t.D_min,
                "A0": t.A0,
                "tau": t.tau,
                "rho": [list(r) for r in t.rho],
            },
        ),
        ("[units]", {"x_scale": 1000, "f_scale": 1, "unit_wei": str(10**18)}),
        (
            "[round]",
            {
                "deposit_window_s": 600,
                "report_window_s": 600,
                "join_timeout_s": join_timeout,
                "report_timeout_s": report_timeout,
                "poll_interval_s": poll,
            },
        ),
    ]
    for i, org in enumerate(demo.orgs):
        entry: dict[str, Any] = {
            "name": org.name,
            "account": dev_account(i + 2).address,
            "s": int(org.s),
            "F_max": org.F[-1],
            "p": org.p,
            "endpoint": endpoint(i),
            "partition_id": i,
        }
        if deployment:
            entry["supernode_public_key"] = f"{creds}/keys/supernode-{i + 1}.pub"
        consortium.append(("[[silos]]", entry))
    consortium.append(
        (
            "[fl]",
            {
                "rounds": options.rounds,
                "epochs": options.epochs,
                "lr": 0.05,
                "round_timeout_s": 120.0 if deployment else 60.0,
                "dataset": options.dataset,
                "alpha": options.alpha,
                "seed": options.seed,
            },
        )
    )
    if deployment:
        consortium += [
            ("[runtime]", {"mode": "deployment"}),
            (
                "[runtime.deployment]",
                {
                    "superlink": f"127.0.0.1:{link}",
                    "root_certificates": f"{creds}/tls/ca.crt",
                    "start_superlink": True,
                    "host": "0.0.0.0" if compose else "127.0.0.1",
                    "port": link,
                    "ssl_certfile": f"{creds}/tls/server.pem",
                    "ssl_keyfile": f"{creds}/tls/server.key",
                    "node_wait_timeout_s": 300.0 if compose else 120.0,
                },
            ),
        ]
    else:
        consortium.append(("[runtime]", {"mode": "embedded"}))
    path = out / "consortium.toml"
    path.write_text(
        _document(
            "The consortium's coordinator (fedsettle coordinator run --config consortium.toml).\n"
            "No [chain].contract: the coordinator deploys FedSettle on first start (operator = "
            "anvil dev account 0;\n"
            f"on a fresh anvil it lands at {contract}, the address in every node-N.toml).",
            consortium,
        ),
        encoding="utf-8",
    )
    return [path, *written]
