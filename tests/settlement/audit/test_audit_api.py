"""The audit API against the contract's own views, on a real history of rounds."""

from __future__ import annotations

import csv
import io

import pytest
from audit_scenario import Scenario
from fastapi.testclient import TestClient

from settlement import ZERO_ADDRESS, Phase, unpack_rho
from settlement.audit import AuditService, create_app

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def api(indexed: AuditService) -> TestClient:
    return TestClient(create_app(indexed))


def test_rounds_list_matches_round_state(api: TestClient, scenario: Scenario) -> None:
    client = scenario.client
    body = api.get("/rounds").json()
    assert body["total"] == client.round_count() == len(scenario.rounds)
    for item in body["items"]:
        state = client.round_state(item["round_id"])
        assert item["phase"] == state.phase.name.title()
        assert item["phase_id"] == int(state.phase)
        assert item["n"] == state.n
        assert item["joined_count"] == state.joined_count
        assert item["reported_count"] == state.reported_count
        assert item["total_deposits_wei"] == state.total_deposits
        assert item["total_withdrawn_wei"] == state.total_withdrawn
        assert item["rho_hash"] == "0x" + state.rho_hash.hex()
        assert item["payoff_digest"] == "0x" + state.payoff_digest.hex()
        assert item["operator"] == state.operator


def test_round_phases_cover_every_outcome(api: TestClient, scenario: Scenario) -> None:
    phases = {
        name: api.get(f"/rounds/{rid}").json()["phase"] for name, rid in scenario.rounds.items()
    }
    assert phases == {
        "settled": "Settled",
        "missing": "Settled",
        "abandoned_op": "Abandoned",
        "abandoned_late": "Abandoned",
        "attested": "Settled",
        "open": "Report",
        "token": "Settled",
        "cogen": "Settled",
        "cogen_measured": "Settled",
    }
    assert scenario.client.phase_of(scenario.rounds["open"]) == Phase.REPORT


@pytest.mark.parametrize(
    "name",
    [
        "settled",
        "missing",
        "abandoned_op",
        "abandoned_late",
        "attested",
        "open",
        "token",
        "cogen",
        "cogen_measured",
    ],
)
def test_round_detail_and_orgs_match_views(api: TestClient, scenario: Scenario, name: str) -> None:
    client = scenario.client
    rid = scenario.rounds[name]
    detail = api.get(f"/rounds/{rid}").json()
    config = client.round_config(rid)
    c = detail["config"]
    assert (c["mechanism_id"], c["gamma_wad"], c["lambda_wad"], c["d_min_wad"]) == (
        config.mechanism_id,
        config.gamma_wad,
        config.lambda_wad,
        config.d_min_wad,
    )
    assert (c["x_scale"], c["f_scale"]) == (config.x_scale, config.f_scale)
    assert (c["deposit_deadline"], c["report_deadline"]) == (
        config.deposit_deadline,
        config.report_deadline,
    )
    assert (c["coordinator"], c["token"], detail["token"]) == (
        config.coordinator,
        config.token,
        config.token,
    )
    state = client.round_state(rid)
    assert c["params_digest"] == "0x" + state.params_digest.hex()
    assert detail["rho_bps"] == unpack_rho(client.round_rho(rid), state.n)
    # the mechanism's parameters in its own terms
    if name.startswith("cogen"):
        bases = [p.base for p in client.profiles(rid)]
        assert c["parameters"]["D"] == bases == [143, 107, 597]
        assert c["parameters"]["q"] == (0.75 if name == "cogen" else 1.0)
        assert c["parameters"]["kappa_wei_per_score"] == str(config.gamma_wad / 10**18)
    else:
        assert c["parameters"]["lambda"] == config.lambda_wad / 10**18
        assert c["parameters"]["d_min"] == config.d_min_wad / 10**18

    orgs = api.get(f"/rounds/{rid}/orgs").json()
    assert orgs["total"] == client.round_state(rid).n
    for rec in orgs["items"]:
        p = client.profile_record(rid, rec["index"])
        assert rec["account"] == p.account
        assert rec["bond_wei"] == p.bond
        assert rec["deposited_wei"] == p.deposited
        assert (rec["x_max"], rec["f_max"], rec["x"], rec["f"]) == (p.x_max, p.f_max, p.x, p.f)
        assert rec["base"] == p.base
        assert rec["score"] == p.score
        assert rec["payoff_wei"] == p.payoff
        assert (rec["joined"], rec["reported"], rec["withdrawn"]) == (
            p.joined,
            p.reported,
            p.withdrawn,
        )
        one = api.get(f"/rounds/{rid}/orgs/{rec['index']}").json()
        assert one == rec


def test_event_lists_match_the_records(api: TestClient, scenario: Scenario) -> None:
    rid = scenario.rounds["missing"]
    deposits = api.get(f"/rounds/{rid}/deposits").json()["items"]
    contributions = api.get(f"/rounds/{rid}/contributions").json()["items"]
    payoffs = api.get(f"/rounds/{rid}/payoffs").json()["items"]
    withdrawals = api.get(f"/rounds/{rid}/withdrawals").json()["items"]
    assert [d["index"] for d in deposits] == [0, 1, 2, 3]
    assert [c["index"] for c in contributions] == [0, 1]
    # PayoffCalculated is emitted for every joined slot; silent ones at their minimum score
    assert [p["index"] for p in payoffs] == [0, 1, 2, 3]
    for p in payoffs[2:]:
        assert p["score"] == scenario.client.profile_record(rid, p["index"]).score > 0
        assert p["payoff_wei"] == scenario.client.profile_record(rid, p["index"]).payoff
    assert sum(p["payoff_wei"] for p in payoffs) == 0
    assert [d["bond_wei"] for d in deposits] == [
        scenario.client.required_bond(rid, i) for i in range(4)
    ]
    for w in withdrawals:
        p = scenario.client.profile_record(rid, w["index"])
        assert w["amount_wei"] == p.deposited + p.payoff
        assert w["event"]["block_number"] > 0 and w["event"]["tx_hash"].startswith("0x")
    page = api.get(f"/rounds/{rid}/deposits", params={"page": 2, "per_page": 3}).json()
    assert (page["total"], [d["index"] for d in page["items"]]) == (4, [3])


def test_balances_match_liabilities_and_contract_balance(
    api: TestClient, scenario: Scenario
) -> None:
    client = scenario.client
    body = api.get("/balances").json()
    assert body["liabilities_wei"] == client.liabilities()
    assert body["contract_balance_wei"] == client.balance()
    token = scenario.token.address
    by_asset: dict[str, int] = {}
    for a in body["accounts"]:  # one entry per account and asset: never added across assets
        by_asset[a["token"]] = by_asset.get(a["token"], 0) + a["owed_wei"]
    assert by_asset == {ZERO_ADDRESS: client.liabilities(), token: client.liabilities(token)}
    account = scenario.orgs[0].address
    one = api.get(f"/accounts/{account.lower()}").json()
    assert one["account"] == account and one["token"] == ZERO_ADDRESS
    assert one["asset"]["symbol"] == "ETH" and one["other_assets"] == [token]
    joined = {rid for rid in scenario.rounds.values() if client.profile_record(rid, 0).joined}
    in_token = {rid for rid in joined if client.round_config(rid).token == token}
    assert in_token == {scenario.rounds["token"]}
    assert {r["round_id"] for r in one["rounds"]} == joined - in_token
    mine = api.get(f"/accounts/{account}?token={token}").json()
    assert {r["round_id"] for r in mine["rounds"]} == in_token
    assert mine["asset"] == {"token": token, "symbol": "tUSD", "decimals": 6}
    missing = api.get(f"/accounts/{account}?token=0x{'11' * 20}")
    assert missing.status_code == 404 and token in missing.json()["message"]


def test_verify_passes_on_every_honest_round(api: TestClient, scenario: Scenario) -> None:
    for name, rid in scenario.rounds.items():
        v = api.get(f"/rounds/{rid}/verify").json()
        assert v["problems"] == [], name
        assert v["budget_balance_wei"] == 0
        assert v["checks"]["chain_agrees"]["status"] == "passed"
        assert v["outstanding_wei"] == v["expected_outstanding_wei"]
        if name == "open":
            # unfinished: nothing failed, but the payoffs are not computed yet
            assert (v["status"], v["verified"]) == ("not_verified", False)
            assert v["checks"]["payoffs_match"]["status"] == "not_checked"
            assert v["all_bonds_withdrawable_or_withdrawn"] is False
            assert {o["status"] for o in v["orgs"]} == {"locked", "not_joined"}
        else:
            assert (v["status"], v["verified"]) == ("verified", True), (name, v["summary"])
            assert v["all_bonds_withdrawable_or_withdrawn"] is True
    abandoned = api.get(f"/rounds/{scenario.rounds['abandoned_op']}/verify").json()["checks"]
    assert abandoned["digest_match"] == {
        "status": "not_checked",
        "reason": "abandoned: no payoff digest",
        "applicable": False,
    }
    settled = api.get(f"/rounds/{scenario.rounds['settled']}/verify").json()
    state = scenario.client.round_state(scenario.rounds["settled"])
    assert settled["payoff_digest_expected"] == "0x" + state.payoff_digest.hex()
    assert settled["checks"]["digest_match"]["status"] == "passed"
    assert [o["status"] for o in settled["orgs"]] == [
        "withdrawn",
        "withdrawn",
        "withdrawable",
        "withdrawable",
    ]
    # one deposit was above its bond: the excess is returned with the payout
    org2 = settled["orgs"][2]
    assert org2["deposited_wei"] == org2["bond_wei"] + 12345
    assert org2["owed_wei"] == org2["deposited_wei"] + org2["payoff_expected_wei"]


def test_export_json_and_csv(api: TestClient, scenario: Scenario) -> None:
    rid = scenario.rounds["attested"]
    body = api.get(f"/rounds/{rid}/export", params={"format": "json"}).json()["report"]
    assert set(body) >= {"deployment", "round", "orgs", "payoffs", "verification"}
    assert body["verification"]["status"] == "verified"
    assert body["round"]["config"]["coordinator"] == scenario.coordinator.address
    response = api.get(f"/rounds/{rid}/export", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["payoff_wei"]) for r in rows] == [
        scenario.client.profile_record(rid, i).payoff for i in range(3)
    ]
    assert all(r["payoff_ok"] == "true" for r in rows)
    # every row is tied to the deployment and the block it is as of
    w3 = scenario.chain.web3()
    head = w3.eth.get_block("latest")
    assert {
        (r["chain_id"], r["contract_address"], r["block_number"], r["block_hash"]) for r in rows
    } == {
        (
            str(scenario.client.chain_id),
            scenario.client.address,
            str(head["number"]),
            "0x" + bytes(head["hash"]).hex(),
        )
    }


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/rounds/999", 404, "round 999 is not in the index"),
        ("/rounds/0/orgs", 404, "ids start at 1"),
        ("/rounds/99999999999999999999999999/verify", 404, "not in the index"),
        ("/rounds/-1", 422, "round_id"),
        ("/rounds/abc", 422, "round_id"),
        ("/rounds?page=-1", 422, "page"),
        ("/rounds?page=0", 422, "page"),
        ("/rounds?per_page=100000", 422, "per_page"),
        ("/rounds/1/orgs/99", 404, "no slot 99"),
        ("/rounds/1/export?format=xml", 422, "format"),
        ("/accounts/0x1234", 422, "address"),
        ("/accounts/0x" + "zz" * 20, 422, "address"),
        ("/accounts/0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266", 404, "no deposit"),
        ("/accounts/0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267", 422, "checksum"),
    ],
)
def test_bad_queries_get_a_clear_4xx(api: TestClient, path: str, status: int, needle: str) -> None:
    response = api.get(path)
    assert response.status_code == status, response.text
    assert needle in response.json()["message"]


def test_dashboard_and_openapi_are_served(api: TestClient) -> None:
    page = api.get("/")
    assert page.status_code == 200 and "fedsettle auditor" in page.text
    assert api.get("/static/app.js").status_code == 200
    spec = api.get("/openapi.json").json()
    assert "/rounds/{round_id}/verify" in spec["paths"]
    # Swagger UI needs a CDN (blank offline): not served, the schema is
    assert api.get("/docs").status_code == 404
    assert "/docs" not in api.get("/").text
    status = api.get("/status").json()
    assert status["indexed_block"] == status["head_block"]


def test_cogen_round_verifies_against_the_node(api: TestClient, scenario: Scenario) -> None:
    rid = scenario.rounds["cogen"]
    v = api.get(f"/rounds/{rid}/verify").json()
    assert v["status"] == "verified", v["summary"]
    assert v["mechanism"] == "synthetic-data generation (cogen)"
    assert v["parameters"]["D"] == [143, 107, 597]
    # the silent slot is settled at x = 0: its score is its base D alone
    silent = scenario.client.profile_record(rid, 2)
    assert not silent.reported and silent.score == 597 * 10**18
    assert v["orgs"][2]["score_expected"] == silent.score
    assert v["checks"]["silent_at_minimum"]["status"] == "passed"


def test_a_cogen_tables_measured_scores_are_shown_and_not_paid_on(
    api: TestClient, scenario: Scenario
) -> None:
    from audit_scenario import MEASURED_SCORES

    rid = scenario.rounds["cogen_measured"]
    orgs = api.get(f"/rounds/{rid}/orgs").json()["items"]
    assert [o["measured_score"] for o in orgs] == [MEASURED_SCORES[0], None, MEASURED_SCORES[2]]
    assert scenario.client.measured_scores(rid) == [o["measured_score"] for o in orgs]
    v = api.get(f"/rounds/{rid}/verify").json()
    assert (v["status"], v["verified"]) == ("verified", True), v["summary"]
    # the payoffs follow the declared scores D + q x alone (the mirror knows no measured score)
    assert [o["payoff_expected_wei"] for o in v["orgs"]] == [o["payoff_wei"] for o in orgs]
    # slot 2's bond is 0 (no rival can outscore it): it joined with 0 wei and is owed its R_i
    assert orgs[2]["joined"] and orgs[2]["deposited_wei"] == 0
    assert orgs[2]["owed_wei"] == orgs[2]["payoff_wei"] > 0
    csv_rows = list(
        csv.DictReader(io.StringIO(api.get(f"/rounds/{rid}/export", params={"format": "csv"}).text))
    )
    assert [r["measured_score"] for r in csv_rows] == ["0.031", "", "-0.0045"]
    # rounds without the annex say so with null
    plain = api.get(f"/rounds/{scenario.rounds['cogen']}/orgs").json()["items"]
    assert {o["measured_score"] for o in plain} == {None}
