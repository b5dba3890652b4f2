"""Pre-flight check (``fedsettle coordinator check --live``): the daemons agree with the consortium.

Every silo daemon's ``GET /health`` (name, account, data size ``s``, chain id, contract) is
compared with its ``[[silos]]`` entry and with the chain behind ``[chain].rpc_url``. Each
disagreement is a problem naming the field to fix, so a silo whose key is not in the consortium,
a daemon watching another contract, or one on another chain is found before a round is opened
rather than after its deadlines passed.

The contract the daemons must watch is ``[chain].contract``, else the one this coordinator
deployed (``<state_dir>/deployment.json``, if its code is on this chain), else the address the
operator's next deployment will land at (nothing deployed yet: daemons reading the deployment
file are fine, daemons given an address must name that one).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from fl_node.coordinator._agents import AgentClient, AgentRejected, AgentUnavailable
from fl_node.coordinator._config import ConsortiumConfig, SiloEntry

__all__ = ["ExpectedContract", "PreflightReport", "SiloCheck", "expected_contract", "preflight"]


@dataclass(frozen=True)
class ExpectedContract:
    """The contract the daemons must watch; ``deployed`` once its code is on chain."""

    address: str | None
    source: str
    deployed: bool


@dataclass
class SiloCheck:
    """One silo's result: its health answer (None if unreachable) and every problem found."""

    name: str
    endpoint: str
    health: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class PreflightReport:
    rpc_url: str
    chain_id: int
    contract: ExpectedContract
    silos: list[SiloCheck]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.silos)

    @property
    def problems(self) -> list[str]:
        return [p for s in self.silos for p in s.problems]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "contract": asdict(self.contract),
            "silos": [{**asdict(s), "ok": s.ok} for s in self.silos],
        }


def expected_contract(config: ConsortiumConfig, w3: Any, chain_id: int) -> ExpectedContract:
    """The contract the daemons must watch (see the module docstring)."""
    if config.contract is not None:
        deployed = bool(w3.eth.get_code(config.contract))
        return ExpectedContract(config.contract, "[chain].contract", deployed)
    path = config.state_dir / "deployment.json"
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            address, saved_chain = str(saved["contract_address"]), int(saved["chain_id"])
        except (OSError, ValueError, KeyError, TypeError):
            address, saved_chain = "", -1
        if saved_chain == chain_id and address and w3.eth.get_code(address):
            return ExpectedContract(address, str(path), True)
    from fl_node.coordinator._scaffold import first_deployment_address

    try:
        operator = config.operator.load().address
    except Exception:  # a keystore without its password here: no prediction
        return ExpectedContract(None, "not deployed yet", False)
    nonce = int(w3.eth.get_transaction_count(operator))
    return ExpectedContract(
        first_deployment_address(operator, nonce),
        f"not deployed yet: the operator's next deployment (nonce {nonce}) lands there",
        False,
    )


def _check_silo(
    silo: SiloEntry, health: dict[str, Any], chain_id: int, contract: ExpectedContract
) -> list[str]:
    where = f"[[silos]] {silo.name}: the daemon at {silo.endpoint}"
    problems = []
    if health.get("name") != silo.name:
        problems.append(
            f"{where} is silo {health.get('name')!r} ([silo].name in its node.toml); fix "
            "endpoint here or the name there"
        )
    address = str(health.get("address", ""))
    if address.lower() != silo.account.lower():
        problems.append(
            f"{where} signs with {address}, which is not this silo's account = {silo.account}: "
            "its key is not in the consortium; fix [key] in its node.toml or account here"
        )
    s = health.get("s")
    if not isinstance(s, int | float) or abs(float(s) - silo.s) > 0.5:
        problems.append(
            f"{where} holds s = {s} samples, the consortium lists s = {silo.s:g}; fix s here or "
            "[data] in its node.toml"
        )
    daemon_chain = health.get("chain_id")
    if daemon_chain is not None and int(daemon_chain) != chain_id:
        problems.append(
            f"{where} is on chain id {daemon_chain}, but [chain].rpc_url is chain id {chain_id}; "
            "fix [chain].rpc_url in its node.toml"
        )
    watched = health.get("contract")
    if watched and contract.address and str(watched).lower() != contract.address.lower():
        problems.append(
            f"{where} watches contract {watched}, but the consortium's contract is "
            f"{contract.address} ({contract.source}); fix [chain].contract in its node.toml "
            "(or replace it by deployment_file = <coordinator state_dir>/deployment.json)"
        )
    elif contract.deployed and not health.get("chain"):
        problems.append(
            f"{where} is not connected to the contract {contract.address} yet ([chain] in its "
            "node.toml: rpc_url, contract or deployment_file; right after a deployment, retry "
            "after one poll interval)"
        )
    return problems


def preflight(config: ConsortiumConfig, *, timeout: float = 5.0) -> PreflightReport:
    """Ask every silo daemon for its health and compare it with ``config`` and the chain.

    Raises
    ------
    settlement.ChainUnavailable
        If ``[chain].rpc_url`` does not answer.
    """
    from settlement import RpcBackend

    # a one-shot command: wait briefly for a chain that blinks, not as long as a round does
    backend = RpcBackend(config.rpc_url, timeout=config.rpc_timeout_s, retry_s=2.0)
    chain_id = int(backend.chain_id)
    contract = expected_contract(config, backend.web3(), chain_id)
    checks = []
    for silo in config.silos:
        check = SiloCheck(silo.name, silo.endpoint, None)
        try:
            check.health = AgentClient(silo.name, silo.endpoint, timeout).health()
        except (AgentUnavailable, AgentRejected) as exc:
            check.problems.append(f"[[silos]] {silo.name}: endpoint = {silo.endpoint}: {exc}")
        else:
            check.problems += _check_silo(silo, check.health, chain_id, contract)
        checks.append(check)
    return PreflightReport(config.rpc_url, chain_id, contract, checks)
