"""Coordinator attestation (EIP-712): required when configured, bound to round, contract, chain."""

from __future__ import annotations

import pytest

from settlement import (
    ZERO_ADDRESS,
    AnvilBackend,
    BadAttestation,
    OrgSpec,
    SettlementClient,
    contribution_digest,
    dev_account,
    dev_accounts,
    round_config_from_reals,
    sign_contribution,
)

pytestmark = pytest.mark.chain


def test_attestation_required_and_checked(rounds, client, coordinator, org_accounts) -> None:
    r = rounds.open(3, coordinator=coordinator.address, seed=41)
    other = rounds.open(3, coordinator=coordinator.address, seed=42)
    rounds.join(r)
    a0 = org_accounts[0]
    with pytest.raises(BadAttestation) as missing:
        client.contribution_submit(r.round_id, 0, 500, 2, b"", sender=a0)
    assert (missing.value.recovered, missing.value.coordinator) == (
        ZERO_ADDRESS,
        coordinator.address,
    )

    impostor = dev_account(7)
    forged = client.sign_contribution(impostor, r.round_id, 0, a0.address, 500, 2)
    with pytest.raises(BadAttestation) as wrong:
        client.contribution_submit(r.round_id, 0, 500, 2, forged, sender=a0)
    assert wrong.value.recovered == impostor.address

    replayed = client.sign_contribution(coordinator, other.round_id, 0, a0.address, 500, 2)
    with pytest.raises(BadAttestation):
        client.contribution_submit(r.round_id, 0, 500, 2, replayed, sender=a0)

    signed = client.sign_contribution(coordinator, r.round_id, 0, a0.address, 500, 2)
    with pytest.raises(BadAttestation):  # signed for x=500, reporting more
        client.contribution_submit(r.round_id, 0, 501, 2, signed, sender=a0)
    # high-s twin of a valid signature: refused (malleability)
    n_order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s_val = int.from_bytes(signed[32:64], "big")
    twin = signed[:32] + (n_order - s_val).to_bytes(32, "big") + bytes([55 - signed[64]])
    with pytest.raises(BadAttestation):
        client.contribution_submit(r.round_id, 0, 500, 2, twin, sender=a0)

    client.contribution_submit(r.round_id, 0, 500, 2, signed, sender=a0)
    rounds.report(r, {1: (900, 4), 2: (100, 1)}, coordinator=coordinator)
    assert client.profile_record(r.round_id, 0).x == 500
    r.reports[0] = (500, 2)
    rounds.settle(r)
    assert client.round_state(r.round_id).payoff_digest == r.expected().digest


def test_unattested_round_ignores_attestation(rounds, client, org_accounts) -> None:
    r = rounds.open(2, seed=43)
    rounds.join(r)
    client.contribution_submit(r.round_id, 0, 500, 2, b"\x01" * 65, sender=org_accounts[0])
    assert client.profile_record(r.round_id, 0).reported


def test_digest_matches_contract_and_binds_chain(client, rounds, org_accounts) -> None:
    r = rounds.open(2, seed=44)
    on_chain = client.contribution_digest(r.round_id, 1, 77, 3)
    local = client.local_contribution_digest(r.round_id, 1, org_accounts[1].address, 77, 3)
    assert on_chain == local
    common = dict(round_id=r.round_id, index=1, account=org_accounts[1].address, x=77, f=3)
    assert (
        contribution_digest(chain_id=client.chain_id + 1, contract=client.address, **common)
        != local
    )
    assert contribution_digest(chain_id=client.chain_id, contract=ZERO_ADDRESS, **common) != local


def _open_attested(chain: AnvilBackend, coordinator_address: str):
    operator, a, b = dev_accounts(3)
    c = SettlementClient.deploy(chain, operator)
    config = round_config_from_reals(
        now=c.chain_time(), gamma=10**12, lambda_=1, d_min=0.5, coordinator=coordinator_address
    )
    orgs = [OrgSpec(a.address, 100, 4), OrgSpec(b.address, 100, 4)]
    opened = c.round_open(config, orgs, [[0, 0.5], [0.5, 0]])
    c.deposit_submit(opened.round_id, 0, sender=a)
    c.deposit_submit(opened.round_id, 1, sender=b)
    return c, opened.round_id, a


def test_attestation_cannot_be_replayed_on_another_chain(coordinator) -> None:
    with AnvilBackend(chain_id=1111) as chain_a, AnvilBackend(chain_id=2222) as chain_b:
        ca, rid_a, org_a = _open_attested(chain_a, coordinator.address)
        cb, rid_b, org_b = _open_attested(chain_b, coordinator.address)
        # same deployer and nonce: same contract address, round id and org on both chains
        assert (ca.address, rid_a, org_a.address) == (cb.address, rid_b, org_b.address)
        sig_a = sign_contribution(
            coordinator,
            chain_id=1111,
            contract=ca.address,
            round_id=rid_a,
            index=0,
            account=org_a.address,
            x=80,
            f=2,
        )
        with pytest.raises(BadAttestation):
            cb.contribution_submit(rid_b, 0, 80, 2, sig_a, sender=org_b)
        ca.contribution_submit(rid_a, 0, 80, 2, sig_a, sender=org_a)
        assert ca.profile_record(rid_a, 0).reported
        assert not cb.profile_record(rid_b, 0).reported
