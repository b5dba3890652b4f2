"""The node daemon killed and restarted mid-round on a real anvil: one deposit, one payout.

``silo-1`` runs as a ``fedsettle node run`` process; the test plays the coordinator and the two
other silos. The daemon is SIGKILLed right after its deposit and again right after its report,
and restarted each time; a last ``--once`` pass must find nothing to do. A second round freezes
the chain's mining so the daemon's deposit is still in flight when it is killed: the restarted
daemon must wait for it instead of sending a second one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import DaemonProcess, actions, free_port_block, wait_for

from fl_node.agent import SiloAgent, Strategy
from fl_node.chain_steps import join, open_round, settle, submit_table, to_report
from fl_node.coordinator import (
    AgentClient,
    AgentUnavailable,
    ConsortiumConfig,
    HttpResponder,
    ScaffoldOptions,
    load_consortium_config,
    scaffold,
)
from fl_node.daemon import NodeConfig, load_node_config, terms_to_json, units_to_json
from fl_node.strategy_phase import Responder, run_strategy_phase
from settlement import AnvilBackend, Phase, SettlementClient, TokenClient, dev_account
from solver import Org

pytestmark = pytest.mark.chain


@dataclass
class World:
    chain: AnvilBackend
    client: SettlementClient
    consortium: ConsortiumConfig
    nodes: list[NodeConfig]
    node_paths: list[Path]
    logs: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("restart")
    with AnvilBackend(accounts=6) as chain:
        paths = scaffold(
            root / "cfg",
            ScaffoldOptions(rpc_url=chain.rpc_url, base_port=free_port_block(3), rounds=1),
        )
        consortium = load_consortium_config(paths[0])
        nodes = [load_node_config(p) for p in paths[1:]]
        client = SettlementClient.deploy(chain, dev_account(0))
        assert client.address == nodes[0].chain.contract  # the scaffold's predicted address
        yield World(chain, client, consortium, nodes, paths[1:], root / "logs")


def _open(world: World, others: tuple[int, ...] = (1, 2), token: str | None = None) -> int:
    c = world.consortium
    rid = open_round(
        world.client,
        c.terms,
        [s.s for s in c.silos],
        [s.F_max for s in c.silos],
        [s.account for s in c.silos],
        units=c.units,
        coordinator=dev_account(1).address,
        token=token,
    )
    for index in others:  # the silos the test plays join at once
        join(world.client, rid, index, dev_account(index + 2))
    return rid


def _agent(world: World, index: int) -> SiloAgent:
    silo, cost = world.consortium.silos[index], world.nodes[index].cost
    org = Org(silo.name, silo.s, silo.p, cost.F, cost.eta, cost.T1, cost.T3)
    return SiloAgent(org, world.consortium.terms)


def _events(world: World, name: str, rid: int, index: int = 0) -> list[Any]:
    return [e for e in world.client.events(name, round_id=rid) if int(e.args["index"]) == index]


def _http(world: World) -> AgentClient:
    http = AgentClient("silo-1", world.consortium.silos[0].endpoint, timeout=30)

    def ready() -> bool:
        try:
            return http.health()["chain"] is True
        except AgentUnavailable:
            return False

    wait_for(ready, 60, "the restarted daemon's agent")
    return http


def _push_terms(world: World, rid: int, http: AgentClient) -> None:
    """The terms silo-1 checks the round against before it deposits."""
    c, client = world.consortium, world.client
    http.push_terms(
        {
            "round_id": rid,
            "contract": client.address,
            "chain_id": client.chain_id,
            "terms": terms_to_json(c.terms),
            "units": units_to_json(c.units),
            "active": list(c.terms.names),
        }
    )


def _coordinate(
    world: World, rid: int, http: AgentClient, posted: tuple[int, int] | None = None
) -> None:
    """Run the strategy phase (silo-1 over HTTP), assign silo-1, submit the one report table
    (``posted``: the row a dishonest coordinator posts for silo-1 instead of its assignment)."""
    c, client, key = world.consortium, world.client, dev_account(1)
    responders: list[Responder] = [HttpResponder(http, rid), _agent(world, 1), _agent(world, 2)]
    start = [Strategy(s.name, c.terms.D_min, s.F_max, c.terms.D_min * s.s) for s in c.silos]
    phase = run_strategy_phase(responders, start)
    assert phase.converged and not phase.dropped
    rows = {}
    for silo, strategy in zip(c.silos, phase.strategies, strict=True):
        x, f = to_report(strategy, silo.s, client, rid, silo.index)
        rows[silo.index] = (x, f)
        if silo.index == 0:
            doc = {"round_id": rid, "index": 0, "d": strategy.d, "f": strategy.f,
                   "x": strategy.x, "x_onchain": x, "f_onchain": f}  # fmt: skip
            assert http.send_assignment(doc)["accepted"]
    if posted is not None:
        rows[0] = posted
    # the coordinator reports for every silo: a restarted daemon cannot miss its report
    assert submit_table(client, rid, rows, key) is not None


def test_restarts_never_deposit_twice_nor_lose_the_payout(world: World) -> None:
    client, state = world.client, world.nodes[0].state_dir
    silo1 = dev_account(2).address
    nonce_before = client.w3.eth.get_transaction_count(silo1)
    rid = _open(world)

    first = DaemonProcess(world.node_paths[0], world.logs, "--quiet")
    _push_terms(world, rid, _http(world))  # it deposits only after checking the round
    wait_for(lambda: client.profile_record(rid, 0).joined, 90, "the daemon's deposit")
    first.kill()  # mid-round: joined, nothing reported yet

    second = DaemonProcess(world.node_paths[0], world.logs, "--quiet")
    _coordinate(world, rid, _http(world))
    assert client.profile_record(rid, 0).reported  # by the coordinator's table
    second.kill()  # mid-round again: reported, not settled

    settle(client, rid)
    assert client.phase_of(rid) == Phase.SETTLED
    third = DaemonProcess(world.node_paths[0], world.logs, "--quiet")
    wait_for(lambda: client.profile_record(rid, 0).withdrawn, 90, "the daemon's withdrawal")
    wait_for(
        lambda: any(
            a["event"] == "round-finished" and a["round_id"] == rid for a in actions(state)
        ),
        30,
        "the round's record to close",
    )
    assert third.terminate() == 0  # SIGTERM: clean stop
    assert actions(state)[-1]["event"] == "stopped"

    once = DaemonProcess(world.node_paths[0], world.logs, "--once", "--quiet")
    assert once.proc.wait(timeout=120) == 0, once.output()

    profile = client.profile_record(rid, 0)
    deposits = _events(world, "DepositSubmitted", rid)
    payouts = _events(world, "PayoffTransferred", rid)
    assert len(deposits) == 1 and int(deposits[0].args["amount"]) == int(profile.bond)
    assert len(payouts) == 1
    assert int(payouts[0].args["amount"]) == int(profile.deposited) + int(profile.payoff)
    assert int(profile.payoff) != 0
    # deposit and withdraw: not one transaction more (not even a reverted one); no report
    assert client.w3.eth.get_transaction_count(silo1) - nonce_before == 2
    log = [a for a in actions(state) if a.get("round_id") == rid]
    for event in ("deposited", "table-checked", "withdrew", "round-finished"):
        assert [a["event"] for a in log].count(event) == 1, event
    assert "reported" not in [a["event"] for a in log]
    assert "table-disputed" not in [a["event"] for a in log]
    withdrew = next(a for a in log if a["event"] == "withdrew")
    assert withdrew["amount_wei"] == int(payouts[0].args["amount"])


def test_a_table_row_other_than_the_accepted_assignment_is_disputed(world: World) -> None:
    """The coordinator assigns silo-1 its equilibrium report, then posts a smaller one in its
    table: the silo's daemon names the difference once (money follows the chain; the line is
    the silo's evidence against the coordinator)."""
    client, state = world.client, world.nodes[0].state_dir
    rid = _open(world)
    daemon = DaemonProcess(world.node_paths[0], world.logs, "--quiet")
    http = _http(world)
    _push_terms(world, rid, http)
    wait_for(lambda: client.profile_record(rid, 0).joined, 90, "the daemon's deposit")
    seen = len(actions(state))
    # the slot's minimum admissible report: x = ceil(D_min xMax), f = 1
    x_max, d_min = client.profile_record(rid, 0).x_max, client.round_config(rid).d_min_wad
    low = (-(-d_min * x_max // 10**18), 1)
    _coordinate(world, rid, http, posted=low)
    wait_for(
        lambda: any(a["event"] == "table-disputed" for a in actions(state)[seen:]),
        60,
        "the daemon to dispute the posted row",
    )
    (line,) = [a for a in actions(state)[seen:] if a["event"] == "table-disputed"]
    accepted = next(a for a in actions(state) if a["event"] == "assignment-accepted"
                    and a["round_id"] == rid)  # fmt: skip
    assert line["round_id"] == rid and line["index"] == 0
    assert f"(x={low[0]}, f=1)" in line["problem"]
    assert f"(x={accepted['x_onchain']}, f={accepted['f_onchain']})" in line["problem"]
    settle(client, rid)
    wait_for(lambda: client.profile_record(rid, 0).withdrawn, 90, "the daemon's withdrawal")
    assert daemon.terminate() == 0
    lines = [a["event"] for a in actions(state)[seen:] if a.get("round_id") == rid]
    assert lines.count("table-disputed") == 1 and "table-checked" not in lines


def test_a_deposit_mined_before_its_log_line_is_logged_when_the_daemon_restarts(
    world: World,
) -> None:
    """Killed between its mined deposit and the ``deposited`` line (the first test's kill can
    land there), the daemon logs the deposit from the chain's event at its next pass, once."""
    client, state = world.client, world.nodes[0].state_dir
    rid = _open(world, others=(1,))  # slot 2 stays out: deposits stay open
    receipt = join(client, rid, 0, dev_account(2))  # the daemon's deposit, then it died
    assert receipt is not None
    seen = len(actions(state))
    for _ in range(2):  # the second pass finds the line marked: nothing more
        once = DaemonProcess(world.node_paths[0], world.logs, "--once", "--quiet")
        assert once.proc.wait(timeout=120) == 0, once.output()
    lines = [a for a in actions(state)[seen:] if a.get("round_id") == rid]
    deposited = [a for a in lines if a["event"] == "deposited"]
    assert len(deposited) == 1
    assert deposited[0]["recovered"] is True and deposited[0]["tx"] == receipt.tx_hash
    assert deposited[0]["amount_wei"] == int(client.profile_record(rid, 0).deposited) > 0
    client.round_abandon(rid)
    once = DaemonProcess(world.node_paths[0], world.logs, "--once", "--quiet")
    assert once.proc.wait(timeout=120) == 0, once.output()
    assert client.profile_record(rid, 0).withdrawn  # the refund, before the next test


def test_a_deposit_in_flight_at_the_kill_is_awaited_not_repeated(world: World) -> None:
    client, state, w3 = world.client, world.nodes[0].state_dir, world.client.w3
    silo1 = dev_account(2).address
    rid = _open(world, others=(1,))  # slot 2 stays out: deposits stay open
    nonce_before = w3.eth.get_transaction_count(silo1)
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        first = DaemonProcess(world.node_paths[0], world.logs, "--quiet")
        _push_terms(world, rid, _http(world))
        wait_for(
            lambda: w3.eth.get_transaction_count(silo1, "pending") > nonce_before,
            90,
            "the deposit to reach the mempool",
        )
        first.kill()  # the deposit is signed and sent, not mined
        seen = len(actions(state))
        second = DaemonProcess(world.node_paths[0], world.logs, "--quiet")
        wait_for(
            lambda: any(a["event"] == "waiting-in-flight" for a in actions(state)[seen:]),
            90,
            "the restarted daemon to notice the transaction in flight",
        )
        assert w3.eth.get_transaction_count(silo1, "pending") == nonce_before + 1
        assert not client.profile_record(rid, 0).joined
    finally:
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    assert client.profile_record(rid, 0).joined
    wait_for(
        lambda: any(a["event"] == "in-flight-mined" for a in actions(state)[seen:]),
        60,
        "the daemon to resume after the transaction was mined",
    )
    # the operator abandons the round while deposits are open (it may do so only then): the
    # daemon must pull its whole deposit back
    client.round_abandon(rid)
    wait_for(lambda: client.profile_record(rid, 0).withdrawn, 60, "the refund")
    assert second.terminate() == 0
    deposits = _events(world, "DepositSubmitted", rid)
    refunds = _events(world, "PayoffTransferred", rid)
    assert len(deposits) == 1 and len(refunds) == 1
    assert int(refunds[0].args["amount"]) == int(deposits[0].args["amount"])
    assert w3.eth.get_transaction_count(silo1) - nonce_before == 2  # one deposit, one refund


def test_a_round_in_an_asset_the_silo_did_not_accept_is_declined(world: World) -> None:
    """An operator cannot move a silo's bond into another asset: the daemon settles in ETH
    (no ``[chain].token``), the round names a token, and the silo declines without paying."""
    client, state = world.client, world.nodes[0].state_dir
    usd = TokenClient.deploy(world.chain, dev_account(0), nonces=client.nonces)
    for index in (0, 1, 2):
        usd.mint(dev_account(0), dev_account(index + 2).address, 10**30)
    rid = _open(world, others=(1,), token=str(usd.address))
    seen = len(actions(state))
    daemon = DaemonProcess(world.node_paths[0], world.logs, "--quiet")
    _push_terms(world, rid, _http(world))
    wait_for(
        lambda: any(a["event"] == "declined" for a in actions(state)[seen:]),
        90,
        "the daemon to decline the token round",
    )
    assert daemon.terminate() == 0
    declined = next(a for a in actions(state)[seen:] if a["event"] == "declined")
    assert declined["round_id"] == rid
    assert f"settles in token {str(usd.address).lower()}, this silo in ETH" in declined["reason"]
    assert "[chain].token" in declined["reason"]
    assert not client.profile_record(rid, 0).joined
    assert usd.allowance(dev_account(2).address, client.address) == 0  # nothing approved
    client.round_abandon(rid)
