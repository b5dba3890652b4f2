"""A sealed report has exactly one valid signature per key: both v encodings, never high s."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_keys.constants import SECPK1_N
from eth_utils import keccak

from settlement.audit import ReportError, check_report, seal
from settlement.audit._integrity import _message

KEY = Account.from_key(keccak(text="fedsettle auditor key for the integrity tests"))


def _with_signature(doc: dict, raw: bytes) -> str:
    return json.dumps({**doc, "integrity": {**doc["integrity"], "signature": "0x" + raw.hex()}})


def test_v_as_27_28_or_0_1_names_the_same_signer_and_high_s_is_refused() -> None:
    doc = seal({"round": 7, "payoff_wei": "123"}, KEY)
    raw = bytes.fromhex(doc["integrity"]["signature"][2:])
    assert raw[64] in (27, 28)
    assert check_report(json.dumps(doc)).signer == KEY.address
    zero_one = raw[:64] + bytes([raw[64] - 27])
    assert check_report(_with_signature(doc, zero_one)).signer == KEY.address

    # the malleated twin (N - s, the other parity) recovers the same key ...
    s = int.from_bytes(raw[32:64], "big")
    twin = raw[:32] + (SECPK1_N - s).to_bytes(32, "big") + bytes([55 - raw[64]])
    message = _message(doc["integrity"]["sha256"])
    assert Account.recover_message(message, signature=twin) == KEY.address
    # ... and is refused, so a report cannot carry two different valid signatures
    with pytest.raises(ReportError, match="upper half of the curve order"):
        check_report(_with_signature(doc, twin))
    with pytest.raises(ReportError, match="v = 29"):
        check_report(_with_signature(doc, raw[:64] + bytes([29])))
    with pytest.raises(ReportError, match="130 hex digits"):
        check_report(_with_signature(doc, raw[:64]))
