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
...     print(verify_round(conn, 1, chain=service.chain).status)
"""

from settlement.audit._amounts import render_amounts, stringify_amounts
from settlement.audit._api import create_app
from settlement.audit._chain import ChainReader, find_deployment_block
from settlement.audit._db import connect, dump
from settlement.audit._deployment import (
    code_check,
    compare_code,
    deployment_info,
    runtime_artifact,
    solvency,
)
from settlement.audit._errors import (
    AuditError,
    IndexerError,
    IndexMismatch,
    StateFileError,
    UnknownOrgError,
    UnknownRoundError,
)
from settlement.audit._events import load_abi
from settlement.audit._export import export_round, round_csv, round_export, sealed_export
from settlement.audit._indexer import Indexer, SyncResult
from settlement.audit._integrity import ReportCheck, ReportError, check_report, seal
from settlement.audit._mechanisms import (
    MECHANISMS,
    Mechanism,
    Recomputation,
    RoundInputs,
    mechanism_for,
)
from settlement.audit._models import (
    AssetInfo,
    Check,
    DeploymentInfo,
    DeploymentReport,
    OrgRecord,
    RoundDetail,
    RoundSummary,
    Solvency,
    TokenSolvency,
    Verification,
)
from settlement.audit._queries import (
    balances,
    detail,
    list_rounds,
    load_round,
    org_records,
    summary,
)
from settlement.audit._service import AuditService
from settlement.audit._source import Deployment, open_chain, read_deployment, read_labels
from settlement.audit._verify import verdict, verify_round

__all__ = [
    "MECHANISMS",
    "AssetInfo",
    "AuditError",
    "AuditService",
    "ChainReader",
    "Check",
    "Deployment",
    "DeploymentInfo",
    "DeploymentReport",
    "IndexMismatch",
    "Indexer",
    "IndexerError",
    "Mechanism",
    "OrgRecord",
    "Recomputation",
    "ReportCheck",
    "ReportError",
    "RoundDetail",
    "RoundInputs",
    "RoundSummary",
    "Solvency",
    "StateFileError",
    "SyncResult",
    "TokenSolvency",
    "UnknownOrgError",
    "UnknownRoundError",
    "Verification",
    "balances",
    "check_report",
    "code_check",
    "compare_code",
    "connect",
    "create_app",
    "deployment_info",
    "detail",
    "dump",
    "export_round",
    "find_deployment_block",
    "list_rounds",
    "load_abi",
    "load_round",
    "mechanism_for",
    "open_chain",
    "org_records",
    "read_deployment",
    "read_labels",
    "render_amounts",
    "round_csv",
    "round_export",
    "runtime_artifact",
    "seal",
    "sealed_export",
    "solvency",
    "stringify_amounts",
    "summary",
    "verdict",
    "verify_round",
]
