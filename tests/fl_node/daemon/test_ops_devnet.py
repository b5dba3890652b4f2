"""``fedsettle devnet``: the chain survives a SIGKILL through its state file; the gas cap is on."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from daemon_helpers import FEDSETTLE, free_port_block, wait_for
from web3 import Web3

from settlement import RpcBackend, SettlementClient, dev_account

pytestmark = pytest.mark.chain


def _devnet(port: int, state: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [FEDSETTLE, "devnet", "--port", str(port), "--state", str(state),
             "--state-interval", "1"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _answers(url: str) -> bool:
    try:
        return RpcBackend(url, retry_s=0).check() == 31337
    except Exception:
        return False


def _dumped(state: Path, address: str) -> bool:
    return state.is_file() and address.lower() in state.read_text().lower()


def test_a_sigkilled_devnet_restarts_from_its_state_file_with_the_contract(tmp_path: Path) -> None:
    port = free_port_block(1)
    url = f"http://127.0.0.1:{port}"
    state, log = tmp_path / "chain" / "state.json", tmp_path / "devnet.log"
    first = _devnet(port, state, log)
    try:
        wait_for(lambda: _answers(url), 60, "the devnet", 0.2)
        backend = RpcBackend(url)
        address = SettlementClient.deploy(backend, dev_account(0)).address
        code = backend.web3().eth.get_code(address)
        w3 = backend.web3()
        with pytest.raises(Exception, match="tx_gas_limit_cap"):  # above the per-tx cap 2**24
            w3.eth.send_transaction(
                {"from": w3.eth.accounts[0], "to": w3.eth.accounts[1], "value": 1,
                 "gas": 2**24 + 1}
            )  # fmt: skip
        block = w3.eth.block_number
        # the state file is written every second: wait for one written after the deployment
        wait_for(lambda: _dumped(state, address), 20, "a state dump holding the contract", 0.2)
        first.send_signal(signal.SIGKILL)  # no exit handler runs
        first.wait(timeout=10)
        # the devnet process *is* anvil (no npm wrapper with a child that would outlive it)
        wait_for(lambda: not _answers(url), 10, "the killed chain to stop answering", 0.2)
    finally:
        first.kill()
    assert f"kept in {state} (saved every 1 s and on exit)" in log.read_text()
    second = _devnet(port, state, log)
    try:
        wait_for(lambda: _answers(url), 60, "the restarted devnet", 0.2)
        w3 = Web3(Web3.HTTPProvider(url))
        assert w3.eth.get_code(address) == code
        assert w3.eth.block_number >= block
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)


def test_a_taken_port_is_refused_before_anvil_starts(tmp_path: Path) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [FEDSETTLE, "devnet", "--port", str(port)], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 4
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "pass another --port" in done.stderr
