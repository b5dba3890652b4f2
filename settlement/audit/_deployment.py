"""Contract-wide checks: which deployment a report is about, its code, and its solvency.

- :func:`code_check`: the on-chain runtime code against the artifact's ``deployedBytecode``, with
  the bytes of every immutable reference masked on both sides (immutables are written into the
  code at deployment). An artifact without ``immutableReferences`` is compared as one with no
  immutables.
- :func:`solvency`: the contract's ether balance, and its balance of every ERC-20 an indexed round
  settles in, against ``liabilities(asset)`` and against what the index says is owed; a surplus
  (ether forced in, tokens sent without a deposit) and a shortfall are both flagged.
- :func:`deployment_info`: chain id, contract, genesis, deployment block, the block a report is
  as of, the code hash, the auditor's version and the time.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from eth_utils import keccak
from web3.types import BlockIdentifier

from settlement._artifacts import load_artifact
from settlement.audit import _db
from settlement.audit._chain import ChainReader
from settlement.audit._errors import IndexerError
from settlement.audit._models import Check, DeploymentInfo, Solvency, TokenSolvency
from settlement.audit._queries import indexed_head, liabilities, round_tokens
from settlement.audit._verify import failed, not_checked, passed

DEFAULT_ARTIFACT = "settlement/artifacts/FedSettle.json"


def auditor_version() -> str:
    """The installed fedsettle version (what produced a report)."""
    try:
        return metadata.version("fedsettle")
    except metadata.PackageNotFoundError:
        return "unknown"


def runtime_artifact(artifact: str | Path | None = None) -> tuple[bytes, list[tuple[int, int]]]:
    """``(deployed bytecode, [(start, length), ...] immutable references)`` of an artifact.

    Accepts ``deployedBytecode`` as a hex string or as solc's object (``{"object": ...,
    "immutableReferences": ...}``), and ``immutableReferences`` at the top level too (solc's
    ``{ast id: [{"start", "length"}]}`` shape).

    Raises
    ------
    IndexerError
        If the artifact has no deployed bytecode or its references are malformed.
    """
    if artifact is None:
        data: dict[str, Any] = dict(load_artifact("FedSettle").meta)
        source = DEFAULT_ARTIFACT
    else:
        source = str(artifact)
        try:
            data = json.loads(Path(artifact).read_text())
        except (OSError, ValueError) as exc:
            raise IndexerError(f"--artifact: cannot read {artifact} as JSON: {exc}") from exc
    deployed = data.get("deployedBytecode")
    refs: Any = data.get("immutableReferences")
    if isinstance(deployed, dict):
        refs = deployed.get("immutableReferences", refs)
        deployed = deployed.get("object")
    if not isinstance(deployed, str) or not deployed.removeprefix("0x"):
        raise IndexerError(f"{source} has no deployedBytecode")
    spans: list[tuple[int, int]] = []
    try:
        for entries in (refs or {}).values():
            spans += [(int(e["start"]), int(e["length"])) for e in entries]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise IndexerError(f"{source}: malformed immutableReferences ({exc})") from exc
    return bytes.fromhex(deployed.removeprefix("0x")), sorted(spans)


def compare_code(onchain: bytes, expected: bytes, spans: list[tuple[int, int]]) -> Check:
    """Compare runtime code with an artifact's, masking the immutable ``spans``."""
    if not onchain:
        return failed("there is no code at the contract address")
    if len(onchain) != len(expected):
        return failed(
            f"runtime code is {len(onchain)} bytes, the artifact's deployedBytecode "
            f"{len(expected)}: a different contract or compiler build"
        )
    got, want = bytearray(onchain), bytearray(expected)
    for start, length in spans:
        if start < 0 or start + length > len(got):
            return failed(f"immutable reference {start}+{length} lies outside the code")
        got[start : start + length] = want[start : start + length] = bytes(length)
    if got != want:
        first = next(k for k in range(len(got)) if got[k] != want[k])
        hint = (
            "; the artifact records no immutableReferences, so immutables were not masked"
            if not spans
            else ""
        )
        return failed(f"runtime code differs from the artifact at byte {first}{hint}")
    return passed(
        f"runtime code ({len(onchain)} bytes) equals the artifact's deployedBytecode with "
        f"{len(spans)} immutable reference(s) masked"
    )


def code_check(
    chain: ChainReader | None, block: BlockIdentifier, artifact: str | Path | None = None
) -> tuple[Check, str | None]:
    """``(check, code hash)``: the contract's code at ``block`` against the artifact."""
    if chain is None:
        return not_checked("no node configured: the deployed code was not read"), None
    try:
        onchain = chain.code(block)
    except Exception as exc:
        return not_checked(f"the node did not answer ({type(exc).__name__}: {exc})"), None
    code_hash = "0x" + keccak(onchain).hex()
    try:
        expected, spans = runtime_artifact(artifact)
    except IndexerError as exc:
        return not_checked(str(exc)), code_hash
    return compare_code(onchain, expected, spans), code_hash


def _asset_errors(unit: str, balance: int, owed: int, owed_index: int) -> list[str]:
    """What is wrong with one asset's balance vs liabilities vs the index (empty: solvent)."""
    errors = []
    if balance > owed:
        errors.append(
            f"surplus of {balance - owed} {unit}: the contract holds {balance} {unit} but owes "
            f"{owed} (sent in without a deposit; no one can withdraw it)"
        )
    elif balance < owed:
        errors.append(
            f"shortfall of {owed - balance} {unit}: the contract holds {balance} {unit} but "
            f"owes {owed}; depositors cannot all be paid"
        )
    if owed_index != owed:
        errors.append(
            f"the index says {owed_index} {unit} is owed, liabilities() says {owed}: the index "
            "is incomplete or was altered"
        )
    return errors


def _token_solvency(
    conn: sqlite3.Connection, chain: ChainReader | None, token: str, block: BlockIdentifier
) -> TokenSolvency:
    out = TokenSolvency(
        token=token,
        check=not_checked("no node configured: the contract's token balance was not read"),
        contract_balance=None,
        liabilities=None,
        index_liabilities=liabilities(conn, token),
        surplus=None,
    )
    if chain is None:
        return out
    try:
        balance, owed = chain.token_balance(token, block), chain.liabilities(block, token)
    except Exception as exc:
        out.check = not_checked(f"the node did not answer ({type(exc).__name__}: {exc})")
        return out
    out.contract_balance, out.liabilities, out.surplus = balance, owed, balance - owed
    unit = f"units of token {token}"
    errors = _asset_errors(unit, balance, owed, out.index_liabilities)
    out.check = (
        failed("; ".join(errors))
        if errors
        else passed(f"balanceOf = liabilities({token}) = index liabilities = {owed}")
    )
    return out


def solvency(conn: sqlite3.Connection, chain: ChainReader | None) -> Solvency:
    """Every settlement asset's balance vs ``liabilities(asset)`` vs the index, at the indexed
    block: ether in the top-level fields, each ERC-20 an indexed round settles in in ``tokens``."""
    number, _, _ = indexed_head(conn)
    block: BlockIdentifier = number if number >= 0 else "latest"
    owed_index = liabilities(conn)
    tokens = [_token_solvency(conn, chain, t, block) for t in round_tokens(conn)]
    out = Solvency(
        check=not_checked("no node configured: the contract's balance was not read"),
        as_of_block=number,
        contract_balance_wei=None,
        liabilities_wei=None,
        index_liabilities_wei=owed_index,
        surplus_wei=None,
        tokens=tokens,
    )
    if chain is None:
        return out
    try:
        balance, owed = chain.balance(block), chain.liabilities(block)
    except Exception as exc:
        out.check = not_checked(f"the node did not answer ({type(exc).__name__}: {exc})")
        return out
    out.contract_balance_wei, out.liabilities_wei, out.surplus_wei = balance, owed, balance - owed
    errors = _asset_errors("wei", balance, owed, owed_index)
    errors += [t.check.reason for t in tokens if t.check.status == "failed"]
    unchecked = [t.check.reason for t in tokens if t.check.status == "not_checked"]
    summary = f"ETH: balance = liabilities() = index liabilities = {owed} wei" + "".join(
        f"; token {t.token}: {t.liabilities}" for t in tokens
    )
    if errors:
        out.check = failed("; ".join(errors))
    elif unchecked:
        out.check = not_checked("; ".join(unchecked))
    else:
        out.check = passed(summary)
    return out


def deployment_info(
    conn: sqlite3.Connection, chain: ChainReader | None, artifact: str | Path | None = None
) -> DeploymentInfo:
    """What ties a report to one deployment, as of the index's cursor block."""
    number, block_hash, _ = indexed_head(conn)
    code, code_hash = code_check(chain, number if number >= 0 else "latest", artifact)
    chain_id = _db.get_meta(conn, "chain_id")
    deployed = _db.get_meta(conn, "deployment_block")
    return DeploymentInfo(
        chain_id=None if chain_id is None else int(chain_id),
        contract_address=_db.get_meta(conn, "contract_address"),
        genesis_hash=_db.get_meta(conn, "genesis_hash"),
        deployment_block=None if deployed is None else int(deployed),
        block_number=number,
        block_hash=block_hash,
        code_hash=code_hash,
        code=code,
        artifact=DEFAULT_ARTIFACT if artifact is None else str(artifact),
        auditor_version=auditor_version(),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
