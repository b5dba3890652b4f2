"""Large rounds: rho in several data-contract chunks, settlement in resumable chunks by anyone."""

from __future__ import annotations

import random

import pytest
from eth_account import Account
from eth_utils import keccak
from fedsettle_helpers import OpenRound, random_rho

from settlement import (
    RHO_CHUNK,
    OrgSpec,
    Phase,
    RhoIncomplete,
    RhoLength,
    WrongPhase,
    pack_rho,
    rho_chunks,
    set_balance,
)

pytestmark = pytest.mark.chain


def test_multi_chunk_rho_and_chunked_settlement(rounds, client, operator, org_accounts) -> None:
    n = 160  # the triangle (25,440 bytes) needs two chunks
    accounts = [Account.from_key(keccak(text=f"fedsettle-scale-{i}")) for i in range(n)]
    joined = [0, 77, 159]
    for i in joined:
        set_balance(client.w3, accounts[i].address, 10**24)
    orgs = [OrgSpec(a.address, 1000 + i, 4) for i, a in enumerate(accounts)]
    triangle = pack_rho(random_rho(n, random.Random(61)))
    first, second = rho_chunks(triangle)
    assert len(first) == RHO_CHUNK and len(triangle) == n * (n - 1)
    config = client.round_config_from_reals(gamma=10**12, lambda_="0.5", d_min="0.1")
    opened = client.round_open(config, orgs, first, sender=operator)  # first chunk only
    rid = opened.round_id
    assert client.round_state(rid).rho_complete is False
    with pytest.raises(RhoIncomplete) as incomplete:
        client.deposit_submit(rid, 0, 0, sender=accounts[0])
    assert (incomplete.value.uploaded, incomplete.value.expected) == (RHO_CHUNK, n * (n - 1))
    with pytest.raises(RhoLength):
        client.rho_append(rid, second[:-2], sender=operator)
    client.rho_append(rid, second, sender=operator)
    assert client.round_rho(rid) == triangle
    r = OpenRound(client, rid, config, orgs, accounts, triangle)
    rounds.join(r, joined)
    rounds.close_deposits(r)
    rounds.report(r, {0: (1000, 4), 159: (200, 1)})  # slot 77 stays silent
    rounds.close_reports(r)
    # anyone continues the settlement where the previous chunk stopped
    client.payoff_calculate(rid, 70, sender=org_accounts[70])
    assert client.round_state(rid).settled_count == 70
    assert client.phase_of(rid) == Phase.CALCULATE
    client.payoff_calculate(rid, 70, sender=org_accounts[71])
    last = client.payoff_calculate(rid, 70, sender=org_accounts[72])
    assert client.phase_of(rid) == Phase.SETTLED
    out = r.expected()
    (settled,) = last.events_named("RoundSettled")
    assert settled.args["payoffDigest"] == out.digest
    assert [client.profile_record(rid, i).payoff for i in joined] == [
        out.payoffs[i] for i in joined
    ]
    with pytest.raises(WrongPhase):
        client.payoff_calculate(rid, 1)
    paid, deferred = rounds.push(r)
    assert deferred == {} and sum(paid.values()) == sum(r.deposits.values())
