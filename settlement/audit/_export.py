"""JSON and CSV exports of one round (what an auditor files away).

Both are tied to a deployment: the JSON report starts with a ``deployment`` header (chain id,
contract, genesis and deployment block, the block and hash it is as of, the runtime code hash and
its match with the artifact, the auditor's version and the time) and is sealed with a sha256 and
an optional EIP-191 signature (:mod:`settlement.audit._integrity`); every CSV row carries the
chain id, contract, block number and block hash.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any, Literal

from eth_account.signers.local import LocalAccount

from settlement.audit import _queries as q
from settlement.audit._amounts import AmountFormat, render_amounts
from settlement.audit._chain import ChainReader
from settlement.audit._deployment import deployment_info
from settlement.audit._integrity import seal
from settlement.audit._verify import _verify

ExportFormat = Literal["json", "csv"]

#: columns of the CSV export, one row per org slot
CSV_COLUMNS = (
    "round_id",
    "index",
    "account",
    "joined",
    "reported",
    "bond_wei",
    "deposited_wei",
    "x_max",
    "f_max",
    "base",
    "x",
    "f",
    "score",
    "contribution_real",
    "payoff_wei",
    "payoff_pending",
    "payoff_expected_wei",
    "payoff_ok",
    "withdrawn",
    "withdrawn_wei",
    "owed_wei",
    "payout_deferred",
    "measured_score",
    "status",
    "token",
    "chain_id",
    "contract_address",
    "block_number",
    "block_hash",
)


def round_export(
    conn: sqlite3.Connection,
    round_id: int,
    *,
    chain: ChainReader | None = None,
    artifact: str | Path | None = None,
    amounts: AmountFormat = "number",
) -> dict[str, Any]:
    """Everything about one round as a JSON-ready dict (the ``report`` of a sealed file).

    Keys: ``deployment`` (what the report is tied to), ``round`` (parameters, phase, deadlines),
    ``orgs`` (per-slot records), ``deposits``, ``contributions``, ``payoffs``, ``withdrawals``
    (events with their blocks) and ``verification``.

    Raises
    ------
    UnknownRoundError
        If the round is not in the index.
    """
    data = q.load_round(conn, round_id)
    out = {
        "deployment": deployment_info(conn, chain, artifact).model_dump(mode="json"),
        "round": q.detail(data).model_dump(mode="json"),
        "orgs": [r.model_dump(mode="json") for r in q.org_records(data)],
        "deposits": [r.model_dump(mode="json") for r in q.deposits(data)],
        "contributions": [r.model_dump(mode="json") for r in q.contributions(data)],
        "payoffs": [r.model_dump(mode="json") for r in q.payoffs(data)],
        "withdrawals": [r.model_dump(mode="json") for r in q.withdrawals(data)],
        "verification": _verify(data, chain).model_dump(mode="json"),
    }
    return dict(render_amounts(out, amounts))


def sealed_export(
    conn: sqlite3.Connection,
    round_id: int,
    *,
    chain: ChainReader | None = None,
    artifact: str | Path | None = None,
    amounts: AmountFormat = "number",
    signer: LocalAccount | None = None,
) -> dict[str, Any]:
    """:func:`round_export` sealed with its sha256 (and ``signer``'s signature, if given)."""
    report = round_export(conn, round_id, chain=chain, artifact=artifact, amounts=amounts)
    return seal(report, signer)


def round_csv(conn: sqlite3.Connection, round_id: int, *, chain: ChainReader | None = None) -> str:
    """One CSV row per org slot (columns :data:`CSV_COLUMNS`), wei as exact integers."""
    data = q.load_round(conn, round_id)
    checks = {c.index: c for c in _verify(data, chain).orgs}
    status = q.status(conn)
    where = {
        "token": data.opened["token"],
        "chain_id": status.chain_id,
        "contract_address": status.contract_address,
        "block_number": status.indexed_block,
        "block_hash": status.indexed_block_hash,
    }
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rec in q.org_records(data):
        c = checks[rec.index]
        row = {
            **rec.model_dump(),
            **where,
            "payoff_expected_wei": c.payoff_expected_wei,
            "payoff_ok": c.payoff_ok,
            "status": c.status,
        }
        writer.writerow([_cell(row[k]) for k in CSV_COLUMNS])
    return buf.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else value


def export_round(
    conn: sqlite3.Connection,
    round_id: int,
    fmt: ExportFormat = "json",
    *,
    chain: ChainReader | None = None,
    artifact: str | Path | None = None,
    amounts: AmountFormat = "number",
    signer: LocalAccount | None = None,
) -> str:
    """The round as text in ``fmt``: a sealed JSON report, or the per-org CSV."""
    if fmt == "json":
        doc = sealed_export(
            conn, round_id, chain=chain, artifact=artifact, amounts=amounts, signer=signer
        )
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "csv":
        return round_csv(conn, round_id, chain=chain)
    raise ValueError(f"format: {fmt!r} is not an export format; use 'json' or 'csv'")
