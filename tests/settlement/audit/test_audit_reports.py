"""Exports tied to a deployment and sealed; amounts as strings; the OpenAPI schema documented."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import pytest
from audit_scenario import Scenario
from eth_account import Account
from eth_utils import keccak
from fastapi.testclient import TestClient

from fl_node.cli import ExitCode, main
from settlement import save_keystore
from settlement.audit import (
    AuditService,
    ReportError,
    check_report,
    create_app,
    sealed_export,
    stringify_amounts,
)
from settlement.audit._amounts import amount_field

pytestmark = pytest.mark.chain

AUDITOR = Account.from_key(keccak(text="fedsettle-test-auditor"))


@pytest.fixture(scope="module")
def api(indexed: AuditService) -> TestClient:
    return TestClient(create_app(indexed))


def test_export_is_tied_to_the_deployment_and_signed(
    indexed: AuditService, scenario: Scenario
) -> None:
    rid = scenario.rounds["attested"]
    with indexed.reader() as conn:
        doc = sealed_export(conn, rid, chain=indexed.chain, signer=AUDITOR)
    dep = doc["report"]["deployment"]
    w3 = scenario.chain.web3()
    block = w3.eth.get_block(dep["block_number"])
    assert dep["chain_id"] == scenario.client.chain_id == w3.eth.chain_id
    assert dep["contract_address"] == scenario.client.address
    assert dep["block_number"] == w3.eth.block_number
    assert dep["block_hash"] == "0x" + bytes(block["hash"]).hex()
    assert dep["genesis_hash"] == "0x" + bytes(w3.eth.get_block(0)["hash"]).hex()
    code = w3.eth.get_code(w3.to_checksum_address(scenario.client.address))
    assert dep["code_hash"] == "0x" + keccak(code).hex()
    assert dep["auditor_version"] == metadata.version("fedsettle")
    assert datetime.fromisoformat(dep["generated_at"]).tzinfo is not None
    assert doc["integrity"]["signer"] == AUDITOR.address
    checked = check_report(json.dumps(doc, indent=4), expected_signer=AUDITOR.address)
    assert checked.signer == AUDITOR.address and checked.sha256 == doc["integrity"]["sha256"]
    # one wei moved in the file: the hash no longer matches
    doc["report"]["payoffs"][0]["payoff_wei"] += 1
    with pytest.raises(ReportError, match="the report was altered"):
        check_report(json.dumps(doc))


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["audit", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_report_cli(
    indexed: AuditService, scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = ["--rpc", scenario.chain.rpc_url, "--contract", scenario.client.address]
    rid = str(scenario.rounds["settled"])
    keystore = save_keystore(AUDITOR, tmp_path / "auditor.json", "pw", iterations=2)
    report = tmp_path / "round.json"
    code, _, err = _cli(capsys, "export", rid, *src, "--sign-key", str(keystore), "-o", str(report))
    assert code == ExitCode.CONFIG  # a keystore without its password
    assert "FEDSETTLE_AUDITOR_PASSWORD" in err
    key_file = tmp_path / "auditor.key"
    key_file.write_text("0x" + bytes(AUDITOR.key).hex())
    signed = ["--sign-key", str(key_file), "--amounts", "string", "-o", str(report)]
    code, _, _ = _cli(capsys, "export", rid, *src, *signed)
    assert code == ExitCode.OK
    orgs = json.loads(report.read_text())["report"]["orgs"]
    assert [int(o["score"]) for o in orgs] == [
        scenario.client.profile_record(int(rid), i).score for i in range(len(orgs))
    ]
    assert all(isinstance(o["bond_wei"], str) for o in orgs)
    code, out, _ = _cli(capsys, "check-report", str(report), "--signer", AUDITOR.address)
    assert code == ExitCode.OK and f"signed by {AUDITOR.address}" in out
    assert f"contract {scenario.client.address}" in out

    doc = json.loads(report.read_text())
    tampered = tmp_path / "tampered.json"
    org = doc["report"]["orgs"][1]
    org["payoff_wei"] = str(int(org["payoff_wei"]) + 1)
    tampered.write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "check-report", str(tampered))
    assert code == ExitCode.VERIFY and "the report was altered" in err

    other = Account.from_key(keccak(text="someone else"))
    code, _, err = _cli(capsys, "check-report", str(report), "--signer", other.address)
    assert code == ExitCode.VERIFY and f"not by {other.address}" in err
    doc = json.loads(report.read_text())
    doc["integrity"]["signer"] = other.address
    tampered.write_text(json.dumps(doc))
    code, _, err = _cli(capsys, "check-report", str(tampered))
    assert code == ExitCode.VERIFY and "not by the recorded signer" in err

    code, _, _ = _cli(capsys, "export", rid, *src, "-o", str(report))
    code, _, err = _cli(capsys, "check-report", str(report), "--signer", AUDITOR.address)
    assert code == ExitCode.VERIFY and "not signed" in err
    code, out, _ = _cli(capsys, "check-report", str(report))
    assert code == ExitCode.OK and "not signed" in out
    tampered.write_text('{"round": 1}')
    code, _, err = _cli(capsys, "check-report", str(tampered))
    assert code == ExitCode.VERIFY and "not a fedsettle audit report" in err
    code, _, err = _cli(capsys, "check-report", str(tmp_path / "missing.json"))
    assert code == ExitCode.DATA and "cannot read" in err


def _as_javascript(text: str) -> Any:
    """What JavaScript's JSON.parse makes of a body: every number a double."""
    return json.loads(text, parse_int=float)


def test_amounts_as_strings_survive_a_javascript_parser(
    api: TestClient, scenario: Scenario
) -> None:
    rid = scenario.rounds["attested"]
    exact = [scenario.client.profile_record(rid, i).score for i in range(3)]
    assert max(exact) > 2**53  # beyond a double's exact integers
    as_numbers = api.get(f"/rounds/{rid}/orgs").text
    as_strings = api.get(f"/rounds/{rid}/orgs", params={"amounts": "string"}).text
    js_numbers = [int(o["score"]) for o in _as_javascript(as_numbers)["items"]]
    js_strings = [int(o["score"]) for o in _as_javascript(as_strings)["items"]]
    assert js_numbers != exact  # JSON.parse corrupts the bare numbers
    assert js_strings == exact  # and not the strings
    body = json.loads(as_strings)
    assert body == stringify_amounts(json.loads(as_numbers))
    item = body["items"][0]
    assert isinstance(item["bond_wei"], str) and isinstance(item["index"], int)
    assert isinstance(item["payoff_pending"], bool)
    for path in (
        "/rounds",
        f"/rounds/{rid}",
        f"/rounds/{rid}/orgs/1",
        f"/rounds/{rid}/deposits",
        f"/rounds/{rid}/contributions",
        f"/rounds/{rid}/payoffs",
        f"/rounds/{rid}/withdrawals",
        f"/rounds/{rid}/verify",
        f"/accounts/{scenario.orgs[0].address}",
        "/balances",
        "/deployment",
    ):
        plain = _without_clock(api.get(path).json())
        strings = _without_clock(api.get(path, params={"amounts": "string"}).json())
        assert strings == stringify_amounts(plain), path
    export = api.get(f"/rounds/{rid}/export", params={"amounts": "string"}).json()
    assert isinstance(export["report"]["payoffs"][0]["payoff_wei"], str)
    check_report(json.dumps(export))
    bad = api.get(f"/rounds/{rid}", params={"amounts": "hex"})
    assert bad.status_code == 422 and "amounts" in bad.json()["message"]


def _without_clock(body: Any) -> Any:
    """The body without `generated_at`: two requests may straddle a second."""
    if isinstance(body, dict):
        return {k: _without_clock(v) for k, v in body.items() if k != "generated_at"}
    if isinstance(body, list):
        return [_without_clock(v) for v in body]
    return body


def _refs(schema: Any, spec: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name reachable from ``schema`` (following $ref)."""
    names: set[str] = set()
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref and ref not in seen:
            seen.add(ref)
            names |= _refs(spec["components"]["schemas"][ref.split("/")[-1]], spec, seen)
        for key, value in schema.items():
            if key == "properties":
                names |= set(value)
            names |= _refs(value, spec, seen)
    elif isinstance(schema, list):
        for value in schema:
            names |= _refs(value, spec, seen)
    return names


def test_openapi_documents_every_404_every_property_and_the_amounts_parameter() -> None:
    spec = create_app(cast(Any, None)).openapi()
    operations = [(p, op) for p, ops in spec["paths"].items() for op in ops.values()]
    with_path_param = [
        (path, op)
        for path, op in operations
        if any(p["in"] == "path" for p in op.get("parameters", []))
    ]
    assert len(with_path_param) >= 12
    for path, op in with_path_param:
        assert "404" in op["responses"], path
        assert op["responses"]["404"]["description"], path
    props = [
        (name, prop, s)
        for name, schema in spec["components"]["schemas"].items()
        for prop, s in schema.get("properties", {}).items()
    ]
    assert len(props) > 150
    assert [f"{n}.{p}" for n, p, s in props if not s.get("description")] == []
    # every operation whose answer holds an amount takes ?amounts=
    for path, op in operations:
        answer = op["responses"]["200"].get("content", {}).get("application/json", {})
        holds = any(amount_field(n) for n in _refs(answer.get("schema", {}), spec, set()))
        takes = any(p["name"] == "amounts" for p in op.get("parameters", []))
        if holds or path.endswith("/export"):
            assert takes, path
