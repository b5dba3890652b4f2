"""Contract-wide checks on a real anvil: solvency, code vs artifact, and which chain an index is of."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_scenario import Scenario
from eth_utils import keccak
from fastapi.testclient import TestClient
from web3 import HTTPProvider, Web3

from fl_node.cli import ExitCode, main
from settlement import (
    AnvilBackend,
    SettlementClient,
    dev_account,
    load_artifact,
    mine,
    revert,
    set_balance,
    snapshot,
)
from settlement.audit import (
    AuditService,
    ChainReader,
    Indexer,
    IndexMismatch,
    code_check,
    connect,
    create_app,
    dump,
    solvency,
)

pytestmark = pytest.mark.chain

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def forked(scenario: Scenario, tmp_path: Path) -> Iterator[AuditService]:
    """A private index of the scenario chain; the chain is reverted after the test."""
    w3 = scenario.chain.web3()
    snap = snapshot(w3)
    service = AuditService(tmp_path / "solvency.sqlite", w3=w3, contract=scenario.client.address)
    try:
        yield service
    finally:
        service.close()
        revert(w3, snap)


def test_forced_ether_and_a_shortfall_are_both_flagged(
    forked: AuditService, scenario: Scenario
) -> None:
    w3, client = scenario.chain.web3(), scenario.client
    forked.sync()
    with forked.reader() as conn:
        honest = solvency(conn, forked.chain)
    assert honest.check.status == "passed", honest.check.reason
    assert honest.contract_balance_wei == honest.liabilities_wei == client.liabilities()
    assert honest.index_liabilities_wei == client.liabilities() and honest.surplus_wei == 0

    # 0.777 ETH forced in by selfdestruct: no deposit, no event, liabilities() unchanged
    forced = 777 * 10**15
    feeder_art = load_artifact("ForceFeeder")
    sender = dev_account(5).address
    factory = w3.eth.contract(abi=feeder_art.abi, bytecode=feeder_art.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor().transact({"from": sender, "value": forced})
    )
    feeder = w3.eth.contract(address=receipt["contractAddress"], abi=feeder_art.abi)
    w3.eth.wait_for_transaction_receipt(
        feeder.functions.feed(client.address).transact({"from": sender})
    )
    assert client.balance() == client.liabilities() + forced
    forked.sync()
    with forked.reader() as conn:
        surplus = solvency(conn, forked.chain)
    assert surplus.check.status == "failed"
    assert surplus.surplus_wei == forced
    assert f"surplus of {forced} wei" in surplus.check.reason
    api = TestClient(create_app(forked))
    assert api.get("/deployment").json()["solvency"]["check"]["status"] == "failed"
    balances = api.get("/balances").json()
    assert balances["solvency"]["surplus_wei"] == forced
    assert balances["contract_balance_wei"] == client.liabilities() + forced

    # a shortfall (a contract that lost ether) is flagged too
    set_balance(w3, client.address, client.liabilities() - 1)
    mine(w3)
    forked.sync()
    with forked.reader() as conn:
        short = solvency(conn, forked.chain)
    assert short.check.status == "failed" and short.surplus_wei == -1
    assert "shortfall of 1 wei" in short.check.reason
    assert main(["audit", "deployment", "--db", str(forked.db_path)]) == 8  # no node: not checked


def test_tokens_sent_without_a_deposit_are_flagged_per_token(
    forked: AuditService, scenario: Scenario
) -> None:
    """Solvency covers every ERC-20 a round settles in, not only ether."""
    client, token = scenario.client, scenario.token
    forked.sync()
    with forked.reader() as conn:
        honest = solvency(conn, forked.chain)
    assert honest.check.status == "passed", honest.check.reason
    [entry] = honest.tokens
    assert entry.token == token.address and entry.check.status == "passed"
    owed = client.liabilities(token.address)
    assert entry.contract_balance == entry.liabilities == entry.index_liabilities == owed
    # a plain transfer: the contract holds 5 more units than any depositor can claim
    token.transfer(scenario.orgs[0], client.address, 5)
    mine(scenario.chain.web3())
    forked.sync()
    with forked.reader() as conn:
        surplus = solvency(conn, forked.chain)
    [entry] = surplus.tokens
    assert entry.check.status == "failed" and entry.surplus == 5
    assert surplus.check.status == "failed"
    assert f"surplus of 5 units of token {token.address}" in surplus.check.reason
    assert surplus.surplus_wei == 0  # ether itself is still exact
    api = TestClient(create_app(forked))
    body = api.get("/deployment").json()["solvency"]
    assert body["tokens"][0]["check"]["status"] == "failed"
    detail = api.get(f"/rounds/{scenario.rounds['token']}").json()
    assert detail["asset"] == {"token": token.address, "symbol": "tUSD", "decimals": 6}


def _compiled_immutables() -> dict[str, Any]:
    """``immutableReferences`` of FedSettle from the project's own solc-js (not the artifact)."""
    spec = importlib.util.spec_from_file_location("cc", ROOT / "scripts" / "compile_contracts.py")
    assert spec is not None and spec.loader is not None
    cc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cc)
    sources = {k: v for k, v in cc.source_files().items() if not k.startswith("contracts/test/")}
    std_in = cc.standard_input(sources)
    std_in["settings"]["outputSelection"] = {
        "contracts/FedSettle.sol": {"FedSettle": ["evm.deployedBytecode"]}
    }
    output, _ = cc.compile_solcjs(std_in)
    deployed = output["contracts"]["contracts/FedSettle.sol"]["FedSettle"]["evm"][
        "deployedBytecode"
    ]
    assert "0x" + deployed["object"] == load_artifact("FedSettle").meta["deployedBytecode"]
    return dict(deployed["immutableReferences"])


def test_deployed_code_is_matched_to_the_artifact(
    indexed: AuditService,
    scenario: Scenario,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chain = indexed.chain
    assert chain is not None
    shipped = load_artifact("FedSettle").meta["deployedBytecode"]
    refs = _compiled_immutables()
    # operator and the MarketEngine address: the compiler's references are the artifact's
    assert refs and refs == load_artifact("FedSettle").meta["immutableReferences"]

    def check(artifact: dict[str, Any], reader: ChainReader | None = chain) -> Any:
        path = tmp_path / "artifact.json"
        path.write_text(json.dumps(artifact))
        return code_check(reader, "latest", path)

    match, code_hash = check({"deployedBytecode": shipped, "immutableReferences": refs})
    assert match.status == "passed", match.reason
    masked = sum(len(v) for v in refs.values())
    assert f"{masked} immutable reference(s) masked" in match.reason
    assert code_hash == "0x" + keccak(scenario.chain.web3().eth.get_code(chain.address)).hex()
    # solc's own shape (references inside deployedBytecode) reads the same
    solc_shape = {"deployedBytecode": {"object": shipped[2:], "immutableReferences": refs}}
    assert check(solc_shape)[0].status == "passed"
    # without references the immutables are compared raw: a mismatch, and the reason says so
    raw = check({"deployedBytecode": shipped})[0]
    assert raw.status == "failed" and "records no immutableReferences" in raw.reason
    # one changed byte outside every immutable is a mismatch at that byte
    code = bytearray(bytes.fromhex(shipped[2:]))
    code[100] ^= 0xFF
    altered = check({"deployedBytecode": "0x" + code.hex(), "immutableReferences": refs})[0]
    assert altered.status == "failed" and "at byte 100" in altered.reason
    dead = ChainReader(Web3(HTTPProvider("http://127.0.0.1:9")), chain.address)
    down = check({"deployedBytecode": shipped, "immutableReferences": refs}, dead)[0]
    assert down.status == "not_checked" and "did not answer" in down.reason
    with indexed.reader() as conn:
        unreachable = solvency(conn, dead)
    assert unreachable.check.status == "not_checked" and unreachable.surplus_wei is None
    assert code_check(None, "latest")[0].status == "not_checked"
    # the CLI: exit 0 when code and solvency pass, 7 when the code does not match
    src = ["--rpc", scenario.chain.rpc_url, "--contract", chain.address, "--format", "json"]
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"deployedBytecode": shipped, "immutableReferences": refs}))
    bad.write_text(json.dumps({"deployedBytecode": shipped}))
    assert main(["audit", "deployment", *src, "--artifact", str(good)]) == ExitCode.OK
    out = json.loads(capsys.readouterr().out)
    assert out["deployment"]["code"]["status"] == out["solvency"]["check"]["status"] == "passed"
    assert main(["audit", "deployment", *src, "--artifact", str(bad)]) == ExitCode.VERIFY


def test_an_index_of_another_chain_is_refused(
    scenario: Scenario, db_copy: Path, indexed: AuditService, capsys: pytest.CaptureFixture[str]
) -> None:
    status = TestClient(create_app(indexed)).get("/status").json()
    w3 = scenario.chain.web3()
    assert status["genesis_hash"] == "0x" + bytes(w3.eth.get_block(0)["hash"]).hex()
    receipt = scenario.client.deploy_receipt
    assert receipt is not None and status["deployment_block"] == receipt.block_number
    before = _dump(db_copy)
    # a second devnet, same chain id, same deployer nonce: the same contract address
    with AnvilBackend(chain_id=scenario.client.chain_id) as other:
        twin = SettlementClient.deploy(other, dev_account(0))
        assert twin.address == scenario.client.address
        with pytest.raises(IndexMismatch, match="built from another chain") as err:
            Indexer(db_copy, other.web3(), twin.address)
        assert scenario.client.address in str(err.value) and "new --db" in str(err.value)
        src = ["--rpc", other.rpc_url, "--contract", twin.address, "--db", str(db_copy)]
        code = main(["audit", "rounds", *src])
        assert code == ExitCode.CONFIG
        assert "built from another chain" in capsys.readouterr().err
    # refused, not rolled back: the index is unchanged
    assert _dump(db_copy) == before


def _dump(path: Path) -> Any:
    conn = connect(path)
    try:
        return dump(conn)
    finally:
        conn.close()
