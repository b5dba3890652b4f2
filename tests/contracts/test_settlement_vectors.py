"""docs/settlement-vectors.json: the Python mirror and the contract on a real anvil both produce
every expected number (hashes, bonds, scores, payoffs, payouts, payoff digest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak

from settlement import (
    OrgSpec,
    RoundConfig,
    Rule,
    SettlementClient,
    compute_outcome,
    orgs_hash,
    pack_measured,
    pack_report_table,
    pack_rho,
    params_digest,
    rho_hash,
    set_balance,
    unpack_measured,
    unpack_rho,
    warp_to,
)
from settlement._digests import org_table_bytes

DOC = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "settlement-vectors.json").read_text()
)
VECTORS = DOC["vectors"]


def _config(v: dict[str, Any], **deadlines: int) -> RoundConfig:
    c = v["config"]
    return RoundConfig(
        gamma_wad=int(c["gamma_wad"]),
        lambda_wad=int(c["lambda_wad"]),
        d_min_wad=int(c["d_min_wad"]),
        x_scale=c["x_scale"],
        f_scale=c["f_scale"],
        deposit_deadline=deadlines.get("deposit_deadline", c["deposit_deadline"]),
        report_deadline=deadlines.get("report_deadline", c["report_deadline"]),
        coordinator=c["coordinator"],
        token=c["token"],
        mechanism_id=c["mechanism_id"],
    )


def _orgs(v: dict[str, Any]) -> list[OrgSpec]:
    return [OrgSpec(o["account"], o["x_max"], o["f_max"], o["base"]) for o in v["orgs"]]


def _ints(values: list[str]) -> list[int]:
    return [int(x) for x in values]


def _key(i: int) -> Any:
    return Account.from_key(keccak(text=f"fedsettle-vector-{i}"))


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_python_mirror_matches_vector(v: dict[str, Any]) -> None:
    config, orgs, exp = _config(v), _orgs(v), v["expected"]
    triangle = pack_rho(v["weights_bps"])
    assert "0x" + triangle.hex() == exp["triangle_hex"]
    assert unpack_rho(triangle, len(orgs)) == v["weights_bps"]
    assert "0x" + org_table_bytes(orgs).hex() == exp["org_table_hex"]
    assert "0x" + orgs_hash(orgs).hex() == exp["orgs_hash"]
    assert "0x" + rho_hash(triangle).hex() == exp["rho_hash"]
    digest = params_digest(
        chain_id=DOC["chain_id"],
        contract=DOC["contract"],
        round_id=DOC["round_id"],
        config=config,
        orgs=orgs,
        triangle=triangle,
    )
    assert "0x" + digest.hex() == exp["params_digest"]
    rule = Rule(config)
    assert [rule.min_score(o) for o in orgs] == _ints(exp["min_scores"])
    assert [rule.max_score(o) for o in orgs] == _ints(exp["max_scores"])
    deposits = {int(i): int(a) for i, a in v["deposits"].items()}
    reports = {int(i): (x, f) for i, (x, f) in v["reports"].items()}
    out = compute_outcome(config, orgs, v["weights_bps"], deposits, reports)
    assert out.bonds == _ints(exp["bonds"])
    assert out.scores == _ints(exp["scores"])
    assert out.payoffs == _ints(exp["payoffs"])
    assert out.payouts == _ints(exp["payouts"])
    assert sum(out.payoffs) == 0
    assert "0x" + out.digest.hex() == exp["payoff_digest"]
    if "measured" in v:  # a cogen table's measured scores: encoded after the rows
        measured = {int(i): s for i, s in v["measured"].items()}
        table = pack_report_table(len(orgs), reports) + pack_measured(len(orgs), measured)
        assert "0x" + table.hex() == exp["table_hex"]
        assert unpack_measured(len(orgs), table) == [measured.get(i) for i in range(len(orgs))]


@pytest.mark.chain
@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_contract_matches_vector(client: SettlementClient, operator, v: dict[str, Any]) -> None:
    exp, orgs = v["expected"], _orgs(v)
    now = client.chain_time()
    config = _config(v, deposit_deadline=now + 600, report_deadline=now + 1200)
    keys = {i: _key(i) for i in (*range(len(orgs)), 99)}
    for k in keys.values():
        set_balance(client.w3, k.address, 10**24)
    rid = client.round_open(config, orgs, pack_rho(v["weights_bps"]), sender=operator).round_id
    state = client.round_state(rid)
    assert "0x" + state.orgs_hash.hex() == exp["orgs_hash"]
    assert "0x" + state.rho_hash.hex() == exp["rho_hash"]
    assert client.round_rho(rid).hex() == exp["triangle_hex"][2:]
    assert state.params_digest == params_digest(
        chain_id=client.chain_id,
        contract=client.address,
        round_id=rid,
        config=config,
        orgs=orgs,
        triangle=pack_rho(v["weights_bps"]),
    )
    assert [client.required_bond(rid, i) for i in range(len(orgs))] == _ints(exp["bonds"])
    for i, amount in v["deposits"].items():
        client.deposit_submit(rid, int(i), int(amount), sender=keys[int(i)])
    warp_to(client.w3, config.deposit_deadline + 1)
    reports = {int(i): (x, f) for i, (x, f) in v["reports"].items()}
    if v["report_mode"] == "table":
        measured = {int(i): s for i, s in v.get("measured", {}).items()} or None
        client.contribution_table_submit(rid, reports, measured=measured, sender=keys[99])
        if measured is not None:
            assert "0x" + (client.report_table(rid) or b"").hex() == exp["table_hex"]
    else:
        for i, (x, f) in reports.items():
            client.contribution_submit(rid, i, x, f, sender=keys[i])
    warp_to(client.w3, config.report_deadline + 1)
    (receipt,) = client.settle(rid, sender=operator)
    profiles = client.profiles(rid)
    assert [p.score for p in profiles] == _ints(exp["scores"])
    assert [p.payoff for p in profiles] == _ints(exp["payoffs"])
    assert (
        receipt.events_named("RoundSettled")[0].args["payoffDigest"].hex()
        == exp["payoff_digest"][2:]
    )
    paid = client.payout_batch(rid, sender=operator).events_named("PayoffTransferred")
    payouts = _ints(exp["payouts"])
    assert {int(e.args["index"]): int(e.args["amount"]) for e in paid} == {
        int(i): payouts[int(i)] for i in v["deposits"]
    }
