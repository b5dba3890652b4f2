"""``NodeDaemon``: a silo's long-running process (``fedsettle node run``).

Each pass of its loop (every ``[chain].poll_interval_s``; at once after the coordinator's terms
or assignment arrive; every :data:`SETTLING_POLL_S` for a minute after an assignment, while the
round settles; every :data:`RECONNECT_POLL_S` while the chain or contract is not reachable)
reconciles the silo with the chain:

1. discover: scan ``OrgRegistered`` events for slots held by the silo's account;
2. wait: if the account has transactions in flight (pending nonce > mined nonce, e.g. sent by
   a previous run that was killed before the receipt), do nothing until they are mined, then
   re-read the chain;
3. for every unfinished round, do the one step its on-chain state calls for: deposit the bond
   (phase Deposit, not joined, bond <= ``max_bond_wei``), report the accepted assignment (phase
   Report), settle or abandon a round nobody settled in time (``settle_when_due``), withdraw
   deposit + R_i (Settled/Abandoned) and close the round's record; in a market round, check
   the coordinator's posted table once it is on chain (:func:`fl_node.daemon._market.check_table`).

Every step re-reads the chain first (:mod:`fl_node.chain_steps` steps are no-ops once done), so a
daemon killed and restarted at any point never deposits twice and never loses a payout. The HTTP
agent (:mod:`fl_node.daemon._http`) answers the coordinator meanwhile; the loop is the only
thread that signs transactions.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, cast

from fl_node.daemon._config import NodeConfig
from fl_node.daemon._http import AgentHTTPServer
from fl_node.daemon._service import AgentService, slot_bond
from fl_node.daemon._state import ActionLog, RoundRecord, StateDir
from fl_node.daemon._supervisor import SupernodeSupervisor
from fl_node.daemon._toml import ConfigFileError

__all__ = ["NodeDaemon"]

#: seconds between passes just after an assignment arrived (the withdrawal follows soon)
SETTLING_POLL_S = 0.5
#: how long after an assignment the daemon polls that fast (then ``poll_interval_s`` again)
SETTLING_WINDOW_S = 60.0
#: seconds between connection attempts while the chain or the contract is not there (yet)
RECONNECT_POLL_S = 0.5


class NodeDaemon:
    """One silo's daemon.

    Parameters
    ----------
    config : NodeConfig
    log_stream : file, optional
        Where actions are echoed besides ``actions.jsonl`` (default stderr; ``None``: nowhere).

    Examples
    --------
    >>> daemon = NodeDaemon(load_node_config("deploy/node-1.toml"))   # doctest: +SKIP
    >>> daemon.run()          # until SIGINT/SIGTERM (the CLI wires them to ``stop``)  # doctest: +SKIP
    """

    def __init__(self, config: NodeConfig, *, log_stream: Any = "stderr") -> None:
        import sys

        from fl_node.flower import load_silo

        self.config = config
        self.state = StateDir(config.state_dir)
        self.log = ActionLog(
            self.state.path / "actions.jsonl",
            name=config.name,
            stream=sys.stderr if log_stream == "stderr" else log_stream,
        )
        self.account = config.key.load()
        from fl_node.daemon._cogen import CogenSilo
        from fl_node.daemon._market import MarketSilo

        market = None
        if config.market is not None:
            # a market silo trains the market's split of its data: its s is its N there
            market = MarketSilo(config.name, config.market, config.data)
            self.s = market.N
        else:
            silo = load_silo({**config.data.node_config(), "silo-name": config.name})
            self.s = len(silo.data)

        cogen = None
        if config.cogen is not None:
            # train its generator now: the terms request must answer within the
            # coordinator's HTTP timeout
            cogen = CogenSilo(silo, config.cogen, config.data.seed)
            cogen.warm()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.service = AgentService(
            name=config.name,
            address=self.account.address,
            s=self.s,
            cost=config.cost,
            contract=config.chain.contract,
            state=self.state,
            log=self.log,
            wake=self._wake.set,
            cogen=cogen,
            market=market,
        )
        self.client: Any = None
        self.http: AgentHTTPServer | None = None
        self.supervisor: SupernodeSupervisor | None = None
        self._phases: dict[int, str] = {}
        self._waiting_terms: set[int] = set()
        self._waiting_logged = False
        self._chain_down_logged = False
        self._genesis = b""
        self._settling_since: dict[int, float] = {}

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Ask :meth:`run` to return (safe from a signal handler or another thread)."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, *, once: bool = False) -> None:
        """Serve and reconcile until :meth:`stop`; with ``once``, one pass without serving.

        Raises
        ------
        settlement.ChainUnavailable
            With ``once``, if the chain or the contract cannot be reached.
        """
        cfg = self.config
        self.log(
            "started",
            address=self.account.address,
            key=cfg.key.describe(),
            s=self.s,
            rpc_url=cfg.chain.rpc_url,
            contract=cfg.chain.contract_source(),
            once=once,
        )
        if once:
            if not self._connect():
                from settlement import ChainUnavailable

                raise ChainUnavailable(
                    f"no FedSettle contract reachable at {cfg.chain.contract_source()} via "
                    f"{cfg.chain.rpc_url}; check [chain].rpc_url and [chain].contract"
                )
            self.tick()
            self.log("stopped", reason="--once")
            return
        try:
            self.http = AgentHTTPServer(self.service, cfg.agent.host, cfg.agent.port).start()
            self.state.write("agent.json", {"host": cfg.agent.host, "port": self.http.port})
            self.log("agent-listening", url=f"http://{cfg.agent.host}:{self.http.port}")
            if cfg.supernode is not None:
                node_config = {
                    **cfg.data.node_config(),
                    **_market_keys(cfg),
                    "silo-name": cfg.name,
                    "address": self.account.address,
                    "num-threads": cfg.supernode.num_threads,
                    "cache-dir": str(self.state.path / "supernode" / "cache"),
                }
                self.supervisor = SupernodeSupervisor(
                    cfg.supernode, node_config, self.state.path / "supernode", self.log
                )
                self.supervisor.start()
            while not self._stop.is_set():
                self._wake.clear()
                self.tick()
                if self.supervisor is not None:
                    self.supervisor.check()
                self._wake.wait(self._poll_interval())
        finally:
            if self.supervisor is not None:
                self.supervisor.stop()
            if self.http is not None:
                self.http.close()
            self.log("stopped", reason="signal" if self._stop.is_set() else "error")

    def _poll_interval(self) -> float:
        """Seconds to the next pass: ``[chain].poll_interval_s``, or at most
        :data:`RECONNECT_POLL_S` while not connected (a contract deployed for a new round is
        found within half a second; a chain that is down makes each attempt wait out the RPC
        retries first), or at most :data:`SETTLING_POLL_S` for :data:`SETTLING_WINDOW_S` after a
        round's assignment was accepted (its settlement and this silo's withdrawal follow within
        seconds)."""
        poll = self.config.chain.poll_interval_s
        if self.client is None:
            return min(poll, RECONNECT_POLL_S)
        now = time.monotonic()
        settling = {r.round_id for r in self.state.rounds() if not r.done and r.assignment}
        for rid in settling - set(self._settling_since):
            self._settling_since[rid] = now
        for rid in set(self._settling_since) - settling:
            del self._settling_since[rid]
        if any(now - since < SETTLING_WINDOW_S for since in self._settling_since.values()):
            return min(poll, SETTLING_POLL_S)
        return poll

    # ------------------------------------------------------------------ chain
    def _connect(self) -> bool:
        """Connect to the chain and the contract; False (logged once) while unavailable."""
        if self.client is not None:
            return True
        from settlement import RpcBackend, SettlementClient

        cfg = self.config.chain
        try:
            contract = cfg.resolve_contract()
            backend = RpcBackend(cfg.rpc_url, timeout=cfg.rpc_timeout_s)
            code = backend.web3().eth.get_code(cast(Any, contract))
            if not code:
                raise LookupError(f"no contract code at {contract} yet")
            client = SettlementClient.at(backend, contract, self.account)
            reader = SettlementClient.at(
                RpcBackend(cfg.rpc_url, timeout=cfg.rpc_timeout_s), contract
            )
            chain_id = client.chain_id
            genesis = bytes(backend.web3().eth.get_block(0)["hash"])
        except Exception as exc:
            if not self._chain_down_logged:
                self.log("chain-unavailable", rpc_url=cfg.rpc_url, error=str(exc))
                self._chain_down_logged = True
            return False
        self._check_state_belongs_to(client.address, chain_id, genesis)
        self._genesis = genesis
        self.client = client
        self.service.contract = client.address
        self.service.reader = reader
        self._chain_down_logged = False
        self.log("chain-connected", chain_id=chain_id, contract=client.address)
        return True

    def _check_state_belongs_to(self, contract: str, chain_id: int, genesis: bytes) -> None:
        """Refuse a state dir written for another chain or contract (round ids would clash)."""
        ident: dict[str, Any] = {
            "chain_id": chain_id,
            "contract": contract,
            "genesis": "0x" + genesis.hex(),
        }
        path = self.state.path / "chain.json"
        if path.is_file():
            import json

            known = json.loads(path.read_text(encoding="utf-8"))
            if known != ident:
                raise ConfigFileError(
                    f"node.toml: [state].dir = {str(self.state.path)!r} holds the records of "
                    f"contract {known.get('contract')} on chain {known.get('chain_id')} (genesis "
                    f"{str(known.get('genesis'))[:10]}...), not of {ident['contract']} on chain "
                    f"{chain_id} (genesis {ident['genesis'][:10]}...); point [state].dir at a "
                    "fresh directory (or delete it if that chain is gone for good)"
                )
        else:
            self.state.write("chain.json", ident)

    def _disconnect(self, error: BaseException) -> None:
        self.log("chain-unavailable", error=repr(error))
        self._chain_down_logged = True
        self.client = None
        self.service.reader = None

    def _in_flight(self) -> int:
        w3 = self.client.w3
        address = self.account.address
        pending = int(w3.eth.get_transaction_count(address, "pending"))
        mined = int(w3.eth.get_transaction_count(address, "latest"))
        return max(pending - mined, 0)

    def tick(self) -> None:
        """One reconciliation pass (see the module docstring); never raises on chain errors.

        Raises :class:`ConfigFileError` when the chain behind ``[chain].rpc_url`` was replaced
        since the daemon connected (another genesis block: e.g. a devnet restarted without its
        state, whose contract and round ids repeat the old chain's): the state dir's records
        belong to the old chain, and acting on them would skip this chain's deposits."""
        if not self._connect():
            return
        try:
            self._check_same_chain()
            self._discover()
            waiting = self._in_flight()
            if waiting:
                if not self._waiting_logged:
                    self.log("waiting-in-flight", transactions=waiting)
                    self._waiting_logged = True
                return
            if self._waiting_logged:
                self.log("in-flight-mined")
                self._waiting_logged = False
            self.client.nonces.resync(self.account.address)
            for record in self.state.rounds():
                if not record.done and not self._stop.is_set():
                    self._advance(record)
        except ConfigFileError:
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                self._disconnect(exc)
            else:
                self.log("error", error=repr(exc), trace=traceback.format_exc(limit=4))

    def _check_same_chain(self) -> None:
        genesis = bytes(self.client.w3.eth.get_block(0)["hash"])
        if genesis == self._genesis:
            return
        old, new = "0x" + self._genesis.hex(), "0x" + genesis.hex()
        self.log("chain-replaced", rpc_url=self.config.chain.rpc_url, genesis=new, was=old)
        raise ConfigFileError(
            f"[chain].rpc_url = {self.config.chain.rpc_url!r}: the chain was replaced while the "
            f"daemon ran (genesis {old[:10]}... is now {new[:10]}...); the records in "
            f"[state].dir = {str(self.state.path)!r} belong to the old chain and are kept: "
            "start the daemon with a fresh [state].dir for the new chain"
        )

    def _discover(self) -> None:
        latest = int(self.client.w3.eth.block_number)
        start = max(self.state.cursor() + 1, self.config.chain.start_block)
        chunk = self.config.chain.log_chunk_blocks
        # public nodes cap the block range of one eth_getLogs: scan in chunks, advancing the
        # cursor after each, so a restart resumes where the scan stopped
        while start <= latest and not self._stop.is_set():
            end = min(start + chunk - 1, latest)
            self._discover_range(start, end)
            self.state.set_cursor(end)
            start = end + 1

    def _discover_range(self, start: int, end: int) -> None:
        mine = self.account.address.lower()
        for event in self.client.events("OrgRegistered", from_block=start, to_block=end):
            if str(event.args["account"]).lower() != mine:
                continue
            rid = event.round_id
            if self.state.load_round(rid) is None:
                with self.state.lock:
                    if self.state.load_round(rid) is None:
                        index = int(event.args["index"])
                        self.state.save_round(
                            RoundRecord(
                                round_id=rid,
                                index=index,
                                bond_wei=slot_bond(self.client, rid, index),
                            )
                        )
                known = self.state.load_round(rid)
                self.log(
                    "round-discovered",
                    round_id=rid,
                    index=int(event.args["index"]),
                    bond_wei=None if known is None else known.bond_wei,
                )

    def _advance(self, record: RoundRecord) -> None:
        from fl_node.chain_steps import report, settle, withdraw
        from settlement import ContractError, Phase, TransactionFailed

        client, rid, idx = self.client, record.round_id, record.index
        phase = client.phase_of(rid)
        profile = client.profile_record(rid, idx)
        if self._phases.get(rid) != phase.name:
            self._phases[rid] = phase.name
            self.log("round-phase", round_id=rid, phase=phase.name, joined=profile.joined)
        if profile.joined and record.deposit_tx is None:
            self._recover_deposit_line(record)
        step = "none"
        if profile.joined and record.table_check is None:
            if (record.terms or {}).get("mechanism") == "market":
                if phase >= Phase.REPORT:
                    self._check_market_table(record)
            elif phase in (Phase.CALCULATE, Phase.SETTLED):
                self._check_own_row(record, profile)
        try:
            if phase == Phase.DEPOSIT and not profile.joined:
                step = "deposit"
                self._deposit(record, profile)
            elif phase == Phase.REPORT and profile.joined and not profile.reported:
                # with a coordinator, its table reports for every silo: nothing to send here
                a = record.assignment
                if a is not None and not a.get("by_table", False):
                    step = "report"
                    receipt = report(
                        client, rid, idx, self.account, int(a["x_onchain"]), int(a["f_onchain"])
                    )
                    if receipt is not None:
                        self.log(
                            "reported", round_id=rid, index=idx, x=a["x_onchain"],
                            f=a["f_onchain"], tx=receipt.tx_hash, gas=receipt.gas_used,
                        )  # fmt: skip
            elif phase == Phase.CALCULATE and self.config.chain.settle_when_due:
                # once reports close anyone may settle, at any time; nobody can abandon
                if client.chain_time() > client.round_config(rid).report_deadline:
                    step = "settle"
                    receipt = settle(client, rid, self.account)
                    if receipt is not None:
                        self.log("settled", round_id=rid, tx=receipt.tx_hash)
            elif phase in (Phase.SETTLED, Phase.ABANDONED):
                if profile.joined and not profile.withdrawn:
                    step = "withdraw"
                    receipt, amount = withdraw(client, rid, idx, self.account)
                    if receipt is not None:
                        paid = sum(
                            int(e.args["amount"]) for e in receipt.events_named("PayoffTransferred")
                        )
                        self.log(
                            "withdrew", round_id=rid, index=idx, amount_wei=paid,
                            expected_wei=int(amount), payoff_wei=int(profile.payoff),
                            deposited_wei=int(profile.deposited), tx=receipt.tx_hash,
                        )  # fmt: skip
                self._finish(record, phase)
            elif phase in (Phase.REPORT, Phase.CALCULATE) and not profile.joined:
                self._finish(record, phase)
        except (ContractError, TransactionFailed) as exc:
            # the chain moved between the read and the transaction (another caller settled,
            # a deadline passed); the next pass re-reads it
            self.log("step-rejected", round_id=rid, step=step, error=str(exc))

    def _deposit(self, record: RoundRecord, profile: Any) -> None:
        from fl_node.chain_steps import join, pushed_terms
        from fl_node.daemon._wire import terms_from_json, units_from_json
        from settlement import LockTooLong, TermsMismatch

        rid, idx = record.round_id, record.index
        limit = self.config.chain.max_bond_wei
        if record.declined:
            return
        if record.terms is None:
            # the silo pays only into a round it checked against terms it accepted
            if rid not in self._waiting_terms:
                self._waiting_terms.add(rid)
                self.log("waiting-terms", round_id=rid, index=idx)
            return
        if int(profile.bond) > limit:
            self._decline(
                record,
                f"the bond {int(profile.bond)} wei exceeds [chain].max_bond_wei = {limit}; raise "
                "it to join rounds like this one",
            )
            return
        units = units_from_json(record.terms["units"])
        try:
            if record.terms.get("mechanism") == "market":
                from fl_node.daemon._market import market_pushed_terms, market_terms_from

                market, rounds = market_terms_from(record.terms)
                expected = market_pushed_terms(self.client, rid, market, units, rounds)
            elif record.terms.get("mechanism") == "cogen":
                from fl_node.daemon._cogen import cogen_pushed_terms, cogen_terms_from

                cogen = cogen_terms_from(record.terms)
                expected = cogen_pushed_terms(self.client, rid, cogen, units)
            else:
                terms = terms_from_json(record.terms["terms"])
                expected = pushed_terms(self.client, rid, terms, units)
        except TermsMismatch as exc:
            self._decline(record, str(exc))
            return
        asset = self._asset_mismatch(rid)
        if asset is not None:
            self._decline(record, asset)
            return
        balance = self._balance(rid)
        # ETH pays the bond and the gas; a token pays the bond only
        if balance < int(profile.bond) + (self.config.chain.token is None):
            self.log(
                "insufficient-funds", round_id=rid, balance_wei=balance, bond_wei=int(profile.bond)
            )
            return
        try:
            receipt = join(
                self.client,
                rid,
                idx,
                self.account,
                expected=expected,
                max_lock=self.config.chain.max_lock_s,
            )
        except (TermsMismatch, LockTooLong) as exc:
            self._decline(record, str(exc))
            return
        if receipt is not None:
            amount = sum(int(e.args["amount"]) for e in receipt.events_named("DepositSubmitted"))
            self.log(
                "deposited", round_id=rid, index=idx, amount_wei=amount, tx=receipt.tx_hash,
                gas=receipt.gas_used,
            )  # fmt: skip
            self._deposit_logged(rid, receipt.tx_hash)

    def _deposit_logged(self, rid: int, tx: str) -> None:
        def mark(record: RoundRecord) -> None:
            record.deposit_tx = tx

        self.state.update_round(rid, mark)

    def _recover_deposit_line(self, record: RoundRecord) -> None:
        """The slot joined but its ``deposited`` line was never marked: the daemon was killed
        between the mined deposit and the log line (or before the mark). Log it from the
        chain's ``DepositSubmitted`` event unless the line is there."""
        rid, idx = record.round_id, record.index
        logged = [e for e in self.log.entries()
                  if e.get("event") == "deposited" and e.get("round_id") == rid]  # fmt: skip
        if logged:
            self._deposit_logged(rid, str(logged[-1].get("tx")))
            return
        for event in self.client.events("DepositSubmitted", round_id=rid):
            if int(event.args["index"]) == idx:
                self.log(
                    "deposited", round_id=rid, index=idx, amount_wei=int(event.args["amount"]),
                    tx=event.tx_hash, recovered=True,
                )  # fmt: skip
                self._deposit_logged(rid, event.tx_hash)
                return

    def _check_own_row(self, record: RoundRecord, profile: Any) -> None:
        """Once reports closed, compare the slot's on-chain report with the assignment this silo
        accepted for the coordinator's table (tradefl, cogen): a coordinator that posted another
        row, or no table at all, is named in a ``table-disputed`` line (the money follows the
        chain; the line is the silo's evidence). Nothing to check without an accepted
        assignment for a table."""
        a = record.assignment
        if a is None or not a.get("by_table", False):
            return
        rid, idx = record.round_id, record.index
        expected = (int(a["x_onchain"]), int(a["f_onchain"]))
        onchain = (int(profile.x), int(profile.f)) if profile.reported else (0, 0)
        if onchain == expected:
            verdict: dict[str, Any] = {"ok": True, "x": expected[0], "f": expected[1]}
            self.log("table-checked", round_id=rid, index=idx, x=expected[0], f=expected[1])
        else:
            posted = self.client.report_table(rid) is not None
            problem = (
                f"slot {idx}: the coordinator's table reports (x={onchain[0]}, f={onchain[1]}), "
                f"not the accepted assignment (x={expected[0]}, f={expected[1]})"
                if posted
                else f"slot {idx}: no table was posted before the report deadline; the slot is "
                f"settled at its minimum, not at the accepted assignment (x={expected[0]}, "
                f"f={expected[1]})"
            )
            verdict = {"ok": False, "problem": problem}
            self.log("table-disputed", round_id=rid, index=idx, problem=problem)
        self.state.update_round(rid, lambda r: setattr(r, "table_check", verdict))

    def _check_market_table(self, record: RoundRecord) -> None:
        """Check the coordinator's market table once it is on chain (:func:`check_table`)."""
        from fl_node.daemon._market import check_table, market_terms_from

        terms, _ = market_terms_from(record.terms or {})
        rid = record.round_id
        try:
            summary = check_table(self.client, rid, record.index, terms)
        except ValueError as exc:
            verdict: dict[str, Any] = {"ok": False, "problem": str(exc)}
            self.log("table-disputed", round_id=rid, index=record.index, problem=str(exc))
        else:
            if summary is None:  # not posted yet
                return
            verdict = {"ok": True, **summary}
            self.log("table-checked", round_id=rid, index=record.index, **summary)
        self.state.update_round(rid, lambda r: setattr(r, "table_check", verdict))

    def _asset_mismatch(self, rid: int) -> str | None:
        """Why the round's settlement asset is not the one this silo settles in, or None."""
        from settlement import ZERO_ADDRESS

        mine = (self.config.chain.token or ZERO_ADDRESS).lower()
        theirs = str(self.client.round_config(rid).token).lower()
        if theirs == mine:
            return None
        name = lambda a: "ETH" if a == ZERO_ADDRESS.lower() else f"token {a}"  # noqa: E731
        return (
            f"the round settles in {name(theirs)}, this silo in {name(mine)} ([chain].token); "
            "set [chain].token to join rounds in that asset"
        )

    def _balance(self, rid: int) -> int:
        """What the silo holds of the round's asset (ETH: its balance, which also pays gas)."""
        if self.config.chain.token is None:
            return int(self.client.w3.eth.get_balance(self.account.address))
        return int(self.client.token(rid).balance_of(self.account.address))

    def _decline(self, record: RoundRecord, reason: str) -> None:
        self.state.update_round(record.round_id, lambda r: setattr(r, "declined", reason))
        self.log("declined", round_id=record.round_id, index=record.index, reason=reason)

    def _finish(self, record: RoundRecord, phase: Any) -> None:
        rid, idx = record.round_id, record.index
        profile = self.client.profile_record(rid, idx)
        transfers = [
            e
            for e in self.client.events("PayoffTransferred", round_id=rid)
            if int(e.args["index"]) == idx
        ]
        outcome = {
            "phase": phase.name,
            "joined": profile.joined,
            "reported": profile.reported,
            "deposited_wei": int(profile.deposited),
            "payoff_wei": int(profile.payoff),
            "withdrawn_wei": sum(int(e.args["amount"]) for e in transfers),
        }

        def close(r: RoundRecord) -> None:
            r.done = True
            r.outcome = outcome

        self.state.update_round(rid, close)
        self.log("round-finished", round_id=rid, index=idx, **outcome)


def _is_connection_error(exc: BaseException) -> bool:
    from settlement import ChainUnavailable

    # requests' exceptions (connection refused, read timeout) are OSErrors
    return isinstance(exc, ChainUnavailable | OSError) and not isinstance(
        exc, FileNotFoundError | PermissionError
    )


def _market_keys(cfg: NodeConfig) -> dict[str, Any]:
    """A market silo's SuperNode holds the market's split of its [data] (``market-split``)."""
    if cfg.market is None:
        return {}
    from fl_node.mechanisms.market import market_split

    return {"market-split": market_split(cfg.data.dataset, cfg.data.num_partitions)}
