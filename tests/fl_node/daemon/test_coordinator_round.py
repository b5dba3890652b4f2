"""The coordinator's steps on a real anvil: errors name the step and the field; a silo that never
joins does not lock the round (two daemons, run as threads, settle without it); in-process silos
(the demo's links) run the same round, and one that refuses the terms is left out."""

from __future__ import annotations

import dataclasses
import json
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import free_port_block, wait_for

from fl_node.coordinator import (
    AgentRejected,
    ConsortiumConfig,
    Coordinator,
    CoordinatorError,
    InProcessSilo,
    ScaffoldOptions,
    load_consortium_config,
    scaffold,
)
from fl_node.daemon import ConfigFileError, NodeDaemon, load_node_config
from fl_node.daemon._state import human_line
from fl_node.mechanisms import get_mechanism
from settlement import AnvilBackend, Phase, SettlementClient, dev_account, dev_accounts
from solver import Org

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def chain() -> Iterator[AnvilBackend]:
    # its own devnet: the round below warps chain time, which would expire other tests' rounds
    with AnvilBackend(accounts=8) as backend:
        yield backend


@pytest.fixture(scope="module")
def configs(chain: AnvilBackend, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return scaffold(
        tmp_path_factory.mktemp("coordinator") / "cfg",
        ScaffoldOptions(rpc_url=chain.rpc_url, base_port=free_port_block(3), rounds=1),
    )


def _config(configs: list[Path], tmp_path: Path, **changes: Any) -> ConsortiumConfig:
    config = load_consortium_config(configs[0])
    return dataclasses.replace(config, state_dir=tmp_path / "coordinator", **changes)


def test_a_contract_address_without_code_names_the_step_and_the_field(
    configs: list[Path], tmp_path: Path
) -> None:
    config = _config(configs, tmp_path, contract="0x" + "42" * 20)
    with pytest.raises(CoordinatorError) as info:
        Coordinator(config, log_stream=None).run()
    assert str(info.value).startswith("step contract: ")
    assert "[chain].contract: no contract code at 0x4242" in str(info.value)


def test_a_key_that_is_not_the_contracts_operator_is_named(
    chain: AnvilBackend, configs: list[Path], tmp_path: Path
) -> None:
    other = SettlementClient.deploy(chain, dev_account(7))
    config = _config(configs, tmp_path, contract=other.address)
    with pytest.raises(
        CoordinatorError, match=r"step contract: .*\[chain\.operator\]: the contract"
    ):
        Coordinator(config, log_stream=None).run()


def test_a_silo_that_never_joins_does_not_lock_the_round(
    chain: AnvilBackend, configs: list[Path], tmp_path: Path
) -> None:
    config = _config(
        configs, tmp_path, round=dataclasses.replace(load_consortium_config(configs[0]).round,
                                                     join_timeout_s=10.0, report_timeout_s=30.0)
    )  # fmt: skip
    daemons = []
    for path in configs[1:3]:  # silo-1 and silo-2 run; silo-3 never shows up
        node = load_node_config(path)
        node = dataclasses.replace(node, state_dir=tmp_path / node.name)
        daemons.append(NodeDaemon(node, log_stream=None))
    threads = [threading.Thread(target=d.run, daemon=True) for d in daemons]
    for thread in threads:
        thread.start()
    try:
        result = Coordinator(config, devnet=True, log_stream=None).run()
        client = SettlementClient.at(chain, result["contract"])
        rid = result["round_id"]
        wait_for(
            lambda: all(client.profile_record(rid, i).withdrawn for i in (0, 1)), 60, "payouts"
        )
    finally:
        for daemon in daemons:
            daemon.stop()
        for thread in threads:
            thread.join(timeout=60)
    assert result["status"] == "settled" and client.phase_of(rid) == Phase.SETTLED
    joined = [s["name"] for s in result["silos"] if s["joined"]]
    assert joined == ["silo-1", "silo-2"]
    assert [s["name"] for s in result["strategy_phase"]["strategies"]] == joined
    assert result["sum_R_wei"] == 0
    profiles = client.profiles(rid)
    assert int(profiles[2].deposited) == 0 and int(profiles[2].payoff) == 0
    assert int(profiles[0].payoff) == -int(profiles[1].payoff) != 0
    events = [e["event"] for e in daemons[0].log.entries()]
    assert "terms-accepted" in events and "withdrew" in events
    warps = [line for line in Coordinator(config, log_stream=None).log.entries()
             if line["event"] == "devnet-warp"]  # fmt: skip
    assert [w["past"] for w in warps] == ["deposits"]
    assert not any(t.is_alive() for t in threads)
    # while it waited, the coordinator said for what, every few seconds, before the warp
    log = Coordinator(config, log_stream=None).log.entries()
    waits = [e for e in log if e["event"] == "waiting-deposits" and e["round_id"] == rid]
    assert len(waits) >= 2  # join_timeout_s = 10 s, one line per PROGRESS_INTERVAL_S = 5 s
    # every line's count and names agree (they come from one read of the chain)
    assert all(w["need"] - w["have"] == len(w["missing"]) for w in waits)
    last = waits[-1]
    assert last["missing"] == ["silo-3"] and (last["have"], last["need"]) == (2, 3)
    assert last["message"].startswith("waiting for 1 of 3 deposits, deadline in ")
    assert 0 < last["deadline_in_s"] <= config.round.deposit_window_s
    assert human_line(last).split(" ", 3)[3].startswith("waiting for 1 of 3 deposits")
    first_warp = next(i for i, e in enumerate(log) if e["event"] == "devnet-warp")
    assert log.index(last) < first_warp


def test_a_daemon_refuses_a_state_dir_of_another_chain(
    chain: AnvilBackend, configs: list[Path], tmp_path: Path
) -> None:
    node = dataclasses.replace(load_node_config(configs[1]), state_dir=tmp_path / "silo-1")
    if not chain.web3().eth.get_code(node.chain.contract):  # type: ignore[arg-type]
        SettlementClient.deploy(chain, dev_account(0))  # lands where the config expects it
    NodeDaemon(node, log_stream=None).run(once=True)  # records this chain in chain.json
    record = json.loads((tmp_path / "silo-1" / "chain.json").read_text())
    assert record["contract"] == node.chain.contract and record["chain_id"] == 31337
    (tmp_path / "silo-1" / "chain.json").write_text(json.dumps({**record, "genesis": "0x00"}))
    with pytest.raises(ConfigFileError, match=r"node.toml: \[state\]\.dir = .* holds the records"):
        NodeDaemon(node, log_stream=None).run(once=True)


class _Refusing(InProcessSilo):
    def push_terms(self, document: dict[str, Any]) -> dict[str, Any]:
        raise AgentRejected(409, "these terms are not acceptable")


def _in_process_links(config: ConsortiumConfig, configs: list[Path]) -> dict[str, InProcessSilo]:
    keys = {a.address: a for a in dev_accounts(8)}
    mech = get_mechanism(config.mechanism)
    links: dict[str, InProcessSilo] = {}
    for silo, path in zip(config.silos, configs[1:], strict=True):
        cost = load_node_config(path).cost
        org = Org(name=silo.name, s=silo.s, p=silo.p, F=cost.F, eta=cost.eta, T1=cost.T1,
                  T3=cost.T3, e_comm=cost.e_comm)  # fmt: skip
        kind = _Refusing if silo.index == 2 else InProcessSilo
        links[silo.name] = kind(silo.name, silo.index, keys[silo.account], org, mech)
    return links


def test_in_process_silos_run_the_same_round_and_a_refusing_one_is_left_out(
    chain: AnvilBackend, configs: list[Path], tmp_path: Path
) -> None:
    # last in the module: the round warps chain time past its report deadline
    config = _config(configs, tmp_path, contract=None)
    links = _in_process_links(config, configs)
    with pytest.raises(ValueError, match=r"links: no link for silo\(s\) \['silo-3'\]"):
        Coordinator(config, links={k: v for k, v in links.items() if k != "silo-3"})
    events: list[str] = []
    result = Coordinator(
        config, devnet=True, log_stream=None, links=links, on_event=lambda e, d: events.append(e)
    ).run()
    assert result["status"] == "settled" and result["mechanism"] == "tradefl"
    assert [s["joined"] for s in result["silos"]] == [True, True, True]
    assert [s["reported"] for s in result["silos"]] == [True, True, False]
    assert result["silos"][2]["x"] is None  # it never played the strategy phase
    assert [s["name"] for s in result["strategy_phase"]["strategies"]] == ["silo-1", "silo-2"]
    assert result["sum_R_wei"] == 0
    assert "terms-refused" in events and events[-1] == "result-written"
    client = SettlementClient.at(chain, result["contract"])
    profiles = client.profiles(result["round_id"])
    assert all(p.withdrawn for p in profiles)
    assert [link.payout_wei for link in links.values()] == [
        int(p.deposited) + int(p.payoff) for p in profiles
    ]
    # the silos' own transactions: join and withdraw; the coordinator's one table reported
    # for the first two (the third is settled at its minimum report)
    assert [len(link.receipts) for link in links.values()] == [2, 2, 2]
    assert "table-submitted" in events


class _Absent(InProcessSilo):
    def round_opened(self, client: Any, round_id: int) -> None:
        """Never deposits."""


def _one_joins(
    configs: list[Path], tmp_path: Path
) -> tuple[ConsortiumConfig, dict[str, InProcessSilo]]:
    """A round only silo-1 joins (the others never deposit), with a short join wait."""
    base = load_consortium_config(configs[0])
    config = _config(
        configs, tmp_path, contract=None,
        round=dataclasses.replace(base.round, join_timeout_s=0.5, poll_interval_s=0.1),
    )  # fmt: skip
    links = {
        name: link if link.index == 0 else _Absent(name, link.index, link.account, None, link.mechanism)
        for name, link in _in_process_links(config, configs).items()
    }  # fmt: skip
    return config, links


def test_an_abandoned_round_gives_the_in_process_silo_that_joined_its_deposit_back(
    chain: AnvilBackend, configs: list[Path], tmp_path: Path
) -> None:
    config, links = _one_joins(configs, tmp_path)
    result = Coordinator(config, devnet=True, log_stream=None, links=links).run()
    assert result["status"] == "abandoned: fewer than two silos joined"
    client = SettlementClient.at(chain, result["contract"])
    assert client.phase_of(result["round_id"]) == Phase.ABANDONED
    first = client.profile_record(result["round_id"], 0)
    assert first.withdrawn and links["silo-1"].payout_wei == int(first.deposited) > 0
    assert links["silo-2"].payout_wei == links["silo-3"].payout_wei == 0


def test_the_deposit_wait_polls_fast_only_in_its_first_seconds(
    configs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Daemons deposit within a second of the terms push: the coordinator looks every
    FAST_POLL_S then, and at ``[round].poll_interval_s`` after its fast window (and in every
    other wait)."""
    import time as real_time

    from fl_node.coordinator import _round

    config = _config(configs, tmp_path)
    config = dataclasses.replace(
        config, round=dataclasses.replace(config.round, poll_interval_s=2.0)
    )
    coordinator = Coordinator(config, log_stream=None)
    slept: list[float] = []
    monkeypatch.setattr(_round.time, "sleep", slept.append)
    now = real_time.monotonic()
    coordinator._sleep(now + 5.0)
    coordinator._sleep(now - 1.0)
    coordinator._sleep()
    assert slept == [_round.FAST_POLL_S, 2.0, 2.0]
    assert _round.FAST_POLL_S < 2.0


class _RecordingRuntime:
    """The deployment runtime's seam of the coordinator (begin, train, abort), recording each
    call; it trains for real with the embedded trainer. The real Flower side of a plan that
    comes after the submission is in tests/e2e/test_deployment_engine.py."""

    def __init__(self, config: ConsortiumConfig, calls: list[str]) -> None:
        self.config, self.calls = config, calls

    def begin_training(self, silos: int) -> Any:
        self.calls.append(f"begin {silos}")
        return types.SimpleNamespace(planned=False)

    def abort_training(self, pending: Any, reason: str) -> None:
        pending.planned = True
        self.calls.append(f"abort: {reason}")

    def train(self, plan: Any, pending: Any) -> Any:
        from fl_node.coordinator._training import train_embedded

        self.calls.append(f"train {sorted(plan)} in the begun run: {pending is not None}")
        pending.planned = True
        return train_embedded(self.config, plan, lambda *a, **k: None)

    def stop(self) -> None:
        self.calls.append("stop")


class _RecordingCoordinator(Coordinator):
    """The coordinator with :class:`_RecordingRuntime` as its deployment runtime."""

    calls: list[str]

    def _start_runtime(self) -> Any:
        return _RecordingRuntime(self.config, self.calls)


def _run_with_runtime(
    config: ConsortiumConfig, calls: list[str], rounds: int = 1, **options: Any
) -> dict[str, Any]:
    coordinator = _RecordingCoordinator(
        dataclasses.replace(config, mode="deployment"), log_stream=None, **options
    )
    coordinator.calls = calls
    try:
        return coordinator.run(rounds=rounds)
    finally:
        steps = [e["step"] for e in coordinator.log.entries() if e.get("event") == "step"]
        calls.append("steps " + " ".join(steps))


def test_the_flower_run_is_submitted_before_the_contract_and_trains_the_strategy_phases_plan(
    configs: list[Path], tmp_path: Path
) -> None:
    config = _config(configs, tmp_path, contract=None)
    links = {
        name: link if link.index != 2 else InProcessSilo(
            name, link.index, link.account, link.private, link.mechanism
        )
        for name, link in _in_process_links(config, configs).items()
    }  # fmt: skip
    calls: list[str] = []
    result = _run_with_runtime(config, calls, devnet=True, links=links)
    assert result["status"] == "settled"
    assert calls[:3] == [
        "begin 3",
        "train ['silo-1', 'silo-2', 'silo-3'] in the begun run: True",
        "stop",
    ]
    assert calls[3].startswith(
        "steps connect superlink submit contract open deposits strategy training assign"
    )


def test_rounds_back_to_back_each_submit_first_and_settle_on_their_own(
    chain: AnvilBackend, configs: list[Path], tmp_path: Path
) -> None:
    config = _config(configs, tmp_path, contract=None, result_path=tmp_path / "out.json")
    links = _in_process_links(config, configs)
    links["silo-3"] = InProcessSilo("silo-3", 2, links["silo-3"].account,
                                    links["silo-3"].private, links["silo-3"].mechanism)  # fmt: skip
    calls: list[str] = []
    result = _run_with_runtime(config, calls, rounds=2, devnet=True, links=links)
    first, second = (json.loads((tmp_path / "coordinator" / f"result-round-{r}.json").read_text())
                     for r in (result["round_id"] - 1, result["round_id"]))  # fmt: skip
    assert json.loads((tmp_path / "out.json").read_text()) == second == result
    assert first["status"] == second["status"] == "settled"
    assert first["contract"] == second["contract"]
    trained = "train ['silo-1', 'silo-2', 'silo-3'] in the begun run: True"
    assert calls[:5] == ["begin 3", trained, "begin 3", trained, "stop"]
    # connect and the runtime once; the second round starts with its submission, before
    # anything of it happens on chain, and reuses the contract the first one deployed
    round_steps = "submit contract open deposits strategy training assign reports settle"
    assert calls[5] == f"steps connect superlink {round_steps} {round_steps}"
    assert {"connect", "superlink"} <= set(first["timings_s"])
    assert not {"connect", "superlink"} & set(second["timings_s"])
    client = SettlementClient.at(chain, result["contract"])
    for doc in (first, second):
        assert client.phase_of(doc["round_id"]) == Phase.SETTLED
        assert doc["sum_R_wei"] == 0
        assert all(p.withdrawn for p in client.profiles(doc["round_id"]))
    # each silo joined and withdrew in both rounds (the table reported for it), and its last
    # payout is the second round's deposit + R
    for link in links.values():
        assert len(link.receipts) == 4
        profile = client.profile_record(second["round_id"], link.index)
        assert link.payout_wei == int(profile.deposited) + int(profile.payoff)


def test_an_abandoned_round_withdraws_the_plan_of_the_run_it_submitted(
    configs: list[Path], tmp_path: Path
) -> None:
    config, links = _one_joins(configs, tmp_path)
    calls: list[str] = []
    result = _run_with_runtime(config, calls, rounds=3, devnet=True, links=links)
    assert result["status"] == "abandoned: fewer than two silos joined"
    # the run stops after the round that did not settle: no second round is begun
    assert calls[:3] == ["begin 3", "abort: fewer than two silos joined", "stop"]


def test_a_failing_step_withdraws_the_plan_with_the_error(
    configs: list[Path], tmp_path: Path
) -> None:
    config = _config(configs, tmp_path, contract="0x" + "42" * 20)  # no code there
    calls: list[str] = []
    with pytest.raises(CoordinatorError, match="contract"):
        _run_with_runtime(config, calls)
    assert calls[0] == "begin 3"
    assert calls[1].startswith("abort: the coordinator stopped: CoordinatorError(")
    assert calls[2] == "stop"
