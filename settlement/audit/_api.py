"""The read-only auditor API (FastAPI) and the dashboard it serves.

Every answer comes from the SQLite index; ``/rounds/{id}/verify``, ``/deployment`` and the
exports also read the contract (views, balance, code) when a node is configured. There is no
endpoint that writes: no keys, no transactions. Client mistakes get a 4xx with a message that
names the parameter and the fix. Every route that returns amounts takes ``?amounts=string`` to
send them as decimal strings (JavaScript's ``JSON.parse`` rounds integers above 2^53).

The interactive Swagger page is not served: it loads its assets from a CDN and is blank offline.
The schema is at ``/openapi.json``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from eth_utils import is_checksum_address, to_checksum_address
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from settlement.audit import _queries as q
from settlement.audit._amounts import AmountFormat, render_amounts
from settlement.audit._deployment import auditor_version, deployment_info, solvency
from settlement.audit._errors import UnknownOrgError, UnknownRoundError
from settlement.audit._export import round_csv, sealed_export
from settlement.audit._models import (
    AccountBalance,
    Balances,
    ContributionOut,
    DeploymentReport,
    DepositOut,
    MarketGraphs,
    OrgRecord,
    Page,
    PayoffOut,
    RoundDetail,
    RoundSummary,
    Status,
    TxEvent,
    Verification,
    WithdrawalOut,
)
from settlement.audit._service import AuditService
from settlement.audit._verify import _verify

STATIC_DIR = Path(__file__).resolve().parent / "static"

RoundId = Annotated[int, PathParam(ge=0, description="round id (ids start at 1; see GET /rounds)")]
PageNo = Annotated[int, Query(ge=1, le=2**31, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=1000, description="items per page (1 .. 1000)")]
Amounts = Annotated[
    Literal["number", "string"],
    Query(
        description="number (default): amounts and scores as exact JSON integers; string: as "
        "decimal strings, for clients whose JSON parser rounds integers above 2^53 "
        "(every *_wei, *_wad and score* property)"
    ),
]
Address = Annotated[
    str,
    PathParam(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="account address: 0x + 40 hex digits (checksummed or all one case)",
    ),
]
TxHash = Annotated[
    str, PathParam(pattern=r"^0x[0-9a-fA-F]{64}$", description="transaction hash: 0x + 64 hex")
]
BlockNo = Annotated[int, PathParam(ge=0, le=2**63 - 1, description="block number")]


class ErrorOut(BaseModel):
    """An error answer."""

    message: str = Field(description="what is wrong and how to fix it")
    detail: Any = Field(description="the same message, or the list of validation errors")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


#: responses every operation documents; path-parameter operations add their 404
_INVALID: dict[int | str, dict[str, Any]] = {
    422: _error("a parameter is invalid; the message names it"),
    400: _error("bad value"),
}
_NO_ROUND: dict[int | str, dict[str, Any]] = {
    404: _error("the round (or org slot) is not in the index"),
    **_INVALID,
}
_NO_EVENTS: dict[int | str, dict[str, Any]] = {
    404: _error("no indexed event of this contract is there"),
    **_INVALID,
}


def _reader(request: Request) -> Iterator[sqlite3.Connection]:
    service: AuditService = request.app.state.service
    with service.reader() as conn:
        yield conn


Conn = Annotated[sqlite3.Connection, Depends(_reader)]


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("path", "query", "body")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def _out(value: BaseModel, amounts: AmountFormat) -> Any:
    """The model itself, or its JSON with amounts as strings."""
    if amounts == "number":
        return value
    return JSONResponse(render_amounts(value.model_dump(mode="json"), amounts))


def create_app(service: AuditService) -> FastAPI:
    """Build the FastAPI application over ``service``.

    Parameters
    ----------
    service : AuditService
        Index location and (optional) node; its background indexer is started and stopped by the
        application's lifespan only if the caller does so (see ``fedsettle audit serve``).
    """
    app = FastAPI(
        title="fedsettle auditor",
        version="2",
        description=(
            "Read-only audit API over the FedSettle contract's events: rounds, org records, "
            "contributions, payoffs, withdrawals, balances, the deployment (code, solvency), "
            "and an independent recomputation of every payoff with tri-state checks. Amounts "
            "are exact integers in wei; add ?amounts=string to get them as decimal strings."
        ),
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service

    # ------------------------------------------------------------------ errors
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse(
            status_code=422,
            content={"message": _describe(errors), "detail": _jsonable(errors)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"message": str(exc.detail), "detail": exc.detail},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(UnknownRoundError)
    @app.exception_handler(UnknownOrgError)
    async def _unknown(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=404, content={"message": str(exc), "detail": str(exc)})

    @app.exception_handler(ValueError)
    @app.exception_handler(OverflowError)
    async def _bad_value(request: Request, exc: Exception) -> JSONResponse:
        # a value that passed schema validation but not the code's own checks is still the
        # client's input, not a server fault
        msg = f"bad request: {exc}"
        return JSONResponse(status_code=400, content={"message": msg, "detail": msg})

    # ------------------------------------------------------------------ dashboard
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    # ------------------------------------------------------------------ status
    @app.get("/status", response_model=Status, tags=["index"])
    def get_status(conn: Conn) -> Status:
        """What the index covers: chain, contract, last indexed block, node head, org labels."""
        out = q.status(conn)
        out.head_block = service.head()
        out.labels = service.labels
        out.auditor_version = auditor_version()
        return out

    @app.get("/deployment", response_model=DeploymentReport, tags=["index"], responses=_INVALID)
    def get_deployment(conn: Conn, amounts: Amounts = "number") -> Any:
        """The deployment (chain, genesis, contract, code vs artifact) and contract solvency.

        Solvency compares the contract's balance with ``liabilities()`` and with the index; a
        surplus (ether forced in) and a shortfall both fail the check.
        """
        report = DeploymentReport(
            deployment=deployment_info(conn, service.chain, service.artifact),
            solvency=solvency(conn, service.chain),
        )
        return _out(report, amounts)

    # ------------------------------------------------------------------ rounds
    @app.get("/rounds", response_model=Page[RoundSummary], tags=["rounds"], responses=_INVALID)
    def list_rounds(
        conn: Conn, page: PageNo = 1, per_page: PerPage = 50, amounts: Amounts = "number"
    ) -> Any:
        """Rounds, oldest first, with phase, counts and totals (like ``roundState``)."""
        return _out(q.list_rounds(conn, page, per_page), amounts)

    @app.get("/rounds/{round_id}", response_model=RoundDetail, tags=["rounds"], responses=_NO_ROUND)
    def get_round(conn: Conn, round_id: RoundId, amounts: Amounts = "number") -> Any:
        """Parameters, phase, deadlines, rho and the settlement/abandonment of one round."""
        detail = q.detail(q.load_round(conn, round_id))
        detail.asset = service.asset(detail.config.token)
        return _out(detail, amounts)

    @app.get(
        "/rounds/{round_id}/market-graphs",
        response_model=MarketGraphs,
        tags=["rounds"],
        responses={400: _error("the round is not a market round (mechanism 3)"), **_NO_ROUND},
    )
    def get_market_graphs(conn: Conn, round_id: RoundId, amounts: Amounts = "number") -> Any:
        """A market round's import graph per FL round: the imported pairs with their distances
        and each graph drawn as inline SVG (server-rendered; the dashboard needs no script
        library to show it)."""
        return _out(q.market_graphs(q.load_round(conn, round_id), service.labels), amounts)

    @app.get(
        "/rounds/{round_id}/orgs",
        response_model=Page[OrgRecord],
        tags=["rounds"],
        responses=_NO_ROUND,
    )
    def get_orgs(
        conn: Conn,
        round_id: RoundId,
        page: PageNo = 1,
        per_page: PerPage = 100,
        amounts: Amounts = "number",
    ) -> Any:
        """Per-org records (like ``profileRecord``) with payout bookkeeping."""
        return _out(
            q.paginate(q.org_records(q.load_round(conn, round_id)), page, per_page), amounts
        )

    @app.get(
        "/rounds/{round_id}/orgs/{index}",
        response_model=OrgRecord,
        tags=["rounds"],
        responses=_NO_ROUND,
    )
    def get_org(
        conn: Conn,
        round_id: RoundId,
        index: Annotated[int, PathParam(ge=0, description="org slot, 0 .. n-1")],
        amounts: Amounts = "number",
    ) -> Any:
        """One org slot's record."""
        return _out(q.org_record(q.load_round(conn, round_id), index), amounts)

    def _events(kind: str, model: Any) -> None:
        fn = getattr(q, kind)

        def handler(
            conn: Conn,
            round_id: RoundId,
            page: PageNo = 1,
            per_page: PerPage = 100,
            amounts: Amounts = "number",
        ) -> Any:
            return _out(q.paginate(fn(q.load_round(conn, round_id)), page, per_page), amounts)

        handler.__doc__ = f"The round's {kind} events, in chain order, with their blocks."
        app.get(
            f"/rounds/{{round_id}}/{kind}",
            response_model=Page[model],
            tags=["events"],
            name=f"list_{kind}",
            responses=_NO_ROUND,
        )(handler)

    _events("deposits", DepositOut)
    _events("contributions", ContributionOut)
    _events("payoffs", PayoffOut)
    _events("withdrawals", WithdrawalOut)

    @app.get(
        "/rounds/{round_id}/verify",
        response_model=Verification,
        tags=["verify"],
        responses=_NO_ROUND,
    )
    def verify(conn: Conn, round_id: RoundId, amounts: Amounts = "number") -> Any:
        """Recompute every payoff from the on-chain inputs and check the books.

        Every check is passed, failed or not_checked (with the reason). ``status`` is
        ``verified`` only when every applicable check ran and passed: an unfinished round, or
        one verified without a reachable node, is ``not_verified``.
        """
        return _out(_verify(q.load_round(conn, round_id), service.chain), amounts)

    @app.get(
        "/rounds/{round_id}/export",
        tags=["export"],
        responses={
            200: {
                "content": {"application/json": {}, "text/csv": {}},
                "description": "the round as a sealed JSON report (everything, tied to the "
                "deployment, with its sha256) or CSV (one row per org)",
            },
            **_NO_ROUND,
        },
    )
    def export(
        conn: Conn,
        round_id: RoundId,
        format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
        amounts: Amounts = "number",
    ) -> Response:
        """Download one round: a sealed JSON report, or the per-org CSV.

        The JSON report is ``{"format", "report", "integrity": {"sha256", ...}}``; check it with
        ``fedsettle audit check-report FILE``. The API never signs (it holds no key); sign with
        ``fedsettle audit export --sign-key``.
        """
        if format == "csv":
            text = round_csv(conn, round_id, chain=service.chain)
            return PlainTextResponse(
                text,
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="round-{round_id}.csv"'},
            )
        doc = sealed_export(
            conn, round_id, chain=service.chain, artifact=service.artifact, amounts=amounts
        )
        return JSONResponse(
            doc, headers={"Content-Disposition": f'attachment; filename="round-{round_id}.json"'}
        )

    # ------------------------------------------------------------------ chain views
    @app.get("/tx/{tx_hash}", response_model=list[TxEvent], tags=["events"], responses=_NO_EVENTS)
    def get_tx(conn: Conn, tx_hash: TxHash) -> list[TxEvent]:
        """The indexed events of one transaction."""
        found = q.events_where(conn, "tx_hash", tx_hash.lower())
        if not found:
            raise HTTPException(
                status_code=404,
                detail=f"transaction {tx_hash} emitted no indexed event of this contract",
            )
        return found

    @app.get(
        "/blocks/{number}", response_model=list[TxEvent], tags=["events"], responses=_NO_EVENTS
    )
    def get_block(conn: Conn, number: BlockNo) -> list[TxEvent]:
        """The indexed events of one block."""
        found = q.events_where(conn, "block_number", number)
        if not found:
            raise HTTPException(
                status_code=404, detail=f"block {number} holds no indexed event of this contract"
            )
        return found

    # ------------------------------------------------------------------ balances
    @app.get("/balances", response_model=Balances, tags=["balances"], responses=_INVALID)
    def get_balances(
        conn: Conn, page: PageNo = 1, per_page: PerPage = 100, amounts: Amounts = "number"
    ) -> Any:
        """Per-account deposits, payoffs, withdrawals, what the contract still owes, solvency."""
        out = q.balances(conn)
        start = (page - 1) * per_page
        out.accounts = out.accounts[start : start + per_page]
        for a in out.accounts:
            a.label = service.labels.get(a.account)
            a.asset = service.asset(a.token)
        if service.chain is not None:
            out.solvency = solvency(conn, service.chain)
            out.contract_balance_wei = out.solvency.contract_balance_wei
        return _out(out, amounts)

    @app.get(
        "/accounts/{address}",
        response_model=AccountBalance,
        tags=["balances"],
        responses={404: _error("the account has no deposit in any indexed round"), **_INVALID},
    )
    def get_account(
        conn: Conn,
        address: Address,
        amounts: Amounts = "number",
        token: Annotated[
            str | None,
            Query(
                description="the asset (ERC-20 address, or 0x00..00 for ether); default: the "
                "account's first asset, ether if it has any",
                pattern="^0x[0-9a-fA-F]{40}$",
            ),
        ] = None,
    ) -> Any:
        """One account's slots and money in one asset across rounds (its history)."""
        if address != address.lower() and address[2:] != address[2:].upper():
            if not is_checksum_address(address):
                raise HTTPException(
                    status_code=422,
                    detail=f"address {address} has an invalid EIP-55 checksum; check it or "
                    "send it all lower-case",
                )
        account = to_checksum_address(address)
        found = q.balances(conn, account).accounts
        if not found:
            raise HTTPException(
                status_code=404, detail=f"account {account} has no deposit in any indexed round"
            )
        assets = [a.token for a in found]
        if token is not None:
            want = token.lower()
            found = [a for a in found if a.token.lower() == want]
            if not found:
                raise HTTPException(
                    status_code=404,
                    detail=f"account {account} has no deposit in token {token}; its assets: "
                    + ", ".join(assets),
                )
        out = found[0]
        out.label = service.labels.get(account)
        out.asset = service.asset(out.token)
        out.other_assets = [t for t in assets if t != out.token]
        return _out(out, amounts)

    return app


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
