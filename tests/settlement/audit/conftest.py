"""Fixtures of the auditor tests: one anvil with a played history of rounds, and an index of it.

The auditor tests run their own anvil (not the session's): the reorg and crash tests rewrite and
replay block history, which must not disturb other tests' rounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_scenario import Scenario, build

from settlement import AnvilBackend
from settlement.audit import AuditService


@pytest.fixture(scope="package")
def scenario() -> Iterator[Scenario]:
    """A fresh anvil with the rounds of ``audit_scenario`` played on a fresh FedSettle."""
    with AnvilBackend() as chain:
        yield build(chain)


@pytest.fixture(scope="package")
def indexed(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditService]:
    """An auditor service whose index is synced to the scenario's head (chunks of 7 blocks)."""
    db = tmp_path_factory.mktemp("audit") / "index.sqlite"
    service = AuditService(
        db, w3=scenario.chain.web3(), contract=scenario.client.address, chunk_size=7
    )
    service.sync()
    yield service
    service.close()


@pytest.fixture
def db_copy(indexed: AuditService, tmp_path: Path) -> Path:
    """A private copy of the synced index (for tests that tamper with it)."""
    import sqlite3

    target = tmp_path / "copy.sqlite"
    with sqlite3.connect(indexed.db_path) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target
