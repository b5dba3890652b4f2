"""``coordinator init``: edited configs are kept unless ``--force``; next steps; the daemons read
the contract the coordinator deployed from its deployment file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from fl_node.cli import main
from fl_node.coordinator import ScaffoldOptions, load_consortium_config, scaffold
from fl_node.daemon import NodeDaemon, load_node_config
from settlement import AnvilBackend, ChainUnavailable, SettlementClient


def test_init_keeps_edited_configs_unless_forced_and_prints_next_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "consortium"
    assert main(["coordinator", "init", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    steps = printed.split("next steps:\n", 1)[1]
    assert f"1. fedsettle devnet --port 8545 --state {out / 'chain-state.json'}" in steps
    assert f"fedsettle node run --config {out / 'node-3.toml'}" in steps
    assert f"fedsettle coordinator run --config {out / 'consortium.toml'} --devnet" in steps
    node = (out / "node-1.toml").read_text()
    assert 'deployment_file = "state/coordinator/deployment.json"' in node
    assert "poll_interval_s = 2.0" in node and "contract =" not in node
    assert main(["coordinator", "init", "--out", str(out)]) == 0  # unchanged files: a no-op
    edited = (out / "node-2.toml").read_text().replace("port = 8602", "port = 8700")
    (out / "node-2.toml").write_text(edited)
    capsys.readouterr()
    assert main(["coordinator", "init", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert f"{out / 'node-2.toml'} already exist(s) with other content" in err
    assert "pass --force to overwrite" in err
    assert (out / "node-2.toml").read_text() == edited
    assert main(["coordinator", "init", "--out", str(out), "--force"]) == 0
    assert "port = 8602" in (out / "node-2.toml").read_text()


def test_init_with_a_token_writes_it_into_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--token``: the consortium and every silo settle in that ERC-20, with ``--unit-wei``."""
    usd = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    out = tmp_path / "usd"
    args = ["coordinator", "init", "--out", str(out), "--silos", "2"]
    assert main([*args, "--token", usd.lower(), "--unit-wei", str(10**9)]) == 0
    consortium = load_consortium_config(out / "consortium.toml")
    assert consortium.token == usd and consortium.units.unit_wei == 10**9
    assert [load_node_config(out / f"node-{i}.toml").chain.token for i in (1, 2)] == [usd, usd]
    assert load_consortium_config(_plain(tmp_path, capsys)).token is None  # ETH by default
    capsys.readouterr()
    assert main([*args, "--force", "--token", "USDC"]) == 2
    assert "--token 'USDC': give the ERC-20 contract's address" in capsys.readouterr().err
    assert main([*args, "--force", "--unit-wei", "0"]) == 2
    assert "--unit-wei 0: give a positive integer" in capsys.readouterr().err


def _plain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["coordinator", "init", "--out", str(tmp_path / "eth"), "--silos", "2"]) == 0
    capsys.readouterr()
    return tmp_path / "eth" / "consortium.toml"


@pytest.mark.chain
def test_a_daemon_waits_for_the_coordinators_deployment_file_then_watches_that_contract(
    anvil: AnvilBackend, client: SettlementClient, tmp_path: Path
) -> None:
    paths = scaffold(
        tmp_path / "cfg", ScaffoldOptions(rpc_url=anvil.rpc_url, contract="deployment-file")
    )
    node = load_node_config(paths[1])
    assert node.chain.contract is None
    deployment = tmp_path / "cfg" / "state" / "coordinator" / "deployment.json"
    assert node.chain.deployment_file == deployment
    node = dataclasses.replace(node, state_dir=tmp_path / "silo-1")
    with pytest.raises(ChainUnavailable, match=r"the contract_address in .*deployment\.json"):
        NodeDaemon(node, log_stream=None).run(once=True)
    deployment.parent.mkdir(parents=True)
    # what the coordinator writes when it deploys
    deployment.write_text(json.dumps({"chain_id": 31337, "contract_address": client.address}))
    daemon = NodeDaemon(node, log_stream=None)
    daemon.run(once=True)
    assert json.loads((tmp_path / "silo-1" / "chain.json").read_text())["contract"] == (
        client.address
    )
    assert daemon.service.contract == client.address
    waiting = [e for e in daemon.log.entries() if e["event"] == "chain-unavailable"]
    assert "does not exist yet: the coordinator writes it when it deploys" in waiting[0]["error"]
