"""``fedsettle audit`` against a saved chain state, a live RPC node, and a tampered index."""

from __future__ import annotations

import csv
import gzip
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from audit_scenario import Scenario

from fl_node.cli import ExitCode, main
from fl_node.cli.audit import NOT_VERIFIED

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def demo_dir(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a demo run leaves behind: chain-state.json (anvil state) + deployment.json."""
    out = tmp_path_factory.mktemp("demo")
    response = scenario.chain.web3().provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
    state = gzip.decompress(bytes.fromhex(response["result"][2:]))
    (out / "chain-state.json").write_bytes(state)
    deployment = {
        "chain_id": scenario.client.chain_id,
        "contract_address": scenario.client.address,
        "round_id": scenario.rounds["attested"],
        "rpc": scenario.chain.rpc_url,
    }
    (out / "deployment.json").write_text(json.dumps(deployment))
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["audit", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_state_file_rounds_verify_and_export(
    demo_dir: Path, scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(demo_dir / "chain-state.json")
    db = str(tmp_path / "index.sqlite")
    # one reopening of the saved chain builds the index; later commands reuse it offline
    code, out, _ = _run(capsys, "rounds", "--state", state, "--db", db, "--format", "json")
    assert code == ExitCode.OK
    rounds = json.loads(out)
    assert [r["phase"] for r in rounds] == [
        "Settled",
        "Settled",
        "Abandoned",
        "Abandoned",
        "Settled",
        "Settled",
        "Settled",
        "Settled",
        "Report",
    ]
    assert [r["total_deposits_wei"] for r in rounds] == [
        scenario.client.round_state(r["round_id"]).total_deposits for r in rounds
    ]
    for rid in scenario.rounds.values():
        # offline (index only): nothing fails, but without the node nothing is verified
        code, out, _ = _run(capsys, "verify", str(rid), "--db", db, "--format", "json")
        body = json.loads(out)
        assert code == NOT_VERIFIED and body["status"] == "not_verified", body["summary"]
        assert body["problems"] == [] and body["budget_balance_wei"] == 0

    rid = scenario.rounds["missing"]
    code, out, _ = _run(capsys, "round", str(rid), "--db", db)
    assert code == ExitCode.OK
    payoff = scenario.client.profile_record(rid, 0).payoff
    assert f"round {rid}: Settled" in out and str(payoff) in out

    token_round = scenario.rounds["token"]
    code, out, _ = _run(capsys, "round", str(token_round), "--db", db)
    state_digest = scenario.client.round_state(token_round).params_digest.hex()
    assert code == ExitCode.OK and f"units of token {scenario.token.address}" in out
    assert f"params digest    0x{state_digest}" in out and "lambda 0.5" in out
    code, out, _ = _run(capsys, "verify", str(token_round), "--db", db, "--format", "table")
    assert f"asset            {scenario.token.address} (units)" in out and "token units" in out

    target = tmp_path / "round.csv"
    code, _, err = _run(
        capsys, "export", str(rid), "--db", db, "--format", "csv", "-o", str(target)
    )
    assert code == ExitCode.OK and "wrote" in err
    rows = list(csv.DictReader(target.open()))
    assert {r["token"] for r in rows} == {"0x0000000000000000000000000000000000000000"}
    assert [int(r["payoff_wei"]) for r in rows] == [
        scenario.client.profile_record(rid, i).payoff for i in range(5)
    ]
    code, out, _ = _run(capsys, "export", str(rid), "--db", db)
    assert json.loads(out)["report"]["verification"]["problems"] == []


def test_verify_reads_the_state_file_directly(
    demo_dir: Path, scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    rid = scenario.rounds["attested"]
    code, out, _ = _run(
        capsys,
        "verify",
        str(rid),
        "--state",
        str(demo_dir / "chain-state.json"),
        "--format",
        "json",
    )
    body = json.loads(out)
    assert code == ExitCode.OK and body["status"] == "verified"
    # the reopened chain answered the contract's views too
    assert body["checks"]["chain_agrees"]["status"] == "passed"


def test_rpc_source_and_tampered_index_exit_codes(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "rpc.sqlite"
    src = ["--rpc", scenario.chain.rpc_url, "--contract", scenario.client.address, "--db", str(db)]
    rid = scenario.rounds["settled"]
    code, out, _ = _run(capsys, "verify", str(rid), *src, "--format", "table")
    assert code == ExitCode.OK and f"round {rid} (Settled" in out and ": VERIFIED" in out
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE payoffs SET payoff_wei = '0' WHERE round_id = ? AND idx = 1", (rid,))
    code, out, _ = _run(capsys, "verify", str(rid), "--db", str(db), "--format", "json")
    body = json.loads(out)
    assert code == ExitCode.VERIFY
    assert body["status"] == "failed" and body["budget_balance_wei"] != 0
    # against the node the contract's views expose the tampering as well
    code, out, _ = _run(capsys, "verify", str(rid), *src, "--format", "json")
    assert code == ExitCode.VERIFY
    assert json.loads(out)["checks"]["chain_agrees"]["status"] == "failed"


def test_user_errors_have_exit_codes(
    demo_dir: Path, scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = ["--rpc", scenario.chain.rpc_url, "--contract", scenario.client.address]
    code, _, err = _run(capsys, "round", "999", *src)
    assert code == ExitCode.CONFIG and "round 999 is not in the index" in err
    code, _, err = _run(
        capsys, "rounds", "--rpc", "http://127.0.0.1:9", "--contract", scenario.client.address
    )
    assert code == ExitCode.CHAIN and "no EVM JSON-RPC node answers" in err
    code, _, err = _run(capsys, "rounds")
    assert code == ExitCode.USAGE and "--rpc URL and --contract ADDRESS" in err
    code, _, err = _run(capsys, "rounds", "--rpc", scenario.chain.rpc_url, "--contract", "0x12")
    assert code == ExitCode.USAGE and "--contract" in err
    lonely = tmp_path / "chain-state.json"
    lonely.write_bytes((demo_dir / "chain-state.json").read_bytes())
    code, _, err = _run(capsys, "rounds", "--state", str(lonely))
    assert code == ExitCode.DATA and "deployment.json" in err
    code, _, err = _run(capsys, "rounds", "--db", str(tmp_path / "missing.sqlite"))
    assert code == ExitCode.DATA and "does not exist" in err
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"0x1234": "Hospital A"}))
    code, _, err = _run(capsys, "index", *src, "--labels", str(labels))
    assert code == ExitCode.DATA and "--labels: entry '0x1234'" in err
    account = scenario.orgs[0].address
    labels.write_text(json.dumps({account.lower(): "Hospital A"}))
    code, out, _ = _run(capsys, "index", *src, "--labels", str(labels), "--format", "json")
    assert code == ExitCode.OK and json.loads(out)["labels"] == {account: "Hospital A"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_serve_starts_with_one_command_and_stops_cleanly(
    demo_dir: Path, scenario: Scenario
) -> None:
    """`fedsettle audit serve --state ...`: the API answers; Ctrl-C stops it and its anvil."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from fl_node.cli import main; sys.exit(main())",
            "audit",
            "serve",
            "--state",
            str(demo_dir / "chain-state.json"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = ""
        while "dashboard http://" not in banner:
            line = proc.stderr.readline() if proc.stderr else ""
            assert line, f"serve exited early with {proc.poll()}: {banner}"
            banner += line
        assert "9 round(s) indexed" in banner
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        assert children, "serve should run its own anvil"
        rid = scenario.rounds["missing"]
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/rounds/{rid}/verify", timeout=10)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API did not come up"
                time.sleep(0.1)
        body = response.json()
        assert body["status"] == "verified" and body["budget_balance_wei"] == 0
        assert body["checks"]["chain_agrees"]["status"] == "passed"
        assert "fedsettle auditor" in httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        for pid in children:
            deadline = time.monotonic() + 10
            while _alive(int(pid)):
                assert time.monotonic() < deadline, f"anvil {pid} outlived serve"
                time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
