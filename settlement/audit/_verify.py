"""Recompute a round from its on-chain inputs and check every recorded outcome.

Inputs are what the chain logged: the round's config and rho (``RoundOpened``), the org slots and
bonds (``OrgRegistered``), deposits and reports (``DepositSubmitted``, ``ContributionSubmitted``).
Outcomes checked against them: scores, every payoff ``R_i`` (exactly, with the integer mirror of
the contract in :mod:`settlement._fixedpoint`, and within rounding with the solver's real-valued
redistribution formula), budget balance to the wei, withdrawal amounts, whether every deposit is
withdrawable or withdrawn, the payoff digest, and, when a node is reachable, the contract's own
views (``roundState``/``profileRecord`` at the indexed block).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from eth_utils import keccak

from settlement import _fixedpoint as fp
from settlement._errors import ConfigError, RhoError
from settlement._outcome import RoundOutcome, compute_outcome
from settlement._types import OrgSpec, Phase, RoundConfig, Wei, to_address
from settlement.audit._chain import ChainReader
from settlement.audit._models import PHASE_NAMES, OrgCheck, OrgRecord, Verification
from settlement.audit._queries import RoundData, load_round, org_records, summary
from settlement.audit._solver import real_payoffs

_TERMINAL = (Phase.SETTLED, Phase.ABANDONED)


def verify_round(
    conn: sqlite3.Connection, round_id: int, *, chain: ChainReader | None = None
) -> Verification:
    """Recompute round ``round_id`` from the index and check every recorded outcome.

    Parameters
    ----------
    conn : sqlite3.Connection
        The index.
    round_id : int
        Round to verify.
    chain : ChainReader, optional
        If given, the index is also compared with the contract's views at the indexed block.

    Returns
    -------
    Verification
        ``ok`` is true when every applicable check passed; ``problems`` names each failure.

    Raises
    ------
    UnknownRoundError
        If the round is not in the index.
    """
    data = load_round(conn, round_id)
    return _verify(data, chain)


def _verify(data: RoundData, chain: ChainReader | None) -> Verification:
    o = data.opened
    phase = data.phase
    problems: list[str] = []
    checks: dict[str, bool | None] = {}
    gamma, dmin = int(o["gamma_wad"]), int(o["d_min_wad"])
    xs, fs = int(o["x_scale"]), int(o["f_scale"])
    records = org_records(data)
    n = len(records)

    # -- rho: the bytes logged at open must be a valid n x n matrix and hash to rhoHash
    rho_bytes = bytes.fromhex(o["rho"][2:])
    rho: list[list[int]] | None = None
    try:
        rho = fp.rho_to_bps(fp.unpack_rho(rho_bytes), unit="bps")
        if len(rho) != n:
            raise RhoError(f"rho is {len(rho)}x{len(rho)} but the round has {n} org slots")
    except RhoError as exc:
        rho = None
        problems.append(f"rho: {exc}")
    rho_hash_ok = "0x" + keccak(rho_bytes).hex() == o["rho_hash"]
    if not rho_hash_ok:
        problems.append(f"rho: keccak256 of the logged rho != indexed rho_hash {o['rho_hash']}")
    checks["rho_valid"] = rho is not None and rho_hash_ok

    # -- reports: bounds, and the exact outcome the contract must have produced
    contributions = data.by_index(data.contributions)
    payoff_rows = data.by_index(data.payoffs)
    reports: dict[int, tuple[int, int]] = {}
    bounds_ok = True
    for rec in records:
        rows = contributions.get(rec.index, [])
        if len(rows) > 1:
            problems.append(f"org {rec.index}: {len(rows)} contribution reports (at most one)")
            bounds_ok = False
        if not rows:
            continue
        x, f = int(rows[0]["x"]), int(rows[0]["f"])
        lo = fp.x_min(dmin, rec.x_max)
        if not lo <= x <= rec.x_max or not fp.F_MIN <= f <= rec.f_max:
            bounds_ok = False
            problems.append(
                f"org {rec.index}: report x={x}, f={f} outside x in [{lo}, {rec.x_max}], "
                f"f in [{fp.F_MIN}, {rec.f_max}]"
            )
        if not rec.joined:
            bounds_ok = False
            problems.append(f"org {rec.index}: reported without a deposit")
            continue
        reports[rec.index] = (x, f)
    checks["reports_in_bounds"] = bounds_ok
    outcome = _outcome(data, records, rho, reports, problems)
    scores: list[int | None] = [
        outcome.scores[r.index] if r.index in reports else None for r in records
    ]
    scores_ok = True
    for rec in records:
        rows = contributions.get(rec.index, [])
        if rows and rec.index in reports and int(rows[0]["score"]) != outcome.scores[rec.index]:
            scores_ok = False
            problems.append(
                f"org {rec.index}: reported score {rows[0]['score']} != recomputed "
                f"{outcome.scores[rec.index]}"
            )
    checks["scores_match"] = scores_ok
    bonds_ok = True
    for rec in records:
        if rec.bond_wei != outcome.bonds[rec.index]:
            bonds_ok = False
            problems.append(
                f"org {rec.index}: registered bond {rec.bond_wei} wei != worst-case liability "
                f"{outcome.bonds[rec.index]}"
            )
    checks["bonds_match"] = bonds_ok

    # -- payoffs: exact integer mirror, and the solver's real-valued formula
    expected_pay = [int(p) for p in outcome.payoffs]
    settled = phase == Phase.SETTLED
    payoffs_ok = rho is not None
    solver_pay = real_payoffs(scores, rho, gamma, xs, fs) if rho is not None else None
    solver_diff = (
        max((abs(e - s) for e, s in zip(expected_pay, solver_pay, strict=True)), default=0.0)
        if solver_pay is not None
        else None
    )
    reporters = len(reports)
    # each of the (reporters - 1) pair terms is truncated once: < 1 wei each, plus float error
    tolerance = max(reporters - 1, 0) + 1e-9 * max((abs(v) for v in expected_pay), default=0)
    solver_ok = solver_diff is not None and solver_diff <= tolerance + 1e-6
    if solver_diff is not None and not solver_ok:
        problems.append(
            f"solver: real-valued payoffs differ from the exact ones by {solver_diff:.3g} wei "
            f"(> {tolerance:.3g})"
        )
    org_checks: list[OrgCheck] = []
    withdrawals = data.by_index(data.withdrawals)
    withdrawals_ok = covers_ok = True
    funds_stuck = 0
    for rec, score_expected, pay_expected in zip(records, scores, expected_pay, strict=True):
        i = rec.index
        prow = payoff_rows.get(i, [])
        recorded = int(prow[0]["payoff_wei"]) if prow else None
        ok_i = True
        if len(prow) > 1:
            ok_i = False
            problems.append(f"org {i}: {len(prow)} PayoffCalculated events (at most one)")
        if settled:
            if rec.joined and recorded is None:
                ok_i = False
                problems.append(f"org {i}: joined a settled round but has no PayoffCalculated")
            got = 0 if recorded is None else recorded
            if got != pay_expected:
                ok_i = False
                problems.append(f"org {i}: recorded payoff {got} wei != recomputed {pay_expected}")
            if prow and int(prow[0]["score"]) != (score_expected or 0):
                ok_i = False
                problems.append(
                    f"org {i}: PayoffCalculated score {prow[0]['score']} != "
                    f"recomputed {score_expected or 0}"
                )
        elif prow:
            ok_i = False
            problems.append(f"org {i}: PayoffCalculated in an unsettled round")
        payoffs_ok = payoffs_ok and ok_i

        covers = not rec.joined or rec.deposited_wei >= rec.bond_wei
        if not covers:
            covers_ok = False
            problems.append(f"org {i}: deposit {rec.deposited_wei} < bond {rec.bond_wei}")

        expected_out = rec.deposited_wei + (pay_expected if settled else 0)
        wrows = withdrawals.get(i, [])
        wd_ok = True
        if len(wrows) > 1:
            wd_ok = False
            problems.append(f"org {i}: {len(wrows)} withdrawals (at most one)")
        if wrows:
            if phase not in _TERMINAL:
                wd_ok = False
                problems.append(f"org {i}: withdrawal in an unfinished round")
            elif rec.withdrawn_wei != expected_out:
                wd_ok = False
                problems.append(
                    f"org {i}: withdrew {rec.withdrawn_wei} wei, expected {expected_out}"
                )
        withdrawals_ok = withdrawals_ok and wd_ok

        status: Literal["withdrawn", "withdrawable", "locked", "not_joined"]
        if not rec.joined:
            status = "not_joined"
        elif rec.withdrawn:
            status = "withdrawn"
        elif phase in _TERMINAL:
            status = "withdrawable"
            if expected_out < 0:
                funds_stuck += -expected_out
        else:
            # locked until settlement or abandonment; anyone may abandon after settleDeadline
            status = "locked"
        org_checks.append(
            OrgCheck(
                index=i,
                account=rec.account,
                joined=rec.joined,
                reported=rec.reported,
                bond_wei=rec.bond_wei,
                deposited_wei=rec.deposited_wei,
                deposit_covers_bond=covers,
                score_recorded=int(contributions[i][0]["score"]) if i in contributions else None,
                score_expected=score_expected,
                score_ok=score_expected is None or rec.score == score_expected,
                payoff_recorded_wei=recorded,
                payoff_expected_wei=pay_expected,
                payoff_solver_real=None if solver_pay is None else solver_pay[i],
                payoff_ok=ok_i,
                status=status,
                owed_wei=rec.owed_wei,
                withdrawn_wei=rec.withdrawn_wei,
                withdrawal_ok=wd_ok,
            )
        )
    checks["payoffs_match"] = payoffs_ok
    checks["solver_agrees"] = solver_ok if solver_pay is not None else False
    checks["deposits_cover_bonds"] = covers_ok
    checks["withdrawals_match"] = withdrawals_ok

    # -- budget balance: payoffs sum to zero; deposits = withdrawals + what is still owed
    budget = sum(int(r["payoff_wei"]) for r in data.payoffs)
    total_dep = sum(r.deposited_wei for r in records)
    total_wd = sum(r.withdrawn_wei for r in records)
    expected_outstanding = sum(r.owed_wei for r in records)
    balanced = budget == 0 and total_dep - total_wd == expected_outstanding
    if budget != 0:
        problems.append(f"budget: recorded payoffs sum to {budget} wei, not 0")
    if total_dep - total_wd != expected_outstanding:
        problems.append(
            f"budget: deposits {total_dep} - withdrawals {total_wd} != still owed "
            f"{expected_outstanding}"
        )
    checks["budget_balanced"] = balanced
    checks["no_funds_stuck"] = funds_stuck == 0
    if funds_stuck:
        problems.append(f"funds: {funds_stuck} wei can never be withdrawn")
    all_free = all(c.status in ("withdrawn", "withdrawable", "not_joined") for c in org_checks)

    # -- payoff digest: of the recomputed table, and of the table as recorded in the events
    digest_recorded = data.settlement["payoff_digest"] if data.settlement is not None else None
    digest_expected = "0x" + outcome.digest.hex() if settled else None
    if settled:
        table_scores = [
            int(payoff_rows[r.index][0]["score"]) if payoff_rows.get(r.index) else 0
            for r in records
        ]
        table_pay = [
            int(payoff_rows[r.index][0]["payoff_wei"]) if payoff_rows.get(r.index) else 0
            for r in records
        ]
        digest_of_events = (
            "0x" + fp.payoff_digest([r.account for r in records], table_scores, table_pay).hex()
        )
        checks["digest_match"] = digest_recorded == digest_expected == digest_of_events
        if digest_recorded != digest_expected:
            problems.append(
                f"digest: RoundSettled digest {digest_recorded} != recomputed {digest_expected}"
            )
        if digest_recorded != digest_of_events:
            problems.append(
                f"digest: RoundSettled digest {digest_recorded} != digest of the "
                f"PayoffCalculated records {digest_of_events}"
            )
    else:
        checks["digest_match"] = None

    # -- the contract's own views, at the indexed block
    notes: list[str] = []
    checks["chain_agrees"] = None
    if chain is not None:
        try:
            mismatches = _compare_chain(data, records, chain)
        except Exception as exc:  # an unreachable node must not hide the index verification
            notes.append(f"chain: not compared ({type(exc).__name__}: {exc})")
        else:
            checks["chain_agrees"] = not mismatches
            problems.extend(mismatches)

    ok = all(v is not False for v in checks.values())
    return Verification(
        round_id=data.round_id,
        phase=PHASE_NAMES[phase],
        as_of_block=data.as_of_block,
        ok=ok,
        checks=checks,
        problems=problems,
        notes=notes,
        budget_balance_wei=budget,
        total_deposits_wei=total_dep,
        total_withdrawn_wei=total_wd,
        outstanding_wei=total_dep - total_wd,
        expected_outstanding_wei=expected_outstanding,
        all_bonds_withdrawable_or_withdrawn=all_free,
        funds_stuck_wei=funds_stuck,
        payoff_digest_recorded=digest_recorded,
        payoff_digest_expected=digest_expected,
        solver_max_abs_diff_wei=solver_diff,
        orgs=org_checks,
    )


def _outcome(
    data: RoundData,
    records: list[OrgRecord],
    rho: list[list[int]] | None,
    reports: dict[int, tuple[int, int]],
    problems: list[str],
) -> RoundOutcome:
    o = data.opened
    n = len(records)
    try:
        config = RoundConfig(
            gamma_wad=int(o["gamma_wad"]),
            lambda_wad=int(o["lambda_wad"]),
            d_min_wad=int(o["d_min_wad"]),
            x_scale=int(o["x_scale"]),
            f_scale=int(o["f_scale"]),
            deposit_deadline=int(o["deposit_deadline"]),
            report_deadline=int(o["report_deadline"]),
            settle_deadline=int(o["settle_deadline"]),
            coordinator=o["coordinator"],
            params_digest=bytes.fromhex(o["params_digest"][2:]),
            mechanism_id=int(o["mechanism_id"]),
        )
        orgs = [OrgSpec(to_address(r.account), r.x_max, r.f_max) for r in records]
    except ConfigError as exc:
        problems.append(f"config: the indexed round parameters are malformed ({exc})")
        zero = [Wei(0)] * n
        return RoundOutcome(bonds=zero, scores=[0] * n, payoffs=zero, payouts=zero, digest=b"")
    deposits = {r.index: r.deposited_wei for r in records if r.joined}
    matrix = rho if rho is not None else [[0] * n for _ in range(n)]
    return compute_outcome(config, orgs, matrix, deposits, reports)


def _compare_chain(data: RoundData, records: list[OrgRecord], chain: ChainReader) -> list[str]:
    block = data.as_of_block
    out: list[str] = []
    state = chain.round_state(data.round_id, block)
    mine = summary(data)
    pairs: list[tuple[str, Any, Any]] = [
        ("phase", mine.phase_id, int(state.phase)),
        ("n", mine.n, state.n),
        ("joined_count", mine.joined_count, state.joined_count),
        ("reported_count", mine.reported_count, state.reported_count),
        ("total_deposits", mine.total_deposits_wei, state.total_deposits),
        ("total_withdrawn", mine.total_withdrawn_wei, state.total_withdrawn),
        ("rho_hash", mine.rho_hash, "0x" + state.rho_hash.hex()),
        ("payoff_digest", mine.payoff_digest, "0x" + state.payoff_digest.hex()),
        ("operator", mine.operator, state.operator),
    ]
    out += [
        f"chain: round {data.round_id} {name}: index {a} != contract {b}"
        for name, a, b in pairs
        if a != b
    ]
    for rec in records:
        p = chain.profile(data.round_id, rec.index, block)
        fields: list[tuple[str, Any, Any]] = [
            ("account", rec.account, p.account),
            ("bond", rec.bond_wei, p.bond),
            ("deposited", rec.deposited_wei, p.deposited),
            ("x_max", rec.x_max, p.x_max),
            ("f_max", rec.f_max, p.f_max),
            ("x", rec.x, p.x),
            ("f", rec.f, p.f),
            ("score", rec.score, p.score),
            ("payoff", rec.payoff_wei, p.payoff),
            ("joined", rec.joined, p.joined),
            ("reported", rec.reported, p.reported),
            ("withdrawn", rec.withdrawn, p.withdrawn),
        ]
        out += [
            f"chain: org {rec.index} {name}: index {a} != contract {b}"
            for name, a, b in fields
            if a != b
        ]
    return out
