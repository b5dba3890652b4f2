"""A real anvil stopped mid-use: transient failures are retried with backoff, then named."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from daemon_helpers import free_port_block

from settlement import AnvilBackend, ChainUnavailable, RpcBackend

pytestmark = pytest.mark.chain


def test_a_chain_back_within_the_retry_window_is_waited_for_then_a_dead_one_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port_block(1)
    url = f"http://127.0.0.1:{port}"
    chain = AnvilBackend(port=port)
    restarted: list[AnvilBackend] = []
    try:
        rpc = RpcBackend(url, retry_s=30.0)
        assert rpc.web3().eth.block_number == 0
        chain.close()  # the chain stops mid-use; a reader keeps asking from another thread
        answers: list[object] = []

        def read() -> None:
            try:
                answers.append(rpc.web3().eth.block_number)
            except Exception as exc:
                answers.append(exc)

        with caplog.at_level(logging.WARNING, logger="settlement.rpc"):
            reader = threading.Thread(target=read)
            reader.start()
            time.sleep(2.0)
            # back 2 s later on the same port (started here: anvil dies with its starting thread)
            restarted.append(AnvilBackend(port=port))
            reader.join(timeout=60)
        assert answers == [0]  # retried, not raised
        waits = [r.getMessage() for r in caplog.records if r.name == "settlement.rpc"]
        assert waits[0].startswith(
            f"waiting for the chain at {url} (eth_blockNumber: connection refused); retrying"
        )

        restarted[0].close()  # gone for good: a bounded wait, then a typed error
        quick = RpcBackend(url, retry_s=1.5, check=False)
        start = time.monotonic()
        with pytest.raises(ChainUnavailable) as info:
            quick.web3().eth.get_balance("0x" + "00" * 20)
        assert time.monotonic() - start < 10
        message = str(info.value)
        assert f"the chain at {url} did not answer eth_getBalance (connection refused; " in message
        assert "[chain].rpc_url" in message
    finally:
        chain.close()
        for backend in restarted:
            backend.close()
