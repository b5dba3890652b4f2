"""JSON and CSV exports of one round (what an auditor files away)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from typing import Any, Literal

from settlement.audit import _queries as q
from settlement.audit._chain import ChainReader
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
    "x",
    "f",
    "score",
    "contribution_real",
    "payoff_wei",
    "payoff_expected_wei",
    "payoff_ok",
    "withdrawn",
    "withdrawn_wei",
    "owed_wei",
    "status",
)


def round_export(
    conn: sqlite3.Connection, round_id: int, *, chain: ChainReader | None = None
) -> dict[str, Any]:
    """Everything about one round as a JSON-ready dict.

    Keys: ``round`` (parameters, phase, deadlines), ``orgs`` (per-slot records), ``deposits``,
    ``contributions``, ``payoffs``, ``withdrawals`` (events with their blocks) and
    ``verification``.

    Raises
    ------
    UnknownRoundError
        If the round is not in the index.
    """
    data = q.load_round(conn, round_id)
    return {
        "round": q.detail(data).model_dump(mode="json"),
        "orgs": [r.model_dump(mode="json") for r in q.org_records(data)],
        "deposits": [r.model_dump(mode="json") for r in q.deposits(data)],
        "contributions": [r.model_dump(mode="json") for r in q.contributions(data)],
        "payoffs": [r.model_dump(mode="json") for r in q.payoffs(data)],
        "withdrawals": [r.model_dump(mode="json") for r in q.withdrawals(data)],
        "verification": _verify(data, chain).model_dump(mode="json"),
    }


def round_csv(conn: sqlite3.Connection, round_id: int, *, chain: ChainReader | None = None) -> str:
    """One CSV row per org slot (columns :data:`CSV_COLUMNS`), wei as exact integers."""
    data = q.load_round(conn, round_id)
    checks = {c.index: c for c in _verify(data, chain).orgs}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rec in q.org_records(data):
        c = checks[rec.index]
        row = {
            **rec.model_dump(),
            "payoff_expected_wei": c.payoff_expected_wei,
            "payoff_ok": c.payoff_ok,
            "status": c.status,
        }
        writer.writerow(
            [str(row[k]).lower() if isinstance(row[k], bool) else row[k] for k in CSV_COLUMNS]
        )
    return buf.getvalue()


def export_round(
    conn: sqlite3.Connection,
    round_id: int,
    fmt: ExportFormat = "json",
    *,
    chain: ChainReader | None = None,
) -> str:
    """The round as text in ``fmt`` (``"json"`` or ``"csv"``)."""
    if fmt == "json":
        return json.dumps(round_export(conn, round_id, chain=chain), indent=2) + "\n"
    if fmt == "csv":
        return round_csv(conn, round_id, chain=chain)
    raise ValueError(f"format: {fmt!r} is not an export format; use 'json' or 'csv'")
