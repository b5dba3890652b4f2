"""Chain backends against real anvil processes, and the devnet controls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from settlement import (
    AnvilBackend,
    AnvilNotFound,
    ChainUnavailable,
    OrgSpec,
    RpcBackend,
    SettlementClient,
    TransactionFailed,
    chain_time,
    dev_account,
    dev_accounts,
    find_anvil,
    increase_time,
    revert,
    snapshot,
)

pytestmark = pytest.mark.chain


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        # a zombie still answers kill(0); it is dead for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def test_spawn_answers_rpc_and_close_kills() -> None:
    with AnvilBackend(chain_id=4242, accounts=3) as chain:
        pid = chain.pid
        assert chain.running and _alive(pid)
        assert chain.chain_id == 4242
        assert chain.rpc_url.startswith("http://127.0.0.1:")
        w3 = chain.web3()
        assert w3.eth.accounts == [a.address for a in dev_accounts(3)]
        assert "Listening on" in chain.log()
        rpc = RpcBackend(chain.rpc_url)
        assert rpc.check() == 4242
    assert not chain.running
    assert not _alive(pid)
    chain.close()  # idempotent
    with pytest.raises(ChainUnavailable, match="no EVM JSON-RPC node answers"):
        RpcBackend(chain.rpc_url, timeout=2)


def test_dump_and_load_state_restores_contract(tmp_path) -> None:
    state = tmp_path / "chain.json"
    a, b = dev_accounts(3)[1:]
    with AnvilBackend(dump_state=state) as chain:
        client = SettlementClient.deploy(chain, dev_account(0))
        config = client.round_config_from_reals(gamma=10**12, lambda_=1, d_min=0.5)
        opened = client.round_open(
            config, [OrgSpec(a.address, 10, 2), OrgSpec(b.address, 10, 2)], [[0, 0.4], [0.4, 0]]
        )
        client.deposit_submit(opened.round_id, 0, 12345 + client.required_bond(1, 0), sender=a)
        address, profile = client.address, client.profile_record(1, 0)
    assert state.stat().st_size > 0
    with AnvilBackend(load_state=state) as again:
        reopened = SettlementClient.at(again, address, account=dev_account(0))
        assert reopened.round_count() == 1
        assert reopened.round_config(1) == config
        assert reopened.profile_record(1, 0) == profile
        assert reopened.balance() == profile.deposited
        # and the chain keeps working: the second org can still join
        reopened.deposit_submit(1, 1, sender=b)
        assert reopened.round_state(1).joined_count == 2


def test_missing_binary_names_the_fix(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FEDSETTLE_ANVIL", str(tmp_path / "nope"))
    with pytest.raises(AnvilNotFound, match="FEDSETTLE_ANVIL"):
        find_anvil()
    not_executable = tmp_path / "anvil"
    not_executable.write_text("#!/bin/sh\n")
    with pytest.raises(AnvilNotFound, match="cannot run"):
        AnvilBackend(binary=not_executable)
    monkeypatch.delenv("FEDSETTLE_ANVIL")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("settlement._backends.anvil.__file__", str(tmp_path / "x" / "anvil.py"))
    with pytest.raises(AnvilNotFound, match="npm ci"):
        AnvilBackend()


def test_bad_startup_is_reported() -> None:
    with pytest.raises(ChainUnavailable, match="exited"):
        AnvilBackend(extra_args=["--no-such-flag"])
    with pytest.raises(ChainUnavailable, match="must start with http"):
        RpcBackend("127.0.0.1:8545")


def test_time_and_snapshots(anvil, client, chain_snapshot) -> None:
    w3 = anvil.web3()
    start = chain_time(w3)
    snap = snapshot(w3)
    assert increase_time(w3, 3600) >= start + 3600
    count = client.round_count()
    revert(w3, snap)
    assert chain_time(w3) < start + 3600
    assert client.round_count() == count
    with pytest.raises(ChainUnavailable, match="snapshot"):
        revert(w3, snap)  # ids are single-use
    with pytest.raises(ValueError, match="seconds"):
        increase_time(w3, -1)


def test_session_chain_enforces_mainnet_tx_gas_cap(anvil, client, operator) -> None:
    data = client.contract.encode_abi("roundCount", args=[])
    with pytest.raises(TransactionFailed, match="cap"):
        client._tx.send(operator, client.address, data, gas=16_777_217)
    assert client._tx.send(operator, client.address, data, gas=16_777_216).gas_used < 30_000


_CHILD = """
import time
from settlement import AnvilBackend
chain = AnvilBackend()
print(chain.pid, flush=True)
time.sleep(60)
"""


def test_anvil_stops_on_ctrl_c_in_the_owner() -> None:
    """Ctrl-C ends the owner through KeyboardInterrupt; the exit-time finalizer stops anvil."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    pid = int(proc.stdout.readline())
    assert _alive(pid)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    # an uncaught KeyboardInterrupt ends Python with SIGINT, like a Ctrl-C in a shell
    assert proc.returncode == -signal.SIGINT
    assert not _alive(pid)
