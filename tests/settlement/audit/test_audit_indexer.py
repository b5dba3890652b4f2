"""The event indexer: idempotent, resumable after a crash, reorg-safe, chunk-splitting."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from audit_scenario import Scenario, org_accounts, rho
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from settlement import (
    AnvilBackend,
    OrgSpec,
    SettlementClient,
    dev_account,
    mine,
    revert,
    set_balance,
    snapshot,
    to_address,
)
from settlement.audit import AuditService, Indexer, IndexerError, IndexMismatch, connect, dump
from settlement.audit import _db as audit_db

pytestmark = pytest.mark.chain

EVENT_TABLES = audit_db.EVENT_TABLES


def _dump(path: Path) -> dict[str, Any]:
    conn = connect(path)
    try:
        return dump(conn)
    finally:
        conn.close()


def _events_only(d: dict[str, Any]) -> dict[str, Any]:
    return {t: d[t] for t in EVENT_TABLES}


def _full_index(scenario: Scenario, path: Path, chunk_size: int) -> dict[str, Any]:
    ix = Indexer(path, scenario.chain.web3(), scenario.client.address, chunk_size=chunk_size)
    ix.sync()
    ix.conn.close()
    return _dump(path)


def test_rerun_is_idempotent(scenario: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    ix = Indexer(path, scenario.chain.web3(), scenario.client.address, chunk_size=5)
    first = ix.sync()
    assert first.events > 0 and first.end_block == first.head
    before = dump(ix.conn)
    again = ix.sync()
    assert (again.events, again.chunks) == (0, 0)
    # re-reading an indexed range (cursor moved back by hand) inserts nothing new
    with audit_db.transaction(ix.conn):
        audit_db.set_cursor(ix.conn, -1, "")
    replay = ix.sync()
    assert replay.events == 0 and replay.chunks > 0
    assert dump(ix.conn) == before
    rows = sum(len(before[t]) for t in EVENT_TABLES)
    assert rows == first.events


def test_restart_after_an_exception_mid_chunk(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _full_index(scenario, tmp_path / "full.sqlite", chunk_size=4)
    path = tmp_path / "crash.sqlite"
    calls = {"n": 0}
    real = audit_db.set_cursor

    def failing(conn: Any, number: int, block_hash: str) -> None:
        calls["n"] += 1
        if calls["n"] == 5:  # rows of chunk 5 are inserted, its cursor is not
            raise RuntimeError("simulated crash")
        real(conn, number, block_hash)

    monkeypatch.setattr(audit_db, "set_cursor", failing)
    ix = Indexer(path, scenario.chain.web3(), scenario.client.address, chunk_size=4)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ix.sync()
    # the failed chunk left nothing behind: the index ends at chunk 4's last block
    assert audit_db.get_cursor(ix.conn)[0] == 4 * 4 - 1
    for table in EVENT_TABLES:
        (top,) = ix.conn.execute(f"SELECT MAX(block_number) FROM {table}").fetchone()
        assert top is None or top <= 15
    ix.conn.close()
    monkeypatch.setattr(audit_db, "set_cursor", real)
    resumed = Indexer(path, scenario.chain.web3(), scenario.client.address, chunk_size=4)
    result = resumed.sync()
    assert result.start_block == 16
    resumed.conn.close()
    assert _dump(path) == expected


def test_restart_after_a_hard_kill_mid_transaction(scenario: Scenario, tmp_path: Path) -> None:
    """SIGKILL while a chunk's rows are written but not committed; the next run resumes."""
    expected = _full_index(scenario, tmp_path / "full.sqlite", chunk_size=3)
    path = tmp_path / "killed.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from web3 import HTTPProvider, Web3
        from settlement.audit import Indexer
        from settlement.audit import _db
        real = _db.set_cursor
        calls = [0]
        def dying(conn, number, block_hash):
            calls[0] += 1
            if calls[0] == 6:
                os.kill(os.getpid(), signal.SIGKILL)
            real(conn, number, block_hash)
        _db.set_cursor = dying
        w3 = Web3(HTTPProvider({scenario.chain.rpc_url!r}))
        Indexer({str(path)!r}, w3, {scenario.client.address!r}, chunk_size=3).sync()
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    conn = connect(path)
    assert audit_db.get_cursor(conn)[0] == 5 * 3 - 1
    conn.close()
    resumed = Indexer(path, scenario.chain.web3(), scenario.client.address, chunk_size=3)
    resumed.sync()
    resumed.conn.close()
    assert _dump(path) == expected


def test_node_range_limits_are_split(scenario: Scenario, tmp_path: Path) -> None:
    expected = _events_only(_full_index(scenario, tmp_path / "full.sqlite", chunk_size=1000))
    w3 = Web3(HTTPProvider(scenario.chain.rpc_url))
    real = w3.eth.get_logs
    spans: list[int] = []

    def limited(params: Any) -> Any:
        span = int(params["toBlock"]) - int(params["fromBlock"]) + 1
        spans.append(span)
        if span > 6:
            raise Web3RPCError("query exceeds max block range 6")
        return real(params)

    w3.eth.get_logs = limited  # type: ignore[method-assign, assignment]
    path = tmp_path / "split.sqlite"
    ix = Indexer(path, w3, scenario.client.address, chunk_size=1000)
    ix.sync()
    assert max(spans) > 6 and min(spans) <= 6
    assert _events_only(dump(ix.conn)) == expected
    ix.conn.close()


def test_confirmation_depth_holds_back_recent_blocks(scenario: Scenario, tmp_path: Path) -> None:
    w3 = scenario.chain.web3()
    ix = Indexer(tmp_path / "c.sqlite", w3, scenario.client.address, confirmations=3)
    result = ix.sync()
    assert result.end_block == w3.eth.block_number - 3 == ix.cursor


def test_one_database_per_contract(scenario: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    conn = connect(path)
    audit_db.bind_meta(conn, "contract_address", "0x" + "12" * 20)
    conn.close()
    with pytest.raises(IndexMismatch, match="contract_address"):
        Indexer(path, scenario.chain.web3(), scenario.client.address)


def test_an_address_without_code_is_refused(scenario: Scenario, tmp_path: Path) -> None:
    with pytest.raises(IndexerError, match="no contract code"):
        Indexer(tmp_path / "x.sqlite", scenario.chain.web3(), scenario.orgs[0].address)


def test_service_indexes_new_events_in_the_background(tmp_path: Path) -> None:
    with AnvilBackend() as chain:
        w3 = chain.web3()
        client = SettlementClient.deploy(chain, dev_account(0))
        orgs = org_accounts(2, tag="bg")
        for a in orgs:
            set_balance(w3, a.address, 10**24)
        cfg = client.round_config_from_reals(gamma=10**12, lambda_=0.5, d_min=0.1)
        specs = [OrgSpec(to_address(a.address), 100, 4) for a in orgs]
        rid = client.round_open(cfg, specs, rho(2)).round_id
        service = AuditService(
            tmp_path / "bg.sqlite", w3=w3, contract=client.address, poll_interval=0.1
        )
        service.start()
        try:
            client.deposit_submit(rid, 1, sender=orgs[1])
            head = w3.eth.block_number
            deadline = time.monotonic() + 30
            while True:
                with service.reader() as conn:
                    if audit_db.get_cursor(conn)[0] >= head:
                        assert _deposits(conn) == [1]
                        break
                assert time.monotonic() < deadline, service.last_error
                time.sleep(0.05)
        finally:
            service.close()


def _deposits(conn: Any) -> list[int]:
    return [int(r[0]) for r in conn.execute("SELECT idx FROM deposits ORDER BY idx")]


@pytest.mark.parametrize("longer", [True, False], ids=["longer-fork", "shorter-fork"])
def test_reorg_rolls_back_to_the_fork_and_reindexes(tmp_path: Path, longer: bool) -> None:
    with AnvilBackend() as chain:
        w3 = chain.web3()
        client = SettlementClient.deploy(chain, dev_account(0))
        orgs = org_accounts(4, tag="reorg")
        for a in orgs:
            set_balance(w3, a.address, 10**24)
        cfg = client.round_config_from_reals(gamma=10**12, lambda_=0.5, d_min=0.1)
        specs = [OrgSpec(to_address(a.address), 100, 4) for a in orgs]
        rid = client.round_open(cfg, specs, rho(4)).round_id
        client.deposit_submit(rid, 0, sender=orgs[0])
        ix = Indexer(tmp_path / "r.sqlite", w3, client.address, chunk_size=2)
        ix.sync()
        fork = w3.eth.block_number
        snap = snapshot(w3)
        client.deposit_submit(rid, 1, sender=orgs[1])
        client.deposit_submit(rid, 2, sender=orgs[2])
        ix.sync()
        assert _deposits(ix.conn) == [0, 1, 2]
        assert ix.cursor == fork + 2

        revert(w3, snap)
        client.nonces.resync()
        client.deposit_submit(rid, 3, sender=orgs[3])  # a different block fork + 1
        if longer:
            mine(w3, 3)
        assert w3.eth.block_number == (fork + 4 if longer else fork + 1)
        result = ix.sync()
        assert result.reorgs and result.reorgs[0] <= fork
        assert _deposits(ix.conn) == [0, 3]
        assert ix.cursor == w3.eth.block_number

        fresh = Indexer(tmp_path / "fresh.sqlite", w3, client.address, chunk_size=2)
        fresh.sync()
        assert _events_only(dump(ix.conn)) == _events_only(dump(fresh.conn))
        stored = dict(ix.conn.execute("SELECT number, hash FROM blocks").fetchall())
        for number, block_hash in stored.items():
            assert "0x" + bytes(w3.eth.get_block(number)["hash"]).hex() == block_hash
        ix.conn.close()
        fresh.conn.close()
