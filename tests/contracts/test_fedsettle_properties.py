"""Property tests over random rounds of both mechanisms: exact budget balance, agreement with
the Python mirror, solvency (every payout >= 0) and silence settled at the minimum."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import Phase as HypothesisPhase
from hypothesis import strategies as st

from settlement import MECHANISM_COGEN, MECHANISM_TRADEFL, ZERO_ADDRESS, Phase, WrongPhase

pytestmark = pytest.mark.chain

_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    # every example is a dozen real transactions: shrinking would take minutes, and the
    # failing example is printed in full anyway
    phases=[HypothesisPhase.explicit, HypothesisPhase.reuse, HypothesisPhase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def round_plans(draw: st.DrawFn, mechanism: int) -> dict:
    n = draw(st.integers(2, 8))
    upper = [
        [draw(st.sampled_from([0, 1, 10_000, draw(st.integers(0, 10_000))])) for _ in range(n)]
        for _ in range(n)
    ]
    rho = [[0 if i == j else upper[min(i, j)][max(i, j)] for j in range(n)] for i in range(n)]
    joined = [i for i in range(n) if draw(st.booleans()) or i < 1]
    on_time = [i for i in joined if draw(st.integers(0, 3)) > 0]
    late = [i for i in joined if i not in on_time and draw(st.booleans())]
    cogen = mechanism == MECHANISM_COGEN
    return {
        "n": n,
        "rho": rho,
        "joined": joined,
        "on_time": on_time,
        "late": late,
        "table": draw(st.booleans()),
        "chunk": draw(st.sampled_from([0, 1, 3])),
        # gamma up to 1e15 wei per unit of score keeps every bond far below an account's balance
        "gamma": draw(st.sampled_from([0, 1, 10**9, 7 * 10**12, 10**15])),
        "lambda_": draw(st.sampled_from(["0", "0.001", "1", "123.456"])),
        "d_min": "0" if cogen else draw(st.sampled_from(["0.000001", "0.1", "0.5", "1"])),
        "x_scale": draw(st.sampled_from([1, 10, 1000])),
        "f_scale": 1 if cogen else draw(st.sampled_from([1, 7, 10**9])),
        "x_max": [draw(st.integers(0 if cogen else 1, 2**20)) for _ in range(n)],
        "f_max": [0 if cogen else draw(st.integers(1, 2**16)) for _ in range(n)],
        "base": [draw(st.integers(0, 5_000)) if cogen else 0 for _ in range(n)],
        "extra": [draw(st.sampled_from([0, 1, 10**15])) for _ in range(n)],
        "seed": draw(st.integers(0, 2**32)),
    }


def _run(rounds, client, coordinator, plan: dict, mechanism: int) -> None:
    n = plan["n"]
    r = rounds.open(
        n,
        rho=plan["rho"],
        gamma=plan["gamma"],
        lambda_=plan["lambda_"],
        d_min=plan["d_min"],
        x_scale=plan["x_scale"],
        f_scale=plan["f_scale"],
        x_max=plan["x_max"],
        f_max=plan["f_max"],
        base=plan["base"],
        mechanism_id=mechanism,
        coordinator=coordinator.address if plan["table"] else ZERO_ADDRESS,
        seed=plan["seed"],
    )
    assert [p.bond for p in client.profiles(r.round_id)] == r.expected().bonds
    rounds.join(r, plan["joined"], extra=dict(enumerate(plan["extra"])))
    if len(plan["joined"]) < n:
        rounds.close_deposits(r)
    reports = rounds.random_reports(r, random.Random(plan["seed"]), plan["on_time"])
    if plan["table"]:
        rounds.submit_table(r, reports, coordinator)
    else:
        rounds.report(r, reports)
        rounds.close_reports(r)
        for i in plan["late"]:
            x, f = r.rule.min_report(r.orgs[i])
            with pytest.raises(WrongPhase) as late:
                client.contribution_submit(r.round_id, i, x, f, sender=r.accounts[i])
            assert late.value.actual == Phase.CALCULATE
    receipts = rounds.settle(r, plan["chunk"])
    out = r.expected()

    profiles = client.profiles(r.round_id)
    assert [p.payoff for p in profiles] == out.payoffs
    assert [p.score for p in profiles] == out.scores
    assert sum(out.payoffs) == 0
    assert all(r.deposits[i] + out.payoffs[i] >= 0 for i in r.deposits)
    (settled,) = receipts[-1].events_named("RoundSettled")
    assert (
        settled.args["payoffDigest"] == out.digest == client.round_state(r.round_id).payoff_digest
    )

    paid = rounds.withdraw(r)
    assert sum(paid.values()) == sum(r.deposits.values())
    assert paid == {i: out.payouts[i] for i in r.deposits}
    state = client.round_state(r.round_id)
    assert state.total_withdrawn == state.total_deposits


@_SETTINGS
@given(plan=round_plans(MECHANISM_TRADEFL))
def test_random_tradefl_round_settles_exactly(rounds, client, coordinator, plan: dict) -> None:
    _run(rounds, client, coordinator, plan, MECHANISM_TRADEFL)


@_SETTINGS
@given(plan=round_plans(MECHANISM_COGEN))
def test_random_cogen_round_settles_exactly(rounds, client, coordinator, plan: dict) -> None:
    _run(rounds, client, coordinator, plan, MECHANISM_COGEN)
