"""Measured scores on a cogen table: stored and attested on a real anvil, never paid on."""

from __future__ import annotations

import pytest

from settlement import (
    MECHANISM_COGEN,
    TableAlreadySubmitted,
    TableLength,
    pack_measured,
    pack_report_table,
)

pytestmark = pytest.mark.chain


def _cogen_round(rounds, coordinator, seed: int):
    r = rounds.open(
        4,
        mechanism_id=MECHANISM_COGEN,
        coordinator=coordinator.address,
        gamma=10**15,
        lambda_="1",
        d_min="0",
        x_max=[2000, 0, 3000, 500],
        f_max=0,
        base=[1200, 300, 800, 4000],
        seed=seed,
    )
    rounds.join(r)
    return r


def test_measured_scores_are_stored_with_the_table_and_move_no_money(
    rounds, client, coordinator
) -> None:
    """Two equal rounds, one table with the coordinator's measured scores and one without: the
    scores are read back from the table's data contract, and every payoff is the same wei."""
    reports = {0: (1500, 0), 2: (100, 0), 3: (500, 0)}  # slot 1 generates nothing: (0, 0)
    measured = {0: 0.0123456789, 1: -0.5, 3: 9.2e9}  # slot 2 not measured
    plain = _cogen_round(rounds, coordinator, seed=61)
    scored = _cogen_round(rounds, coordinator, seed=61)
    rounds.submit_table(plain, reports, coordinator)
    receipt = client.contribution_table_submit(
        scored.round_id, reports, measured=measured, sender=coordinator
    )
    scored.reports.update(reports)
    (event,) = receipt.events_named("ReportTableSubmitted")
    assert event.args["reports"] == 3

    assert client.measured_scores(plain.round_id) is None
    got = client.measured_scores(scored.round_id)
    assert got is not None and got[2] is None
    assert got[0] == pytest.approx(0.012345679, abs=1e-12)  # 1e-9 units
    assert got[1] == -0.5 and got[3] == 9.2e9
    table = client.report_table(scored.round_id)
    assert table == pack_report_table(4, reports) + pack_measured(4, measured)

    # one table per round: the measured scores cannot be restated either
    with pytest.raises(TableAlreadySubmitted):
        client.contribution_table_submit(
            scored.round_id, reports, measured={0: 99.0}, sender=coordinator
        )
    rounds.settle(plain)
    rounds.settle(scored)
    pay_plain = [p.payoff for p in client.profiles(plain.round_id)]
    pay_scored = [p.payoff for p in client.profiles(scored.round_id)]
    assert pay_scored == pay_plain == scored.expected().payoffs
    assert any(p != 0 for p in pay_plain) and sum(pay_plain) == 0
    assert rounds.withdraw(scored) == {i: scored.expected().payouts[i] for i in range(4)}


def test_a_table_annex_is_refused_outside_cogen_and_in_any_other_length(
    rounds, client, coordinator
) -> None:
    tradefl = rounds.open(3, coordinator=coordinator.address, seed=62)
    rounds.join(tradefl)
    rounds.close_deposits(tradefl)
    with pytest.raises(TableLength) as refused:  # mechanism 1 has no measured scores
        client.contribution_table_submit(
            tradefl.round_id, {0: (500, 2)}, measured={0: 0.1}, sender=coordinator
        )
    assert (refused.value.expected, refused.value.actual) == (48, 72)
    cogen = _cogen_round(rounds, coordinator, seed=63)
    rounds.close_deposits(cogen)
    half = pack_report_table(4, {0: (10, 0)}) + bytes(16)  # 16 n + 4 n: neither form
    data = client.contract.encode_abi("contributionTableSubmit", [cogen.round_id, half])
    with pytest.raises(TableLength) as refused:
        client._tx.send(coordinator, client.address, data)
    assert (refused.value.expected, refused.value.actual) == (64, 80)
    assert client.report_table(cogen.round_id) is None  # nothing stored, the round still open
    client.contribution_table_submit(
        cogen.round_id, {0: (10, 0)}, measured={0: 0.25}, sender=coordinator
    )
    got = client.measured_scores(cogen.round_id)
    assert got == [0.25, None, None, None]
