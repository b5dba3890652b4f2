"""``fedsettle audit``: index, query, verify, export and serve the on-chain payoff records.

Every subcommand reads the chain from ``--rpc URL --contract ADDRESS`` or reopens a saved demo
chain with ``--state DIR/chain-state.json`` (the address comes from the ``deployment.json``
beside it); ``--db PATH`` keeps the index between runs (default: a temporary index). Read-only:
no transactions (``export --sign-key`` only signs the report file).

Exit codes of ``verify`` and ``deployment``: 0 verified, 7 a check failed, 8 not verified (a
check did not run: the round is unfinished, no node answered, or the mechanism has no
recomputation). ``check-report``: 0 intact, 7 altered or badly signed, 6 unreadable.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fl_node.cli._exit import ExitCode, UserError

if TYPE_CHECKING:
    from settlement.audit import AuditService

_FORMATS = ("table", "json", "csv")

#: exit code of a verification in which a check did not run (not failed, not verified)
NOT_VERIFIED = ExitCode.NOT_VERIFIED


def _source_args(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("chain source (one of)")
    src.add_argument("--rpc", metavar="URL", help="JSON-RPC URL of any node of the chain")
    src.add_argument(
        "--contract", metavar="ADDRESS", help="FedSettle contract address (with --rpc)"
    )
    src.add_argument(
        "--state",
        metavar="FILE",
        help="a demo's DIR/chain-state.json: reopened in a local anvil; the contract address is "
        "read from DIR/deployment.json",
    )
    idx = parser.add_argument_group("index")
    idx.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite index file, created or resumed (default: a temporary file); alone, "
        "answers from an existing index without a node",
    )
    idx.add_argument(
        "--confirmations",
        type=_non_negative,
        default=0,
        metavar="N",
        help="index only blocks N deep (default 0; use ~12 on public chains)",
    )
    idx.add_argument(
        "--chunk-size", type=_positive, default=2000, metavar="N", help="blocks per eth_getLogs"
    )
    idx.add_argument(
        "--start-block", type=_non_negative, default=0, metavar="N", help="first block to index"
    )
    idx.add_argument(
        "--artifact",
        metavar="FILE",
        help="contract artifact (JSON with deployedBytecode, optional immutableReferences) the "
        "on-chain code is compared with (default: the shipped FedSettle artifact)",
    )
    idx.add_argument(
        "--labels",
        metavar="FILE",
        help='org display names: a JSON object {"0xADDRESS": "label", ...}',
    )


def _positive(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def _non_negative(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def register(subparsers: Any) -> None:
    """Add ``fedsettle audit`` and its subcommands."""
    audit = subparsers.add_parser(
        "audit",
        help="query, verify and export the on-chain payoff records (read-only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = audit.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")

    p = sub.add_parser("rounds", help="list the rounds")
    _source_args(p)
    p.add_argument("--format", choices=_FORMATS, default="table")
    p.set_defaults(func=_cmd_rounds)

    p = sub.add_parser("round", help="one round: parameters, phase, deadlines, per-org records")
    p.add_argument("round_id", type=_non_negative, metavar="N")
    _source_args(p)
    p.add_argument("--format", choices=_FORMATS, default="table")
    p.set_defaults(func=_cmd_round)

    p = sub.add_parser(
        "verify",
        help="recompute every payoff of round N from the on-chain inputs; exit 7 on a failed "
        "check, 8 when not verified (a check did not run)",
    )
    p.add_argument("round_id", type=_non_negative, metavar="N")
    _source_args(p)
    p.add_argument("--format", choices=_FORMATS, default="table")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser(
        "export", help="export round N (json: a sealed report of everything; csv: one row per org)"
    )
    p.add_argument("round_id", type=_non_negative, metavar="N")
    _source_args(p)
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument(
        "--amounts",
        choices=("number", "string"),
        default="number",
        help="json: amounts and scores as integers (default) or decimal strings",
    )
    p.add_argument(
        "--sign-key",
        metavar="FILE",
        help="sign the JSON report (EIP-191) with this key: an encrypted keystore (password in "
        "the environment variable named by --password-env) or a file holding a 0x hex key",
    )
    p.add_argument(
        "--password-env",
        default="FEDSETTLE_AUDITOR_PASSWORD",
        metavar="VAR",
        help="environment variable holding the keystore password (default "
        "FEDSETTLE_AUDITOR_PASSWORD)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser(
        "check-report",
        help="verify an exported JSON report's sha256 and signature; exit 7 if altered",
    )
    p.add_argument("file", metavar="FILE", help="a report written by `audit export`")
    p.add_argument("--signer", metavar="ADDRESS", help="require a signature by this address")
    p.set_defaults(func=_cmd_check_report)

    p = sub.add_parser(
        "deployment",
        help="the deployment (chain, genesis, code vs artifact) and contract solvency; exit 7 "
        "on a failed check, 8 when a check did not run",
    )
    _source_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_cmd_deployment)

    p = sub.add_parser("index", help="build or update the index (--db) and print its status")
    _source_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("serve", help="serve the audit API and dashboard (http://HOST:PORT/)")
    _source_args(p)
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=_non_negative, default=8000, help="TCP port (default 8000)")
    p.add_argument(
        "--poll",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="seconds between index updates (default 2)",
    )
    p.set_defaults(func=_cmd_serve)


# ---------------------------------------------------------------------- plumbing
@contextmanager
def _service(args: argparse.Namespace, *, poll: float = 2.0) -> Iterator[AuditService]:
    """Open the chain source and an index, synced to the confirmed head."""
    from settlement import ChainUnavailable
    from settlement.audit import AuditError, AuditService, IndexMismatch, open_chain, read_labels

    backend = None
    try:
        labels = read_labels(args.labels) if args.labels else {}
        if args.rpc is None and args.state is None and args.contract is None and args.db:
            service = AuditService(
                args.db, poll_interval=poll, artifact=args.artifact, labels=labels
            )
        else:
            backend, address, _ = open_chain(rpc=args.rpc, contract=args.contract, state=args.state)
            service = AuditService(
                args.db,
                w3=backend.web3(),
                contract=address,
                confirmations=args.confirmations,
                chunk_size=args.chunk_size,
                start_block=args.start_block,
                poll_interval=poll,
                artifact=args.artifact,
                labels=labels,
            )
            service.sync()
    except ChainUnavailable as exc:
        if backend is not None:
            backend.close()
        raise UserError(str(exc), ExitCode.CHAIN) from exc
    except IndexMismatch as exc:
        if backend is not None:
            backend.close()
        raise UserError(str(exc), ExitCode.CONFIG) from exc
    except (AuditError, FileNotFoundError) as exc:
        if backend is not None:
            backend.close()
        raise UserError(str(exc), ExitCode.DATA) from exc
    except ValueError as exc:
        if backend is not None:
            backend.close()
        raise UserError(str(exc), ExitCode.USAGE) from exc
    try:
        yield service
    finally:
        service.close()
        if backend is not None:
            backend.close()


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[_cell(v) for v in r] for r in rows]]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    lines = [
        "  ".join(
            c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths, strict=True)
        ).rstrip()
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return "-"
    return str(v)


def _numeric(text: str) -> bool:
    return text.lstrip("-").replace(".", "", 1).isdigit()


def _csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    for r in rows:
        writer.writerow(
            [str(v).lower() if isinstance(v, bool) else ("" if v is None else v) for v in r]
        )
    return buf.getvalue()


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _json(value: Any) -> None:
    _emit(json.dumps(value, indent=2))


def _unknown_round(exc: Exception) -> UserError:
    return UserError(str(exc), ExitCode.CONFIG)


# ---------------------------------------------------------------------- commands
def _cmd_rounds(args: argparse.Namespace) -> int:
    from settlement.audit import list_rounds

    with _service(args) as service, service.reader() as conn:
        page = list_rounds(conn, 1, 2**31)
    items = [r.model_dump(mode="json") for r in page.items]
    headers = [
        "round",
        "phase",
        "n",
        "joined",
        "reported",
        "deposits_wei",
        "withdrawn_wei",
        "report_deadline",
    ]
    rows = [
        [
            r["round_id"],
            r["phase"],
            r["n"],
            r["joined_count"],
            r["reported_count"],
            r["total_deposits_wei"],
            r["total_withdrawn_wei"],
            r["report_deadline"],
        ]
        for r in items
    ]
    if args.format == "json":
        _json(items)
    elif args.format == "csv":
        _emit(_csv(headers, rows))
    else:
        _emit(_table(headers, rows) if rows else "no rounds indexed")
    return ExitCode.OK


_ORG_HEADERS = [
    "index",
    "account",
    "joined",
    "reported",
    "x",
    "f",
    "score",
    "bond_wei",
    "deposited_wei",
    "payoff_wei",
    "withdrawn_wei",
    "owed_wei",
]


def _cmd_round(args: argparse.Namespace) -> int:
    from settlement.audit import UnknownRoundError, detail, load_round, org_records, round_csv

    with _service(args) as service, service.reader() as conn:
        try:
            data = load_round(conn, args.round_id)
        except UnknownRoundError as exc:
            raise _unknown_round(exc) from exc
        round_ = detail(data).model_dump(mode="json")
        orgs = [r.model_dump(mode="json") for r in org_records(data)]
        if args.format == "csv":
            _emit(round_csv(conn, args.round_id, chain=service.chain))
            return ExitCode.OK
    if args.format == "json":
        _json({"round": round_, "orgs": orgs})
        return ExitCode.OK
    c = round_["config"]
    unit = "wei" if int(c["token"], 16) == 0 else f"units of token {c['token']}"
    params = ", ".join(f"{k} {v}" for k, v in c["parameters"].items())
    lines = [
        f"round {round_['round_id']}: {round_['phase']} (as of block {round_['as_of_block']})",
        f"  operator         {round_['operator']}",
        f"  mechanism        {c['mechanism_id']}: {params}",
        f"  asset            {'ETH' if unit == 'wei' else c['token']}",
        f"  scales x, f      {c['x_scale']}, {c['f_scale']}",
        f"  deadlines        deposit {c['deposit_deadline']}, report {c['report_deadline']}",
        f"  slots            {round_['n']} ({round_['joined_count']} joined, "
        f"{round_['reported_count']} reported)",
        f"  deposits         {round_['total_deposits_wei']} {unit}",
        f"  withdrawn        {round_['total_withdrawn_wei']} {unit}",
        f"  rho hash         {round_['rho_hash']}",
        f"  params digest    {c['params_digest']}",
        f"  payoff digest    {round_['payoff_digest']}",
        "",
        _table(_ORG_HEADERS, [[o[k] for k in _ORG_HEADERS] for o in orgs]),
    ]
    _emit("\n".join(lines))
    return ExitCode.OK


def _verdict_code(status: str) -> int:
    if status == "failed":
        return ExitCode.VERIFY
    return ExitCode.OK if status in ("verified", "passed") else NOT_VERIFIED


def _check_lines(checks: dict[str, Any]) -> list[str]:
    marks = {"passed": "ok", "failed": "FAIL", "not_checked": "not checked"}
    return [
        f"  {name:<22} {marks[c['status']]:<11} {c['reason']}"
        + ("" if c["applicable"] else " (not applicable)")
        for name, c in checks.items()
    ]


def _cmd_verify(args: argparse.Namespace) -> int:
    from settlement.audit import UnknownRoundError, verify_round

    with _service(args) as service, service.reader() as conn:
        try:
            result = verify_round(conn, args.round_id, chain=service.chain)
        except UnknownRoundError as exc:
            raise _unknown_round(exc) from exc
    out = result.model_dump(mode="json")
    headers = [
        "index",
        "account",
        "reported",
        "payoff_recorded_wei",
        "payoff_expected_wei",
        "payoff_ok",
        "status",
        "owed_wei",
        "withdrawn_wei",
    ]
    rows = [[o[k] for k in headers] for o in out["orgs"]]
    if args.format == "json":
        _json(out)
    elif args.format == "csv":
        _emit(_csv(headers, rows))
    else:
        verdict = {"verified": "VERIFIED", "failed": "FAILED", "not_verified": "NOT VERIFIED"}
        eth = int(result.token, 16) == 0
        unit = "wei" if eth else "token units"
        lines = [
            f"round {result.round_id} ({result.phase}, block {result.as_of_block}): "
            f"{verdict[result.status]}",
            f"  {result.summary}",
            f"  asset            {'ETH (amounts in wei)' if eth else result.token + ' (units)'}",
            f"  budget balance   {result.budget_balance_wei} {unit}",
            f"  deposits         {result.total_deposits_wei} {unit}, withdrawn "
            f"{result.total_withdrawn_wei} {unit}, still owed {result.expected_outstanding_wei} "
            f"{unit}",
            f"  bonds free       {'yes' if result.all_bonds_withdrawable_or_withdrawn else 'no'}"
            f" (stuck: {result.funds_stuck_wei} wei)",
            "  checks",
            *_check_lines(out["checks"]),
            *(f"  problem: {p}" for p in result.problems),
            "",
            _table(headers, rows),
        ]
        _emit("\n".join(lines))
    return _verdict_code(result.status)


def _signer(args: argparse.Namespace) -> Any:
    """The account of ``--sign-key`` (keystore or hex key file), or None."""
    import os

    from eth_account import Account

    from settlement import KeystoreError, load_keystore

    if not args.sign_key:
        return None
    try:
        text = open(args.sign_key, encoding="utf-8").read().strip()
    except OSError as exc:
        raise UserError(f"--sign-key: cannot read {args.sign_key}: {exc}", ExitCode.DATA) from exc
    if text.startswith("{"):
        password = os.environ.get(args.password_env)
        if not password:
            raise UserError(
                f"--sign-key: {args.sign_key} is a keystore; put its password in the "
                f"environment variable {args.password_env}",
                ExitCode.CONFIG,
            )
        try:
            return load_keystore(args.sign_key, password)
        except KeystoreError as exc:
            raise UserError(f"--sign-key: {exc}", ExitCode.CONFIG) from exc
    try:
        return Account.from_key(text)
    except (ValueError, TypeError) as exc:
        raise UserError(
            f"--sign-key: {args.sign_key} holds neither a keystore nor a 0x + 64 hex private key",
            ExitCode.CONFIG,
        ) from exc


def _cmd_export(args: argparse.Namespace) -> int:
    from settlement.audit import UnknownRoundError, export_round

    fmt = args.format
    signer = _signer(args)
    if signer is not None and fmt != "json":
        raise UserError("--sign-key: only the json export is signed", ExitCode.USAGE)
    with _service(args) as service, service.reader() as conn:
        try:
            text = export_round(
                conn,
                args.round_id,
                fmt,
                chain=service.chain,
                artifact=service.artifact,
                amounts=args.amounts,
                signer=signer,
            )
        except UnknownRoundError as exc:
            raise _unknown_round(exc) from exc
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            raise UserError(f"--output: cannot write {args.output}: {exc}", ExitCode.DATA) from exc
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return ExitCode.OK


def _cmd_check_report(args: argparse.Namespace) -> int:
    from settlement.audit import ReportError, check_report

    try:
        text = open(args.file, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"FILE: cannot read {args.file}: {exc}", ExitCode.DATA) from exc
    try:
        checked = check_report(text, expected_signer=args.signer)
    except ReportError as exc:
        raise UserError(f"{args.file}: {exc}", ExitCode.VERIFY) from exc
    dep = checked.report.get("deployment", {})
    who = f"signed by {checked.signer}" if checked.signer else "not signed"
    _emit(
        f"{args.file}: intact (sha256 {checked.sha256}), {who}; chain {dep.get('chain_id')}, "
        f"contract {dep.get('contract_address')}, block {dep.get('block_number')} "
        f"{dep.get('block_hash')}"
    )
    return ExitCode.OK


def _cmd_deployment(args: argparse.Namespace) -> int:
    from settlement.audit import DeploymentReport, deployment_info, solvency

    with _service(args) as service, service.reader() as conn:
        report = DeploymentReport(
            deployment=deployment_info(conn, service.chain, service.artifact),
            solvency=solvency(conn, service.chain),
        )
    out = report.model_dump(mode="json")
    if args.format == "json":
        _json(out)
    else:
        d = out["deployment"]
        lines = [f"{k:<18} {'-' if v is None else v}" for k, v in d.items() if k != "code"]
        lines += _check_lines({"code": d["code"], "solvency": out["solvency"]["check"]})
        _emit("\n".join(lines))
    states = {report.deployment.code.status, report.solvency.check.status}
    if "failed" in states:
        return _verdict_code("failed")
    return _verdict_code("not_verified" if "not_checked" in states else "verified")


def _cmd_index(args: argparse.Namespace) -> int:
    from settlement.audit._queries import status

    with _service(args) as service, service.reader() as conn:
        st = status(conn)
        st.head_block = service.head()
        st.labels = service.labels
    out = st.model_dump(mode="json")
    out["db"] = str(service.db_path) if args.db else None
    if args.format == "json":
        _json(out)
    else:
        _emit("\n".join(f"{k:<18} {'-' if v is None else v}" for k, v in out.items()))
    return ExitCode.OK


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from settlement.audit import create_app

    if args.poll <= 0:
        raise UserError(f"--poll: {args.poll} must be > 0 seconds", ExitCode.USAGE)
    with _service(args, poll=args.poll) as service:
        app = create_app(service)
        service.start()
        with service.reader() as conn:
            from settlement.audit._queries import status

            st = status(conn)
        print(
            f"fedsettle audit: {st.rounds} round(s) indexed up to block {st.indexed_block}; "
            f"dashboard http://{args.host}:{args.port}/  "
            f"API schema http://{args.host}:{args.port}/openapi.json",
            file=sys.stderr,
            flush=True,
        )
        try:
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        except OSError as exc:
            raise UserError(
                f"cannot listen on {args.host}:{args.port}: {exc}", ExitCode.CONFIG
            ) from exc
    return ExitCode.OK
