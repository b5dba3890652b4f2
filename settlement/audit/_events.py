"""Decode the settlement contract's logs into typed index rows.

The event ABIs come from the compiled artifact (``settlement/artifacts/FedSettle.json``), so the
auditor decodes exactly what the deployed contract emits. Each event maps to one table of
:mod:`settlement.audit._db`; uint256/int256 values become decimal strings there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from settlement._artifacts import load_artifact
from settlement.audit._errors import IndexerError

#: event name -> index table
EVENT_TABLE = {
    "RoundOpened": "rounds",
    "OrgRegistered": "orgs",
    "RhoAppended": "rho_chunks",
    "RoundReady": "ready",
    "DepositSubmitted": "deposits",
    "ContributionSubmitted": "contributions",
    "ReportTableSubmitted": "report_tables",
    "PayoffCalculated": "payoffs",
    "RoundSettled": "settlements",
    "RoundAbandoned": "abandonments",
    "PayoffTransferred": "withdrawals",
    "PayoffDeferred": "deferrals",
}

_CONFIG_FIELDS = (
    "mechanismId",
    "token",
    "coordinator",
    "gammaWad",
    "lambdaWad",
    "dMinWad",
    "xScale",
    "fScale",
    "depositDeadline",
    "reportDeadline",
)


def load_abi(artifact: str | Path | None = None) -> list[dict[str, Any]]:
    """Read the contract ABI from a compiled artifact (a JSON object with an ``abi`` list).

    Parameters
    ----------
    artifact : str or Path, optional
        An artifact file; default: ``FedSettle`` from ``settlement/artifacts``.

    Raises
    ------
    IndexerError
        If the file is not JSON or lacks one of the events the auditor indexes.
    settlement.ArtifactError
        If the shipped artifact is missing.
    """
    if artifact is None:
        abi: Any = load_artifact("FedSettle").abi
        source = "settlement/artifacts/FedSettle.json"
    else:
        path = Path(artifact)
        source = str(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise IndexerError(f"contract artifact {path} not found") from exc
        except json.JSONDecodeError as exc:
            raise IndexerError(f"contract artifact {path} is not valid JSON: {exc}") from exc
        abi = data.get("abi") if isinstance(data, dict) else data
    if not isinstance(abi, list):
        raise IndexerError(f"contract artifact {source} has no 'abi' list")
    names = {e.get("name") for e in abi if e.get("type") == "event"}
    missing = sorted(set(EVENT_TABLE) - names)
    if missing:
        raise IndexerError(f"contract artifact {source} lacks the events {missing}")
    return list(abi)


@dataclass(frozen=True)
class DecodedLog:
    """One contract log: the event, its target table and row, and where it sits in the chain."""

    name: str
    table: str
    row: dict[str, Any]
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _config(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {k: value[k] for k in _CONFIG_FIELDS}
    if isinstance(value, Sequence) and len(value) == len(_CONFIG_FIELDS):
        return dict(zip(_CONFIG_FIELDS, value, strict=True))
    raise IndexerError(f"RoundOpened.config has an unexpected shape: {value!r}")


def _row(name: str, a: Mapping[str, Any]) -> dict[str, Any]:
    if name == "RoundOpened":
        c = _config(a["config"])
        return {
            "round_id": a["roundId"],
            "operator": to_checksum_address(a["operator"]),
            "mechanism_id": int(c["mechanismId"]),
            "gamma_wad": str(c["gammaWad"]),
            "lambda_wad": str(c["lambdaWad"]),
            "d_min_wad": str(c["dMinWad"]),
            "x_scale": int(c["xScale"]),
            "f_scale": int(c["fScale"]),
            "deposit_deadline": int(c["depositDeadline"]),
            "report_deadline": int(c["reportDeadline"]),
            "coordinator": to_checksum_address(c["coordinator"]),
            "token": to_checksum_address(c["token"]),
            "n": int(a["n"]),
        }
    base = {"round_id": a["roundId"]}
    if "index" in a:
        base["idx"] = int(a["index"])
    if "account" in a:
        base["account"] = to_checksum_address(a["account"])
    if name == "OrgRegistered":
        return {**base, "x_max": a["xMax"], "f_max": a["fMax"], "base": a["base"]}
    if name == "RhoAppended":
        # "code" (the chunk's bytes) is read from the data contract by the indexer
        return {
            **base,
            "chunk": int(a["chunk"]),
            "data": to_checksum_address(a["data"]),
            "rho_bytes": int(a["rhoBytes"]),
        }
    if name == "RoundReady":
        return {**base, "rho_hash": _hex(a["rhoHash"]), "params_digest": _hex(a["paramsDigest"])}
    if name == "DepositSubmitted":
        return {**base, "amount_wei": str(a["amount"]), "bond_wei": str(a["bond"])}
    if name == "PayoffTransferred" or name == "PayoffDeferred":
        return {**base, "amount_wei": str(a["amount"])}
    if name == "ReportTableSubmitted":
        return {
            **base,
            "coordinator": to_checksum_address(a["coordinator"]),
            "data": to_checksum_address(a["data"]),
            "reports": int(a["reports"]),
        }
    if name == "ContributionSubmitted":
        return {**base, "x": a["x"], "f": a["f"], "score": str(a["score"])}
    if name == "PayoffCalculated":
        return {**base, "score": str(a["score"]), "payoff_wei": str(a["payoff"])}
    if name == "RoundSettled":
        return {
            **base,
            "caller": to_checksum_address(a["caller"]),
            "depositors": int(a["depositors"]),
            "payoff_digest": _hex(a["payoffDigest"]),
        }
    if name == "RoundAbandoned":
        return {**base, "caller": to_checksum_address(a["caller"]), "at_phase": int(a["atPhase"])}
    raise IndexerError(f"no index table for event {name}")


class EventDecoder:
    """Decodes raw logs of the settlement contract (topic0 -> event ABI).

    Parameters
    ----------
    abi : list of dict
        The contract ABI (see :func:`load_abi`).
    """

    def __init__(self, abi: Sequence[Mapping[str, Any]]):
        contract = Web3().eth.contract(abi=list(abi))
        self._events: dict[str, Any] = {}
        for name in EVENT_TABLE:
            event = contract.events[name]()
            self._events[_hex(event.topic).lower()] = event

    @property
    def topics(self) -> list[str]:
        """topic0 of every indexed event (for an ``eth_getLogs`` topic filter)."""
        return sorted(self._events)

    def decode(self, log: Mapping[str, Any]) -> DecodedLog | None:
        """Decode one log; None for a log that is not one of the indexed events."""
        topics = log.get("topics") or []
        if not topics:
            return None
        event = self._events.get(_hex(topics[0]).lower())
        if event is None:
            return None
        try:
            data = event.process_log(log)
        except Exception as exc:  # a malformed log must name itself, not crash opaquely
            raise IndexerError(
                f"cannot decode {event.event_name} log {log.get('logIndex')} in block "
                f"{log.get('blockNumber')}: {exc}"
            ) from exc
        name = str(data["event"])
        row = _row(name, data["args"])
        if row["round_id"] > 2**63 - 1:
            raise IndexerError(f"{name}: round id {row['round_id']} does not fit the index")
        return DecodedLog(
            name=name,
            table=EVENT_TABLE[name],
            row=row,
            block_number=int(data["blockNumber"]),
            block_hash=_hex(data["blockHash"]).lower(),
            log_index=int(data["logIndex"]),
            tx_hash=_hex(data["transactionHash"]).lower(),
        )
