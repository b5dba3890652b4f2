"""Recompute a round from its on-chain inputs and check every recorded outcome.

Inputs are what the chain logged: the round's config (``RoundOpened``), the org slots
(``OrgRegistered``), the weight triangle (``RhoAppended``: the chunks' data-contract code) and
the contract's digests of them (``RoundReady``), deposits with the bond the contract required
(``DepositSubmitted``) and reports (``ContributionSubmitted``, also emitted for each row of a
coordinator's table). The contract's ``paramsDigest`` is recomputed from the round's numbers with
:func:`settlement.params_digest`; the round's mechanism (:mod:`settlement.audit._mechanisms`)
recomputes the outcome, with silent depositors settled at their minimum report; the recorded
scores, bonds, payoffs, digest, withdrawals and budget are compared with it, and, when a node is
reachable, the index with the contract's own views (``roundState``/``profileRecord`` at the
indexed block).

Every check is tri-state (:class:`~settlement.audit._models.Check`): passed, failed, or not
checked with the reason (a round whose payoffs are not computed yet, an unreachable node, a
mechanism this auditor cannot recompute). A round is ``verified`` only when every applicable
check ran and passed; one failed check makes it ``failed``; anything else is ``not_verified``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any, Literal

from settlement._digests import params_digest, payoff_digest, rho_hash
from settlement._errors import ConfigError, RhoError
from settlement._fixedpoint import unpack_rho
from settlement._types import Phase
from settlement.audit._chain import ChainReader
from settlement.audit._mechanisms import Recomputation, mechanism_for
from settlement.audit._models import (
    PHASE_NAMES,
    Check,
    OrgCheck,
    OrgRecord,
    Verification,
    VerificationStatus,
)
from settlement.audit._queries import (
    RoundData,
    load_round,
    mechanism_parameters,
    org_records,
    round_inputs,
    summary,
)

_TERMINAL = (Phase.SETTLED, Phase.ABANDONED)


#: the model-sharing market: no per-org reports, payments from the coordinator's graphs
MARKET_MECHANISM = 3


def passed(reason: str) -> Check:
    """A check that ran and passed."""
    return Check(status="passed", reason=reason)


def failed(reason: str) -> Check:
    """A check that ran and found a problem."""
    return Check(status="failed", reason=reason)


def not_checked(reason: str, *, applicable: bool = True) -> Check:
    """A check that did not run (``applicable=False``: it does not apply to this round)."""
    return Check(status="not_checked", reason=reason, applicable=applicable)


def verdict(checks: dict[str, Check]) -> tuple[VerificationStatus, str]:
    """``(status, summary)`` of a set of checks: failed > not_verified > verified."""
    bad = [k for k, c in checks.items() if c.status == "failed"]
    if bad:
        return "failed", f"failed: {', '.join(bad)} ({checks[bad[0]].reason})"
    missing = [k for k, c in checks.items() if c.applicable and c.status == "not_checked"]
    if missing:
        return "not_verified", f"not verified: {checks[missing[0]].reason}"
    return "verified", "verified: every applicable check ran and passed"


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
        If given, the index is also compared with the contract's views at the indexed block;
        without it (or with the node down) ``chain_agrees`` is not checked and the round is not
        verified.

    Returns
    -------
    Verification
        ``status`` verified / failed / not_verified; ``checks`` tri-state with reasons.

    Raises
    ------
    UnknownRoundError
        If the round is not in the index.
    """
    return _verify(load_round(conn, round_id), chain)


def _bool(check: Check) -> bool | None:
    return None if check.status == "not_checked" else check.status == "passed"


def _verify(data: RoundData, chain: ChainReader | None) -> Verification:
    o = data.opened
    phase = data.phase
    phase_name = PHASE_NAMES[phase]
    settled, abandoned = phase == Phase.SETTLED, phase == Phase.ABANDONED
    pending = f"the round is in its {phase_name} phase: payoffs are computed at settlement"
    problems: list[str] = []
    checks: dict[str, Check] = {}
    records = org_records(data)
    n = len(records)

    def record(name: str, errors: list[str], ok_reason: str) -> Check:
        problems.extend(errors)
        checks[name] = failed("; ".join(errors)) if errors else passed(ok_reason)
        return checks[name]

    # -- rho: the chunks' code must form a valid triangle whose chained hash is RoundReady's
    rho: list[list[int]] | None = None
    triangle = data.rho
    ready = data.ready
    if ready is None:
        checks["rho_valid"] = not_checked(
            f"the weight triangle is incomplete ({len(triangle)} of {n * (n - 1)} bytes): "
            "no RoundReady, deposits are not open"
        )
    else:
        errors: list[str] = []
        try:
            rho = unpack_rho(triangle, n)
        except RhoError as exc:
            errors.append(f"rho: {exc}")
        recomputed_hash = "0x" + rho_hash(triangle).hex()
        if recomputed_hash != ready["rho_hash"]:
            errors.append(
                f"rho: chained hash of the chunks {recomputed_hash} != RoundReady rhoHash "
                f"{ready['rho_hash']}"
            )
        if errors:
            rho = None
        record("rho_valid", errors, f"{n}x{n} triangle, its chained hash matches RoundReady")

    # -- paramsDigest: recomputed from the round's numbers with settlement's function
    digest_params: str | None = None
    if ready is None:
        checks["params_digest_match"] = not_checked("no RoundReady: paramsDigest is not set yet")
    elif data.chain_id is None or data.contract is None:
        checks["params_digest_match"] = not_checked("the index has no chain id or contract")
    else:
        try:
            digest_params = (
                "0x"
                + params_digest(
                    chain_id=data.chain_id,
                    contract=data.contract,
                    round_id=data.round_id,
                    config=data.config(),
                    orgs=data.org_specs(),
                    triangle=triangle,
                ).hex()
            )
        except (ConfigError, ValueError) as exc:
            record("params_digest_match", [f"params: malformed round parameters ({exc})"], "")
        else:
            record(
                "params_digest_match",
                []
                if digest_params == ready["params_digest"]
                else [
                    f"params: RoundReady paramsDigest {ready['params_digest']} != recomputed "
                    f"{digest_params} from the round's config, org table and rho"
                ],
                "RoundReady paramsDigest = recomputed from config, orgs and rho",
            )

    # -- reports: bounds of the round's rule
    contributions = data.by_index(data.contributions)
    payoff_rows = data.by_index(data.payoffs)
    deposit_rows = data.by_index(data.deposits)
    rule = data.rule()
    specs = data.org_specs()
    reports: dict[int, tuple[int, int]] = {}
    errors = []
    for rec in records:
        rows = contributions.get(rec.index, [])
        if len(rows) > 1:
            errors.append(f"org {rec.index}: {len(rows)} contribution reports (at most one)")
        if not rows:
            continue
        x, f = int(rows[0]["x"]), int(rows[0]["f"])
        if rule is not None:
            (x_lo, x_hi), (f_lo, f_hi) = rule.bounds(specs[rec.index])
            if not x_lo <= x <= x_hi or not f_lo <= f <= f_hi:
                errors.append(
                    f"org {rec.index}: report x={x}, f={f} outside x in [{x_lo}, {x_hi}], "
                    f"f in [{f_lo}, {f_hi}]"
                )
        if not rec.joined:
            errors.append(f"org {rec.index}: reported without a deposit")
            continue
        reports[rec.index] = (x, f)
    if int(o["mechanism_id"]) == MARKET_MECHANISM and not errors:
        checks["reports_in_bounds"] = not_checked(
            "a market round has no per-org reports: the coordinator's graphs are re-run by "
            "payoffs_match",
            applicable=False,
        )
    elif rule is None and not errors:
        checks["reports_in_bounds"] = not_checked(
            f"mechanism id {o['mechanism_id']} has no report bounds in this auditor"
        )
    else:
        record("reports_in_bounds", errors, f"{len(reports)} report(s) within their slots' bounds")

    # -- the mechanism's recomputation of the round
    mechanism = mechanism_for(int(o["mechanism_id"]))
    recomputed: Recomputation | None = None
    parameters: dict[str, Any] = {}
    why_not = ""
    if mechanism is None:
        why_not = f"mechanism id {o['mechanism_id']} has no recomputation in this auditor"
    elif rho is None:
        why_not = "rho is incomplete or invalid: the round cannot be recomputed"
    else:
        try:
            inputs = replace(round_inputs(data), rho_bps=rho, reports=reports)
            recomputed = mechanism.recompute(inputs)
            parameters = mechanism_parameters(data)
        except (ConfigError, ValueError) as exc:
            why_not = f"the indexed round parameters are malformed ({exc})"
            problems.append(f"config: {why_not}")
            checks["config_valid"] = failed(why_not)
    outcome = None if recomputed is None else recomputed.outcome

    scores: list[int | None] = [None] * n
    silent = [r.index for r in records if r.joined and r.index not in reports]
    if outcome is None:
        checks["scores_match"] = not_checked(why_not)
        checks["bonds_match"] = not_checked(why_not)
        checks["silent_at_minimum"] = not_checked(why_not)
    else:
        # the score each depositor is settled at: its report, a silent one's minimum
        scores = [outcome.scores[r.index] if r.joined else None for r in records]
        errors = [
            f"org {rec.index}: reported score {contributions[rec.index][0]['score']} != "
            f"recomputed {outcome.scores[rec.index]}"
            for rec in records
            if rec.index in reports
            and int(contributions[rec.index][0]["score"]) != outcome.scores[rec.index]
        ]
        record("scores_match", errors, f"{len(reports)} score(s) equal the recomputed ones")
        errors = [
            f"org {i}: DepositSubmitted bond {row['bond_wei']} != worst-case liability "
            f"{outcome.bonds[i]}"
            for i, rows in deposit_rows.items()
            for row in rows
            if int(row["bond_wei"]) != outcome.bonds[i]
        ]
        record(
            "bonds_match",
            errors,
            f"{len(deposit_rows)} deposit bond(s) equal the recomputed worst-case liability",
        )
        # silence never pays: a depositor without a report is settled at its minimum report
        errors = []
        for i in silent:
            if rule is None:
                break
            minimum = rule.min_score(specs[i])
            prow = payoff_rows.get(i, [])
            if prow and int(prow[0]["score"]) != minimum:
                errors.append(
                    f"org {i}: silent depositor settled at score {prow[0]['score']}, not its "
                    f"minimum {minimum}"
                )
            if outcome.scores[i] != minimum:
                errors.append(f"org {i}: recomputed score {outcome.scores[i]} != minimum {minimum}")
        if int(o["mechanism_id"]) == MARKET_MECHANISM:
            checks["silent_at_minimum"] = not_checked(
                "a market round has no reports: a depositor outside every graph only keeps its "
                "deposit, which payoffs_match checks",
                applicable=False,
            )
        elif rule is None:
            checks["silent_at_minimum"] = not_checked(
                f"mechanism id {o['mechanism_id']} has no minimum report in settlement's mirror"
            )
        elif errors or settled or not silent:
            record(
                "silent_at_minimum",
                errors,
                f"{len(silent)} silent depositor(s) settled at their minimum report",
            )
        elif abandoned:
            checks["silent_at_minimum"] = not_checked(
                "abandoned: nobody is settled", applicable=False
            )
        else:
            checks["silent_at_minimum"] = not_checked(pending)

    # -- payoffs, per slot
    expected_pay: list[int | None]
    if settled and outcome is not None:
        expected_pay = [int(p) for p in outcome.payoffs]
    elif abandoned:
        expected_pay = [0] * n
    else:
        expected_pay = [None] * n
    pay_errors: list[str] = []
    wd_errors: list[str] = []
    cover_errors: list[str] = []
    org_checks: list[OrgCheck] = []
    withdrawals = data.by_index(data.withdrawals)
    funds_stuck = 0
    for rec, score_expected, pay_expected in zip(records, scores, expected_pay, strict=True):
        i = rec.index
        prow = payoff_rows.get(i, [])
        recorded = int(prow[0]["payoff_wei"]) if prow else None
        mine: list[str] = []
        if len(prow) > 1:
            mine.append(f"org {i}: {len(prow)} PayoffCalculated events (at most one)")
        if settled and pay_expected is not None:
            if rec.joined and recorded is None:
                mine.append(f"org {i}: joined a settled round but has no PayoffCalculated")
            got = 0 if recorded is None else recorded
            if got != pay_expected:
                mine.append(f"org {i}: recorded payoff {got} wei != recomputed {pay_expected}")
            if prow and int(prow[0]["score"]) != (score_expected or 0):
                mine.append(
                    f"org {i}: PayoffCalculated score {prow[0]['score']} != "
                    f"recomputed {score_expected or 0}"
                )
        elif not settled and prow:
            mine.append(f"org {i}: PayoffCalculated in an unsettled round")
        pay_errors += mine
        payoff_ok: bool | None = not mine
        if not mine and pay_expected is None:
            payoff_ok = None  # pending, or no recomputation: not checked

        covers = not rec.joined or rec.deposited_wei >= rec.bond_wei
        if not covers:
            cover_errors.append(f"org {i}: deposit {rec.deposited_wei} < bond {rec.bond_wei}")

        expected_out = rec.deposited_wei + (pay_expected or 0)
        wrows = withdrawals.get(i, [])
        wd: list[str] = []
        if len(wrows) > 1:
            wd.append(f"org {i}: {len(wrows)} withdrawals (at most one)")
        if wrows:
            if phase not in _TERMINAL:
                wd.append(f"org {i}: withdrawal in an unfinished round")
            elif pay_expected is not None and rec.withdrawn_wei != expected_out:
                wd.append(f"org {i}: withdrew {rec.withdrawn_wei} wei, expected {expected_out}")
        wd_errors += wd

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
            status = "locked"  # until settlement or abandonment
        score_ok = (
            None if outcome is None else score_expected is None or rec.score == score_expected
        )
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
                score_ok=score_ok,
                payoff_recorded_wei=recorded,
                payoff_expected_wei=pay_expected,
                payoff_solver_real=None,
                payoff_pending=phase not in _TERMINAL,
                payoff_ok=payoff_ok,
                status=status,
                owed_wei=rec.owed_wei,
                withdrawn_wei=rec.withdrawn_wei,
                withdrawal_ok=not wd,
            )
        )
    if pay_errors:
        record("payoffs_match", pay_errors, "")
    elif settled and outcome is None:
        checks["payoffs_match"] = not_checked(why_not)
    elif settled:
        checks["payoffs_match"] = passed(f"{n} recorded payoff(s) equal the recomputed ones")
    elif abandoned:
        checks["payoffs_match"] = passed("abandoned: no PayoffCalculated, every deposit refunded")
    else:
        checks["payoffs_match"] = not_checked(pending)

    # -- the mechanism's independent reference computation (the solver's real formula)
    solver_diff: float | None = None
    if settled and recomputed is not None and recomputed.reference is not None:
        exact = [int(p) for p in recomputed.outcome.payoffs]
        solver_diff = max(
            (abs(e - s) for e, s in zip(exact, recomputed.reference, strict=True)), default=0.0
        )
        for oc, ref in zip(org_checks, recomputed.reference, strict=True):
            oc.payoff_solver_real = ref
        if solver_diff <= recomputed.tolerance_wei:
            checks["solver_agrees"] = passed(
                f"real-valued payoffs within {solver_diff:.3g} wei of the exact ones"
            )
        else:
            record(
                "solver_agrees",
                [
                    f"solver: real-valued payoffs differ from the exact ones by "
                    f"{solver_diff:.3g} wei (> {recomputed.tolerance_wei:.3g})"
                ],
                "",
            )
    elif settled:
        checks["solver_agrees"] = not_checked(
            why_not or "the mechanism has no reference computation", applicable=False
        )
    elif abandoned:
        checks["solver_agrees"] = not_checked("abandoned: no payoffs", applicable=False)
    else:
        checks["solver_agrees"] = not_checked(pending)

    record("deposits_cover_bonds", cover_errors, "every deposit covers its bond")
    record("withdrawals_match", wd_errors, f"{len(data.withdrawals)} withdrawal(s) paid exactly")

    # -- budget balance: payoffs sum to zero; deposits = withdrawals + what is still owed
    budget = sum(int(r["payoff_wei"]) for r in data.payoffs)
    total_dep = sum(r.deposited_wei for r in records)
    total_wd = sum(r.withdrawn_wei for r in records)
    expected_outstanding = sum(r.owed_wei for r in records)
    errors = []
    if budget != 0:
        errors.append(f"budget: recorded payoffs sum to {budget} wei, not 0")
    if total_dep - total_wd != expected_outstanding:
        errors.append(
            f"budget: deposits {total_dep} - withdrawals {total_wd} != still owed "
            f"{expected_outstanding}"
        )
    if errors or phase in _TERMINAL:
        record("budget_balanced", errors, "payoffs sum to 0 wei; deposits = withdrawn + owed")
    else:
        checks["budget_balanced"] = not_checked(pending)
    all_free = all(c.status in ("withdrawn", "withdrawable", "not_joined") for c in org_checks)
    if phase in _TERMINAL:
        stuck = [f"funds: {funds_stuck} wei can never be withdrawn"] if funds_stuck else []
        record("no_funds_stuck", stuck, "every deposit is withdrawable or withdrawn")
    else:
        checks["no_funds_stuck"] = not_checked(
            f"the round is in its {phase_name} phase: deposits are locked until it is settled "
            "or abandoned"
        )

    # -- payoff digest: of the recomputed table, and of the table as recorded in the events
    digest_recorded = data.settlement["payoff_digest"] if data.settlement is not None else None
    digest_expected = "0x" + outcome.digest.hex() if settled and outcome is not None else None
    if settled and outcome is not None:
        table_scores = [
            int(payoff_rows[r.index][0]["score"]) if payoff_rows.get(r.index) else 0
            for r in records
        ]
        table_pay = [
            int(payoff_rows[r.index][0]["payoff_wei"]) if payoff_rows.get(r.index) else 0
            for r in records
        ]
        digest_of_events = (
            "0x" + payoff_digest([r.account for r in records], table_scores, table_pay).hex()
        )
        errors = []
        if digest_recorded != digest_expected:
            errors.append(
                f"digest: RoundSettled digest {digest_recorded} != recomputed {digest_expected}"
            )
        if digest_recorded != digest_of_events:
            errors.append(
                f"digest: RoundSettled digest {digest_recorded} != digest of the "
                f"PayoffCalculated records {digest_of_events}"
            )
        record("digest_match", errors, "RoundSettled digest = recomputed = of the records")
    elif settled:
        checks["digest_match"] = not_checked(why_not)
    elif abandoned:
        checks["digest_match"] = not_checked("abandoned: no payoff digest", applicable=False)
    else:
        checks["digest_match"] = not_checked(pending)

    # -- the contract's own views, at the indexed block
    if chain is None:
        checks["chain_agrees"] = not_checked(
            "no node configured: the index was not compared with the contract's views"
        )
    else:
        try:
            mismatches = _compare_chain(data, records, chain)
        except Exception as exc:  # an unreachable node: not checked, never passed
            checks["chain_agrees"] = not_checked(
                f"the node did not answer ({type(exc).__name__}: {exc})"
            )
        else:
            record(
                "chain_agrees",
                mismatches,
                f"roundState and {n} profileRecord(s) at block {data.as_of_block} equal the index",
            )

    verdict_status, summary_line = verdict(checks)
    notes = [f"{k}: {c.reason}" for k, c in checks.items() if c.status == "not_checked"]
    return Verification(
        round_id=data.round_id,
        phase=phase_name,
        as_of_block=data.as_of_block,
        status=verdict_status,
        verified=verdict_status == "verified",
        summary=summary_line,
        checks=checks,
        mechanism=None if mechanism is None else mechanism.name,
        token=o["token"],
        parameters=parameters,
        params_digest_recorded=None if ready is None else ready["params_digest"],
        params_digest_expected=digest_params,
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
        ("rho_bytes", len(data.rho), state.rho_bytes),
        ("total_deposits", mine.total_deposits_wei, state.total_deposits),
        ("total_withdrawn", mine.total_withdrawn_wei, state.total_withdrawn),
        ("rho_hash", mine.rho_hash, "0x" + state.rho_hash.hex()),
        ("payoff_digest", mine.payoff_digest, "0x" + state.payoff_digest.hex()),
        (
            "params_digest",
            None if data.ready is None else data.ready["params_digest"],
            None if data.ready is None else "0x" + state.params_digest.hex(),
        ),
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
            ("base", rec.base, p.base),
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
