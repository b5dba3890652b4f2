"""Log queries start at the deployment block and page through bounded ranges with retries."""

from __future__ import annotations

from typing import Any

import pytest

from settlement import ChainUnavailable, LogPager, OrgSpec, SettlementClient, mine

pytestmark = pytest.mark.chain


def test_events_page_from_the_deploy_block(client: SettlementClient, org_accounts) -> None:
    config = client.round_config_from_reals(gamma=1, lambda_=1, d_min=1)
    orgs = [OrgSpec(a.address, 10, 1) for a in org_accounts[:2]]
    rid = client.round_open(config, orgs, [[0, 0.2], [0.2, 0]]).round_id
    mine(client.w3, 30)  # some empty blocks after the round
    pager = LogPager(client.w3, client.address, page=7)
    assert client.deploy_receipt is not None
    assert pager.deploy_block() == client.deploy_receipt.block_number  # found by bisection
    topic = "0x" + rid.to_bytes(32, "big").hex()
    logs = pager.fetch([None, topic])
    head = client.w3.eth.block_number
    pages = -(-(head - pager.deploy_block() + 1) // 7)
    assert pager.requests == pages
    names = [e.name for e in client._decode_logs(logs)]
    assert names[0] == "RoundOpened" and names.count("OrgRegistered") == 2
    assert [e.name for e in client.events(round_id=rid)] == names


class _Flaky:
    """A web3 stand-in whose get_logs refuses ranges above `limit` and fails `fail` times."""

    def __init__(self, limit: int, fail: int):
        self.limit, self.fail, self.calls = limit, fail, []
        self.eth = self

    def get_logs(self, query: dict[str, Any]) -> list[int]:
        self.calls.append((query["fromBlock"], query["toBlock"]))
        if query["toBlock"] - query["fromBlock"] + 1 > self.limit:
            raise ValueError("query returned more than 10000 results; block range too large")
        if self.fail:
            self.fail -= 1
            raise ConnectionError("temporarily unavailable")
        return list(range(query["fromBlock"], query["toBlock"] + 1))


def test_refused_ranges_split_and_errors_retry() -> None:
    flaky = _Flaky(limit=3, fail=1)
    pager = LogPager(flaky, "0x" + "11" * 20, deploy_block=0, page=10)  # type: ignore[arg-type]
    assert pager.fetch([None], 0, 9) == list(range(10))  # every block once, in order
    assert flaky.calls[0] == (0, 9) and pager.page <= 3  # refused once, then smaller pages
    assert pager.fetch([None], 10, 15) == list(range(10, 16))
    assert all(b - a + 1 <= 3 for a, b in flaky.calls[-2:])
    down = _Flaky(limit=100, fail=10)
    with pytest.raises(ChainUnavailable, match="failed 4 times"):
        LogPager(down, "0x" + "11" * 20, deploy_block=0).fetch([None], 0, 5)  # type: ignore[arg-type]
