"""``Coordinator``: one settlement round driven from ``consortium.toml``, for every mechanism.

The one round orchestration of fedsettle: ``fedsettle coordinator run`` drives silo daemons over
HTTP (:class:`~fl_node.coordinator.AgentClient`), ``fedsettle demo`` drives in-process silos
(:class:`~fl_node.coordinator.InProcessSilo`) on a spawned anvil; both are
:class:`~fl_node.coordinator.SiloLink` s. What differs per mechanism (terms, strategy phase,
training plan, on-chain report, result rows) comes from the round's
:class:`~fl_node.mechanisms.Mechanism` (``[coordinator].mechanism``).

Steps (each named in errors and in the action log ``<state_dir>/actions.jsonl``):

``connect``   reach the chain, load the operator and coordinator keys;
``submit``    (deployment runtime, mechanisms with a strategy phase, nothing trained to
              resume) submit the Flower run now: its ServerApp starts and identifies the silos
              while the round opens and they deposit, then waits for the plan (``training``
              writes it; an abandoned round, or any failure, withdraws it);
``contract``  attach to ``[chain].contract``, or to the contract this coordinator deployed
              before (``<state_dir>/deployment.json``), or deploy one;
``open``      open a round with the consortium's silos and public terms (the contract computes
              ``paramsDigest`` from the round's numbers), or resume the unfinished round of a
              previous run;
``deposits``  push the terms to every silo (each checks every on-chain parameter and its lock
              limit before it deposits) and tell every silo link the round opened; wait until
              every silo joined or the deposit deadline passed (``--devnet``: warp chain time
              past it after ``join_timeout_s``); with fewer than two joined, abandon the round;
``strategy``  push the terms to the joined silos' agents (``POST /terms``) and run the
              mechanism's strategy phase (``POST /best-response``); silos that do not answer
              are dropped and the phase reruns without them;
``training``  FL rounds with the mechanism's training plan (TradeFL: d, f and x-weighted
              FedAvg) on the embedded or the deployment runtime;
``assign``    send every silo that completed training its strategy and on-chain report
              (``POST /assignment``); with a coordinator key the coordinator then submits the
              whole report table in one transaction (one valid report per slot); without one,
              each silo self-reports its assignment;
``reports``   wait until reports closed (the table closes them at once) or the report deadline
              passed (``--devnet``: warp); a silo without a report is settled at its minimum;
``settle``    ``payoffCalculate`` until settled; write the result JSON.

A mechanism without a strategy phase (:func:`fl_node.mechanisms.session_of`: the market)
replaces ``strategy``, ``training`` and ``assign`` with ``session`` (the mechanism's FL session
on the joined silos, after the terms push) and ``table`` (the coordinator submits the
mechanism's table); every other step is the same.

After ``settle`` (or ``abandon``) every silo link is told the round closed.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fl_node.coordinator._agents import (
    AgentClient,
    AgentRejected,
    AgentUnavailable,
    HttpResponder,
    SiloLink,
)
from fl_node.coordinator._config import ConsortiumConfig, SiloEntry
from fl_node.coordinator._result import round_result
from fl_node.coordinator._training import TrainingOutcome
from fl_node.daemon import ActionLog, StateDir
from fl_node.mechanisms import SessionMechanism, SessionOutcome, get_mechanism, session_of

if TYPE_CHECKING:
    from fl_node.coordinator._deployment import PendingRun

__all__ = ["Coordinator", "CoordinatorError"]


#: seconds between two "waiting for N of M ..." lines of one wait
PROGRESS_INTERVAL_S = 5.0
#: the first seconds of the deposit wait poll every FAST_POLL_S (not [round].poll_interval_s):
#: daemons deposit within a second of the terms push, and each later look costs one chain read
FAST_WINDOW_S = 10.0
FAST_POLL_S = 0.1


def _duration(seconds: float) -> str:
    """``42 s``, ``9 min 5 s``, ``2 h 3 min``."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


class CoordinatorError(RuntimeError):
    """A step of the round failed; the message starts with ``step <name>:``."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"step {step}: {message}")
        self.step = step


class Coordinator:
    """Runs one round (see the module docstring).

    Parameters
    ----------
    config : ConsortiumConfig
    devnet : bool
        Allow warping an anvil chain's time past deadlines instead of waiting for them.
    log_stream : file or "stderr" or None
        Where actions are echoed besides ``actions.jsonl``.
    links : mapping of silo name to SiloLink, optional
        How each silo is reached; default an :class:`AgentClient` to its ``endpoint``.
    on_event : callable, optional
        ``on_event(event, data)`` after every logged action (progress display).
    """

    def __init__(
        self,
        config: ConsortiumConfig,
        *,
        devnet: bool = False,
        log_stream: Any = "stderr",
        links: Mapping[str, SiloLink] | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        import sys

        self.config = config
        self.devnet = devnet
        self.state = StateDir(config.state_dir)
        self.log = ActionLog(
            self.state.path / "actions.jsonl",
            name="coordinator",
            stream=sys.stderr if log_stream == "stderr" else log_stream,
        )
        self.mechanism = get_mechanism(config.mechanism)
        self.agents: dict[str, SiloLink] = (
            dict(links)
            if links is not None
            else {
                s.name: AgentClient(
                    s.name, s.endpoint, config.round.http_timeout_s, mechanism=self.mechanism
                )
                for s in config.silos
            }
        )
        missing = [s.name for s in config.silos if s.name not in self.agents]
        if missing:
            raise ValueError(f"links: no link for silo(s) {missing}; give one per [[silos]] entry")
        self.on_event = on_event
        self._reset_round()
        self.client: Any = None
        self.backend: Any = None
        self.operator: Any = None
        self.coordinator_key: Any = None
        self.deployment: Any = None

    # ----------------------------------------------------------------- helpers
    _next_progress = 0.0

    def _note(self, event: str, **data: Any) -> None:
        self.log(event, **data)
        if self.on_event is not None:
            self.on_event(event, data)

    def _load_state(self) -> dict[str, Any]:
        path = self.state.path / "coordinator.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def _save_state(self, **changes: Any) -> None:
        self.state.write("coordinator.json", {**self._load_state(), **changes})

    @contextlib.contextmanager
    def _step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        self._note("step", step=name)
        try:
            yield
        except CoordinatorError:
            raise
        except Exception as exc:
            self._note("step-failed", step=name, error=str(exc))
            raise CoordinatorError(name, f"{type(exc).__name__}: {exc}") from exc
        self.timings[name] = round(time.perf_counter() - start, 3)

    def _sleep(self, fast_until: float | None = None) -> None:
        poll = self.config.round.poll_interval_s
        if fast_until is not None and time.monotonic() < fast_until:
            poll = min(poll, FAST_POLL_S)
        time.sleep(poll)

    # ----------------------------------------------------------------- the run
    def run(
        self, rounds: int = 1, on_result: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """Run ``rounds`` settlement rounds back to back; return the last result document.

        The chain connection, the contract, the SuperLink (deployment runtime) and this
        process's imports are paid once: a round after the first starts with its ``submit``
        step. Every round writes its result (see :meth:`_result`) and is passed to
        ``on_result``; the run stops after a round that did not settle (abandoned), whose
        result is returned.
        """
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"rounds: {rounds!r} is not a whole number of rounds >= 1")
        with self._step("connect"):
            self._connect()
        self.deployment = None
        if self.config.mode == "deployment":
            with self._step("superlink"):
                self.deployment = self._start_runtime()
        try:
            for k in range(rounds):
                if k:
                    self._reset_round()
                result = self._run()
                if on_result is not None:
                    on_result(result)
                if result["status"] != "settled":
                    break
            return result
        finally:
            if self.deployment is not None:
                self.deployment.stop()

    def _start_runtime(self) -> Any:
        """The deployment runtime (SuperLink started, keys registered), stopped by :meth:`run`."""
        from fl_node.coordinator._deployment import FlowerDeployment

        deployment = FlowerDeployment(
            self.config, self.state.path / "flower", lambda e, **d: self._note(e, **d)
        )
        deployment.start()
        return deployment

    def _reset_round(self) -> None:
        """Start a round's outcome afresh: each round is timed and reported alone."""
        #: receipts of the coordinator's own transactions (deploy, settle) in this round
        self.receipts: list[Any] = []
        #: the round's strategies by silo name, once the strategy phase ran (or was resumed)
        self.strategies: dict[str, Any] = {}
        #: the session of a mechanism without a strategy phase, once it ran
        self.session: SessionOutcome | None = None
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()

    def _run(self) -> dict[str, Any]:
        session = session_of(self.mechanism)
        pending = None
        if not self._load_state().get("training"):
            # nothing trained to resume: the Flower run starts now and identifies the silos
            # while the contract is deployed, the round opens and the silos deposit
            pending = self._begin_training(session)
        try:
            with self._step("contract"):
                self._attach_or_deploy()
            with self._step("open"):
                rid = self._open_or_resume()
            saved = self._load_state()
            resumed = saved.get("round_id") == rid and bool(saved.get("training"))
            # saved training of a round that closed without clearing it (its process died
            # after the result) or that is not this one: this round starts its run now
            if pending is None and not resumed:
                pending = self._begin_training(session)
            result = self._run_round(rid, session, saved if resumed else None, pending)
        except BaseException as exc:
            if pending is not None and not pending.planned:
                self.deployment.abort_training(pending, f"the coordinator stopped: {exc!r}")
            raise
        # the round is closed and its result written: nothing of it is left to resume, so the
        # next round (in this process or the next) submits its Flower run first
        self._save_state(training=None, strategies=None, strategy_phase=None)
        return result

    def _begin_training(self, session: SessionMechanism[Any] | None) -> PendingRun | None:
        """Submit the training run before its plan (deployment runtime, strategy phase)."""
        if self.deployment is None or session is not None:
            return None
        with self._step("submit"):
            return self.deployment.begin_training(len(self.config.silos))

    def _run_round(
        self,
        rid: int,
        session: SessionMechanism[Any] | None,
        saved: dict[str, Any] | None,
        pending: PendingRun | None,
    ) -> dict[str, Any]:
        with self._step("deposits"):
            for link in self.agents.values():
                link.round_opened(self.client, rid)
            joined = self._wait_deposits(rid)
        if len(joined) < 2:
            with self._step("abandon"):
                from settlement import Phase

                if pending is not None:
                    self.deployment.abort_training(pending, "fewer than two silos joined")
                if self.client.phase_of(rid) not in (Phase.SETTLED, Phase.ABANDONED):
                    self.client.round_abandon(rid)
                self._note("round-abandoned", round_id=rid, joined=[s.name for s in joined])
                self._close_links(rid)
            return self._result(rid, "abandoned: fewer than two silos joined", {}, None, None)
        if session is not None:
            return self._run_session(session, rid, joined)
        mech = self.mechanism
        if saved is not None:
            training = TrainingOutcome.from_dict(saved["training"])
            strategies = {n: mech.strategy_from_json(s) for n, s in saved["strategies"].items()}
            phase_doc = saved.get("strategy_phase")
            self._note("training-resumed", round_id=rid, completed=training.completed)
        else:
            with self._step("strategy"):
                strategies, phase_doc = self._strategy_phase(rid, joined)
            self._save_state(
                strategies={n: mech.strategy_to_json(s) for n, s in strategies.items()},
                strategy_phase=phase_doc,
            )
            with self._step("training"):
                training = self._train(strategies, pending)
            self._save_state(training=training.to_dict())
        self.strategies = strategies
        with self._step("assign"):
            assigned = self._assign(rid, strategies, training)
        with self._step("reports"):
            self._wait_reports(rid, assigned)
        with self._step("settle"):
            self._settle(rid)
        return self._result(rid, "settled", strategies, phase_doc, training)

    def _run_session(
        self, session: SessionMechanism[Any], rid: int, joined: list[SiloEntry]
    ) -> dict[str, Any]:
        """The steps of a mechanism without a strategy phase, from the terms push to settle.

        Resumed once reports closed (the table is on chain, or the report deadline passed),
        nothing is trained or posted again: the saved session's training and strategies go into
        the result, and the round is settled.
        """
        from settlement import Phase

        mech = self.mechanism
        saved = self._load_state()
        if saved.get("round_id") != rid:
            saved = {}
        if self.client.phase_of(rid) >= Phase.CALCULATE:
            training = (
                None if not saved.get("training") else TrainingOutcome.from_dict(saved["training"])
            )
            strategies = {
                n: mech.strategy_from_json(st) for n, st in (saved.get("strategies") or {}).items()
            }
            self._note("session-resumed", round_id=rid, phase=self.client.phase_of(rid).name)
            self.strategies = strategies
            return self._finish_session(rid, joined, strategies, training)
        with self._step("session"):
            active = self._push_terms(rid, joined)
            outcome = session.run_session(
                self.config, active, runtime=self.deployment, note=self._note
            )
            training = outcome.training
            self._note(
                "training-done",
                completed=training.completed,
                dropped=training.dropped,
                accuracy=training.accuracy[-1] if training.accuracy else None,
            )
        self.session, self.strategies = outcome, outcome.strategies
        # before the table: a coordinator killed after posting it resumes from these
        self._save_state(
            training=training.to_dict(),
            strategies={n: mech.strategy_to_json(st) for n, st in outcome.strategies.items()},
        )
        with self._step("table"):
            if self.coordinator_key is None:
                raise ValueError(
                    f"[coordinator].key: mechanism {session.name} needs the coordinator's key "
                    "to submit its table"
                )
            receipt = session.submit_table(
                self.client, rid, outcome.table, sender=self.coordinator_key
            )
            if receipt is not None:
                self.receipts.append(receipt)
                self._note("table-submitted", round_id=rid, tx=receipt.tx_hash)
        return self._finish_session(rid, active, outcome.strategies, training)

    def _finish_session(
        self,
        rid: int,
        active: list[SiloEntry],
        strategies: dict[str, Any],
        training: TrainingOutcome | None,
    ) -> dict[str, Any]:
        with self._step("reports"):
            self._wait_reports(rid, active)
        with self._step("settle"):
            self._settle(rid)
        return self._result(rid, "settled", strategies, None, training)

    # ----------------------------------------------------------------- steps
    def _connect(self) -> None:
        from settlement import ChainUnavailable, RpcBackend

        cfg = self.config
        self.operator = cfg.operator.load()
        self.coordinator_key = None if cfg.coordinator_key is None else cfg.coordinator_key.load()
        deadline = time.monotonic() + max(cfg.round.join_timeout_s, 30.0)
        while True:
            try:
                self.backend = RpcBackend(cfg.rpc_url, timeout=cfg.rpc_timeout_s)
                break
            except ChainUnavailable as exc:
                if time.monotonic() > deadline:
                    raise ChainUnavailable(f"[chain].rpc_url: {exc}") from None
                time.sleep(1.0)
        self._note(
            "connected",
            rpc_url=cfg.rpc_url,
            chain_id=self.backend.chain_id,
            operator=self.operator.address,
            coordinator=None if self.coordinator_key is None else self.coordinator_key.address,
        )

    def _attach_or_deploy(self) -> None:
        from settlement import SettlementClient

        cfg = self.config
        w3 = self.backend.web3()
        saved = self._load_state()
        address = cfg.contract
        if address is not None:
            if not w3.eth.get_code(address):
                raise ValueError(
                    f"[chain].contract: no contract code at {address} on chain "
                    f"{self.backend.chain_id}; fix the address or remove the field to deploy one"
                )
        elif saved.get("contract") and saved.get("chain_id") == self.backend.chain_id:
            if w3.eth.get_code(saved["contract"]):
                address = saved["contract"]
            else:
                self._note("saved-contract-missing", contract=saved["contract"])
        if address is None:
            client = SettlementClient.deploy(self.backend, self.operator)
            address = client.address
            receipt = client.deploy_receipt
            if receipt is not None:
                self.receipts.append(receipt)
            self._note(
                "deployed",
                contract=address,
                tx=None if receipt is None else receipt.tx_hash,
                block=None if receipt is None else receipt.block_number,
            )
            self._save_state(contract=address, chain_id=self.backend.chain_id, round_id=None)
            self.state.write(
                "deployment.json",
                {
                    "chain_id": self.backend.chain_id,
                    "contract_address": address,
                    "rpc": {"url": cfg.rpc_url},
                    "deploy_block": None if receipt is None else receipt.block_number,
                },
            )
        else:
            self._note("attached", contract=address)
            if saved.get("contract") != address:
                self._save_state(contract=address, chain_id=self.backend.chain_id, round_id=None)
        self.client = SettlementClient.at(self.backend, address, self.operator)
        operator = self.client.operator()
        if operator.lower() != self.operator.address.lower():
            raise ValueError(
                f"[chain.operator]: the contract's operator is {operator} but this key is "
                f"{self.operator.address}; use the operator's key"
            )

    def _open_or_resume(self) -> int:
        from settlement import Phase

        cfg = self.config
        saved = self._load_state()
        rid = saved.get("round_id")
        if rid and saved.get("contract") == self.client.address:
            phase = self.client.phase_of(rid)
            if phase not in (Phase.NONE, Phase.SETTLED, Phase.ABANDONED):
                accounts = [p.account.lower() for p in self.client.profiles(rid)]
                if accounts == [s.account.lower() for s in cfg.silos]:
                    self._note("round-resumed", round_id=rid, phase=phase.name)
                    return int(rid)
                self._note("saved-round-mismatch", round_id=rid)
        rid = self.mechanism.open_round(
            self.client,
            cfg,
            coordinator=None if self.coordinator_key is None else self.coordinator_key.address,
            windows=(cfg.round.deposit_window_s, cfg.round.report_window_s),
        )
        self._save_state(round_id=rid, training=None, strategies=None, strategy_phase=None)
        bonds = {s.name: int(self.client.required_bond(rid, s.index)) for s in cfg.silos}
        self._note("round-opened", round_id=rid, bonds_wei=bonds, attested=cfg.attest)
        return rid

    def _progress_due(self) -> bool:
        """True once per PROGRESS_INTERVAL_S (the cadence of the waiting lines)."""
        now = time.monotonic()
        if now < self._next_progress:
            return False
        self._next_progress = now + PROGRESS_INTERVAL_S
        return True

    def _waiting(self, what: str, have: int, need: int, deadline: int, **data: Any) -> None:
        """``waiting for N of M <what>, deadline in ...`` (the deadline in chain time)."""
        left = deadline - self.client.chain_time()
        when = f"in {_duration(left)}" if left > 0 else f"passed {_duration(-left)} ago"
        self._note(
            f"waiting-{what}",
            message=f"waiting for {need - have} of {need} {what}, deadline {when}",
            have=have, need=need, deadline_in_s=left, **data,
        )  # fmt: skip

    def _warp_past(self, deadline: int, what: str) -> None:
        from settlement import increase_time

        now = self.client.chain_time()
        if now <= deadline:
            increase_time(self.client.w3, deadline - now + 1)
            self._note("devnet-warp", past=what, seconds=deadline - now + 1)

    def _wait_deposits(self, rid: int) -> list[SiloEntry]:
        from settlement import Phase

        give_up = time.monotonic() + self.config.round.join_timeout_s
        fast_until = time.monotonic() + FAST_WINDOW_S
        told = False
        # silos check the round against these terms before they deposit: offer them (again, to
        # a daemon not yet connected) until each accepted
        offer = self._terms(rid, self.config.silos)
        unoffered = list(self.config.silos)
        deadline = self.client.round_config(rid).deposit_deadline
        while True:
            if unoffered:
                refused = self._push_each(unoffered, offer)
                unoffered = [s for s in unoffered if s.name in refused]
            state = self.client.round_state(rid)
            if state.joined_count == state.n or self.client.phase_of(rid) != Phase.DEPOSIT:
                break
            if self._progress_due():
                # count and names from one read (a deposit may land between two reads)
                profiles = self.client.profiles(rid)
                missing = [s.name for s in self.config.silos if not profiles[s.index].joined]
                have = sum(p.joined for p in profiles)
                self._waiting("deposits", have, state.n, deadline,
                              round_id=rid, missing=missing)  # fmt: skip
            if time.monotonic() > give_up:
                if self.devnet:
                    self._warp_past(self.client.round_config(rid).deposit_deadline, "deposits")
                    continue
                if not told:
                    self._note("waiting-deposit-deadline", joined=state.joined_count, n=state.n)
                    told = True
            self._sleep(fast_until)
        profiles = self.client.profiles(rid)
        joined = [s for s in self.config.silos if profiles[s.index].joined]
        self._note(
            "deposits-closed",
            round_id=rid,
            joined=[s.name for s in joined],
            missing=[s.name for s in self.config.silos if not profiles[s.index].joined],
        )
        return joined

    def _terms(self, rid: int, active: Iterable[SiloEntry]) -> dict[str, Any]:
        """The terms document pushed to the silos, ``active`` naming who plays: one builder, so
        the deposit-time offer and the strategy phase's push are equal when every silo joined
        (a daemon answers an equal re-push without reading the chain)."""
        return {
            "round_id": rid,
            "contract": self.client.address,
            "chain_id": self.client.chain_id,
            "mechanism": self.mechanism.name,
            **self.mechanism.terms_document(self.config),
            "active": [s.name for s in active],
        }

    def _push_each(self, silos: list[SiloEntry], document: dict[str, Any]) -> dict[str, str]:
        """Push ``document`` to every silo at once (each daemon checks the round on chain before
        it answers, so one after another would add up); the refusals, by silo name."""

        def push(silo: SiloEntry) -> str | None:
            try:
                self.agents[silo.name].push_terms(document)
            except (AgentUnavailable, AgentRejected) as exc:
                return str(exc)
            return None

        with ThreadPoolExecutor(max_workers=max(1, min(len(silos), 16))) as pool:
            answers = list(pool.map(push, silos))
        return {s.name: a for s, a in zip(silos, answers, strict=True) if a is not None}

    def _push_terms(self, rid: int, active: list[SiloEntry]) -> list[SiloEntry]:
        """Push terms until every remaining silo accepted the same ``active`` list."""
        while active:
            names = [s.name for s in active]
            refused = self._push_each(active, self._terms(rid, active))
            if not refused:
                self._note("terms-pushed", round_id=rid, active=names)
                return active
            self._note("terms-refused", round_id=rid, refused=refused)
            active = [s for s in active if s.name not in refused]
        return active

    def _strategy_phase(
        self, rid: int, joined: list[SiloEntry]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        active = list(joined)
        while True:
            active = self._push_terms(rid, active)
            if not active:
                raise RuntimeError("no joined silo accepted the terms (see terms-refused)")
            responders = [HttpResponder(self.agents[s.name], rid) for s in active]
            initial = self.mechanism.initial_strategies(self.config, active)
            phase = self.mechanism.run_strategy_phase(
                responders, initial, max_sweeps=self.config.round.max_sweeps
            )
            self._note(
                "strategy-phase",
                round_id=rid,
                converged=phase.converged,
                sweeps=phase.sweeps,
                queries=phase.queries,
                seconds=round(phase.seconds, 4),
                dropped=phase.dropped,
            )
            if not phase.dropped:
                break
            reasons = {r.name: r.last_error for r in responders if r.name in phase.dropped}
            self._note("strategy-dropped", round_id=rid, reasons=reasons)
            # a dropped silo's stale strategy still counted in the aggregate: rerun without it
            active = [s for s in active if s.name not in phase.dropped]
        return {s.name: s for s in phase.strategies}, phase.to_dict()

    def _train(self, strategies: dict[str, Any], pending: PendingRun | None) -> TrainingOutcome:
        plan = self.mechanism.training_plan(strategies, self.config)
        if self.deployment is None:
            from fl_node.coordinator._training import train_embedded

            outcome = train_embedded(self.config, plan, self._note)
        else:
            # _run submitted the run (a round with nothing trained to resume always has one)
            assert pending is not None
            outcome = self.deployment.train(plan, pending)
        self._note(
            "training-done",
            completed=outcome.completed,
            dropped=outcome.dropped,
            accuracy=outcome.accuracy[-1] if outcome.accuracy else None,
        )
        return outcome

    def _assign(
        self, rid: int, strategies: dict[str, Any], training: TrainingOutcome
    ) -> list[SiloEntry]:
        from fl_node.chain_steps import submit_table

        completed = training.completed
        assigned = []
        rows: dict[int, tuple[int, int]] = {}
        for silo in self.config.silos:
            if silo.name not in completed or silo.name not in strategies:
                continue
            if self.client.profile_record(rid, silo.index).reported:
                assigned.append(silo)
                continue
            st = strategies[silo.name]
            x, f = self.mechanism.onchain_report(self.client, rid, silo, st)
            doc = {
                "round_id": rid,
                "index": silo.index,
                **self.mechanism.assignment_fields(st),
                "x_onchain": x,
                "f_onchain": f,
            }
            try:
                self.agents[silo.name].send_assignment(doc)
            except (AgentUnavailable, AgentRejected) as exc:
                self._note("assignment-refused", silo=silo.name, error=str(exc))
                continue
            self._note("assigned", silo=silo.name, index=silo.index, x=x, f=f)
            rows[silo.index] = (x, f)
            assigned.append(silo)
        if self.coordinator_key is not None:
            measured = self._measured(training)
            receipt = submit_table(
                self.client, rid, rows, self.coordinator_key, measured=measured or None
            )
            if receipt is not None:
                self.receipts.append(receipt)
                self._note("table-submitted", round_id=rid, reports=len(rows), tx=receipt.tx_hash)
        return assigned

    def _measured(self, training: TrainingOutcome) -> dict[int, float]:
        """cogen: every trained silo's leave-one-out score, to ride with the table."""
        out, dropped = table_scores(self.config.silos, training.leave_one_out)
        if dropped:
            self._note("measured-score-dropped", scores=dropped)
        return out

    def _wait_reports(self, rid: int, assigned: list[SiloEntry]) -> None:
        from settlement import Phase

        give_up = time.monotonic() + self.config.round.report_timeout_s
        told = False
        while self.client.phase_of(rid) == Phase.REPORT:
            profiles = self.client.profiles(rid)
            missing = [s.name for s in assigned if not profiles[s.index].reported]
            if missing and self._progress_due():
                deadline = self.client.round_config(rid).report_deadline
                self._waiting("reports", len(assigned) - len(missing), len(assigned), deadline,
                              round_id=rid, missing=missing)  # fmt: skip
            # the phase only ends early when every joined silo reported; otherwise the
            # deadline closes it
            if not missing or time.monotonic() > give_up:
                if self.devnet:
                    self._warp_past(self.client.round_config(rid).report_deadline, "reports")
                    continue
                if not told:
                    self._note("waiting-report-deadline", missing=missing)
                    told = True
            self._sleep()
        profiles = self.client.profiles(rid)
        self._note(
            "reports-closed",
            round_id=rid,
            reported=[s.name for s in self.config.silos if profiles[s.index].reported],
        )

    def _settle(self, rid: int) -> None:
        from fl_node.chain_steps import settle
        from settlement import ContractError, Phase

        try:
            receipt = settle(self.client, rid, self.operator)
        except ContractError:
            # a silo daemon settled it first (anyone may); the phase below is the judge
            receipt = None
        phase = self.client.phase_of(rid)
        if phase != Phase.SETTLED:
            raise RuntimeError(f"round {rid} is {phase.name} after payoffCalculate")
        if receipt is not None:
            self.receipts.append(receipt)
        self._note("settled", round_id=rid, tx=None if receipt is None else receipt.tx_hash)
        self._close_links(rid)

    def _close_links(self, rid: int) -> None:
        for link in self.agents.values():
            link.round_closed(self.client, rid)

    # ----------------------------------------------------------------- result
    def _result(
        self,
        rid: int,
        status: str,
        strategies: dict[str, Any],
        phase_doc: dict[str, Any] | None,
        training: TrainingOutcome | None,
    ) -> dict[str, Any]:
        result = round_result(
            self.client, self.config, self.mechanism, rid, status, strategies, phase_doc, training
        )
        result["timings_s"] = {**self.timings, "total": round(time.perf_counter() - self._t0, 3)}
        # every round in the state dir; [coordinator].result / --out: the latest round's
        text = json.dumps(result, indent=2)
        own = self.state.path / f"result-round-{rid}.json"
        own.write_text(text, encoding="utf-8")
        path = Path(self.config.result_path or own)
        if path != own:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        self._note("result-written", path=str(path), status=status, sum_R_wei=result["sum_R_wei"])
        return result


def table_scores(
    silos: Iterable[SiloEntry], leave_one_out: Mapping[str, float]
) -> tuple[dict[int, float], dict[str, str]]:
    """The measured scores the coordinator's table carries (slot -> score), and the ones left
    "not measured" (name -> value): a score the table cannot carry (not finite, e.g. from a
    diverged update, or beyond int64 at 1e-9 units) must never block the table, since the
    table is what settles every silo."""
    from settlement import measurable

    out: dict[int, float] = {}
    dropped: dict[str, str] = {}
    for silo in silos:
        value = leave_one_out.get(silo.name)
        if value is None:
            continue
        if measurable(value):
            out[silo.index] = float(value)
        else:
            dropped[silo.name] = repr(value)
    return out, dropped
