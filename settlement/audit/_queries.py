"""Read models over the index: rounds, org records, event lists and balances.

Everything here reads SQLite only (no node access), so the API and the CLI answer from the index
as of its cursor block; the phase is evaluated at that block's timestamp, the way the contract's
``phaseOf`` evaluates it at ``block.timestamp``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from settlement._errors import ConfigError
from settlement._fixedpoint import WAD, unpack_rho
from settlement._market import unpack_market_table
from settlement._measured import unpack_measured
from settlement._rules import Rule
from settlement._types import ZERO_ADDRESS, OrgSpec, Phase, RoundConfig, to_address
from settlement.audit import _db
from settlement.audit._errors import UnknownOrgError, UnknownRoundError
from settlement.audit._events import EVENT_TABLE
from settlement.audit._graph_svg import graph_edges, market_graph_svg
from settlement.audit._mechanisms import RoundInputs, mechanism_for
from settlement.audit._models import (
    PHASE_NAMES,
    Abandonment,
    AccountBalance,
    AccountRound,
    Balances,
    ContributionOut,
    DepositOut,
    EventRef,
    MarketEdge,
    MarketGraphOut,
    MarketGraphs,
    OrgRecord,
    Page,
    PayoffOut,
    RoundConfigOut,
    RoundDetail,
    RoundSummary,
    Settlement,
    Status,
    TxEvent,
    WithdrawalOut,
)

#: SQLite's INTEGER range: a larger id cannot be in the index
_MAX_ID = 2**63 - 1

_EVENT_COLS = "t.block_number, t.block_hash, t.log_index, t.tx_hash, b.timestamp AS ts"
_JOIN_BLOCK = "LEFT JOIN blocks b ON b.number = t.block_number AND b.hash = t.block_hash"


def _ref(row: sqlite3.Row) -> EventRef:
    return EventRef(
        block_number=row["block_number"],
        block_hash=row["block_hash"],
        log_index=row["log_index"],
        tx_hash=row["tx_hash"],
        timestamp=row["ts"],
    )


def _rows(conn: sqlite3.Connection, table: str, round_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT t.*, {_EVENT_COLS} FROM {table} t {_JOIN_BLOCK} WHERE t.round_id = ? "
        "ORDER BY t.block_number, t.log_index",
        (round_id,),
    ).fetchall()


def indexed_head(conn: sqlite3.Connection) -> tuple[int, str, int | None]:
    """``(block, hash, timestamp)`` of the index cursor (``(-1, "", None)`` when empty)."""
    number, block_hash = _db.get_cursor(conn)
    row = conn.execute("SELECT timestamp FROM blocks WHERE number = ?", (number,)).fetchone()
    return number, block_hash, None if row is None else int(row[0])


def round_count(conn: sqlite3.Connection) -> int:
    """Number of rounds in the index."""
    return int(conn.execute("SELECT COUNT(*) FROM rounds").fetchone()[0])


def status(conn: sqlite3.Connection) -> Status:
    """What the index covers (``head_block`` is left for the caller, who may reach the node)."""
    number, block_hash, ts = indexed_head(conn)
    chain_id = _db.get_meta(conn, "chain_id")
    deployed = _db.get_meta(conn, "deployment_block")
    return Status(
        chain_id=None if chain_id is None else int(chain_id),
        contract_address=_db.get_meta(conn, "contract_address"),
        genesis_hash=_db.get_meta(conn, "genesis_hash"),
        deployment_block=None if deployed is None else int(deployed),
        indexed_block=number,
        indexed_block_hash=block_hash,
        indexed_timestamp=ts,
        head_block=None,
        rounds=round_count(conn),
    )


def phase_at(
    *,
    settled: bool,
    abandoned: bool,
    now: int | None,
    deposit_deadline: int,
    report_deadline: int,
    n: int,
    joined: int,
    reported: int,
    table: bool | None = None,
) -> Phase:
    """The contract's ``_phase`` rule, evaluated at block timestamp ``now``.

    Terminal flags first; then Deposit while the deposit deadline has not passed and a slot is
    still free, Report while the report deadline has not passed and reports are not done (with
    a coordinator, ``table`` is whether its table is in; without one, ``table`` is None and
    reports are done once every depositor reported), else Calculate.
    """
    if settled:
        return Phase.SETTLED
    if abandoned:
        return Phase.ABANDONED
    if now is None or (now <= deposit_deadline and joined < n):
        return Phase.DEPOSIT
    done = reported == joined if table is None else table
    if now <= report_deadline and not done:
        return Phase.REPORT
    return Phase.CALCULATE


def contribution_real(score: int, x_scale: int, f_scale: int, mechanism_id: int = 1) -> float:
    """The real contribution of a score, ``score / scoreUnit``, as a float (display only).

    ``scoreUnit`` is ``xScale fScale WAD`` for TradeFL (``x + lambda f``) and ``xScale WAD`` for
    cogen (``D + q x``).
    """
    unit = x_scale * f_scale * WAD if mechanism_id == 1 else x_scale * WAD
    return float(Fraction(score, unit))


@dataclass
class RoundData:
    """Every indexed row of one round, loaded once."""

    round_id: int
    opened: sqlite3.Row
    orgs: list[sqlite3.Row]
    rho_chunks: list[sqlite3.Row]
    ready: sqlite3.Row | None
    deposits: list[sqlite3.Row]
    contributions: list[sqlite3.Row]
    report_table: sqlite3.Row | None
    payoffs: list[sqlite3.Row]
    withdrawals: list[sqlite3.Row]
    settlement: sqlite3.Row | None
    abandonment: sqlite3.Row | None
    as_of_block: int
    as_of_timestamp: int | None
    chain_id: int | None = None
    contract: str | None = None
    #: PayoffDeferred rows: push payouts the recipient refused (it pulls later)
    deferrals: list[sqlite3.Row] = field(default_factory=list)

    @property
    def phase(self) -> Phase:
        return phase_at(
            settled=self.settlement is not None,
            abandoned=self.abandonment is not None,
            now=self.as_of_timestamp,
            deposit_deadline=self.opened["deposit_deadline"],
            report_deadline=self.opened["report_deadline"],
            n=self.n,
            joined=len({int(r["idx"]) for r in self.deposits}),
            reported=len({int(r["idx"]) for r in self.contributions}),
            table=None if not self.attested else self.report_table is not None,
        )

    @property
    def n(self) -> int:
        return len(self.orgs)

    @property
    def attested(self) -> bool:
        """Whether a coordinator submits the report table (else each org self-reports)."""
        return int(self.opened["coordinator"], 16) != 0

    @property
    def rho(self) -> bytes:
        """The weight triangle as uploaded so far (the chunks' data-contract code, in order)."""
        chunks = sorted(self.rho_chunks, key=lambda r: int(r["chunk"]))
        return b"".join(bytes.fromhex(r["code"][2:]) for r in chunks)

    @property
    def rho_complete(self) -> bool:
        return len(self.rho) == self.n * (self.n - 1)

    @property
    def rho_bps(self) -> list[list[int]]:
        """The full weight matrix in basis points (zeros until the triangle is complete)."""
        if not self.rho_complete:
            return [[0] * self.n for _ in range(self.n)]
        return unpack_rho(self.rho, self.n)

    def config(self) -> RoundConfig:
        """The round's ``RoundConfig`` from the RoundOpened row (ConfigError if malformed)."""
        o = self.opened
        return RoundConfig(
            gamma_wad=int(o["gamma_wad"]),
            lambda_wad=int(o["lambda_wad"]),
            d_min_wad=int(o["d_min_wad"]),
            x_scale=int(o["x_scale"]),
            f_scale=int(o["f_scale"]),
            deposit_deadline=int(o["deposit_deadline"]),
            report_deadline=int(o["report_deadline"]),
            coordinator=o["coordinator"],
            token=o["token"],
            mechanism_id=int(o["mechanism_id"]),
        )

    def org_specs(self) -> list[OrgSpec]:
        """The org slots as registered (OrgRegistered)."""
        return [
            OrgSpec(to_address(r["account"]), int(r["x_max"]), int(r["f_max"]), int(r["base"]))
            for r in self.orgs
        ]

    def rule(self) -> Rule | None:
        """The settlement mirror's rule of this round, None for a mechanism it does not know."""
        try:
            return Rule(self.config())
        except ConfigError:
            return None

    def by_index(self, rows: list[sqlite3.Row]) -> dict[int, list[sqlite3.Row]]:
        out: dict[int, list[sqlite3.Row]] = {}
        for r in rows:
            out.setdefault(int(r["idx"]), []).append(r)
        return out


def load_round(conn: sqlite3.Connection, round_id: int) -> RoundData:
    """Load one round's rows.

    Raises
    ------
    UnknownRoundError
        If the round is not in the index.
    """
    opened = None
    if 0 <= round_id <= _MAX_ID:
        opened = conn.execute(
            f"SELECT t.*, {_EVENT_COLS} FROM rounds t {_JOIN_BLOCK} WHERE t.round_id = ?",
            (round_id,),
        ).fetchone()
    if opened is None:
        raise UnknownRoundError(round_id, round_count(conn))
    settled = _rows(conn, "settlements", round_id)
    abandoned = _rows(conn, "abandonments", round_id)
    ready = _rows(conn, "ready", round_id)
    table = _rows(conn, "report_tables", round_id)
    number, _, ts = indexed_head(conn)
    chain_id = _db.get_meta(conn, "chain_id")
    return RoundData(
        round_id=round_id,
        opened=opened,
        orgs=conn.execute(
            f"SELECT t.*, {_EVENT_COLS} FROM orgs t {_JOIN_BLOCK} WHERE t.round_id = ? "
            "ORDER BY t.idx",
            (round_id,),
        ).fetchall(),
        rho_chunks=_rows(conn, "rho_chunks", round_id),
        ready=ready[0] if ready else None,
        deposits=_rows(conn, "deposits", round_id),
        contributions=_rows(conn, "contributions", round_id),
        report_table=table[0] if table else None,
        payoffs=_rows(conn, "payoffs", round_id),
        withdrawals=_rows(conn, "withdrawals", round_id),
        deferrals=_rows(conn, "deferrals", round_id),
        settlement=settled[0] if settled else None,
        abandonment=abandoned[0] if abandoned else None,
        as_of_block=number,
        as_of_timestamp=ts,
        chain_id=None if chain_id is None else int(chain_id),
        contract=_db.get_meta(conn, "contract_address"),
    )


def reports_of(data: RoundData) -> dict[int, tuple[int, int]]:
    """``index -> (x, f)`` of every slot that reported (its first ContributionSubmitted)."""
    return {
        i: (int(r[0]["x"]), int(r[0]["f"])) for i, r in data.by_index(data.contributions).items()
    }


def round_inputs(data: RoundData) -> RoundInputs:
    """What the chain logged as the round's inputs (ConfigError if the parameters are malformed)."""
    return RoundInputs(
        config=data.config(),
        orgs=data.org_specs(),
        rho_bps=data.rho_bps,
        deposits={i: _sum(rows, "amount_wei") for i, rows in data.by_index(data.deposits).items()},
        reports=reports_of(data),
        market_table=_market_table(data),
    )


def _table(data: RoundData, mechanism_id: int) -> bytes | None:
    """The report table's bytes as indexed from ``ReportTableSubmitted``, for a round of
    ``mechanism_id`` (None for another mechanism or before the table)."""
    row = data.report_table
    if int(data.opened["mechanism_id"]) != mechanism_id or row is None or row["code"] is None:
        return None
    return bytes.fromhex(str(row["code"])[2:])


def measured_scores(data: RoundData) -> list[float | None] | None:
    """A cogen round's measured scores as its table stored them (None: no table or no annex)."""
    table = _table(data, 2)
    return None if table is None else unpack_measured(len(data.orgs), table)


def _market_table(data: RoundData) -> bytes | None:
    """A market round's table bytes (None otherwise)."""
    return _table(data, 3)


def market_graphs(data: RoundData, labels: Mapping[str, str]) -> MarketGraphs:
    """A market round's import graphs (data and inline SVG), one per FL round.

    Raises
    ------
    ValueError
        If the round is not a market round (mechanism 3).
    """
    mechanism = int(data.opened["mechanism_id"])
    if mechanism != 3:
        raise ValueError(
            f"round {data.round_id} runs mechanism {mechanism}, not the market (3): it has no "
            "import graphs"
        )
    specs = data.org_specs()
    names = [labels.get(o.account) or f"#{i}" for i, o in enumerate(specs)]
    table = _market_table(data)
    graphs = unpack_market_table(len(specs), table) if table is not None else []
    return MarketGraphs(
        round_id=data.round_id,
        n=len(specs),
        graphs=[
            MarketGraphOut(
                fl_round=k,
                edges=[
                    MarketEdge(importer=i, exporter=j, distance_wad=d) for i, j, d in graph_edges(g)
                ],
                svg=market_graph_svg(g, names, f"{data.round_id}-{k}"),
            )
            for k, g in enumerate(graphs, start=1)
        ],
    )


def mechanism_parameters(data: RoundData) -> dict[str, Any]:
    """The round's numbers in its mechanism's terms (``Mechanism.parameters``); {} if unknown."""
    mechanism = mechanism_for(int(data.opened["mechanism_id"]))
    if mechanism is None:
        return {}
    try:
        return mechanism.parameters(round_inputs(data))
    except (ConfigError, ValueError):
        return {}


def _sum(rows: list[sqlite3.Row], column: str) -> int:
    return sum(int(r[column]) for r in rows)


def summary(data: RoundData) -> RoundSummary:
    """The ``roundState``-like summary of a loaded round."""
    o = data.opened
    phase = data.phase
    return RoundSummary(
        round_id=data.round_id,
        phase=PHASE_NAMES[phase],
        phase_id=int(phase),
        n=data.n,
        joined_count=len({int(r["idx"]) for r in data.deposits}),
        reported_count=(
            int(data.report_table["reports"])
            if data.report_table is not None and int(data.opened["mechanism_id"]) == 3
            else len({int(r["idx"]) for r in data.contributions})
        ),
        total_deposits_wei=_sum(data.deposits, "amount_wei"),
        total_withdrawn_wei=_sum(data.withdrawals, "amount_wei"),
        rho_hash=data.ready["rho_hash"] if data.ready is not None else "0x" + "00" * 32,
        payoff_digest=(
            data.settlement["payoff_digest"] if data.settlement is not None else "0x" + "00" * 32
        ),
        operator=o["operator"],
        deposit_deadline=o["deposit_deadline"],
        report_deadline=o["report_deadline"],
        token=o["token"],
        opened=_ref(o),
    )


def detail(data: RoundData) -> RoundDetail:
    """Parameters, phase, deadlines and terminal events of a loaded round."""
    o = data.opened
    parameters = mechanism_parameters(data)
    s, a = data.settlement, data.abandonment
    return RoundDetail(
        **summary(data).model_dump(),
        config=RoundConfigOut(
            mechanism_id=o["mechanism_id"],
            token=o["token"],
            gamma_wad=int(o["gamma_wad"]),
            lambda_wad=int(o["lambda_wad"]),
            d_min_wad=int(o["d_min_wad"]),
            x_scale=o["x_scale"],
            f_scale=o["f_scale"],
            deposit_deadline=o["deposit_deadline"],
            report_deadline=o["report_deadline"],
            coordinator=o["coordinator"],
            params_digest=None if data.ready is None else data.ready["params_digest"],
            gamma_real=int(o["gamma_wad"]) / WAD,
            lambda_real=int(o["lambda_wad"]) / WAD,
            d_min_real=int(o["d_min_wad"]) / WAD,
            parameters=parameters,
        ),
        rho_bps=data.rho_bps,
        settlement=None
        if s is None
        else Settlement(
            caller=s["caller"],
            depositors=s["depositors"],
            payoff_digest=s["payoff_digest"],
            event=_ref(s),
        ),
        abandonment=None
        if a is None
        else Abandonment(
            caller=a["caller"],
            at_phase=PHASE_NAMES[a["at_phase"]] if 0 <= a["at_phase"] < 6 else "None",
            event=_ref(a),
        ),
        as_of_block=data.as_of_block,
        as_of_timestamp=data.as_of_timestamp,
    )


def owed(phase: Phase, joined: bool, deposited: int, payoff: int, withdrawn: bool) -> int:
    """What a slot can still withdraw (or will, once the round ends).

    ``joined`` decides, not the amount: a slot whose bond is 0 joins with a deposit of 0 and is
    still owed its R_i once settled.
    """
    if withdrawn or not joined:
        return 0
    if phase == Phase.SETTLED:
        return deposited + payoff
    return deposited


def org_records(data: RoundData) -> list[OrgRecord]:
    """One ``profileRecord``-like record per slot of a loaded round."""
    deposits = data.by_index(data.deposits)
    contributions = data.by_index(data.contributions)
    payoffs = data.by_index(data.payoffs)
    withdrawals = data.by_index(data.withdrawals)
    deferred = data.by_index(data.deferrals)
    phase = data.phase
    measured = measured_scores(data)
    xs, fs = data.opened["x_scale"], data.opened["f_scale"]
    mech = int(data.opened["mechanism_id"])
    rule = data.rule()
    specs = data.org_specs()
    # the bond the contract required at deposit; for a slot that did not join, the mirror's
    bonds = rule.bonds(specs, data.rho_bps) if rule is not None and data.rho_complete else None
    out = []
    for org, spec in zip(data.orgs, specs, strict=True):
        i = int(org["idx"])
        deposited = _sum(deposits.get(i, []), "amount_wei")
        drow = deposits.get(i, [])
        bond = int(drow[0]["bond_wei"]) if drow else (bonds[i] if bonds is not None else 0)
        c = contributions.get(i, [])
        prow = payoffs.get(i, [])
        if c:
            score = int(c[0]["score"])
        elif prow:
            score = int(prow[0]["score"])
        elif drow and rule is not None:
            score = rule.min_score(spec)  # a silent depositor is settled at its minimum
        else:
            score = 0
        payoff = _sum(payoffs.get(i, []), "payoff_wei")
        withdrawn_wei = _sum(withdrawals.get(i, []), "amount_wei")
        withdrawn = bool(withdrawals.get(i))
        out.append(
            OrgRecord(
                round_id=data.round_id,
                index=i,
                account=org["account"],
                bond_wei=bond,
                base=int(org["base"]),
                deposited_wei=deposited,
                x_max=org["x_max"],
                f_max=org["f_max"],
                x=int(c[0]["x"]) if c else 0,
                f=int(c[0]["f"]) if c else 0,
                score=score,
                contribution_real=contribution_real(score, xs, fs, mech),
                payoff_wei=payoff,
                payoff_pending=phase not in (Phase.SETTLED, Phase.ABANDONED),
                joined=bool(deposits.get(i)),
                reported=bool(c),
                withdrawn=withdrawn,
                withdrawn_wei=withdrawn_wei,
                owed_wei=owed(phase, bool(deposits.get(i)), deposited, payoff, withdrawn),
                payout_deferred=bool(deferred.get(i)),
                measured_score=None if measured is None else measured[i],
            )
        )
    return out


def org_record(data: RoundData, index: int) -> OrgRecord:
    """The record of slot ``index``; raises :class:`UnknownOrgError` if out of range."""
    records = org_records(data)
    if not 0 <= index < len(records):
        raise UnknownOrgError(data.round_id, index, len(records))
    return records[index]


def deposits(data: RoundData) -> list[DepositOut]:
    return [
        DepositOut(
            round_id=data.round_id,
            index=r["idx"],
            account=r["account"],
            amount_wei=int(r["amount_wei"]),
            bond_wei=int(r["bond_wei"]),
            event=_ref(r),
        )
        for r in data.deposits
    ]


def contributions(data: RoundData) -> list[ContributionOut]:
    xs, fs = data.opened["x_scale"], data.opened["f_scale"]
    return [
        ContributionOut(
            round_id=data.round_id,
            index=r["idx"],
            account=r["account"],
            x=r["x"],
            f=r["f"],
            score=int(r["score"]),
            contribution_real=contribution_real(
                int(r["score"]), xs, fs, int(data.opened["mechanism_id"])
            ),
            event=_ref(r),
        )
        for r in data.contributions
    ]


def payoffs(data: RoundData) -> list[PayoffOut]:
    return [
        PayoffOut(
            round_id=data.round_id,
            index=r["idx"],
            account=r["account"],
            score=int(r["score"]),
            payoff_wei=int(r["payoff_wei"]),
            event=_ref(r),
        )
        for r in data.payoffs
    ]


def withdrawals(data: RoundData) -> list[WithdrawalOut]:
    return [
        WithdrawalOut(
            round_id=data.round_id,
            index=r["idx"],
            account=r["account"],
            amount_wei=int(r["amount_wei"]),
            event=_ref(r),
        )
        for r in data.withdrawals
    ]


def round_ids(conn: sqlite3.Connection, offset: int = 0, limit: int = -1) -> list[int]:
    """Indexed round ids in increasing order."""
    rows = conn.execute(
        "SELECT round_id FROM rounds ORDER BY round_id LIMIT ? OFFSET ?", (limit, offset)
    )
    return [int(r[0]) for r in rows]


def list_rounds(conn: sqlite3.Connection, page: int = 1, per_page: int = 50) -> Page[RoundSummary]:
    """One page of round summaries, oldest first."""
    ids = round_ids(conn, (page - 1) * per_page, per_page)
    return Page[RoundSummary](
        items=[summary(load_round(conn, i)) for i in ids],
        page=page,
        per_page=per_page,
        total=round_count(conn),
    )


def paginate(items: list[Any], page: int, per_page: int) -> Page[Any]:
    """Slice a full list into a :class:`Page`."""
    start = (page - 1) * per_page
    return Page[Any](
        items=items[start : start + per_page], page=page, per_page=per_page, total=len(items)
    )


def balances(conn: sqlite3.Connection, account: str | None = None) -> Balances:
    """Per-account deposits, payoffs, withdrawals and what is still owed, over every round.

    Parameters
    ----------
    account : str, optional
        Checksummed address to restrict to (an unknown account yields an empty list).
    """
    by_account: dict[tuple[str, str], list[AccountRound]] = {}
    if account is None:
        ids = round_ids(conn)
    else:
        ids = [
            int(r[0])
            for r in conn.execute(
                "SELECT DISTINCT round_id FROM orgs WHERE account = ? ORDER BY round_id",
                (account,),
            )
        ]
    for rid in ids:
        data = load_round(conn, rid)
        phase = data.phase
        token = to_address(data.config().token)
        for rec in org_records(data):
            if account is not None and rec.account != account:
                continue
            if not rec.joined:
                continue
            by_account.setdefault((rec.account, token), []).append(
                AccountRound(
                    round_id=rid,
                    index=rec.index,
                    phase=PHASE_NAMES[phase],
                    deposited_wei=rec.deposited_wei,
                    payoff_wei=rec.payoff_wei,
                    payoff_pending=rec.payoff_pending,
                    withdrawn_wei=rec.withdrawn_wei,
                    owed_wei=rec.owed_wei,
                )
            )
    accounts = [
        AccountBalance(
            account=acct,
            token=token,
            deposited_wei=sum(r.deposited_wei for r in rounds),
            payoff_wei=sum(r.payoff_wei for r in rounds),
            withdrawn_wei=sum(r.withdrawn_wei for r in rounds),
            owed_wei=sum(r.owed_wei for r in rounds),
            rounds=rounds,
        )
        for (acct, token), rounds in sorted(by_account.items(), key=lambda kv: _asset_key(*kv[0]))
    ]
    return Balances(liabilities_wei=liabilities(conn), contract_balance_wei=None, accounts=accounts)


def _asset_key(account: str, token: str) -> tuple[str, bool, str]:
    """Accounts in address order, each with its ether entry before its token entries."""
    return account, token != ZERO_ADDRESS, token


def round_tokens(conn: sqlite3.Connection) -> list[str]:
    """Every ERC-20 an indexed round settles in, in the order first used (ETH excluded)."""
    rows = conn.execute(
        "SELECT token FROM rounds WHERE token != ? GROUP BY token ORDER BY MIN(round_id)",
        (ZERO_ADDRESS,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def liabilities(conn: sqlite3.Connection, token: str = ZERO_ADDRESS) -> int:
    """What the index says the contract owes in one asset (default ETH): deposits - withdrawals.

    Only rounds settling in ``token`` count (the contract's ``liabilities(token)``).
    """
    out = 0
    for table in ("deposits", "withdrawals"):
        rows = conn.execute(
            f"SELECT t.amount_wei FROM {table} t JOIN rounds r ON r.round_id = t.round_id "
            "WHERE r.token = ?",
            (to_address(token),),
        ).fetchall()
        out += _sum(rows, "amount_wei") * (1 if table == "deposits" else -1)
    return out


_EVENT_NAMES = {table: name for name, table in EVENT_TABLE.items()}


def events_where(conn: sqlite3.Connection, column: str, value: str | int) -> list[TxEvent]:
    """Indexed events of one transaction (``column="tx_hash"``) or block (``"block_number"``)."""
    if column not in ("tx_hash", "block_number"):
        raise ValueError(f"column: {column!r} is not tx_hash or block_number")
    out: list[tuple[int, int, TxEvent]] = []
    for table in _db.EVENT_TABLES:
        rows = conn.execute(
            f"SELECT t.*, {_EVENT_COLS} FROM {table} t {_JOIN_BLOCK} WHERE t.{column} = ?",
            (value,),
        ).fetchall()
        for r in rows:
            keys = r.keys()
            event = TxEvent(
                event=_EVENT_NAMES[table],
                round_id=r["round_id"],
                index=r["idx"] if "idx" in keys else None,
                account=r["account"] if "account" in keys else None,
                ref=_ref(r),
            )
            out.append((r["block_number"], r["log_index"], event))
    return [e for _, _, e in sorted(out, key=lambda x: (x[0], x[1]))]
