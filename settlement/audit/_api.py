"""The read-only auditor API (FastAPI) and the dashboard it serves.

Every answer comes from the SQLite index; ``/rounds/{id}/verify`` also compares the index with
the contract's views when a node is configured. There is no endpoint that writes: no keys, no
transactions. Client mistakes get a 4xx with a message that names the parameter and the fix.
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
from starlette.exceptions import HTTPException as StarletteHTTPException

from settlement.audit import _queries as q
from settlement.audit._errors import UnknownOrgError, UnknownRoundError
from settlement.audit._export import round_csv, round_export
from settlement.audit._models import (
    AccountBalance,
    Balances,
    ContributionOut,
    DepositOut,
    OrgRecord,
    Page,
    PayoffOut,
    RoundDetail,
    RoundSummary,
    Status,
    Verification,
    WithdrawalOut,
)
from settlement.audit._service import AuditService
from settlement.audit._verify import _verify

STATIC_DIR = Path(__file__).resolve().parent / "static"

RoundId = Annotated[int, PathParam(ge=0, description="round id (ids start at 1; see GET /rounds)")]
PageNo = Annotated[int, Query(ge=1, le=2**31, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=1000, description="items per page (1 .. 1000)")]
Address = Annotated[
    str,
    PathParam(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="account address: 0x + 40 hex digits (checksummed or all one case)",
    ),
]


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
        version="1",
        description=(
            "Read-only audit API over the FedSettle contract's events: rounds, org records, "
            "contributions, payoffs, withdrawals, balances, and an independent recomputation "
            "of every payoff. Amounts are exact integers in wei."
        ),
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
        """What the index covers: chain, contract, last indexed block, node head."""
        out = q.status(conn)
        out.head_block = service.head()
        return out

    # ------------------------------------------------------------------ rounds
    @app.get("/rounds", response_model=Page[RoundSummary], tags=["rounds"])
    def list_rounds(conn: Conn, page: PageNo = 1, per_page: PerPage = 50) -> Page[RoundSummary]:
        """Rounds, oldest first, with phase, counts and totals (like ``roundState``)."""
        return q.list_rounds(conn, page, per_page)

    @app.get("/rounds/{round_id}", response_model=RoundDetail, tags=["rounds"])
    def get_round(conn: Conn, round_id: RoundId) -> RoundDetail:
        """Parameters, phase, deadlines, rho and the settlement/abandonment of one round."""
        return q.detail(q.load_round(conn, round_id))

    @app.get("/rounds/{round_id}/orgs", response_model=Page[OrgRecord], tags=["rounds"])
    def get_orgs(
        conn: Conn, round_id: RoundId, page: PageNo = 1, per_page: PerPage = 100
    ) -> Page[Any]:
        """Per-org records (like ``profileRecord``) with payout bookkeeping."""
        return q.paginate(q.org_records(q.load_round(conn, round_id)), page, per_page)

    @app.get("/rounds/{round_id}/orgs/{index}", response_model=OrgRecord, tags=["rounds"])
    def get_org(
        conn: Conn,
        round_id: RoundId,
        index: Annotated[int, PathParam(ge=0, description="org slot, 0 .. n-1")],
    ) -> OrgRecord:
        """One org slot's record."""
        return q.org_record(q.load_round(conn, round_id), index)

    def _events(kind: str, model: Any) -> None:
        fn = getattr(q, kind)

        def handler(
            conn: Conn, round_id: RoundId, page: PageNo = 1, per_page: PerPage = 100
        ) -> Page[Any]:
            return q.paginate(fn(q.load_round(conn, round_id)), page, per_page)

        handler.__doc__ = f"The round's {kind} events, in chain order, with their blocks."
        app.get(
            f"/rounds/{{round_id}}/{kind}",
            response_model=Page[model],
            tags=["events"],
            name=f"list_{kind}",
        )(handler)

    _events("deposits", DepositOut)
    _events("contributions", ContributionOut)
    _events("payoffs", PayoffOut)
    _events("withdrawals", WithdrawalOut)

    @app.get("/rounds/{round_id}/verify", response_model=Verification, tags=["verify"])
    def verify(conn: Conn, round_id: RoundId) -> Verification:
        """Recompute every payoff from the on-chain inputs and check the books.

        Reports per-org agreement, the budget balance to the wei, whether every bond is
        withdrawable or withdrawn, the payoff digest, and (with a node) agreement with the
        contract's views at the indexed block.
        """
        return _verify(q.load_round(conn, round_id), service.chain)

    @app.get(
        "/rounds/{round_id}/export",
        tags=["export"],
        responses={
            200: {
                "content": {"application/json": {}, "text/csv": {}},
                "description": "the round as JSON (everything) or CSV (one row per org)",
            }
        },
    )
    def export(
        conn: Conn,
        round_id: RoundId,
        format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
    ) -> Response:
        """Download one round: JSON with every record and the verification, or per-org CSV."""
        if format == "csv":
            text = round_csv(conn, round_id, chain=service.chain)
            return PlainTextResponse(
                text,
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="round-{round_id}.csv"'},
            )
        return JSONResponse(
            round_export(conn, round_id, chain=service.chain),
            headers={"Content-Disposition": f'attachment; filename="round-{round_id}.json"'},
        )

    # ------------------------------------------------------------------ balances
    @app.get("/balances", response_model=Balances, tags=["balances"])
    def get_balances(conn: Conn, page: PageNo = 1, per_page: PerPage = 100) -> Balances:
        """Per-account deposits, payoffs, withdrawals and what the contract still owes."""
        out = q.balances(conn)
        start = (page - 1) * per_page
        out.accounts = out.accounts[start : start + per_page]
        if service.chain is not None:
            try:
                block, _, _ = q.indexed_head(conn)
                out.contract_balance_wei = service.chain.balance(block if block >= 0 else "latest")
            except Exception:
                out.contract_balance_wei = None
        return out

    @app.get("/accounts/{address}", response_model=AccountBalance, tags=["balances"])
    def get_account(conn: Conn, address: Address) -> AccountBalance:
        """One account's slots and money across rounds."""
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
        return found[0]

    return app


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
