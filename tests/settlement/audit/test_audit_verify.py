"""Verification flags a round whose records were tampered with in the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from audit_scenario import Scenario

from settlement.audit import AuditService, ChainReader, Verification, connect, verify_round

pytestmark = pytest.mark.chain


def _verify(db: Path, round_id: int, chain: ChainReader | None = None) -> Verification:
    conn = connect(db)
    try:
        return verify_round(conn, round_id, chain=chain)
    finally:
        conn.close()


def _tamper(db: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute(sql, params).rowcount >= 1


def test_honest_index_verifies_without_a_node(db_copy: Path, scenario: Scenario) -> None:
    for rid in scenario.rounds.values():
        v = _verify(db_copy, rid)
        assert v.ok, v.problems
        assert v.checks["chain_agrees"] is None  # no node given: not compared


def test_shifted_payoff_breaks_recomputation_and_budget(
    db_copy: Path, scenario: Scenario, indexed: AuditService
) -> None:
    rid = scenario.rounds["settled"]
    _tamper(
        db_copy,
        "UPDATE payoffs SET payoff_wei = CAST(CAST(payoff_wei AS INTEGER) + 1000 AS TEXT) "
        "WHERE round_id = ? AND idx = 3",
        rid,
    )
    v = _verify(db_copy, rid)
    assert not v.ok
    assert v.checks["payoffs_match"] is False
    assert v.checks["budget_balanced"] is False
    assert v.budget_balance_wei == 1000
    assert [o.payoff_ok for o in v.orgs] == [True, True, True, False]
    assert any("org 3: recorded payoff" in p for p in v.problems)
    # the contract's views disagree with the tampered index too
    with_chain = _verify(db_copy, rid, indexed.chain)
    assert with_chain.checks["chain_agrees"] is False
    assert any("chain: org 3 payoff" in p for p in with_chain.problems)


def test_consistent_forgery_is_caught_by_the_digest(db_copy: Path, scenario: Scenario) -> None:
    """Move wei between two orgs (payoffs still sum to 0): the digest and recomputation differ."""
    rid = scenario.rounds["attested"]
    for idx, delta in ((0, 777), (1, -777)):
        _tamper(
            db_copy,
            "UPDATE payoffs SET payoff_wei = CAST(CAST(payoff_wei AS INTEGER) + ? AS TEXT) "
            "WHERE round_id = ? AND idx = ?",
            delta,
            rid,
            idx,
        )
    v = _verify(db_copy, rid)
    assert v.budget_balance_wei == 0
    assert not v.ok
    assert v.checks["payoffs_match"] is False
    # the recomputed table still hashes to the logged digest, the forged records do not
    assert v.payoff_digest_recorded == v.payoff_digest_expected
    assert v.checks["digest_match"] is False
    assert any("digest of the PayoffCalculated records" in p for p in v.problems)
    assert [o.payoff_ok for o in v.orgs] == [False, False, True]


def test_forged_report_changes_scores(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["missing"]
    _tamper(db_copy, "UPDATE contributions SET x = x + 1 WHERE round_id = ? AND idx = 1", rid)
    v = _verify(db_copy, rid)
    assert not v.ok
    assert v.checks["scores_match"] is False
    assert v.checks["payoffs_match"] is False


def test_inflated_withdrawal_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["abandoned_late"]
    _tamper(
        db_copy,
        "UPDATE withdrawals SET amount_wei = CAST(CAST(amount_wei AS INTEGER) + 1 AS TEXT) "
        "WHERE round_id = ?",
        rid,
    )
    v = _verify(db_copy, rid)
    assert not v.ok
    assert v.checks["withdrawals_match"] is False
    assert v.checks["budget_balanced"] is False


def test_forged_rho_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["settled"]
    with sqlite3.connect(db_copy) as conn:
        rho = conn.execute("SELECT rho FROM rounds WHERE round_id = ?", (rid,)).fetchone()[0]
    forged = rho[:6] + ("0000" if rho[6:10] != "0000" else "0001") + rho[10:]
    _tamper(db_copy, "UPDATE rounds SET rho = ? WHERE round_id = ?", forged, rid)
    v = _verify(db_copy, rid)
    assert not v.ok
    assert v.checks["rho_valid"] is False


def test_deleted_payoff_event_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["settled"]
    _tamper(db_copy, "DELETE FROM payoffs WHERE round_id = ? AND idx = 0", rid)
    v = _verify(db_copy, rid)
    assert not v.ok
    assert any("no PayoffCalculated" in p for p in v.problems)
