"""Event indexer: contract logs from any JSON-RPC node into the SQLite index.

Guarantees
----------
- **Incremental**: blocks are read in chunks of ``chunk_size`` from the cursor to
  ``head - confirmations``; a chunk the node refuses (too many results) is split in halves.
- **Resumable**: a chunk's rows, its block hashes and the new cursor are one SQLite transaction,
  so a crash leaves the index at a chunk boundary and the next run continues from there.
- **Idempotent**: rows are unique on ``(block_hash, log_index)`` and inserted with
  ``INSERT OR IGNORE``, so re-reading a range changes nothing.
- **Reorg-safe**: only blocks ``confirmations`` deep are indexed; the hash of every indexed chunk
  end and every block with events is stored, the cursor block is re-checked before each run, and
  on a mismatch the index rolls back to the newest stored block still on the canonical chain (the
  fork point) and re-indexes from there. Log block hashes are checked against the canonical
  headers before a chunk is committed, so a reorg during the fetch is retried, not recorded.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3RPCError

from settlement.audit import _db
from settlement.audit._chain import find_deployment_block
from settlement.audit._errors import IndexerError, IndexMismatch
from settlement.audit._events import DecodedLog, EventDecoder, load_abi

#: how often a chunk is re-read when the chain reorganizes under the fetch
_MAX_RETRIES = 5


@dataclass
class SyncResult:
    """What one :meth:`Indexer.sync` call did.

    Attributes
    ----------
    start_block, end_block : int
        First and last block read in this call (``end_block < start_block`` if nothing to do).
    head : int
        The node's latest block when the call started.
    events : int
        Rows inserted (0 when re-reading an indexed range).
    chunks : int
        Chunks committed.
    reorgs : list of int
        Fork points rolled back to (block numbers kept) in this call.
    """

    start_block: int
    end_block: int
    head: int
    events: int = 0
    chunks: int = 0
    reorgs: list[int] = field(default_factory=list)


class _ChainMoved(Exception):
    """A log's block is no longer canonical while its chunk was being read."""


class Indexer:
    """Indexes one settlement contract into one SQLite database.

    Parameters
    ----------
    db : sqlite3.Connection or str or Path
        An open index connection (see :func:`settlement.audit.connect`) or a database path.
    w3 : Web3
        A connection to any JSON-RPC node of the chain.
    contract : str
        The contract address.
    abi : list of dict, optional
        Contract ABI; default: the shipped artifact.
    start_block : int
        First block to read (the deployment block, if known; 0 is always correct).
    chunk_size : int
        Blocks per ``eth_getLogs`` request and per committed transaction.
    confirmations : int
        Blocks below the head left unindexed until they are this deep (0 on a devnet).
    """

    def __init__(
        self,
        db: sqlite3.Connection | str | Path,
        w3: Web3,
        contract: str,
        *,
        abi: Sequence[Mapping[str, Any]] | None = None,
        start_block: int = 0,
        chunk_size: int = 2_000,
        confirmations: int = 0,
    ):
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if confirmations < 0:
            raise ValueError(f"confirmations must be >= 0, got {confirmations}")
        if start_block < 0:
            raise ValueError(f"start_block must be >= 0, got {start_block}")
        self.conn = db if isinstance(db, sqlite3.Connection) else _db.connect(db)
        self.w3 = w3
        try:
            self.contract = to_checksum_address(contract)
        except ValueError as exc:
            raise ValueError(
                f"contract: {contract!r} is not a 20-byte hex address (0x + 40 hex digits)"
            ) from exc
        self.decoder = EventDecoder(abi if abi is not None else load_abi())
        self.start_block = start_block
        self.chunk_size = chunk_size
        self.confirmations = confirmations
        chain_id = int(w3.eth.chain_id)
        if not bytes(w3.eth.get_code(self.contract)):
            raise IndexerError(
                f"contract: there is no contract code at {self.contract} on chain {chain_id}; "
                "check --contract (and that --rpc points at the chain it was deployed on)"
            )
        _db.bind_meta(self.conn, "chain_id", str(chain_id))
        _db.bind_meta(self.conn, "contract_address", self.contract)
        _db.bind_meta(self.conn, "start_block", str(start_block))
        self._bind_chain(chain_id)
        #: called after each committed chunk with (last block, SyncResult); for progress output
        self.on_chunk: Callable[[int, SyncResult], None] | None = None

    # ------------------------------------------------------------------ public
    @property
    def cursor(self) -> int:
        """Last fully indexed block (``start_block - 1`` when nothing is indexed)."""
        number, _ = _db.get_cursor(self.conn)
        return max(number, self.start_block - 1)

    def sync(self, to_block: int | None = None, *, max_chunks: int | None = None) -> SyncResult:
        """Index from the cursor up to ``min(to_block, head - confirmations)``.

        Parameters
        ----------
        to_block : int, optional
            Stop at this block (default: the confirmed head).
        max_chunks : int, optional
            Commit at most this many chunks, then return (the next call resumes).

        Returns
        -------
        SyncResult
        """
        head = int(self.w3.eth.block_number)
        result = SyncResult(start_block=self.cursor + 1, end_block=self.cursor, head=head)
        self._check_reorg(result)
        target = head - self.confirmations
        if to_block is not None:
            target = min(target, to_block)
        result.start_block = self.cursor + 1
        retries = 0
        while self.cursor < target:
            if max_chunks is not None and result.chunks >= max_chunks:
                break
            lo = self.cursor + 1
            hi = min(lo + self.chunk_size - 1, target)
            try:
                self._index_chunk(lo, hi, result)
            except _ChainMoved:
                retries += 1
                if retries > _MAX_RETRIES:
                    raise IndexerError(
                        f"the chain kept reorganizing while blocks {lo}..{hi} were read; "
                        "raise --confirmations"
                    ) from None
                time.sleep(0.2 * retries)
                self._check_reorg(result)
                continue
            retries = 0
            result.end_block = hi
            result.chunks += 1
            if self.on_chunk is not None:
                self.on_chunk(hi, result)
        return result

    # ------------------------------------------------------------------ which chain
    def _bind_chain(self, chain_id: int) -> None:
        """Record (first run) or check (later runs) the chain's genesis and the deployment block.

        Two chains with the same chain id and the same contract address (a devnet restarted and
        replayed, a fork) differ in their genesis block or in the block that created the
        contract; an index of one is refused on the other instead of being rolled back to it.
        """
        genesis = self._canonical_hash(0) or ""
        stored = _db.get_meta(self.conn, "genesis_hash")
        if stored is not None and stored != genesis:
            raise IndexMismatch(
                f"this index was built from another chain: chain id {chain_id} and contract "
                f"{self.contract} match, but its genesis block is {stored} and the node's is "
                f"{genesis}; index this chain into a new --db file"
            )
        deployed = _db.get_meta(self.conn, "deployment_block")
        if deployed is None:
            head = int(self.w3.eth.block_number)
            number = find_deployment_block(self.w3, self.contract, head)
            with _db.transaction(self.conn):
                rows = [("genesis_hash", genesis)]
                # only a confirmed creation block is an anchor (a reorg may still replace it)
                if number is not None and number <= head - self.confirmations:
                    rows += [
                        ("deployment_block", str(number)),
                        ("deployment_block_hash", self._canonical_hash(number) or ""),
                    ]
                self.conn.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", rows)
            return
        expected = _db.get_meta(self.conn, "deployment_block_hash")
        actual = self._canonical_hash(int(deployed))
        if actual != expected:
            raise IndexMismatch(
                f"this index was built from another chain: contract {self.contract} was created "
                f"in block {deployed} with hash {expected}, but the node's block {deployed} is "
                f"{actual}; index this chain into a new --db file"
            )

    # ------------------------------------------------------------------ reorgs
    def _canonical_hash(self, number: int) -> str | None:
        try:
            block = self.w3.eth.get_block(number)
        except BlockNotFound:
            return None
        return _hexstr(block["hash"])

    def _check_reorg(self, result: SyncResult) -> None:
        number, stored = _db.get_cursor(self.conn)
        if number < 0 or not stored or self._canonical_hash(number) == stored:
            return
        fork = self.start_block - 1
        for row in self.conn.execute("SELECT number, hash FROM blocks ORDER BY number DESC"):
            if self._canonical_hash(int(row[0])) == str(row[1]):
                fork = int(row[0])
                break
        with _db.transaction(self.conn):
            _db.rollback_above(self.conn, fork)
        result.reorgs.append(fork)

    # ------------------------------------------------------------------ chunks
    def _get_logs(self, lo: int, hi: int) -> list[Any]:
        try:
            return list(
                self.w3.eth.get_logs(
                    {
                        "address": self.contract,
                        "fromBlock": lo,
                        "toBlock": hi,
                        "topics": [self.decoder.topics],
                    }
                )
            )
        except (Web3RPCError, ValueError, requests.exceptions.Timeout) as exc:
            # nodes cap a query's range or result count (an RPC error) or time out on it: halve
            # until it fits. A refused connection is not retried here (the node is down).
            if hi <= lo:
                raise IndexerError(f"eth_getLogs failed for block {lo}: {exc}") from exc
            mid = (lo + hi) // 2
            return self._get_logs(lo, mid) + self._get_logs(mid + 1, hi)

    def _index_chunk(self, lo: int, hi: int, result: SyncResult) -> None:
        end = self.w3.eth.get_block(hi)
        end_hash = _hexstr(end["hash"])
        decoded: list[DecodedLog] = []
        for log in self._get_logs(lo, hi):
            item = self.decoder.decode(log)
            if item is not None:
                decoded.append(item)
        blocks: dict[int, tuple[str, int]] = {hi: (end_hash, int(end["timestamp"]))}
        for number in sorted({d.block_number for d in decoded} - {hi}):
            header = self.w3.eth.get_block(number)
            blocks[number] = (_hexstr(header["hash"]), int(header["timestamp"]))
        for d in decoded:
            if blocks[d.block_number][0] != d.block_hash:
                raise _ChainMoved
            if d.name in ("RhoAppended", "ReportTableSubmitted"):
                # a weight chunk or the report table is its data contract's code: immutable (a
                # leading STOP byte, no SELFDESTRUCT), so it is read at the head (a reloaded
                # state has no old states)
                code = bytes(self.w3.eth.get_code(d.row["data"]))
                d.row["code"] = "0x" + code[1:].hex()  # after the leading STOP byte
        if self._canonical_hash(hi) != end_hash:
            raise _ChainMoved
        with _db.transaction(self.conn):
            number, _ = _db.get_cursor(self.conn)
            if number >= lo:  # another indexer on this DB got here first
                return
            for d in decoded:
                cols = {
                    **d.row,
                    "block_number": d.block_number,
                    "block_hash": d.block_hash,
                    "log_index": d.log_index,
                    "tx_hash": d.tx_hash,
                }
                names = ", ".join(cols)
                marks = ", ".join("?" for _ in cols)
                cur = self.conn.execute(
                    f"INSERT OR IGNORE INTO {d.table} ({names}) VALUES ({marks})",
                    tuple(cols.values()),
                )
                result.events += cur.rowcount
            self.conn.executemany(
                "INSERT OR REPLACE INTO blocks (number, hash, timestamp) VALUES (?, ?, ?)",
                [(n, h, t) for n, (h, t) in blocks.items()],
            )
            _db.set_cursor(self.conn, hi, end_hash)


def _hexstr(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value).lower()
    return text if text.startswith("0x") else "0x" + text
