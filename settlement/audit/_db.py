"""The auditor's SQLite index: schema, connection settings and the write/rollback primitives.

One database indexes one contract on one chain (``meta`` holds both and a mismatch is refused).
Amounts and scores are uint256/int256 on-chain, wider than SQLite's 64-bit INTEGER, so they are
stored as decimal TEXT and summed in Python. Every event row carries the block it came from and is
unique on ``(block_hash, log_index)``: rerunning a block range inserts nothing new, and a reorg is
undone by deleting every row above the fork block (:func:`rollback_above`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from settlement.audit._errors import IndexMismatch

SCHEMA_VERSION = 2

#: tables that hold one row per contract event, all with the same block columns
EVENT_TABLES = (
    "rounds",
    "orgs",
    "rho_chunks",
    "ready",
    "deposits",
    "contributions",
    "report_tables",
    "payoffs",
    "settlements",
    "abandonments",
    "withdrawals",
    "deferrals",
)

_BLOCK_COLUMNS = """
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL,
    log_index    INTEGER NOT NULL,
    tx_hash      TEXT    NOT NULL,
    UNIQUE (block_hash, log_index)"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- the last block whose events are all in the index (-1: nothing indexed yet)
CREATE TABLE IF NOT EXISTS cursor (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL
);
-- hashes of indexed blocks (every block with events and every chunk end): the reorg check
CREATE TABLE IF NOT EXISTS blocks (
    number    INTEGER PRIMARY KEY,
    hash      TEXT    NOT NULL,
    timestamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
    round_id         INTEGER PRIMARY KEY,
    operator         TEXT    NOT NULL,
    mechanism_id     INTEGER NOT NULL,
    gamma_wad        TEXT    NOT NULL,
    lambda_wad       TEXT    NOT NULL,
    d_min_wad        TEXT    NOT NULL,
    x_scale          INTEGER NOT NULL,
    f_scale          INTEGER NOT NULL,
    deposit_deadline INTEGER NOT NULL,
    report_deadline  INTEGER NOT NULL,
    coordinator      TEXT    NOT NULL,
    token            TEXT    NOT NULL,  -- the ERC-20 the round settles in (0x00..00: ETH)
    n                INTEGER NOT NULL,
    {_BLOCK_COLUMNS}
);
-- one row per RhoAppended: the chunk's data contract and its code (the chunk's bytes)
CREATE TABLE IF NOT EXISTS rho_chunks (
    round_id  INTEGER NOT NULL,
    chunk     INTEGER NOT NULL,
    data      TEXT    NOT NULL,
    rho_bytes INTEGER NOT NULL,  -- bytes uploaded so far, as emitted
    code      TEXT    NOT NULL,  -- hex of the chunk, read from the data contract's code
    {_BLOCK_COLUMNS}
);
-- RoundReady: the weight triangle is complete; the contract's digests
CREATE TABLE IF NOT EXISTS ready (
    round_id      INTEGER PRIMARY KEY,
    rho_hash      TEXT    NOT NULL,
    params_digest TEXT    NOT NULL,
    {_BLOCK_COLUMNS}
);
CREATE TABLE IF NOT EXISTS orgs (
    round_id INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    account  TEXT    NOT NULL,
    x_max    INTEGER NOT NULL,
    f_max    INTEGER NOT NULL,
    base     INTEGER NOT NULL,
    {_BLOCK_COLUMNS},
    PRIMARY KEY (round_id, idx)
);
CREATE TABLE IF NOT EXISTS deposits (
    round_id   INTEGER NOT NULL,
    idx        INTEGER NOT NULL,
    account    TEXT    NOT NULL,
    amount_wei TEXT    NOT NULL,
    bond_wei   TEXT    NOT NULL,  -- the bond the contract required at this deposit
    {_BLOCK_COLUMNS}
);
CREATE TABLE IF NOT EXISTS contributions (
    round_id INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    account  TEXT    NOT NULL,
    x        INTEGER NOT NULL,
    f        INTEGER NOT NULL,
    score    TEXT    NOT NULL,
    {_BLOCK_COLUMNS}
);
-- ReportTableSubmitted: the coordinator's one table (its ContributionSubmitted rows are above)
CREATE TABLE IF NOT EXISTS report_tables (
    round_id    INTEGER PRIMARY KEY,
    coordinator TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    reports     INTEGER NOT NULL,
    code        TEXT,   -- the table bytes (its data contract's code after the STOP byte)
    {_BLOCK_COLUMNS}
);
CREATE TABLE IF NOT EXISTS payoffs (
    round_id   INTEGER NOT NULL,
    idx        INTEGER NOT NULL,
    account    TEXT    NOT NULL,
    score      TEXT    NOT NULL,
    payoff_wei TEXT    NOT NULL,  -- signed
    {_BLOCK_COLUMNS}
);
CREATE TABLE IF NOT EXISTS settlements (
    round_id      INTEGER PRIMARY KEY,
    caller        TEXT    NOT NULL,
    depositors    INTEGER NOT NULL,
    payoff_digest TEXT    NOT NULL,
    {_BLOCK_COLUMNS}
);
CREATE TABLE IF NOT EXISTS abandonments (
    round_id INTEGER PRIMARY KEY,
    caller   TEXT    NOT NULL,
    at_phase INTEGER NOT NULL,
    {_BLOCK_COLUMNS}
);
CREATE TABLE IF NOT EXISTS withdrawals (
    round_id   INTEGER NOT NULL,
    idx        INTEGER NOT NULL,
    account    TEXT    NOT NULL,
    amount_wei TEXT    NOT NULL,
    {_BLOCK_COLUMNS}
);
-- PayoffDeferred: a push payout the recipient refused (it pulls later)
CREATE TABLE IF NOT EXISTS deferrals (
    round_id   INTEGER NOT NULL,
    idx        INTEGER NOT NULL,
    account    TEXT    NOT NULL,
    amount_wei TEXT    NOT NULL,
    {_BLOCK_COLUMNS}
);
CREATE INDEX IF NOT EXISTS rho_chunks_round    ON rho_chunks (round_id, chunk);
CREATE INDEX IF NOT EXISTS deposits_round      ON deposits (round_id, idx);
CREATE INDEX IF NOT EXISTS contributions_round ON contributions (round_id, idx);
CREATE INDEX IF NOT EXISTS payoffs_round       ON payoffs (round_id, idx);
CREATE INDEX IF NOT EXISTS withdrawals_round   ON withdrawals (round_id, idx);
CREATE INDEX IF NOT EXISTS orgs_account        ON orgs (account);
"""


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and create if needed) the index database at ``path``.

    WAL journaling lets the API read while the indexer writes; ``synchronous=NORMAL`` is durable
    across a process crash in WAL mode, which is the failure the cursor protocol guards against.

    Parameters
    ----------
    path : str or Path
        Database file; ``":memory:"`` for a throwaway index.
    readonly : bool
        Open without creating or migrating (for API readers on another thread).
    """
    if readonly:
        uri = f"file:{quote(Path(path).resolve().as_posix())}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    if not readonly:
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(SCHEMA)
        with transaction(conn):
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            conn.execute(
                "INSERT OR IGNORE INTO cursor (id, block_number, block_hash) VALUES (1, -1, '')"
            )
        version = get_meta(conn, "schema_version")
        if version != str(SCHEMA_VERSION):
            raise IndexMismatch(
                f"index database {path} has schema version {version}, this auditor writes "
                f"version {SCHEMA_VERSION}; index into a new --db file"
            )
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One explicit ``BEGIN IMMEDIATE`` .. ``COMMIT`` (rolled back on any exception)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """Value of ``meta[key]`` or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def bind_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set ``meta[key]`` once; refuse a different value later (one DB = one chain + contract)."""
    current = get_meta(conn, key)
    if current is None:
        with transaction(conn):
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
    elif current != value:
        raise IndexMismatch(
            f"this index database was built for {key} = {current}, not {value}; "
            "use a separate --db file per chain and contract"
        )


def get_cursor(conn: sqlite3.Connection) -> tuple[int, str]:
    """``(block_number, block_hash)`` of the last fully indexed block (``(-1, "")`` if none)."""
    row = conn.execute("SELECT block_number, block_hash FROM cursor WHERE id = 1").fetchone()
    return int(row[0]), str(row[1])


def set_cursor(conn: sqlite3.Connection, number: int, block_hash: str) -> None:
    """Move the cursor; call inside the same transaction as the rows it covers."""
    conn.execute(
        "UPDATE cursor SET block_number = ?, block_hash = ? WHERE id = 1", (number, block_hash)
    )


def rollback_above(conn: sqlite3.Connection, number: int) -> int:
    """Delete every row and block hash above block ``number`` and move the cursor there.

    Returns the number of event rows deleted. Call inside a transaction.
    """
    deleted = 0
    for table in EVENT_TABLES:
        deleted += conn.execute(f"DELETE FROM {table} WHERE block_number > ?", (number,)).rowcount
    conn.execute("DELETE FROM blocks WHERE number > ?", (number,))
    row = conn.execute("SELECT hash FROM blocks WHERE number = ?", (number,)).fetchone()
    set_cursor(conn, number, "" if row is None else str(row[0]))
    return deleted


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: compares two indexes for equality in tests and tools."""
    out: dict[str, list[tuple[object, ...]]] = {}
    for table in ("meta", "cursor", "blocks", *EVENT_TABLES):
        rows = conn.execute(f"SELECT * FROM {table}").fetchall()
        out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out
