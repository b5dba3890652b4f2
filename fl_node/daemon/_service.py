"""The silo agent behind the daemon's HTTP API: terms, best responses, assignments.

Pure request handling over the chain (read-only) and the state dir; the HTTP layer
(:mod:`fl_node.daemon._http`) only routes and encodes. Transactions are never sent from here:
accepted terms and assignments are stored and the daemon's loop deposits (after checking every
on-chain parameter against the accepted terms) and, in rounds without a coordinator, reports, so
exactly one thread signs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from fl_node.agent import SiloAgent, Strategy
from fl_node.chain_steps import pushed_terms, to_report
from fl_node.daemon._cogen import CogenSilo, cogen_pushed_terms, cogen_terms_from
from fl_node.daemon._config import CostSettings
from fl_node.daemon._market import MarketSilo, market_pushed_terms, market_terms_from
from fl_node.daemon._state import ActionLog, RoundRecord, StateDir
from fl_node.daemon._wire import (
    WireError,
    restrict_terms,
    strategy_to_json,
    terms_from_json,
    units_from_json,
)
from settlement import TermsMismatch, check_round

__all__ = ["AgentRequestError", "AgentService", "find_slot"]

#: relative tolerance when comparing an assignment with the agent's own answer (the strategy
#: phase counts changes below 1e-6 relative as "no change")
MATCH_RTOL = 1e-5


class AgentRequestError(Exception):
    """A request the agent refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _close(a: float, b: float, rtol: float = MATCH_RTOL) -> bool:
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def slot_bond(client: Any, round_id: int, index: int) -> int:
    """The slot's required bond, or 0 while the round's rho is still being uploaded."""
    from settlement import RhoIncomplete

    try:
        return int(client.required_bond(round_id, index))
    except RhoIncomplete:
        return 0


def find_slot(client: Any, round_id: int, address: str) -> tuple[int, int] | None:
    """``(index, bond_wei)`` of ``address``'s slot in ``round_id`` (from OrgRegistered), or None."""
    for event in client.events("OrgRegistered", round_id=round_id):
        if str(event.args["account"]).lower() == address.lower():
            index = int(event.args["index"])
            return index, slot_bond(client, round_id, index)
    return None


class AgentService:
    """Answers the coordinator for one silo.

    Parameters
    ----------
    name, address : str
        The silo's registered name and chain account.
    s : float
        The silo's number of training samples (``s_i``, from its data).
    cost : CostSettings or None
        The private cost parameters of tradefl rounds (None: it refuses them).
    cogen : CogenSilo, optional
        The silo's data and pricing for cogen rounds (None: it refuses them).
    market : MarketSilo, optional
        The silo's report for market rounds (None: it refuses them).
    reader : SettlementClient or None
        Read-only chain access (its own connection); ``None`` until the chain is reachable.
    state : StateDir
    log : ActionLog
    wake : callable
        Called after an assignment is accepted, so the daemon's loop reports at once.
    """

    def __init__(
        self,
        *,
        name: str,
        address: str,
        s: float,
        cost: CostSettings | None,
        contract: str | None,
        state: StateDir,
        log: ActionLog,
        wake: Callable[[], None] = lambda: None,
        cogen: CogenSilo | None = None,
        market: MarketSilo | None = None,
    ) -> None:
        self.name = name
        self.address = address
        self.s = float(s)
        self.cost = cost
        self.contract = contract
        self.state = state
        self.log = log
        self.wake = wake
        self.cogen = cogen
        self.market = market
        self.reader: Any = None
        self._agents: dict[int, Any] = {}
        self._lock = state.lock

    # ---------------------------------------------------------------- helpers
    def _chain(self) -> Any:
        if self.reader is None:
            self.wake()  # a request means a round is on: connect now, not at the next poll
            raise AgentRequestError(503, "the daemon is not connected to the chain yet; retry")
        return self.reader

    def _record(self, round_id: int) -> RoundRecord:
        record = self.state.load_round(round_id)
        if record is not None:
            return record
        slot = find_slot(self._chain(), round_id, self.address)
        if slot is None:
            raise AgentRequestError(
                404, f"round {round_id}: account {self.address} holds no slot in this round"
            )
        record = RoundRecord(round_id=round_id, index=slot[0], bond_wei=slot[1])
        self.state.save_round(record)
        return record

    def _agent(self, record: RoundRecord) -> Any:
        agent = self._agents.get(record.round_id)
        if agent is not None:
            return agent
        if record.terms is None:
            raise AgentRequestError(
                409, f"round {record.round_id}: no terms yet; POST /terms before querying"
            )
        if record.terms.get("mechanism") == "market":
            raise AgentRequestError(
                409,
                f"round {record.round_id}: a market round has no strategy phase (the market "
                "prices imports from the graph); nothing to answer",
            )
        if _is_cogen(record.terms):
            assert self.cogen is not None  # accepted only with a cogen side
            agent = self.cogen.agent(
                cogen_terms_from(record.terms),
                record.index,
                float(record.terms["private"]["c"]),
                record.terms["active"],
            )
            self._agents[record.round_id] = agent
            return agent
        if self.cost is None:
            raise AgentRequestError(
                409,
                f"round {record.round_id}: a tradefl round, but this silo's node.toml has no "
                "[cost] table (eta, T1, T3, F); add it to join tradefl rounds",
            )
        from solver import Org

        terms = terms_from_json(record.terms["terms"])
        active = restrict_terms(terms, record.terms["active"])
        org = Org(
            name=self.name,
            s=self.s,
            p=terms.p[terms.names.index(self.name)],
            F=self.cost.F,
            eta=self.cost.eta,
            T1=self.cost.T1,
            T3=self.cost.T3,
            e_comm=self.cost.e_comm,
        )
        agent = SiloAgent(org, active)
        self._agents[record.round_id] = agent
        return agent

    @staticmethod
    def _round_id(body: Mapping[str, Any]) -> int:
        rid = body.get("round_id")
        if isinstance(rid, bool) or not isinstance(rid, int) or rid < 1:
            raise AgentRequestError(400, f"round_id must be a positive integer, got {rid!r}")
        return rid

    # --------------------------------------------------------------- handlers
    def health(self) -> dict[str, Any]:
        """Who this silo is and what it watches: the coordinator's pre-flight check compares
        ``name``, ``address``, ``s``, ``contract`` and ``chain_id`` with the consortium."""
        reader = self.reader
        chain_id = None
        if reader is not None:
            try:
                chain_id = int(reader.chain_id)
            except Exception:  # the chain went away since: health still answers
                chain_id = None
        return {
            "status": "ok",
            "name": self.name,
            "address": self.address,
            "contract": self.contract,
            "s": self.s,
            "chain": reader is not None,
            "chain_id": chain_id,
            "pid": os.getpid(),
            "rounds": [r.round_id for r in self.state.rounds()],
        }

    def round_record(self, round_id: int) -> dict[str, Any]:
        record = self.state.load_round(round_id)
        if record is None:
            raise AgentRequestError(404, f"round {round_id}: no record on this silo")
        return record.__dict__

    def _check_contract(self, body: Mapping[str, Any]) -> None:
        if self.contract is None:
            self.wake()  # the coordinator just deployed it: read the deployment file now
            raise AgentRequestError(
                503, "the daemon has not read its contract address yet (see its log); retry"
            )
        if str(body.get("contract", "")).lower() != self.contract.lower():
            raise AgentRequestError(
                409,
                f"contract {body.get('contract')!r} is not this silo's contract {self.contract}; "
                "fix [chain].contract in the silo's or the consortium's config",
            )

    def accept_terms(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Verify pushed terms against the chain and keep them for the round."""
        rid = self._round_id(body)
        mechanism = body.get("mechanism", "tradefl")
        accept = {
            "tradefl": self._accept_tradefl_terms,
            "cogen": self._accept_cogen_terms,
            "market": self._accept_market_terms,
        }.get(mechanism)
        if accept is None:
            raise AgentRequestError(
                400,
                f"mechanism {mechanism!r}: this silo takes part in tradefl, cogen or market rounds",
            )
        answer = accept(rid, body)
        self.wake()  # the daemon deposits now, not at its next chain poll
        return answer

    def _accept_tradefl_terms(self, rid: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`accept_terms` of a tradefl round (data fraction and compute level)."""
        try:
            terms = terms_from_json(body.get("terms"))
            units = units_from_json(body.get("units"))
        except WireError as exc:
            raise AgentRequestError(400, str(exc)) from None
        active = body.get("active", list(terms.names))
        if not isinstance(active, list) or not all(isinstance(a, str) for a in active):
            raise AgentRequestError(400, "active must be a list of silo names")
        self._check_contract(body)
        doc = {"terms": body.get("terms"), "units": body.get("units"), "active": list(active)}
        with self._lock:
            record = self._record(rid)
            if record.terms == doc:
                return self._accepted_again(record)
            chain = self._chain()
            cfg = chain.round_config(rid)
            try:
                check_round(chain, rid, pushed_terms(chain, rid, terms, units), index=record.index)
            except TermsMismatch as exc:
                raise AgentRequestError(
                    409,
                    f"round {rid}: the pushed terms do not match the round on chain ({exc}); the "
                    "coordinator must push the terms it opened the round with",
                ) from None
            if record.index >= len(terms.names) or terms.names[record.index] != self.name:
                raise AgentRequestError(
                    409,
                    f"round {rid}: slot {record.index} is named "
                    f"{terms.names[record.index] if record.index < len(terms.names) else None!r} "
                    f"in the terms, but this silo is {self.name!r}; fix [silo].name or the "
                    "consortium's [[silos]] name",
                )
            if self.name not in active:
                raise AgentRequestError(409, f"round {rid}: this silo is not in active {active}")
            try:
                restrict_terms(terms, active)
            except WireError as exc:
                raise AgentRequestError(400, str(exc)) from None
            profile = chain.profile_record(rid, record.index)
            expected = round(self.s * cfg.x_scale)
            if profile.x_max != expected:
                raise AgentRequestError(
                    409,
                    f"round {rid}: the slot's xMax={profile.x_max} but this silo holds "
                    f"s={self.s:g} samples (xMax should be {expected}); fix the consortium's "
                    "[[silos]] s or the silo's [data]",
                )
            if record.terms is not None and record.assignment is not None:
                raise AgentRequestError(
                    409, f"round {rid}: terms already fixed and an assignment accepted"
                )
            record.terms = doc
            self.state.save_round(record)
            self._agents.pop(rid, None)
            self._agent(record)  # fail now, not at the first query, if the terms do not fit
        self.log("terms-accepted", round_id=rid, index=record.index, active=list(active))
        return {"accepted": True, "name": self.name, "index": record.index, "s": self.s}

    def _accepted_again(self, record: Any) -> dict[str, Any]:
        """The answer to terms this silo already checked and stored for the round: the
        parameters they were checked against are fixed on chain from ``roundOpen`` on, and the
        daemon checks them again before it deposits, so a re-push (the strategy phase pushes the
        deposit-time terms again) is answered without reading the chain."""
        self.log(
            "terms-accepted",
            round_id=record.round_id,
            index=record.index,
            active=list(record.terms.get("active", [])),
            again=True,
        )
        return {"accepted": True, "name": self.name, "index": record.index, "s": self.s}

    def _accept_cogen_terms(self, rid: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`accept_terms` of a cogen round (:mod:`fl_node.daemon._cogen`)."""
        if self.cogen is None:
            raise AgentRequestError(409, f"round {rid}: this silo takes part in no cogen round")
        try:
            terms = cogen_terms_from(body)
            units = units_from_json(body.get("units"))
        except ValueError as exc:
            raise AgentRequestError(400, str(exc)) from None
        active = body.get("active", list(terms.names))
        if not isinstance(active, list) or not all(isinstance(a, str) for a in active):
            raise AgentRequestError(400, "active must be a list of silo names")
        unknown = sorted(set(active) - set(terms.names))
        if unknown:
            raise AgentRequestError(400, f"active lists {unknown}, which are not in cogen.names")
        self._check_contract(body)
        public = {
            "mechanism": "cogen",
            "cogen": body.get("cogen"),
            "units": body.get("units"),
            "active": list(active),
        }
        with self._lock:
            record = self._record(rid)
            old = record.terms
            if old is not None and {k: old.get(k) for k in public} == public:
                return self._accepted_again(record)
            chain = self._chain()
            idx = record.index
            _check_pushed(
                chain, rid, idx, "cogen", lambda: cogen_pushed_terms(chain, rid, terms, units)
            )
            if terms.names[idx] != self.name:
                raise AgentRequestError(
                    409,
                    f"round {rid}: slot {idx} is named {terms.names[idx]!r} in the terms, but "
                    f"this silo is {self.name!r}; fix [silo].name or the consortium's [[silos]] "
                    "name",
                )
            if self.name not in active:
                raise AgentRequestError(409, f"round {rid}: this silo is not in active {active}")
            try:
                self.cogen.check(terms, idx)
            except ValueError as exc:
                raise AgentRequestError(409, f"round {rid}: {exc}") from None
            if old is not None and record.assignment is not None:
                raise AgentRequestError(
                    409, f"round {rid}: terms already fixed and an assignment accepted"
                )
            cost = self.cogen.price(terms, idx)
            record.terms = {**public, "private": cost}
            self.state.save_round(record)
            self._agents.pop(rid, None)
            self._agent(record)  # fail now, not at the first query, if the terms do not fit
        self.log("terms-accepted", round_id=rid, index=idx, active=list(active), mechanism="cogen")
        if old is None or old.get("private") != cost:  # once per round (terms are re-pushed)
            self.log(
                "generator-priced",
                round_id=rid,
                kind=cost["kind"],
                fit_cpu_seconds=cost["fit_cpu_seconds"],
                c=cost["c"],
            )
        return {"accepted": True, "name": self.name, "index": idx, "s": self.s}

    def _accept_market_terms(self, rid: int, body: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`accept_terms` of a market round (:mod:`fl_node.daemon._market`)."""
        if self.market is None:
            raise AgentRequestError(
                409, f"round {rid}: this silo's node.toml has no [market] table (c, K)"
            )
        try:
            terms, rounds = market_terms_from(body)
            units = units_from_json(body.get("units"))
        except ValueError as exc:
            raise AgentRequestError(400, str(exc)) from None
        active = body.get("active", terms.names)
        if active != terms.names:
            # every slot of a market round trains and is priced
            raise AgentRequestError(
                400, f"active must list every silo {terms.names}: got {active!r}"
            )
        self._check_contract(body)
        with self._lock:
            chain = self._chain()
            record = self._record(rid)
            idx = record.index
            _check_pushed(
                chain,
                rid,
                idx,
                "market",
                lambda: market_pushed_terms(chain, rid, terms, units, rounds),
            )
            try:
                self.market.check(terms, idx)
            except ValueError as exc:
                raise AgentRequestError(409, f"round {rid}: {exc}") from None
            record.terms = {
                "mechanism": "market",
                "market": body["market"],
                "units": body["units"],
                "rounds": rounds,
                "active": list(terms.names),
            }
            self.state.save_round(record)
        self.log("terms-accepted", round_id=rid, index=idx, mechanism="market", N=self.market.N)
        return {"accepted": True, "name": self.name, "index": idx, "s": self.s}

    def best_response(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The agent's best response to ``others_total``; recorded in the round's answers."""
        rid = self._round_id(body)
        others = body.get("others_total")
        if isinstance(others, bool) or not isinstance(others, int | float) or not others >= 0:
            raise AgentRequestError(
                400, f"others_total must be a non-negative number, got {others!r}"
            )
        with self._lock:
            record = self.state.load_round(rid)
            if record is None or record.terms is None:
                raise AgentRequestError(409, f"round {rid}: no terms yet; POST /terms first")
            strategy = self._agent(record).respond(float(others))
            answer = _answer_json(record.terms, strategy)
            record.answers.append({"others_total": float(others), **answer, "time": time.time()})
            self.state.save_round(record)
        self.log(
            "best-response",
            round_id=rid,
            others_total=float(others),
            d=strategy.d,
            f=strategy.f,
            x=strategy.x,
        )
        return answer

    def accept_assignment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Check an attested assignment against the agent's own last answer and keep it."""
        rid = self._round_id(body)
        try:
            return self._accept_assignment(rid, body)
        except AgentRequestError as exc:
            self.log("assignment-rejected", round_id=rid, status=exc.status, reason=str(exc))
            raise

    def _accept_assignment(self, rid: int, body: Mapping[str, Any]) -> dict[str, Any]:
        record = self.state.load_round(rid)
        cogen = record is not None and record.terms is not None and _is_cogen(record.terms)
        fields: dict[str, Any] = {}
        for key in ("x",) if cogen else ("d", "f", "x"):
            value = body.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AgentRequestError(400, f"{key} must be a number, got {value!r}")
            fields[key] = float(value)
        for key in ("index", "x_onchain", "f_onchain"):
            value = body.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise AgentRequestError(400, f"{key} must be a non-negative integer, got {value!r}")
            fields[key] = value
        with self._lock:
            record = self.state.load_round(rid)
            if record is None or record.terms is None or not record.answers:
                raise AgentRequestError(
                    409, f"round {rid}: this silo gave no best response in this round"
                )
            if fields["index"] != record.index:
                raise AgentRequestError(
                    409,
                    f"round {rid}: index {fields['index']} is not this silo's slot {record.index}",
                )
            mine = record.answers[-1]
            for key in ("x",) if cogen else ("d", "f", "x"):
                if not _close(fields[key], float(mine[key])):
                    raise AgentRequestError(
                        409,
                        f"round {rid}: assigned {key}={fields[key]!r} differs from this silo's "
                        f"own best response {key}={mine[key]!r}",
                    )
            chain = self._chain()
            if cogen:
                from fl_node.mechanisms.cogen import CogenStrategy, cogen_report

                mine_cogen = CogenStrategy(self.name, float(mine["x"]), float(mine["D"]))
                x_own, f_own = cogen_report(chain, rid, record.index, mine_cogen)
            else:
                own = Strategy(self.name, float(mine["d"]), float(mine["f"]), float(mine["x"]))
                x_own, f_own = to_report(own, self.s, chain, rid, record.index)
            if abs(fields["x_onchain"] - x_own) > 1 or fields["f_onchain"] != f_own:
                raise AgentRequestError(
                    409,
                    f"round {rid}: on-chain report (x={fields['x_onchain']}, "
                    f"f={fields['f_onchain']}) does not encode this silo's strategy "
                    f"(x={x_own}, f={f_own})",
                )
            # with a coordinator, the coordinator's table reports it; else the daemon's loop does
            by_table = chain.round_config(rid).attested
            doc = {**fields, "by_table": by_table, "time": time.time()}
            old = record.assignment
            if old is not None and any(old.get(k) != doc[k] for k in ("x_onchain", "f_onchain")):
                if chain.profile_record(rid, record.index).reported:
                    raise AgentRequestError(409, f"round {rid}: already reported another value")
            record.assignment = doc
            self.state.save_round(record)
        self.log(
            "assignment-accepted",
            round_id=rid,
            index=record.index,
            x_onchain=fields["x_onchain"],
            f_onchain=fields["f_onchain"],
            by_table=by_table,
        )
        self.wake()
        return {"accepted": True, "x": fields["x_onchain"], "f": fields["f_onchain"]}

    def round_closed(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The coordinator says the round settled (or was abandoned): wake the daemon's loop,
        which reads the phase on chain and withdraws if the chain agrees. Nothing is taken from
        the message but the wake-up, so a false one costs one chain poll."""
        rid = self._round_id(body)
        self.wake()
        return {"woken": True, "round_id": rid}


def _is_cogen(terms: Mapping[str, Any]) -> bool:
    return terms.get("mechanism") == "cogen"


def _answer_json(terms: Mapping[str, Any] | None, strategy: Any) -> dict[str, Any]:
    """A best response as the round's mechanism sends it (cogen: name, x, D)."""
    if terms is not None and _is_cogen(terms):
        from fl_node.mechanisms import get_mechanism

        return get_mechanism("cogen").strategy_to_json(strategy)
    return strategy_to_json(strategy)


def _check_pushed(chain: Any, rid: int, index: int, what: str, expected: Callable[[], Any]) -> None:
    """Check the round on chain against the pushed ``what`` terms (``expected()`` builds what
    the silo expects from them); a mismatch is a 409 naming the field."""
    try:
        check_round(chain, rid, expected(), index=index)
    except (TermsMismatch, ValueError) as exc:
        raise AgentRequestError(
            409,
            f"round {rid}: the pushed {what} terms do not match the round on chain ({exc}); the "
            "coordinator must push the terms it opened the round with",
        ) from None
