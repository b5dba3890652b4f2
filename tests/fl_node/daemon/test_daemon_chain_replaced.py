"""A chain replaced under a running daemon (a devnet restarted without its state, on the same
URL, whose first deployment lands at the same contract address and whose round ids start at 1
again): the daemon stops with the reason instead of acting on the old chain's records."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from daemon_helpers import free_port_block

from fl_node.coordinator import ScaffoldOptions, scaffold
from fl_node.daemon import ConfigFileError, NodeDaemon, load_node_config
from settlement import AnvilBackend, SettlementClient, dev_account

pytestmark = pytest.mark.chain


def test_a_replaced_chain_stops_the_daemon_and_keeps_its_records(tmp_path: Path) -> None:
    port = free_port_block(1)
    url = f"http://127.0.0.1:{port}"
    configs = scaffold(tmp_path / "cfg", ScaffoldOptions(rpc_url=url, base_port=free_port_block(3)))
    node = load_node_config(configs[1])
    node = dataclasses.replace(node, state_dir=tmp_path / "silo-1")
    daemon = NodeDaemon(node, log_stream=None)
    with AnvilBackend(port=port) as first:
        address = SettlementClient.deploy(first, dev_account(0)).address
        daemon.tick()
        assert daemon.client is not None and daemon.client.address == address
        recorded = (tmp_path / "silo-1" / "chain.json").read_text()
        daemon.tick()  # the same chain: nothing to say
        genesis = first.web3().eth.get_block(0)["hash"]
    time.sleep(1.1)  # anvil's genesis block hashes its start time in whole seconds
    with AnvilBackend(port=port) as second:  # the same URL, a new genesis, the same address
        assert second.web3().eth.get_block(0)["hash"] != genesis
        assert SettlementClient.deploy(second, dev_account(0)).address == address
        with pytest.raises(ConfigFileError) as info:
            daemon.tick()
    message = str(info.value)
    assert message.startswith(f"[chain].rpc_url = {url!r}: the chain was replaced while the daemon")
    assert "start the daemon with a fresh [state].dir for the new chain" in message
    assert (tmp_path / "silo-1" / "chain.json").read_text() == recorded  # the records are kept
    events = [e["event"] for e in daemon.log.entries()]
    assert events.count("chain-replaced") == 1 and "error" not in events
