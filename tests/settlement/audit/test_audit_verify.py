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


def _status(v: Verification) -> dict[str, str]:
    return {k: c.status for k, c in v.checks.items()}


def test_without_a_node_nothing_fails_but_nothing_is_verified(
    db_copy: Path, scenario: Scenario
) -> None:
    for name, rid in scenario.rounds.items():
        v = _verify(db_copy, rid)
        assert v.status == "not_verified" and not v.verified, (name, v.summary)
        assert v.problems == []
        chain = v.checks["chain_agrees"]
        assert chain.status == "not_checked" and chain.applicable
        assert "no node configured" in chain.reason
        assert any(n.startswith("chain_agrees: no node configured") for n in v.notes)
        if name != "open":
            others = {k: s for k, s in _status(v).items() if k != "chain_agrees"}
            applicable = {k for k, c in v.checks.items() if c.applicable}
            assert {others[k] for k in others if k in applicable} == {"passed"}, name


def test_an_unfinished_round_is_never_verified(
    db_copy: Path, scenario: Scenario, indexed: AuditService
) -> None:
    """The open round (Report phase), even against the node: payoffs are not checked yet."""
    v = _verify(db_copy, scenario.rounds["open"], indexed.chain)
    assert v.status == "not_verified" and not v.verified
    assert v.phase == "Report"
    assert v.checks["chain_agrees"].status == "passed"
    for name in ("payoffs_match", "solver_agrees", "digest_match", "no_funds_stuck"):
        assert v.checks[name].status == "not_checked", name
        assert v.checks[name].applicable, name
        assert "Report phase" in v.checks[name].reason
    assert "Report phase" in v.summary
    assert all(o.payoff_pending and o.payoff_ok is None for o in v.orgs)
    assert all(o.payoff_expected_wei is None for o in v.orgs)


def test_a_node_that_does_not_answer_is_not_checked(db_copy: Path, scenario: Scenario) -> None:
    from web3 import HTTPProvider, Web3

    dead = ChainReader(Web3(HTTPProvider("http://127.0.0.1:9")), scenario.client.address)
    v = _verify(db_copy, scenario.rounds["settled"], dead)
    assert v.status == "not_verified" and not v.verified
    chain = v.checks["chain_agrees"]
    assert chain.status == "not_checked"
    assert "did not answer" in chain.reason and "Connection" in chain.reason
    assert v.problems == []


def test_an_unknown_mechanism_is_not_checked(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["settled"]
    _tamper(db_copy, "UPDATE rounds SET mechanism_id = 9 WHERE round_id = ?", rid)
    v = _verify(db_copy, rid)
    assert v.mechanism is None
    for name in ("scores_match", "bonds_match", "payoffs_match", "digest_match"):
        assert v.checks[name].status == "not_checked", name
        assert "mechanism id 9 has no recomputation" in v.checks[name].reason
    assert v.status == "not_verified"


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
    assert v.status == "failed" and not v.verified
    assert v.checks["payoffs_match"].status == "failed"
    assert v.checks["budget_balanced"].status == "failed"
    assert "org 3: recorded payoff" in v.checks["payoffs_match"].reason
    assert v.budget_balance_wei == 1000
    assert [o.payoff_ok for o in v.orgs] == [True, True, True, False]
    assert any("org 3: recorded payoff" in p for p in v.problems)
    # the contract's views disagree with the tampered index too
    with_chain = _verify(db_copy, rid, indexed.chain)
    assert with_chain.checks["chain_agrees"].status == "failed"
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
    assert v.status == "failed"
    assert v.checks["payoffs_match"].status == "failed"
    # the recomputed table still hashes to the logged digest, the forged records do not
    assert v.payoff_digest_recorded == v.payoff_digest_expected
    assert v.checks["digest_match"].status == "failed"
    assert any("digest of the PayoffCalculated records" in p for p in v.problems)
    assert [o.payoff_ok for o in v.orgs] == [False, False, True]


def test_forged_report_changes_scores(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["missing"]
    _tamper(db_copy, "UPDATE contributions SET x = x + 1 WHERE round_id = ? AND idx = 1", rid)
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert v.checks["scores_match"].status == "failed"
    assert v.checks["payoffs_match"].status == "failed"


def test_inflated_withdrawal_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["abandoned_late"]
    _tamper(
        db_copy,
        "UPDATE withdrawals SET amount_wei = CAST(CAST(amount_wei AS INTEGER) + 1 AS TEXT) "
        "WHERE round_id = ?",
        rid,
    )
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert v.checks["withdrawals_match"].status == "failed"
    assert v.checks["budget_balanced"].status == "failed"


def test_forged_rho_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["settled"]
    with sqlite3.connect(db_copy) as conn:
        rho = conn.execute("SELECT rho FROM rounds WHERE round_id = ?", (rid,)).fetchone()[0]
    forged = rho[:6] + ("0000" if rho[6:10] != "0000" else "0001") + rho[10:]
    _tamper(db_copy, "UPDATE rounds SET rho = ? WHERE round_id = ?", forged, rid)
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert v.checks["rho_valid"].status == "failed"


def test_deleted_payoff_event_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["settled"]
    _tamper(db_copy, "DELETE FROM payoffs WHERE round_id = ? AND idx = 0", rid)
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert any("no PayoffCalculated" in p for p in v.problems)
