"""settlement.audit: the read-only auditor of the settlement contract.

An event indexer (any JSON-RPC node -> SQLite), read models over the index, an independent
recomputation of every payoff, JSON/CSV exports, and a FastAPI service with a web dashboard.
The auditor holds no keys and sends no transactions.

Examples
--------
>>> from settlement import RpcBackend                                      # doctest: +SKIP
>>> from settlement.audit import AuditService, verify_round                # doctest: +SKIP
>>> service = AuditService("audit.sqlite", w3=RpcBackend(url).web3(), contract=address)
>>> service.sync()                                                         # doctest: +SKIP
>>> with service.reader() as conn:                                         # doctest: +SKIP
...     print(verify_round(conn, 1, chain=service.chain).ok)
"""

from settlement.audit._api import create_app
from settlement.audit._chain import ChainReader
from settlement.audit._db import connect, dump
from settlement.audit._errors import (
    AuditError,
    IndexerError,
    IndexMismatch,
    StateFileError,
    UnknownOrgError,
    UnknownRoundError,
)
from settlement.audit._events import load_abi
from settlement.audit._export import export_round, round_csv, round_export
from settlement.audit._indexer import Indexer, SyncResult
from settlement.audit._models import OrgRecord, RoundDetail, RoundSummary, Verification
from settlement.audit._queries import (
    balances,
    detail,
    list_rounds,
    load_round,
    org_records,
    summary,
)
from settlement.audit._service import AuditService
from settlement.audit._source import Deployment, open_chain, read_deployment
from settlement.audit._verify import verify_round

__all__ = [
    "AuditError",
    "AuditService",
    "ChainReader",
    "Deployment",
    "IndexMismatch",
    "Indexer",
    "IndexerError",
    "OrgRecord",
    "RoundDetail",
    "RoundSummary",
    "StateFileError",
    "SyncResult",
    "UnknownOrgError",
    "UnknownRoundError",
    "Verification",
    "balances",
    "connect",
    "create_app",
    "detail",
    "dump",
    "export_round",
    "list_rounds",
    "load_abi",
    "load_round",
    "open_chain",
    "org_records",
    "read_deployment",
    "round_csv",
    "round_export",
    "summary",
    "verify_round",
]
