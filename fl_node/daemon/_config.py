"""``node.toml``: one silo's daemon settings, validated into frozen dataclasses.

Example (every table; relative paths are relative to the file)::

    [silo]
    name = "silo-1"                       # the name the consortium registered for this silo

    [chain]
    rpc_url = "http://127.0.0.1:8545"     # JSON-RPC URL of the chain
    contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"   # the FedSettle address, or:
    # deployment_file = "state/coordinator/deployment.json"  # the coordinator's record of it
    max_bond_wei = "1000000000000000000"  # never deposit more than this (integer or string)
    # token = "0x..."                     # optional: the ERC-20 this silo settles in (absent:
                                          #   ETH); rounds in another asset are declined, and
                                          #   max_bond_wei is then in the token's base units
    max_lock_s = 86400                    # optional: never deposit into a round whose report
                                          #   deadline (after which anyone settles) is more
                                          #   than this many seconds away
    poll_interval_s = 2.0                 # optional
    start_block = 0                       # optional: scan events from the deployment block
    settle_when_due = true                # optional: call payoffCalculate after the report
                                          #   deadline if nobody did

    [key]                                 # see fl_node.daemon._keys
    dev_account = 2                       # or keystore = "..." + password_env = "..."

    [cost]                                # private, mechanism tradefl: never leaves the silo
    eta = 2.0                             # local epochs per FL round
    T1 = 0.05                             # seconds of fixed work per round
    T3 = 0.05                             # seconds of communication per round
    F = [800.0, 1600.0, 2400.0, 3200.0, 4000.0]  # compute levels (samples/s), ascending
    e_comm = 0.0                          # optional: communication energy per round

    [cogen]                               # private, mechanism cogen (instead of [cost]): the
    price_per_cpu_second = 300.0          #   silo's cost c_i per synthetic sample is its
                                          #   generator's measured CPU seconds at this price

    [market]                              # mechanism market (instead of [cost] and [cogen]):
    c = 0.05                              #   the silo's own cost per export and eagerness; it
    K = 15000.0                           #   deposits only into a round that registers exactly
                                          #   these and its N (its training size in the
                                          #   market's split of [data], which must be bundled)

    [data]                                # a bundled dataset's partition ...
    dataset = "digits"
    partition_id = 0
    num_partitions = 3
    alpha = 0.5
    seed = 0
    # file = "data/silo-1.npz"            # ... or the silo's own .npz/.csv file instead

    [agent]                               # the HTTP endpoint the coordinator queries
    host = "127.0.0.1"
    port = 8601                           # 0: any free port (written to state/agent.json)

    [state]
    dir = "state/silo-1"                  # action log, round records, SuperNode files

    [supernode]                           # optional: supervise a flower-supernode process
    superlink = "127.0.0.1:9092"
    root_certificates = "tls/ca.crt"      # omit together with insecure = true
    auth_private_key = "keys/supernode-1" # SuperNode authentication key (OpenSSH format)
    port = 9094                           # the SuperNode's ClientAppIo/runtime API port
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fl_node.daemon._keys import KeySpec, read_key_spec
from fl_node.daemon._toml import Table, read_toml

__all__ = [
    "AgentSettings",
    "ChainSettings",
    "CogenSettings",
    "CostSettings",
    "DataSettings",
    "MarketSettings",
    "NodeConfig",
    "SupernodeSettings",
    "load_node_config",
    "parse_node_config",
]

_RPC_HINT = "the JSON-RPC URL of the chain, e.g. http://127.0.0.1:8545"
_CONTRACT_HINT = (
    "the FedSettle contract address the coordinator deployed (0x + 40 hex digits; the "
    "coordinator prints it and writes it to its state dir's deployment.json), or instead "
    'deployment_file = "<coordinator state_dir>/deployment.json"'
)
_DEPLOYMENT_HINT = "the coordinator's <state_dir>/deployment.json (read for contract_address)"


@dataclass(frozen=True)
class ChainSettings:
    """``[chain]``. The contract is ``contract``, or the ``contract_address`` the coordinator
    wrote to ``deployment_file`` (its ``<state_dir>/deployment.json``), read when the daemon
    connects: until the file exists the daemon waits, as for a chain that is not up yet."""

    rpc_url: str
    contract: str | None
    max_bond_wei: int
    max_lock_s: int = 86_400
    poll_interval_s: float = 2.0
    settle_when_due: bool = True
    rpc_timeout_s: float = 30.0
    start_block: int = 0
    log_chunk_blocks: int = 5000
    deployment_file: Path | None = None
    #: the ERC-20 this silo settles in; None: ETH
    token: str | None = None

    def contract_source(self) -> str:
        """The address, or where it will be read from (for logs and errors)."""
        return self.contract or f"the contract_address in {self.deployment_file}"

    def resolve_contract(self) -> str:
        """The contract address (``contract``, else read from ``deployment_file``).

        Raises
        ------
        LookupError
            If the deployment file does not exist yet or holds no valid address.
        """
        if self.contract is not None:
            return self.contract
        import json

        from eth_utils import is_address, to_checksum_address

        path = self.deployment_file
        try:
            address = json.loads(Path(str(path)).read_text(encoding="utf-8"))["contract_address"]
        except FileNotFoundError:
            raise LookupError(
                f"[chain].deployment_file = {str(path)!r} does not exist yet: the coordinator "
                "writes it when it deploys the contract (fedsettle coordinator run)"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LookupError(
                f"[chain].deployment_file = {str(path)!r} holds no contract_address ({exc!r})"
            ) from None
        if not isinstance(address, str) or not is_address(address):
            raise LookupError(f"[chain].deployment_file: {address!r} is not an address")
        return str(to_checksum_address(address))


@dataclass(frozen=True)
class CostSettings:
    """The silo's private cost parameters (``solver.Org`` minus the public ``p`` and ``s``)."""

    eta: float
    T1: float
    T3: float
    F: tuple[float, ...]
    e_comm: float = 0.0


@dataclass(frozen=True)
class CogenSettings:
    """A cogen silo's private pricing: its cost c_i per synthetic sample is the measured CPU
    seconds of its own generator (:func:`fl_node.cogen.measure_cost`) times this price."""

    price_per_cpu_second: float


@dataclass(frozen=True)
class MarketSettings:
    """A market silo's own report: cost per export ``c`` and eagerness ``K`` (its N comes from
    its data, :func:`fl_node.mechanisms.market.market_training_size`)."""

    c: float
    K: float


@dataclass(frozen=True)
class DataSettings:
    """A bundled dataset's Dirichlet partition, or the silo's own data ``file``."""

    dataset: str = "digits"
    partition_id: int = 0
    num_partitions: int = 1
    alpha: float = 0.5
    seed: int = 0
    test_fraction: float = 0.25
    scheme: str = "dirichlet"
    file: Path | None = None

    def node_config(self) -> dict[str, Any]:
        """The Flower node config keys describing this data (``fl_node.flower.load_silo``)."""
        if self.file is not None:
            return {"partition-id": self.partition_id, "data-file": str(self.file)}
        return {
            "dataset": self.dataset,
            "partition-id": self.partition_id,
            "num-partitions": self.num_partitions,
            "alpha": self.alpha,
            "data-seed": self.seed,
            "test-fraction": self.test_fraction,
            "partition-scheme": self.scheme,
        }


@dataclass(frozen=True)
class AgentSettings:
    host: str = "127.0.0.1"
    port: int = 8601


@dataclass(frozen=True)
class SupernodeSettings:
    """How to start this silo's ``flower-supernode`` (supervised by the daemon).

    The certificate and key files are checked when the daemon starts the SuperNode, not when the
    config is read: in a container they may be created by a set-up step after the config.
    """

    superlink: str
    root_certificates: Path | None
    auth_private_key: Path | None
    port: int = 9094
    host: str = "127.0.0.1"
    insecure: bool = False
    num_threads: int = 1
    restart_delay_s: float = 2.0
    max_restarts: int = 100


@dataclass(frozen=True)
class NodeConfig:
    """A validated ``node.toml`` (see the module docstring for the file format)."""

    name: str
    chain: ChainSettings
    key: KeySpec
    #: tradefl's private cost parameters (None: the silo joins no tradefl round)
    cost: CostSettings | None
    data: DataSettings
    agent: AgentSettings
    state_dir: Path
    supernode: SupernodeSettings | None = None
    #: cogen's private pricing (None: the silo joins no cogen round)
    cogen: CogenSettings | None = None
    #: the market report (None: the silo joins no market round)
    market: MarketSettings | None = None
    source: Path | None = field(default=None, compare=False)


def load_node_config(path: str | Path) -> NodeConfig:
    """Read and validate ``node.toml`` at ``path``.

    Raises
    ------
    ConfigFileError
        Naming the file, the field and the fix.
    """
    root = read_toml(path)
    config = parse_node_config(root)
    return NodeConfig(**{**config.__dict__, "source": Path(path).resolve()})


def parse_node_config(root: Table) -> NodeConfig:
    """Validate a parsed ``node.toml`` root table."""
    root.check_keys(
        ("silo", "chain", "key", "cost", "cogen", "market", "data", "agent", "state", "supernode")
    )
    silo = _req(root, "silo", 'name = "silo-1" (the name the consortium registered)')
    silo.check_keys(("name",))
    name = silo.text("name", 'the silo\'s name as listed in the consortium, e.g. "silo-1"')
    cogen = root.table("cogen", "price_per_cpu_second", required=False)
    market = root.table("market", "c and K (the silo's market report)", required=False)
    # a cogen or market silo has no tradefl [cost]; every other silo needs one
    cost = root.table(
        "cost",
        "eta, T1, T3 and F (the silo's private cost parameters)",
        required=cogen is None and market is None,
    )
    data = _data(_req(root, "data", 'dataset = "digits" + partition_id, or file = "..."'))
    if market is not None:
        # a market silo trains the market's split of its [data]: its data size (s, N) is that
        # split's, not the partition's the other mechanisms train on
        other = "cost" if cost is not None else "cogen" if cogen is not None else None
        if other is not None:
            raise root.error(
                "market",
                f"is set together with [{other}]",
                "a market silo trains the market's split of its data: give it its own node.toml",
            )
        if data.file is not None:
            raise root.error(
                "market",
                "is set with [data].file",
                "market rounds train the market's split of a bundled dataset: set [data].dataset",
            )
    return NodeConfig(
        name=name,
        chain=_chain(_req(root, "chain", "rpc_url, contract and max_bond_wei")),
        key=read_key_spec(_req(root, "key", "dev_account = N, or keystore + password_env")),
        cost=None if cost is None else _cost(cost),
        cogen=None if cogen is None else _cogen(cogen),
        market=None if market is None else _market(market),
        data=data,
        agent=_agent(root.table("agent", "host and port", required=False)),
        state_dir=_state(_req(root, "state", 'dir = "state/silo-1"')),
        supernode=_supernode(root.table("supernode", "superlink etc.", required=False)),
    )


def _req(root: Table, key: str, hint: str) -> Table:
    table = root.table(key, hint)
    assert table is not None
    return table


def _chain(t: Table) -> ChainSettings:
    t.check_keys(
        (
            "rpc_url",
            "contract",
            "deployment_file",
            "max_bond_wei",
            "max_lock_s",
            "poll_interval_s",
            "settle_when_due",
            "rpc_timeout_s",
            "token",
        )
    )
    if t.has("contract") and t.has("deployment_file"):
        raise t.error("deployment_file", "is given together with contract", "keep one of them")
    from_file = t.has("deployment_file") and not t.has("contract")
    return ChainSettings(
        rpc_url=t.url("rpc_url", _RPC_HINT),
        contract=None if from_file else t.address("contract", _CONTRACT_HINT),
        deployment_file=t.path("deployment_file", _DEPLOYMENT_HINT) if from_file else None,
        max_bond_wei=t.wei(
            "max_bond_wei",
            'the most wei this silo may deposit as its bond, e.g. "1000000000000000000" (1 ETH)',
        ),
        token=t.address(
            "token", "the ERC-20 address this silo settles in (or remove it for ETH)", default=None
        ),
        max_lock_s=t.integer(
            "max_lock_s",
            "the longest a deposit may stay locked, seconds (e.g. 86400)",
            default=86_400,
            min=1,
        ),
        poll_interval_s=t.number(
            "poll_interval_s", "seconds between chain polls, e.g. 2.0", default=2.0, above=0.0
        ),
        settle_when_due=t.flag(
            "settle_when_due",
            "true to settle a round nobody settled after its report deadline, else false",
            default=True,
        ),
        rpc_timeout_s=t.number(
            "rpc_timeout_s", "seconds per JSON-RPC request, e.g. 30", default=30.0, above=0.0
        ),
        start_block=t.integer(
            "start_block",
            "the contract's deployment block (events are scanned from it)",
            default=0,
            min=0,
        ),
        log_chunk_blocks=t.integer(
            "log_chunk_blocks", "blocks per eth_getLogs request, e.g. 5000", default=5000, min=1
        ),
    )


def _cost(t: Table) -> CostSettings:
    t.check_keys(("eta", "T1", "T3", "F", "e_comm"))
    levels = t.numbers(
        "F", "the silo's compute levels in samples/s, ascending, e.g. [800.0, 1600.0]", above=0.0
    )
    if list(levels) != sorted(set(levels)):
        raise t.error(
            "F", f"= {list(levels)} is not strictly ascending", "list each level once, ascending"
        )
    return CostSettings(
        eta=t.number("eta", "the local epochs per FL round, e.g. 2.0", above=0.0),
        T1=t.number("T1", "the fixed compute seconds per FL round, e.g. 0.05", min=0.0),
        T3=t.number("T3", "the communication seconds per FL round, e.g. 0.05", min=0.0),
        F=levels,
        e_comm=t.number("e_comm", "the communication energy per round", default=0.0, min=0.0),
    )


def _cogen(t: Table) -> CogenSettings:
    t.check_keys(("price_per_cpu_second",))
    return CogenSettings(
        price_per_cpu_second=t.number(
            "price_per_cpu_second",
            "money per CPU-second of the silo's generator, e.g. 300.0",
            above=0.0,
        )
    )


def _market(t: Table) -> MarketSettings:
    t.check_keys(("c", "K"))
    return MarketSettings(
        c=t.number("c", "the silo's cost per export, e.g. 0.05", min=0.0),
        K=t.number("K", "the silo's eagerness, e.g. 15000.0 (0: a pure seller)", min=0.0),
    )


def _data(t: Table) -> DataSettings:
    t.check_keys(
        (
            "dataset",
            "partition_id",
            "num_partitions",
            "alpha",
            "seed",
            "test_fraction",
            "scheme",
            "file",
        )
    )
    if t.has("file"):
        if t.has("dataset"):
            raise t.error("file", "is set together with dataset", "keep one of the two")
        path = t.path("file", "the silo's .npz or .csv training data file", exists=True)
        if path.suffix not in (".npz", ".csv"):
            raise t.error("file", f"= {str(path)!r} is neither .npz nor .csv", "convert it")
        pid = t.integer("partition_id", "an integer id of this silo, e.g. 0", default=0, min=0)
        return DataSettings(file=path, partition_id=pid)
    from fl_node.data import BUILTIN_DATASETS

    dataset = t.text("dataset", f"one of {', '.join(BUILTIN_DATASETS)} (or set file instead)")
    if dataset not in BUILTIN_DATASETS:
        raise t.error(
            "dataset",
            f"= {dataset!r} is not a bundled dataset",
            f"use one of {', '.join(BUILTIN_DATASETS)}, or file = '...' for your own data",
        )
    parts = t.integer(
        "num_partitions", "the number of silos the dataset is split into, e.g. 3", min=1
    )
    pid = t.integer(
        "partition_id", f"this silo's share, 0 .. num_partitions-1 = {parts - 1}", min=0
    )
    if pid >= parts:
        raise t.error(
            "partition_id", f"= {pid} is not below num_partitions = {parts}", "use 0 .. n-1"
        )
    return DataSettings(
        dataset=dataset,
        partition_id=pid,
        num_partitions=parts,
        alpha=t.number("alpha", "the Dirichlet concentration, e.g. 0.5", default=0.5, above=0.0),
        seed=t.integer("seed", "the partition seed every silo shares, e.g. 0", default=0, min=0),
        test_fraction=t.number(
            "test_fraction", "the held-out fraction, e.g. 0.25", default=0.25, above=0.0, max=0.9
        ),
        scheme=t.choice("scheme", ("dirichlet", "quantity", "iid"), default="dirichlet"),
    )


def _agent(t: Table | None) -> AgentSettings:
    if t is None:
        return AgentSettings()
    t.check_keys(("host", "port"))
    return AgentSettings(
        host=t.text("host", 'the interface to listen on, e.g. "0.0.0.0"', default="127.0.0.1"),
        port=t.integer(
            "port", "a TCP port for the agent's HTTP API, e.g. 8601", default=8601, min=0, max=65535
        ),
    )


def _state(t: Table) -> Path:
    t.check_keys(("dir",))
    path = t.path("dir", "a directory for the daemon's log and round records")
    if path.exists() and not path.is_dir():
        raise t.error("dir", f"= {str(path)!r} is a file", "point it at a directory")
    return Path(path)


def _supernode(t: Table | None) -> SupernodeSettings | None:
    if t is None:
        return None
    t.check_keys(
        (
            "superlink",
            "root_certificates",
            "auth_private_key",
            "port",
            "host",
            "insecure",
            "num_threads",
            "restart_delay_s",
            "max_restarts",
        )
    )
    insecure = t.flag("insecure", "true only for a SuperLink without TLS", default=False)
    ca = None
    if not insecure:
        ca = t.path(
            "root_certificates", "the SuperLink's CA certificate (PEM), or set insecure = true"
        )
    elif t.has("root_certificates"):
        raise t.error("root_certificates", "is set with insecure = true", "drop one of them")
    key = t.path(
        "auth_private_key",
        "the SuperNode authentication private key (OpenSSH format) registered with the SuperLink",
        default=None,
    )
    return SupernodeSettings(
        superlink=t.host_port("superlink", "the SuperLink Fleet API address, e.g. superlink:9092"),
        root_certificates=ca,
        auth_private_key=key,
        port=t.integer(
            "port", "the SuperNode's runtime API port, e.g. 9094", default=9094, min=1, max=65535
        ),
        host=t.text("host", "the runtime API interface, e.g. 127.0.0.1", default="127.0.0.1"),
        insecure=insecure,
        num_threads=t.integer("num_threads", "torch threads, e.g. 1", default=1, min=1),
        restart_delay_s=t.number(
            "restart_delay_s", "seconds before restarting, e.g. 2", default=2.0, min=0.0
        ),
        max_restarts=t.integer("max_restarts", "e.g. 100", default=100, min=0),
    )
