"""Integrity of exported reports: a sha256 of the content and an optional EIP-191 signature.

A signed report file is one JSON object::

    {"format": "fedsettle-audit-report/1",
     "report": {...},                      # deployment header, round, records, verification
     "integrity": {"sha256": "<hex>", "signer": "0x..." | null, "signature": "0x..." | null}}

``sha256`` is the SHA-256 of the report's canonical JSON (:func:`canonical`: sorted keys, no
whitespace, UTF-8), so re-indenting the file does not change it but editing any value does. The
signature is EIP-191 ``personal_sign`` (version 0x45) of the text
``fedsettle-audit-report:sha256:<hex>`` by the auditor's key; anyone can recover the signer's
address from it (:func:`check_report`). A signature is 65 bytes ``r || s || v``; v may be 27/28
or 0/1 (both encodings of the same recovery id are accepted), and s must be in the lower half
of the curve order (EIP-2): the mirrored high-s twin of a valid signature is refused, so every
report has exactly one signature per key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.constants import SECPK1_N
from eth_utils import is_address, to_checksum_address

from settlement.audit._errors import AuditError

REPORT_FORMAT = "fedsettle-audit-report/1"


class ReportError(AuditError):
    """A report file is unreadable, altered, or its signature does not check out."""


def canonical(report: Any) -> bytes:
    """The canonical JSON bytes the sha256 is taken over."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signature_bytes(signature: Any) -> bytes:
    """The 65-byte signature with v normalized to 27/28; ReportError names what is wrong."""
    text = signature if isinstance(signature, str) else ""
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 65:
        raise ReportError(
            f"integrity.signature must be 0x + 130 hex digits (r || s || v), got {signature!r}"
        )
    v = raw[64]
    if v in (0, 1):
        v += 27
    if v not in (27, 28):
        raise ReportError(f"integrity.signature: v = {raw[64]} is neither 27/28 nor 0/1")
    # secp256k1's group order: an s above half of it is the malleable twin (EIP-2)
    if int.from_bytes(raw[32:64], "big") > SECPK1_N // 2:
        raise ReportError(
            "integrity.signature: s is in the upper half of the curve order (a malleated "
            "signature, EIP-2); re-sign the report"
        )
    return raw[:64] + bytes([v])


def _message(sha256: str) -> Any:
    return encode_defunct(text=f"fedsettle-audit-report:sha256:{sha256}")


def seal(report: dict[str, Any], signer: LocalAccount | None = None) -> dict[str, Any]:
    """Wrap ``report`` with its sha256 and, given a key, its EIP-191 signature."""
    digest = hashlib.sha256(canonical(report)).hexdigest()
    signature = None
    if signer is not None:
        signature = "0x" + bytes(signer.sign_message(_message(digest)).signature).hex()
    return {
        "format": REPORT_FORMAT,
        "report": report,
        "integrity": {
            "sha256": digest,
            "signer": None if signer is None else signer.address,
            "signature": signature,
        },
    }


@dataclass(frozen=True)
class ReportCheck:
    """A report that passed :func:`check_report`."""

    sha256: str
    signer: str | None
    report: dict[str, Any]


def check_report(text: str, *, expected_signer: str | None = None) -> ReportCheck:
    """Verify a report file's sha256 and signature.

    Parameters
    ----------
    text : str
        The file's content.
    expected_signer : str, optional
        Require the report to be signed by this address.

    Raises
    ------
    ReportError
        Naming what does not match: not a report, content altered (hash differs), signature
        invalid or by another key, unsigned when a signer is required.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"not a JSON report file: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT:
        raise ReportError(
            f"not a fedsettle audit report (no 'format': {REPORT_FORMAT!r}); export one with "
            "`fedsettle audit export N --format json`"
        )
    report, integrity = doc.get("report"), doc.get("integrity")
    if not isinstance(report, dict) or not isinstance(integrity, dict):
        raise ReportError("report file lacks its 'report' or 'integrity' object")
    recorded = integrity.get("sha256")
    actual = hashlib.sha256(canonical(report)).hexdigest()
    if recorded != actual:
        raise ReportError(
            f"the report was altered: its content hashes to sha256 {actual}, the file records "
            f"{recorded}"
        )
    signer, signature = integrity.get("signer"), integrity.get("signature")
    if signature is None:
        if expected_signer is not None:
            raise ReportError(
                f"the report is not signed; expected a signature by {expected_signer}"
            )
        return ReportCheck(sha256=actual, signer=None, report=report)
    if not isinstance(signer, str) or not is_address(signer):
        raise ReportError(f"integrity.signer {signer!r} is not an address")
    raw = _signature_bytes(signature)
    try:
        recovered = Account.recover_message(_message(actual), signature=raw)
    except Exception as exc:
        raise ReportError(f"integrity.signature is not a valid signature: {exc}") from exc
    if recovered != to_checksum_address(signer):
        raise ReportError(
            f"the signature was made by {recovered}, not by the recorded signer {signer}"
        )
    if expected_signer is not None and recovered != to_checksum_address(expected_signer):
        raise ReportError(f"the report is signed by {recovered}, not by {expected_signer}")
    return ReportCheck(sha256=actual, signer=recovered, report=report)
