"""``coordinator check --live`` and ``coordinator status`` against real agents and a real anvil."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_helpers import FEDSETTLE, free_port_block

from fl_node.chain_steps import open_round
from fl_node.coordinator import (
    ConsortiumConfig,
    ScaffoldOptions,
    load_consortium_config,
    preflight,
    round_status,
    scaffold,
)
from fl_node.daemon import ActionLog, AgentHTTPServer, AgentService, CostSettings, StateDir
from settlement import AnvilBackend, SettlementClient, dev_account

pytestmark = pytest.mark.chain


@dataclasses.dataclass
class Consortium:
    path: Path
    config: ConsortiumConfig
    services: list[AgentService]


@pytest.fixture(scope="module")
def consortium(
    anvil: AnvilBackend, client: SettlementClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Consortium]:
    """The scaffold's consortium on the session chain (contract given), three live agents."""
    root = tmp_path_factory.mktemp("preflight")
    base = free_port_block(3)
    path = scaffold(root / "cfg", ScaffoldOptions(rpc_url=anvil.rpc_url, base_port=base))[0]
    text = path.read_text().replace("[chain]\n", f'[chain]\ncontract = "{client.address}"\n', 1)
    path.write_text(text)
    config = load_consortium_config(path)
    services, servers = [], []
    for silo in config.silos:
        service = AgentService(
            name=silo.name,
            address=silo.account,
            s=silo.s,
            cost=CostSettings(eta=1.0, T1=0.1, T3=0.1, F=(silo.F_max,)),
            contract=client.address,
            state=StateDir(root / silo.name),
            log=ActionLog(root / silo.name / "actions.jsonl", name=silo.name, stream=None),
        )
        service.reader = SettlementClient.at(anvil, client.address)
        services.append(service)
        servers.append(AgentHTTPServer(service, "127.0.0.1", base + silo.index).start())
    try:
        yield Consortium(path, config, services)
    finally:
        for server in servers:
            server.close()


def test_agreeing_daemons_pass_and_each_mismatch_names_its_field(
    consortium: Consortium, client: SettlementClient
) -> None:
    report = preflight(consortium.config)
    assert report.ok, report.problems
    assert report.chain_id == 31337
    assert (report.contract.address, report.contract.deployed) == (client.address, True)
    silo1, silo2, silo3 = consortium.services
    silo2.address = dev_account(9).address  # a daemon whose key is not in the consortium
    silo3.contract = "0x" + "42" * 20  # a daemon watching another contract
    try:
        with AnvilBackend(chain_id=4242) as other:
            reader = silo1.reader
            silo1.reader = other  # a daemon on another chain
            try:
                report = preflight(consortium.config)
            finally:
                silo1.reader = reader
        problems = {s.name: s.problems for s in report.silos}
        assert not report.ok
        (p1,) = problems["silo-1"]
        assert "is on chain id 4242, but [chain].rpc_url is chain id 31337" in p1
        (p2,) = problems["silo-2"]
        assert f"signs with {dev_account(9).address}, which is not this silo's account" in p2
        assert "its key is not in the consortium" in p2
        (p3,) = problems["silo-3"]
        assert f"watches contract 0x{'42' * 20}, but the consortium's contract is" in p3
        assert "fix [chain].contract in its node.toml" in p3

        cli = subprocess.run(
            [FEDSETTLE, "coordinator", "check", "--live", "--config", str(consortium.path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 3, cli.stderr
        assert "ok   silo-1" in cli.stdout and "FAIL silo-2" in cli.stdout
        assert p2 in cli.stderr and p3 in cli.stderr
    finally:
        silo2.address = consortium.config.silos[1].account
        silo3.contract = client.address


def test_an_unreachable_daemon_and_a_chain_that_is_down_are_named(
    consortium: Consortium, tmp_path: Path
) -> None:
    config = dataclasses.replace(
        consortium.config,
        silos=(
            dataclasses.replace(consortium.config.silos[0], endpoint="http://127.0.0.1:9"),
            *consortium.config.silos[1:],
        ),
    )
    report = preflight(config, timeout=2)
    assert [s.name for s in report.silos if not s.ok] == ["silo-1"]
    assert (
        report.silos[0]
        .problems[0]
        .startswith("[[silos]] silo-1: endpoint = http://127.0.0.1:9: silo silo-1: no answer from")
    )
    dead = tmp_path / "dead.toml"
    url = f"http://127.0.0.1:{free_port_block(1)}"
    dead.write_text(consortium.path.read_text().replace(config.rpc_url, url))
    for command in ("check --live", "status"):
        cli = subprocess.run(
            [FEDSETTLE, "coordinator", *command.split(), "--config", str(dead)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 4, cli.stderr
        assert f"no EVM JSON-RPC node answers at {url}" in cli.stderr
        assert "[chain].rpc_url" in cli.stderr and "Traceback" not in cli.stderr


def test_status_reads_the_round_from_the_state_dir_and_the_chain(
    consortium: Consortium, client: SettlementClient, tmp_path: Path
) -> None:
    config = dataclasses.replace(consortium.config, state_dir=tmp_path / "coordinator")
    assert round_status(config)["phase"] == "NO ROUND OPEN"
    c = config
    rid = open_round(
        client,
        c.terms,
        [s.s for s in c.silos],
        [s.F_max for s in c.silos],
        [s.account for s in c.silos],
        units=c.units,
        coordinator=dev_account(1).address,
    )
    # what the coordinator's state dir records once it opened the round
    (tmp_path / "coordinator").mkdir()
    (tmp_path / "coordinator" / "coordinator.json").write_text(
        json.dumps({"contract": client.address, "round_id": rid})
    )
    status = round_status(config)
    assert (status["round_id"], status["phase"]) == (rid, "DEPOSIT")
    assert [s["name"] for s in status["silos"]] == ["silo-1", "silo-2", "silo-3"]
    assert not any(s["joined"] for s in status["silos"])
    deadlines = status["deadlines"]
    assert 0 < deadlines["deposit"] < deadlines["report"]
