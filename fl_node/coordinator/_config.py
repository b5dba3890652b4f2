"""``consortium.toml``: the coordinator's settings, validated into frozen dataclasses.

Example (relative paths are relative to the file)::

    [chain]
    rpc_url = "http://127.0.0.1:8545"
    # contract = "0x..."                 # attach to this FedSettle; absent: deploy one (once:
                                         #   the address is kept in the state dir)
    # token = "0x..."                    # settle in this ERC-20 (e.g. a stablecoin); absent:
                                         #   ETH. Bonds, deposits and payoffs are token units
    [chain.operator]                     # opens rounds (and deploys)
    dev_account = 0                      # or keystore = "..." + password_env = "..."

    [coordinator]
    state_dir = "state/coordinator"
    mechanism = "tradefl"                # optional: the round's mechanism (fl_node.mechanisms);
                                         #   "cogen": [terms] and [[silos]] per _cogen_config,
                                         #   "market": per _market_config
    attest = true                        # reports need the coordinator's EIP-712 signature
    [coordinator.key]                    # the attestation key (required when attest = true)
    dev_account = 1

    [terms]                              # public terms, committed on chain by digest
    gamma = 0.004
    lam = 0.05
    w_e = 1.0
    kappa = 2e-10
    G = 10.0
    D_min = 0.2
    A0 = 1.0
    tau = 0.6
    rho = [[0.0, 0.05, 0.04], [0.05, 0.0, 0.06], [0.04, 0.06, 0.0]]

    [units]                              # optional
    x_scale = 1000
    f_scale = 1
    unit_wei = "1000000000000000000"     # wei per unit of game payoff

    [round]                              # optional
    deposit_window_s = 600               # chain-time windows of the round's phases (<= 30 days;
    report_window_s = 600                #   after the report deadline anyone may settle)
    join_timeout_s = 120                 # wall-clock wait for deposits / reports before the
    report_timeout_s = 120               #   coordinator waits out (or, --devnet, warps past)
                                         #   the chain deadline
    [[silos]]                            # one per silo, in slot order
    name = "silo-1"
    account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    s = 449                              # training samples (the silo's `fedsettle node check`)
    F_max = 4000.0                       # fastest compute level (samples/s)
    p = 1200.0                           # profitability (public)
    endpoint = "http://127.0.0.1:8601"   # the silo daemon's agent
    partition_id = 0                     # embedded runtime: which partition it trains on
    supernode_public_key = "keys/supernode-1.pub"  # deployment runtime: registered at start

    [fl]
    rounds = 3
    epochs = 2
    lr = 0.05
    round_timeout_s = 60.0
    dataset = "digits"                   # the held-out test set (and embedded partitions)
    alpha = 0.5
    seed = 0

    [runtime]
    mode = "embedded"                    # or "deployment" (Flower SuperLink + SuperNodes)
    [runtime.deployment]                 # mode = "deployment" only
    superlink = "127.0.0.1:9092"         # where the flwr CLI reaches the SuperLink
    root_certificates = "tls/ca.crt"
    start_superlink = true               # run flower-superlink as a child
    host = "0.0.0.0"                     #   listening here,
    port = 9092
    ssl_certfile = "tls/server.pem"      #   with this certificate and key
    ssl_keyfile = "tls/server.key"
    node_wait_timeout_s = 120
    superlink_state = "memory"           # or "file": <state_dir>/flower/superlink.db
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fl_node.agent import ConsortiumTerms
from fl_node.chain_steps import ChainUnits
from fl_node.coordinator._market_config import MARKET_UNITS
from fl_node.daemon import KeySpec, Table, read_key_spec, read_toml
from fl_node.mechanisms import DEFAULT_MECHANISM, mechanism_names

__all__ = [
    "ConsortiumConfig",
    "DeploymentSettings",
    "FLSettings",
    "RoundSettings",
    "SiloEntry",
    "load_consortium_config",
    "parse_consortium_config",
]


@dataclass(frozen=True)
class SiloEntry:
    """One silo as the consortium registers it (slot ``index`` on chain)."""

    index: int
    name: str
    account: str
    s: float
    F_max: float
    p: float
    endpoint: str
    partition_id: int
    supernode_public_key: Path | None = None


@dataclass(frozen=True)
class RoundSettings:
    deposit_window_s: int = 600
    report_window_s: int = 600
    join_timeout_s: float = 120.0
    report_timeout_s: float = 120.0
    http_timeout_s: float = 10.0
    poll_interval_s: float = 0.5
    max_sweeps: int = 100


@dataclass(frozen=True)
class FLSettings:
    rounds: int = 3
    epochs: int = 2
    lr: float = 0.05
    batch_size: int = 32
    round_timeout_s: float = 60.0
    dataset: str = "digits"
    alpha: float = 0.5
    seed: int = 0
    test_fraction: float = 0.25
    scheme: str = "dirichlet"
    num_partitions: int = 0  # 0: one per silo
    model_kind: str = "auto"


@dataclass(frozen=True)
class DeploymentSettings:
    superlink: str
    root_certificates: Path | None
    start_superlink: bool = True
    host: str = "127.0.0.1"
    port: int = 9092
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    insecure: bool = False
    node_wait_timeout_s: float = 120.0
    run_timeout_s: float = 1800.0
    #: where a SuperLink the coordinator starts keeps its state: ``"memory"`` (Flower's
    #: in-memory state, the default) or ``"file"`` (a SQLite file, ``superlink.db`` in the
    #: coordinator's Flower directory). Measured on 2 cores (3 silos, 5 FL rounds, warm path):
    #: 28-31 s per session in memory against 57-66 s with the file, whose SQL state every message,
    #: object and heartbeat goes through. The file keeps the SuperNodes' registrations across a
    #: coordinator restart; in memory, a restarted coordinator registers the SuperNode keys again
    #: and each daemon restarts its SuperNode, which exits when the new SuperLink does not know
    #: its node id (``restart_delay_s`` later). Runs never survive a coordinator restart either way:
    #: the ServerApp dies with it and the coordinator submits a new run.
    superlink_state: str = "memory"


@dataclass(frozen=True)
class ConsortiumConfig:
    """A validated ``consortium.toml`` (see the module docstring for the format)."""

    rpc_url: str
    contract: str | None
    operator: KeySpec
    coordinator_key: KeySpec | None
    state_dir: Path
    result_path: Path | None
    #: the public terms: :class:`ConsortiumTerms` (tradefl),
    #: :class:`fl_node.mechanisms.cogen.CogenTerms` (cogen, see :mod:`._cogen_config`) or
    #: :class:`fl_node.mechanisms.market.MarketTerms` (market, see :mod:`._market_config`)
    terms: Any
    units: ChainUnits
    silos: tuple[SiloEntry, ...]
    round: RoundSettings
    fl: FLSettings
    mode: str
    deployment: DeploymentSettings | None = None
    rpc_timeout_s: float = 30.0
    mechanism: str = DEFAULT_MECHANISM
    #: ERC-20 the round settles in; None: ETH
    token: str | None = None
    source: Path | None = field(default=None, compare=False)

    @property
    def attest(self) -> bool:
        return self.coordinator_key is not None


def load_consortium_config(path: str | Path) -> ConsortiumConfig:
    """Read and validate ``consortium.toml`` at ``path``.

    Raises
    ------
    fl_node.daemon.ConfigFileError
        Naming the file, the field and the fix.
    """
    config = parse_consortium_config(read_toml(path))
    return ConsortiumConfig(**{**config.__dict__, "source": Path(path).resolve()})


def _req(root: Table, key: str, hint: str) -> Table:
    table = root.table(key, hint)
    assert table is not None
    return table


def parse_consortium_config(root: Table) -> ConsortiumConfig:
    """Validate a parsed ``consortium.toml`` root table."""
    root.check_keys(("chain", "coordinator", "terms", "units", "round", "silos", "fl", "runtime"))
    chain = _req(root, "chain", "rpc_url and an [chain.operator] key")
    chain.check_keys(("rpc_url", "contract", "operator", "rpc_timeout_s", "token"))
    coord = _req(root, "coordinator", 'state_dir = "state/coordinator"')
    coord.check_keys(("state_dir", "result", "attest", "key", "mechanism"))
    names = mechanism_names()
    mechanism = coord.text("mechanism", f"one of {', '.join(names)}", default=DEFAULT_MECHANISM)
    if mechanism not in names:
        raise coord.error(
            "mechanism", f"= {mechanism!r} is not a registered mechanism", f"use {', '.join(names)}"
        )
    attest = coord.flag("attest", "true to require attested reports, else false", default=True)
    if mechanism == "market" and not attest:
        raise coord.error(
            "attest",
            "= false, but the market's table of graphs is submitted by the coordinator",
            "set attest = true and give a [coordinator.key]",
        )
    key_table = coord.table("key", "dev_account = N or keystore + password_env", required=attest)
    if key_table is not None and not attest:
        raise coord.error("key", "is set but attest = false", "remove it or set attest = true")
    silos = _silos(root, mechanism)
    units = _units(root, MARKET_UNITS if mechanism == "market" else ChainUnits())
    terms: Any
    if mechanism == "cogen":
        from fl_node.coordinator._cogen_config import parse_cogen_terms

        terms = parse_cogen_terms(
            _req(root, "terms", "a, b, alpha_D, kappa, q, gamma, qbar (mechanism cogen)"),
            root.tables("silos", ""),
            [s.name for s in silos],
            [s.s for s in silos],
        )
    elif mechanism == "market":
        from fl_node.coordinator._market_config import parse_market_terms

        terms = parse_market_terms(
            _req(root, "terms", "lambda_pay (mechanism market)"),
            root.tables("silos", ""),
            [s.name for s in silos],
            [s.s for s in silos],
            units,
        )
    else:
        terms = _terms(root, silos)
    mode = "embedded"
    deployment = None
    runtime = root.table("runtime", 'mode = "embedded"', required=False)
    if runtime is not None:
        runtime.check_keys(("mode", "deployment"))
        mode = runtime.choice("mode", ("embedded", "deployment"), default="embedded")
        if mode == "deployment":
            deployment = _deployment(_req(runtime, "deployment", "superlink, root_certificates"))
            for silo, table in zip(silos, root.tables("silos", ""), strict=True):
                if silo.supernode_public_key is None:
                    raise table.error(
                        "supernode_public_key",
                        "is missing (runtime.mode = 'deployment')",
                        "set it to the silo's SuperNode public key file (OpenSSH format), "
                        "registered with the SuperLink at start",
                    )
    return ConsortiumConfig(
        rpc_url=chain.url("rpc_url", "the JSON-RPC URL of the chain, e.g. http://127.0.0.1:8545"),
        contract=chain.address(
            "contract", "the FedSettle address to attach to (or remove it to deploy)", default=None
        ),
        operator=read_key_spec(_req(chain, "operator", "dev_account = 0, or keystore + env")),
        coordinator_key=None if key_table is None else read_key_spec(key_table),
        state_dir=coord.path("state_dir", "a directory for the coordinator's state and log"),
        result_path=coord.path("result", "the result JSON path", default=None),
        terms=terms,
        units=units,
        silos=tuple(silos),
        round=_round(root.table("round", "", required=False)),
        fl=_fl(root.table("fl", "", required=False), len(silos)),
        mode=mode,
        deployment=deployment,
        rpc_timeout_s=chain.number("rpc_timeout_s", "seconds, e.g. 30", default=30.0, above=0.0),
        mechanism=mechanism,
        token=chain.address(
            "token", "the ERC-20 contract the round settles in (or remove it for ETH)", default=None
        ),
    )


_COMMON_SILO_KEYS = ("name", "account", "s", "endpoint", "partition_id", "supernode_public_key")


def _silos(root: Table, mechanism: str) -> list[SiloEntry]:
    cogen, market = mechanism == "cogen", mechanism == "market"
    fields = {"cogen": "s, delta, theta, x_max", "market": "N, c, K"}
    tables = root.tables(
        "silos",
        f"per silo with name, account, {fields.get(mechanism, 's, F_max, p')} and endpoint",
    )
    if len(tables) < 2:
        raise root.error("silos", "lists fewer than two silos", "add one [[silos]] per silo (>= 2)")
    # a market silo's data size is its report N (in the market's split), not s
    size = "N" if market else "s"
    if cogen:
        from fl_node.coordinator._cogen_config import COGEN_SILO_KEYS

        keys: tuple[str, ...] = (*_COMMON_SILO_KEYS, *COGEN_SILO_KEYS)
    elif market:
        from fl_node.coordinator._market_config import MARKET_SILO_KEYS

        keys = (*(k for k in _COMMON_SILO_KEYS if k != "s"), *MARKET_SILO_KEYS)
    else:
        keys = (*_COMMON_SILO_KEYS, "F_max", "p")
    out: list[SiloEntry] = []
    for i, t in enumerate(tables):
        if market and t.has("s"):
            raise t.error(
                "s",
                "is not a field of a market silo (its data size is its report N)",
                "rename it to N: the silo's training size in the market's split, which "
                "`fedsettle node check` prints",
            )
        t.check_keys(keys)
        entry = SiloEntry(
            index=i,
            name=t.text("name", 'the silo\'s name, e.g. "silo-1" (its node.toml [silo].name)'),
            account=t.address("account", "the silo's chain account (its node daemon's address)"),
            s=t.number(size, "the silo's training samples, from `fedsettle node check`", above=0.0),
            # cogen, market: no compute level, no profitability (TradeFL's)
            F_max=0.0
            if cogen or market
            else t.number("F_max", "the silo's fastest compute level in samples/s", above=0.0),
            p=0.0
            if cogen or market
            else t.number("p", "the silo's public profitability, e.g. 1200.0", above=0.0),
            endpoint=t.url("endpoint", "the silo daemon's agent URL, e.g. http://silo-1:8601"),
            partition_id=t.integer(
                "partition_id", "the silo's data partition (embedded runtime)", default=i, min=0
            ),
            supernode_public_key=t.path(
                "supernode_public_key", "the SuperNode's public key file", default=None
            ),
        )
        if entry.s != int(entry.s):
            raise t.error(size, f"= {entry.s} is not a whole number of samples", "use an integer")
        if market and entry.partition_id != i:
            raise t.error(
                "partition_id",
                f"= {entry.partition_id}, but the embedded market trains slot {i} on silo {i} of "
                "its split",
                f"set it to {i} (or remove it)",
            )
        for prior in out:
            for key in ("name", "account", "endpoint"):
                if getattr(prior, key) == getattr(entry, key):
                    raise t.error(
                        key,
                        f"= {getattr(entry, key)!r} repeats silo #{prior.index}'s",
                        "give every silo its own",
                    )
        out.append(entry)
    return out


def _terms(root: Table, silos: list[SiloEntry]) -> ConsortiumTerms:
    t = _req(root, "terms", "gamma, lam, w_e, kappa, G, D_min, A0, tau and rho")
    t.check_keys(("gamma", "lam", "w_e", "kappa", "G", "D_min", "A0", "tau", "rho"))
    n = len(silos)
    rho = t.matrix("rho", f"a symmetric {n}x{n} matrix with zero diagonal, entries in [0, 1]")
    if len(rho) != n:
        raise t.error("rho", f"is {len(rho)}x{len(rho)} but there are {n} [[silos]]", "match them")
    for i in range(n):
        if rho[i][i] != 0.0:
            raise t.error("rho", f"has rho[{i}][{i}] = {rho[i][i]}", "set the diagonal to 0")
        for j in range(n):
            v = rho[i][j]
            if not 0.0 <= v <= 1.0:
                raise t.error("rho", f"has rho[{i}][{j}] = {v} outside [0, 1]", "fix the entry")
            if v != rho[j][i]:
                raise t.error(
                    "rho", f"is not symmetric (rho[{i}][{j}] != rho[{j}][{i}])", "mirror it"
                )
            if abs(v * 10_000 - round(v * 10_000)) > 1e-6:
                raise t.error(
                    "rho",
                    f"has rho[{i}][{j}] = {v}, off the basis-point grid",
                    "round entries to multiples of 0.0001 (the chain stores basis points)",
                )
    terms = ConsortiumTerms(
        names=tuple(s.name for s in silos),
        p=tuple(s.p for s in silos),
        rho=rho,
        tau=t.number("tau", "the per-round deadline in seconds, e.g. 0.6", above=0.0),
        gamma=t.number("gamma", "the incentive intensity, e.g. 0.004", above=0.0),
        lam=t.number("lam", "the compute weight lambda in the score, e.g. 0.05", min=0.0),
        w_e=t.number("w_e", "the energy cost weight, e.g. 1.0", min=0.0),
        kappa=t.number("kappa", "the energy coefficient, e.g. 2e-10", min=0.0),
        D_min=t.number("D_min", "the minimum data fraction, e.g. 0.2", above=0.0, max=1.0),
        A0=t.number("A0", "the accuracy ceiling, e.g. 1.0", above=0.0),
        G=t.number("G", "the accuracy curvature, e.g. 10.0", above=0.0),
    )
    return terms


def _units(root: Table, default: ChainUnits) -> ChainUnits:
    u = root.table("units", "", required=False)
    if u is None:
        return default
    u.check_keys(("x_scale", "f_scale", "unit_wei"))
    d = default
    units = ChainUnits(
        x_scale=u.integer(
            "x_scale", "the on-chain scale of x, e.g. 1000", default=d.x_scale, min=1
        ),
        f_scale=u.integer("f_scale", "the on-chain scale of f, e.g. 1", default=d.f_scale, min=1),
        unit_wei=u.wei("unit_wei", "wei per payoff unit, e.g. 10**18", default=d.unit_wei),
    )
    if units.unit_wei < 1:
        raise u.error("unit_wei", "= 0", "set it to a positive number of wei")
    return units


def _round(t: Table | None) -> RoundSettings:
    if t is None:
        return RoundSettings()
    t.check_keys(RoundSettings.__dataclass_fields__)
    d = RoundSettings()
    return RoundSettings(
        deposit_window_s=t.integer("deposit_window_s", "chain seconds", default=d.deposit_window_s, min=1),
        report_window_s=t.integer("report_window_s", "chain seconds", default=d.report_window_s, min=1),
        join_timeout_s=t.number("join_timeout_s", "seconds", default=d.join_timeout_s, above=0.0),
        report_timeout_s=t.number("report_timeout_s", "seconds", default=d.report_timeout_s, above=0.0),
        http_timeout_s=t.number("http_timeout_s", "seconds", default=d.http_timeout_s, above=0.0),
        poll_interval_s=t.number("poll_interval_s", "seconds", default=d.poll_interval_s, above=0.0),
        max_sweeps=t.integer("max_sweeps", "sweeps, e.g. 100", default=d.max_sweeps, min=1),
    )  # fmt: skip


def _fl(t: Table | None, n_silos: int) -> FLSettings:
    if t is None:
        return FLSettings()
    t.check_keys(FLSettings.__dataclass_fields__)
    from fl_node.data import BUILTIN_DATASETS

    d = FLSettings()
    dataset = t.text("dataset", f"one of {', '.join(BUILTIN_DATASETS)}", default=d.dataset)
    if dataset not in BUILTIN_DATASETS:
        raise t.error(
            "dataset", f"= {dataset!r} is not bundled", f"use {', '.join(BUILTIN_DATASETS)}"
        )
    parts = t.integer("num_partitions", "partitions (0: one per silo)", default=0, min=0)
    if parts and parts < n_silos:
        raise t.error("num_partitions", f"= {parts} < {n_silos} silos", "use 0 or >= the silos")
    return FLSettings(
        rounds=t.integer("rounds", "FL rounds, e.g. 3", default=d.rounds, min=1, max=1000),
        epochs=t.integer("epochs", "local epochs, e.g. 2", default=d.epochs, min=1),
        lr=t.number("lr", "the learning rate, e.g. 0.05", default=d.lr, above=0.0),
        batch_size=t.integer("batch_size", "e.g. 32", default=d.batch_size, min=1),
        round_timeout_s=t.number("round_timeout_s", "seconds", default=d.round_timeout_s, above=0.0),
        dataset=dataset,
        alpha=t.number("alpha", "the Dirichlet concentration", default=d.alpha, above=0.0),
        seed=t.integer("seed", "the data seed every silo shares", default=d.seed, min=0),
        test_fraction=t.number("test_fraction", "e.g. 0.25", default=0.25, above=0.0, max=0.9),
        scheme=t.choice("scheme", ("dirichlet", "quantity", "iid"), default="dirichlet"),
        num_partitions=parts,
        model_kind=t.text("model_kind", '"auto", "mlp" or "cnn"', default="auto"),
    )  # fmt: skip


#: the values of ``[runtime.deployment].superlink_state``
SUPERLINK_STATES = ("memory", "file")


def _deployment(t: Table) -> DeploymentSettings:
    t.check_keys(DeploymentSettings.__dataclass_fields__)
    insecure = t.flag("insecure", "true only for a SuperLink without TLS", default=False)
    start = t.flag("start_superlink", "true to run flower-superlink as a child", default=True)
    ca = None
    if not insecure:
        ca = t.path("root_certificates", "the SuperLink's CA certificate (PEM)")
    cert = key = None
    if start and not insecure:
        cert = t.path("ssl_certfile", "the SuperLink's server certificate (PEM)")
        key = t.path("ssl_keyfile", "the SuperLink's server private key (PEM)")
    return DeploymentSettings(
        superlink=t.host_port("superlink", "the SuperLink address, e.g. 127.0.0.1:9092"),
        root_certificates=ca,
        start_superlink=start,
        host=t.text("host", "the SuperLink's interface, e.g. 0.0.0.0", default="127.0.0.1"),
        port=t.integer("port", "the SuperLink port, e.g. 9092", default=9092, min=1, max=65535),
        ssl_certfile=cert,
        ssl_keyfile=key,
        insecure=insecure,
        node_wait_timeout_s=t.number("node_wait_timeout_s", "seconds", default=120.0, above=0.0),
        run_timeout_s=t.number("run_timeout_s", "seconds", default=1800.0, above=0.0),
        superlink_state=t.choice("superlink_state", SUPERLINK_STATES, default="memory"),
    )
