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
    # the contract's paramsDigest covers the mechanism id: the altered index is caught
    assert v.checks["params_digest_match"].status == "failed"
    # a round really opened with mechanism 9 would carry its own digest
    _tamper(
        db_copy,
        "UPDATE ready SET params_digest = ? WHERE round_id = ?",
        v.params_digest_expected,
        rid,
    )
    v = _verify(db_copy, rid)
    assert v.checks["params_digest_match"].status == "passed"
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
    """A chunk whose bytes differ from the data contract's: the chained hash != RoundReady's."""
    rid = scenario.rounds["settled"]
    with sqlite3.connect(db_copy) as conn:
        code = conn.execute("SELECT code FROM rho_chunks WHERE round_id = ?", (rid,)).fetchone()[0]
    forged = code[:2] + ("0000" if code[2:6] != "0000" else "0001") + code[6:]
    _tamper(db_copy, "UPDATE rho_chunks SET code = ? WHERE round_id = ?", forged, rid)
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert v.checks["rho_valid"].status == "failed"
    assert "RoundReady rhoHash" in v.checks["rho_valid"].reason
    # the digest over the forged triangle no longer matches the contract's either
    assert v.checks["params_digest_match"].status == "failed"


def test_params_digest_is_recomputed_from_the_round_numbers(
    db_copy: Path, scenario: Scenario
) -> None:
    rid = scenario.rounds["attested"]
    v = _verify(db_copy, rid)
    assert v.checks["params_digest_match"].status == "passed"
    state = scenario.client.round_state(rid)
    assert v.params_digest_recorded == v.params_digest_expected == "0x" + state.params_digest.hex()
    # an index that claims another lambda than the round was opened with
    _tamper(
        db_copy,
        "UPDATE rounds SET lambda_wad = CAST(CAST(lambda_wad AS INTEGER) + 1 AS TEXT) "
        "WHERE round_id = ?",
        rid,
    )
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert v.checks["params_digest_match"].status == "failed"
    assert "recomputed" in v.checks["params_digest_match"].reason


def test_silent_depositors_are_settled_at_their_minimum(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["missing"]
    v = _verify(db_copy, rid)
    check = v.checks["silent_at_minimum"]
    assert check.status == "passed" and "2 silent depositor(s)" in check.reason
    for i in (2, 3):
        p = scenario.client.profile_record(rid, i)
        assert not p.reported and p.joined
        assert v.orgs[i].score_expected == p.score > 0  # TradeFL's minimum score is positive
    # a silent depositor settled above its minimum would profit from silence
    with sqlite3.connect(db_copy) as conn:  # scores pass 2**63: add in Python
        where = "WHERE round_id = ? AND idx = 3"
        score = int(conn.execute(f"SELECT score FROM payoffs {where}", (rid,)).fetchone()[0])
    _tamper(db_copy, f"UPDATE payoffs SET score = ? {where}", str(score + 1), rid)
    v = _verify(db_copy, rid)
    assert v.checks["silent_at_minimum"].status == "failed"
    assert "org 3: silent depositor settled at score" in v.checks["silent_at_minimum"].reason


def test_forged_deposit_bond_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["token"]
    _tamper(
        db_copy,
        "UPDATE deposits SET bond_wei = CAST(CAST(bond_wei AS INTEGER) - 1 AS TEXT) "
        "WHERE round_id = ? AND idx = 1",
        rid,
    )
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert v.checks["bonds_match"].status == "failed"
    assert "org 1: DepositSubmitted bond" in v.checks["bonds_match"].reason


def test_deposit_below_bond_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["settled"]
    _tamper(
        db_copy,
        "UPDATE deposits SET amount_wei = CAST(CAST(bond_wei AS INTEGER) - 1 AS TEXT) "
        "WHERE round_id = ? AND idx = 0",
        rid,
    )
    v = _verify(db_copy, rid)
    assert v.checks["deposits_cover_bonds"].status == "failed"
    assert not v.orgs[0].deposit_covers_bond


def test_deleted_payoff_event_is_flagged(db_copy: Path, scenario: Scenario) -> None:
    rid = scenario.rounds["settled"]
    _tamper(db_copy, "DELETE FROM payoffs WHERE round_id = ? AND idx = 0", rid)
    v = _verify(db_copy, rid)
    assert v.status == "failed"
    assert any("no PayoffCalculated" in p for p in v.problems)
