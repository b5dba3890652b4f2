"""The auditor service: one index database, an optional node, and a background indexer thread."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from eth_utils import to_checksum_address
from web3 import Web3

from settlement.audit import _db
from settlement.audit._chain import ChainReader
from settlement.audit._indexer import Indexer, SyncResult
from settlement.audit._models import AssetInfo

log = logging.getLogger("settlement.audit")


class AuditService:
    """Holds what the API and the CLI need: where the index is and how to reach the chain.

    Parameters
    ----------
    db_path : str or Path, optional
        Index database file; default a fresh file in a temporary directory (removed by
        :meth:`close`).
    w3 : Web3, optional
        Node connection. Without one the service answers from an existing index only.
    contract : str, optional
        Contract address (required with ``w3``).
    confirmations, chunk_size, start_block :
        Passed to :class:`Indexer`.
    poll_interval : float
        Seconds between background syncs (:meth:`start`).
    artifact : str or Path, optional
        Artifact whose ``deployedBytecode`` the on-chain code is compared with (default: the
        shipped ``FedSettle`` artifact).
    labels : mapping of address -> str, optional
        Display names of org accounts (dashboard, ``/status``, ``/accounts``).
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        w3: Web3 | None = None,
        contract: str | None = None,
        confirmations: int = 0,
        chunk_size: int = 2_000,
        start_block: int = 0,
        poll_interval: float = 2.0,
        artifact: str | Path | None = None,
        labels: Mapping[str, str] | None = None,
    ):
        self.artifact = artifact
        self.labels: dict[str, str] = {
            str(to_checksum_address(k)): str(v) for k, v in (labels or {}).items()
        }
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fedsettle-audit-")
            db_path = Path(self._tmp.name) / "audit.sqlite"
        self.db_path = Path(db_path)
        self.w3 = w3
        self.indexer: Indexer | None = None
        self.chain: ChainReader | None = None
        if w3 is not None:
            if contract is None:
                raise ValueError("contract: the contract address is required with a node")
            self.indexer = Indexer(
                self.db_path,
                w3,
                contract,
                start_block=start_block,
                chunk_size=chunk_size,
                confirmations=confirmations,
            )
            self.chain = ChainReader(w3, self.indexer.contract)
        else:
            if not self.db_path.is_file():
                raise FileNotFoundError(
                    f"db: {self.db_path} does not exist; give --rpc/--contract or --state to "
                    "build an index"
                )
            _db.connect(self.db_path).close()
        self.poll_interval = poll_interval
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._assets: dict[str, AssetInfo] = {}

    def asset(self, token: str) -> AssetInfo:
        """The settlement asset ``token`` (ETH for the zero address); token metadata is read
        from the node once and cached (unknown without a node)."""
        if int(token, 16) == 0:
            return AssetInfo(token=token, symbol="ETH", decimals=18)
        if token not in self._assets:
            if self.chain is None:
                return AssetInfo(token=token, symbol=None, decimals=None)
            symbol, decimals = self.chain.token_info(token)
            self._assets[token] = AssetInfo(token=token, symbol=symbol, decimals=decimals)
        return self._assets[token]

    # ------------------------------------------------------------------ indexing
    def sync(self) -> SyncResult | None:
        """Index up to the confirmed head now (None without a node)."""
        if self.indexer is None:
            return None
        with self._lock:
            return self.indexer.sync()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                self.last_error = None
            except Exception as exc:  # keep serving the index while the node is away
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("audit indexer: %s", self.last_error)
            self._stop.wait(self.poll_interval)

    def start(self) -> None:
        """Start the background indexer thread (no-op without a node)."""
        if self.indexer is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="audit-indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def close(self) -> None:
        """Stop indexing, close the index and remove a temporary database."""
        self.stop()
        if self.indexer is not None:
            self.indexer.conn.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ------------------------------------------------------------------ reading
    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection inside one read transaction (a consistent snapshot)."""
        conn = _db.connect(self.db_path, readonly=True)
        try:
            conn.execute("BEGIN")
            yield conn
        finally:
            conn.rollback()
            conn.close()

    def head(self) -> int | None:
        """The node's latest block, or None if there is no node or it does not answer."""
        if self.w3 is None:
            return None
        try:
            return int(self.w3.eth.block_number)
        except Exception:
            return None
