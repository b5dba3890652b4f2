"""Revert data -> Python exceptions, built from the contract's ABI."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

import settlement
from settlement import (
    BondTooSmall,
    ContractError,
    ContractPanic,
    ContractRevert,
    ErrorDecoder,
    Phase,
    ReportOutOfBounds,
    SettlementError,
    UnknownContractError,
    WrongPhase,
    error_classes_from_abi,
    load_artifact,
)


def _revert(signature: str, types: list[str], values: list) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def test_every_abi_error_has_a_named_public_class() -> None:
    abi = load_artifact("FedSettle").abi
    names = {e["name"] for e in abi if e["type"] == "error"}
    classes = error_classes_from_abi(abi)
    assert set(classes) == names
    for name, cls in classes.items():
        assert cls is getattr(settlement, name), name  # hand-written, exported
        assert issubclass(cls, ContractError)
        assert issubclass(cls, SettlementError)
        assert cls.template, f"{name} has no actionable message"


def test_bond_too_small_attributes_and_message() -> None:
    decoder = ErrorDecoder(load_artifact("FedSettle").abi)
    err = decoder.decode(_revert("BondTooSmall(uint256,uint256)", ["uint256"] * 2, [100, 99]))
    assert isinstance(err, BondTooSmall)
    assert (err.required, err.sent) == (100, 99)
    assert err.args_by_name == {"required": 100, "sent": 99}
    assert "deposit of 99" in str(err) and "at least `required`" in str(err)


def test_phase_arguments_become_enum_and_strings_decode() -> None:
    decoder = ErrorDecoder(load_artifact("FedSettle").abi)
    err = decoder.decode("0x" + _revert("WrongPhase(uint8,uint8)", ["uint8"] * 2, [2, 3]).hex())
    assert isinstance(err, WrongPhase)
    assert (err.expected, err.actual) == (Phase.REPORT, Phase.CALCULATE)
    oob = decoder.decode(
        _revert(
            "ReportOutOfBounds(string,uint256,uint256,uint256)",
            ["string", "uint256", "uint256", "uint256"],
            ["f", 0, 1, 8],
        )
    )
    assert isinstance(oob, ReportOutOfBounds)
    assert (oob.field, oob.value, oob.min, oob.max) == ("f", 0, 1, 8)


def test_builtin_revert_kinds_and_unknown_data() -> None:
    decoder = ErrorDecoder([])
    reason = decoder.decode(_revert("Error(string)", ["string"], ["nope"]))
    assert isinstance(reason, ContractRevert) and reason.reason == "nope"
    panic = decoder.decode(_revert("Panic(uint256)", ["uint256"], [0x11]))
    assert isinstance(panic, ContractPanic) and panic.code == 0x11
    unknown = decoder.decode(b"\xde\xad\xbe\xef")
    assert isinstance(unknown, UnknownContractError) and "deadbeef" in str(unknown)
    assert isinstance(decoder.decode(None), UnknownContractError)
    # a known selector with garbage arguments is reported, not raised
    assert isinstance(
        ErrorDecoder(load_artifact("FedSettle").abi).decode(
            keccak(text="BondTooSmall(uint256,uint256)")[:4] + b"\x01"
        ),
        UnknownContractError,
    )


def test_new_abi_error_decodes_without_code_changes() -> None:
    abi = [
        {
            "type": "error",
            "name": "QuotaExceeded",
            "inputs": [{"name": "orgIndex", "type": "uint256"}, {"name": "who", "type": "address"}],
        }
    ]
    decoder = ErrorDecoder(abi)
    who = "0x" + "ab" * 20
    err = decoder.decode(
        _revert("QuotaExceeded(uint256,address)", ["uint256", "address"], [4, who])
    )
    assert type(err).__name__ == "QuotaExceeded"
    assert isinstance(err, ContractError)
    assert err.org_index == 4
    assert err.who == to_checksum_address(who)
    # one stable class per name, so callers can catch it
    assert type(ErrorDecoder(abi).decode(err.data)) is type(err)
    with pytest.raises(ContractError):
        raise err
