"""Write a ready-to-run devnet consortium: ``consortium.toml`` plus one ``node-N.toml`` per silo.

Parameters are drawn like the demo's (:func:`fl_node.consortium.make_demo_consortium`: interior
equilibrium, basis-point rho), each silo's ``s`` is the size of its bundled-data partition
(mechanism market: its ``N`` is its training size in the market's split and c, K are drawn as
the market demo draws them, :func:`_market_reports`), keys
are anvil dev accounts (operator 0, coordinator 1, silo N = account N + 1). The coordinator
deploys the contract when ``[chain].contract`` is absent; the silos learn its address from the
deployment file the coordinator writes (``[chain].deployment_file`` =
``<coordinator state_dir>/deployment.json``, ``contract="deployment-file"``, what
``fedsettle coordinator init`` writes), or are given the address the operator's first deployment
lands at on a fresh chain (``contract="predicted"``, :func:`first_deployment_address`; wrong on a
reused chain). ``compose=True`` writes the docker-compose variant (service host names, the
deployment runtime with TLS and SuperNode authentication, credentials under ``/credentials``,
the coordinator's state volume mounted read-only at ``/coordinator`` in the silos).

:func:`scaffold` refuses to overwrite a file whose content differs from what it would write (an
edited config) unless ``force=True``; :func:`next_steps` lists the commands that follow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

__all__ = [
    "ScaffoldConflict",
    "ScaffoldOptions",
    "first_deployment_address",
    "next_steps",
    "scaffold",
]


class ScaffoldConflict(FileExistsError):
    """A file :func:`scaffold` would write exists with other (edited) content."""


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
    #: Dirichlet concentration; None: the mechanism's (tradefl 0.5, market 0.3, cogen 0.1: strongly
    #: non-IID, where generating pays)
    alpha: float | None = None
    seed: int = 0
    base_port: int = 8601
    rounds: int = 2
    epochs: int = 1
    compose: bool = False
    runtime: str = "embedded"  # or "deployment" (forced by compose)
    superlink_port: int = 9092
    supernode_base_port: int = 9094
    credentials: str = "credentials"  # directory of `fedsettle coordinator credentials`
    poll_interval_s: float = 0.3  # the coordinator's waits
    node_poll_interval_s: float = 2.0  # the daemons' chain polls (fits small machines)
    contract: str = "predicted"  # or "deployment-file": how the silos learn the contract
    join_timeout_s: float = 60.0
    report_timeout_s: float = 60.0
    mechanism: str = "tradefl"  # or "cogen" (synthetic-data generation), "market"
    #: settle in this ERC-20 (``[chain].token`` of every file); None: ETH
    token: str | None = None
    #: base units of the asset per unit of game payoff (``[units].unit_wei``); None: the
    #: mechanism's ETH default (tradefl 1e18 = 1 ETH, cogen and market 1e16)
    unit_wei: int | None = None


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


def scaffold(
    out: str | Path, options: ScaffoldOptions = ScaffoldOptions(), *, force: bool = False
) -> list[Path]:
    """Write ``consortium.toml`` and ``node-1.toml`` .. ``node-N.toml`` into ``out``.

    Returns
    -------
    list of Path
        The files written, consortium first.

    Raises
    ------
    ScaffoldConflict
        If a file exists with other content and ``force`` is false (nothing is written).
    ValueError
        For impossible options.
    """
    from fl_node.consortium import make_demo_consortium
    from fl_node.flower import load_silo
    from settlement import dev_account

    if options.silos < 2:
        raise ValueError(f"silos={options.silos}: a consortium needs at least two silos")
    if options.contract not in ("predicted", "deployment-file"):
        raise ValueError(f"contract={options.contract!r}: use 'predicted' or 'deployment-file'")
    if options.mechanism not in ("tradefl", "cogen", "market"):
        raise ValueError(f"mechanism={options.mechanism!r}: use 'tradefl', 'cogen' or 'market'")
    cogen, market = options.mechanism == "cogen", options.mechanism == "market"
    alpha = options.alpha
    if alpha is None:
        from fl_node.mechanisms import Cogen, ModelMarket

        alpha = Cogen.demo_alpha if cogen else ModelMarket.demo_alpha if market else 0.5
    out = Path(out)
    n = options.silos
    names = [f"silo-{i}" for i in range(1, n + 1)]
    data = [
        {
            "dataset": options.dataset,
            "partition_id": i,
            "num_partitions": n,
            "alpha": alpha,
            "seed": options.seed,
        }
        for i in range(n)
    ]
    partitions = [
        load_silo(
            {
                "dataset": d["dataset"],
                "partition-id": d["partition_id"],
                "num-partitions": n,
                "alpha": d["alpha"],
                "data-seed": d["seed"],
            }
        )
        for d in data
    ]
    sizes = [len(p.data) for p in partitions]
    demo = make_demo_consortium(names, sizes, seed=options.seed, epochs=options.epochs)
    reports = _market_reports(names, options.dataset, alpha, options.seed) if market else None
    operator = dev_account(0)
    contract = first_deployment_address(operator.address)
    compose = options.compose
    rpc = "http://anvil:8545" if compose else options.rpc_url
    deployment = _deployment_runtime(options)
    creds = "/credentials" if compose else options.credentials
    link = options.superlink_port
    # containers start slower than local processes and need no sub-second polling
    poll = max(options.poll_interval_s, 1.0) if compose else options.poll_interval_s
    node_poll = max(options.node_poll_interval_s, 1.0) if compose else options.node_poll_interval_s
    coordinator_state = "/var/lib/fedsettle/state" if compose else "state/coordinator"
    contract_field: dict[str, str] = {"contract": contract}
    if options.contract == "deployment-file":
        # in compose the silos mount the coordinator's state volume read-only at /coordinator
        contract_field = {
            "deployment_file": "/coordinator/state/deployment.json"
            if compose
            else f"{coordinator_state}/deployment.json"
        }
    join_timeout = max(options.join_timeout_s, 300.0) if compose else options.join_timeout_s
    report_timeout = max(options.report_timeout_s, 300.0) if compose else options.report_timeout_s

    def endpoint(i: int) -> str:
        if compose:
            return f"http://silo-{i + 1}:{options.base_port}"
        return f"http://127.0.0.1:{options.base_port + i}"

    token_field = {} if options.token is None else {"token": options.token}
    documents: list[tuple[Path, str]] = []
    for i, (org, d) in enumerate(zip(demo.orgs, data, strict=True)):
        account = dev_account(i + 2)
        tables: list[tuple[str, dict[str, Any]]] = [
            ("[silo]", {"name": org.name}),
            (
                "[chain]",
                {
                    "rpc_url": rpc,
                    **contract_field,
                    **token_field,
                    "max_bond_wei": str(10 * 10**18),
                    "poll_interval_s": node_poll,
                },
            ),
            ("[key]", {"dev_account": i + 2}),
            _cogen_node_table()
            if cogen
            else ("[market]", {"c": reports[i].c, "K": reports[i].K})
            if reports is not None
            else ("[cost]", {"eta": org.eta, "T1": org.T1, "T3": org.T3, "F": list(org.F)}),
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
        documents.append(
            (
                path,
                _document(
                    f"{org.name}'s node daemon (fedsettle node run --config {path.name}).\n"
                    f"Account: anvil dev account {i + 2} ({account.address})"
                    + _private_note(options.mechanism),
                    tables,
                ),
            )
        )

    t = demo.terms
    cogen_terms = _cogen_terms(names, partitions) if cogen else None
    if cogen_terms is not None:
        terms_table = cogen_terms[0]
    elif reports is not None:
        terms_table = _market_terms()
    else:
        terms_table = {
            "gamma": t.gamma,
            "lam": t.lam,
            "w_e": t.w_e,
            "kappa": t.kappa,
            "G": t.G,
            "D_min": t.D_min,
            "A0": t.A0,
            "tau": t.tau,
            "rho": [list(r) for r in t.rho],
        }
    consortium: list[tuple[str, dict[str, Any]]] = [
        ("[chain]", {"rpc_url": rpc, **token_field}),
        ("[chain.operator]", {"dev_account": 0}),
        (
            "[coordinator]",
            {
                "state_dir": coordinator_state,
                **({} if options.mechanism == "tradefl" else {"mechanism": options.mechanism}),
                "attest": True,
            },
        ),
        ("[coordinator.key]", {"dev_account": 1}),
        ("[terms]", terms_table),
        ("[units]", _units(options)),
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
        if reports is not None:
            fields: dict[str, Any] = {"N": reports[i].N, "c": reports[i].c, "K": reports[i].K}
        elif cogen_terms is not None:
            fields = {"s": int(org.s), **cogen_terms[1][i]}
        else:
            fields = {"s": int(org.s), "F_max": org.F[-1], "p": org.p}
        entry: dict[str, Any] = {
            "name": org.name,
            "account": dev_account(i + 2).address,
            **fields,
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
                "alpha": alpha,
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
                    "superlink_state": "memory",
                },
            ),
        ]
    else:
        consortium.append(("[runtime]", {"mode": "embedded"}))
    if options.contract == "deployment-file" and compose:
        where = (
            f"the silos read its address from {coordinator_state}/deployment.json: the\n"
            "coordinator's state volume, mounted read-only at /coordinator in the silos"
        )
    elif options.contract == "deployment-file":
        where = f"the silos read its address from {coordinator_state}/deployment.json"
    else:
        where = f"on a fresh anvil it lands at {contract}, the address in every node-N.toml"
    consortium_doc = _document(
        "The consortium's coordinator (fedsettle coordinator run --config consortium.toml).\n"
        "No [chain].contract: the coordinator deploys FedSettle on first start (operator = "
        "anvil dev account 0;\n"
        f"{where}).",
        consortium,
    )
    documents.insert(0, (out / "consortium.toml", consortium_doc))
    edited = [p for p, text in documents if p.exists() and p.read_text(encoding="utf-8") != text]
    if edited and not force:
        raise ScaffoldConflict(
            f"{', '.join(str(p) for p in edited)} already exist(s) with other content (edited "
            "configs?); pass --force to overwrite, or choose another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    for p, text in documents:
        p.write_text(text, encoding="utf-8")
    return [p for p, _ in documents]


def _deployment_runtime(options: ScaffoldOptions) -> bool:
    """True when the files describe Flower's deployment runtime (``--runtime`` or compose)."""
    return options.compose or options.runtime == "deployment"


def _private_note(mechanism: str) -> str:
    return {
        "cogen": "; [cogen] is private.",
        "market": "; [market] is its own c and K, checked against the round before it deposits.",
    }.get(mechanism, "; [cost] is private.")


def _units(options: ScaffoldOptions) -> dict[str, Any]:
    """``[units]``: the mechanism's scales, ``options.unit_wei`` or its default unit."""
    from fl_node.coordinator._market_config import MARKET_UNITS

    if options.mechanism == "market":
        x_scale, f_scale, unit = MARKET_UNITS.x_scale, MARKET_UNITS.f_scale, MARKET_UNITS.unit_wei
    elif options.mechanism == "cogen":
        x_scale, f_scale, unit = 1, 1, 10**16
    else:
        x_scale, f_scale, unit = 1000, 1, 10**18
    return {"x_scale": x_scale, "f_scale": f_scale, "unit_wei": str(options.unit_wei or unit)}


def _market_terms() -> dict[str, Any]:
    """A market consortium's public [terms]: the demo's (:class:`fl_node.market.MarketParams`)."""
    from fl_node.market import MarketParams

    p = MarketParams()
    return {"lambda_pay": p.lambda_pay, "lambda_prox": p.lambda_prox, "eta": p.eta}


def _market_reports(names: Sequence[str], dataset: str, alpha: float, seed: int) -> list[Any]:
    """Every silo's N (its training size in the market's split), c and K (drawn as the demo
    draws them, :meth:`fl_node.market.MarketParams.draw`, on the chain's 6-decimal grid)."""
    from fl_node.market import MarketParams
    from fl_node.mechanisms.market import MarketReport, market_training_size

    n = len(names)
    sizes = [market_training_size(dataset, n, seed, alpha, i) for i in range(n)]
    drawn = MarketParams().draw(names, sizes, seed)
    return [
        MarketReport(name, N, round(float(c), 6), round(float(K), 6))
        for name, N, c, K in zip(names, sizes, drawn.c, drawn.K, strict=True)
    ]


#: a cogen silo's price of its generator's CPU time in the devnet consortium: with the
#: demo's theta = 10 the measured GMM costs (~1e-4 CPU-s per sample) then give every silo an
#: interior equilibrium (the demo's 300 puts slower machines at x = 0)
_COGEN_PRICE = 100.0


def _cogen_node_table() -> tuple[str, dict[str, Any]]:
    """A cogen silo's private table: the price of its generator's CPU time."""
    return ("[cogen]", {"price_per_cpu_second": _COGEN_PRICE})


def _cogen_terms(
    names: Sequence[str], partitions: Sequence[Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A cogen consortium's [terms] and per-silo fields, from the silos' partitions.

    qbar is the pooled label distribution, delta_i each silo's L1 distance to it, x_max twice
    its real samples; the other numbers are the demo's (:class:`CogenDemoSettings`).
    """
    import numpy as np

    from fl_node.cogen import pooled_distribution
    from fl_node.mechanisms.cogen import CogenDemoSettings
    from solver.cogen import heterogeneity

    st = CogenDemoSettings()
    classes = partitions[0].meta.n_classes
    hist = np.array([np.bincount(p.data.y, minlength=classes) for p in partitions])
    qbar = pooled_distribution(hist)
    n = len(names)
    terms = {
        "a": st.a,
        "b": st.b,
        "alpha_D": st.alpha_D,
        "kappa": st.kappa,
        "q": st.q,
        "gamma": [[0.0 if i == j else st.gamma for j in range(n)] for i in range(n)],
        "qbar": [float(v) for v in qbar],
        "generator": st.generator,
    }
    silos = [
        {
            "delta": float(heterogeneity(hist[i], qbar)),
            "theta": st.theta,
            "x_max": max(1, round(st.x_max_ratio * len(p.data))),
        }
        for i, p in enumerate(partitions)
    ]
    return terms, silos


def next_steps(out: str | Path, options: ScaffoldOptions = ScaffoldOptions()) -> list[str]:
    """The commands that bring up what :func:`scaffold` wrote into ``out``, in order."""
    out = Path(out)
    port = urlparse(options.rpc_url).port or 8545
    if options.compose:
        return [
            "docker compose build",
            "docker compose up --exit-code-from coordinator   # returns when the round settled",
        ]
    steps = [f"fedsettle devnet --port {port} --state {out / 'chain-state.json'}   # the chain"]
    if options.runtime == "deployment":
        steps.append(
            f"fedsettle coordinator credentials --out {out / options.credentials} "
            f"--silos {options.silos}   # TLS + SuperNode keys"
        )
    steps += [
        f"fedsettle node run --config {out / f'node-{i}.toml'}   # silo-{i}, its own terminal"
        for i in range(1, options.silos + 1)
    ]
    steps += [
        f"fedsettle coordinator check --live --config {out / 'consortium.toml'}   # pre-flight",
        f"fedsettle coordinator run --config {out / 'consortium.toml'} --devnet",
        f"fedsettle coordinator status --config {out / 'consortium.toml'}",
    ]
    return steps
