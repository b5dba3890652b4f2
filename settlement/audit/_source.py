"""Where the auditor reads the chain from: a JSON-RPC URL, or a saved demo chain state.

A demo run leaves ``DIR/chain-state.json`` (anvil's ``--dump-state``) and ``DIR/deployment.json``
(``chain_id``, ``contract_address``, ``round_id``, ``rpc``). :func:`open_chain` reopens such a state
in a fresh local anvil, loaded read-only: the auditor never writes the state file back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from settlement._backends import AnvilBackend, ChainBackend, RpcBackend
from settlement.audit._errors import StateFileError

DEPLOYMENT_FILE = "deployment.json"


@dataclass(frozen=True)
class Deployment:
    """Contents of ``deployment.json`` (extra keys are kept in ``extra``)."""

    chain_id: int
    contract_address: str
    round_id: int | None
    rpc: str | None
    extra: dict[str, Any]


def read_deployment(state: str | Path) -> Deployment:
    """Read the ``deployment.json`` next to a ``chain-state.json``.

    Raises
    ------
    StateFileError
        If the state file or its ``deployment.json`` is missing or malformed; names the key.
    """
    state = Path(state)
    if not state.is_file():
        raise StateFileError(
            f"--state: {state} does not exist; pass the chain-state.json a demo run wrote"
        )
    path = state.parent / DEPLOYMENT_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StateFileError(
            f"--state: {path} is missing; it must sit beside {state.name} and hold "
            "chain_id and contract_address"
        ) from exc
    except json.JSONDecodeError as exc:
        raise StateFileError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise StateFileError(f"{path} must be a JSON object")
    address = data.get("contract_address")
    if not isinstance(address, str) or not is_address(address):
        raise StateFileError(f"{path}: contract_address {address!r} is not a 20-byte hex address")
    chain_id = data.get("chain_id")
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise StateFileError(f"{path}: chain_id {chain_id!r} must be a positive integer")
    round_id = data.get("round_id")
    known = {"chain_id", "contract_address", "round_id", "rpc"}
    return Deployment(
        chain_id=chain_id,
        contract_address=to_checksum_address(address),
        round_id=round_id if isinstance(round_id, int) else None,
        rpc=data.get("rpc") if isinstance(data.get("rpc"), str) else None,
        extra={k: v for k, v in data.items() if k not in known},
    )


def open_chain(
    *, rpc: str | None = None, contract: str | None = None, state: str | Path | None = None
) -> tuple[ChainBackend, str, Deployment | None]:
    """Connect to the chain an audit reads.

    Parameters
    ----------
    rpc, contract : str
        A node URL and the contract address (together).
    state : str or Path
        A saved ``chain-state.json``: spawns anvil loading it; the address comes from the
        ``deployment.json`` beside it (``contract`` overrides it).

    Returns
    -------
    (backend, contract_address, deployment)
        Close the backend when done (it stops a spawned anvil).

    Raises
    ------
    StateFileError, ValueError, settlement.ChainUnavailable
        Naming what is missing or unreachable.
    """
    if state is not None:
        if rpc is not None:
            raise ValueError("give either --rpc/--contract or --state, not both")
        deployment = read_deployment(state)
        backend: ChainBackend = AnvilBackend(load_state=state, chain_id=deployment.chain_id)
        address = to_checksum_address(contract) if contract else deployment.contract_address
        return backend, address, deployment
    if rpc is None or contract is None:
        raise ValueError("need --rpc URL and --contract ADDRESS, or --state DIR/chain-state.json")
    if not is_address(contract):
        raise ValueError(f"--contract: {contract!r} is not a 20-byte hex address (0x + 40 hex)")
    return RpcBackend(rpc), to_checksum_address(contract), None


def read_labels(path: str | Path) -> dict[str, str]:
    """Org display names from a JSON object ``{"0xADDRESS": "label", ...}``.

    Raises
    ------
    StateFileError
        If the file is missing, not a JSON object, or a key is not an address; names the entry.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StateFileError(f"--labels: {path} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise StateFileError(f"--labels: {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise StateFileError(f"--labels: {path} must be a JSON object of address -> label")
    out: dict[str, str] = {}
    for key, value in data.items():
        if not is_address(key) or not isinstance(value, str):
            raise StateFileError(
                f"--labels: entry {key!r}: {value!r} must map a 0x address to a string label"
            )
        out[str(to_checksum_address(key))] = value
    return out
