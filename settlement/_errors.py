"""The exception tree of ``settlement``, rooted in :class:`SettlementError`.

Every Solidity custom error of the contract becomes a :class:`ContractError` subclass of the same
name whose attributes are the error's arguments in snake_case (``BondTooSmall.required``,
``BondTooSmall.sent``). The selector -> class map is built from the ABI
(:func:`error_classes_from_abi`), so an error added to the contract decodes without Python edits:
known names get the hand-written class below (with a message naming the field and the fix), new
names get a generated :class:`ContractError` subclass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address


class SettlementError(Exception):
    """Base class of every error raised by ``settlement``."""


class ConfigError(SettlementError, ValueError):
    """Bad input on the Python side (a parameter, a matrix, a file); the message names the field."""


class RhoError(ConfigError):
    """The competition matrix rho is malformed; the message names the entry."""


class TermsMismatch(ConfigError):
    """An on-chain round parameter differs from the accepted terms; the message names the field.

    Attributes
    ----------
    field : str
        The parameter (``"gamma_wad"``, ``"rho"``, ``"orgs[2].x_max"``, ``"token"``...).
    expected, actual :
        The accepted value and the on-chain one.
    """

    def __init__(self, field: str, expected: object, actual: object):
        super().__init__(
            f"{field}: the round on chain has {actual!r} but the accepted terms say {expected!r}; "
            "refusing to deposit"
        )
        self.field = field
        self.expected = expected
        self.actual = actual


class LockTooLong(ConfigError):
    """A round would lock a deposit longer than the silo's ``max_lock`` allows."""

    def __init__(self, lock_seconds: int, max_lock: int):
        super().__init__(
            f"max_lock: the round keeps deposits until {lock_seconds} s from now (its report "
            f"deadline), longer than max_lock = {max_lock} s; refusing to deposit (raise "
            "max_lock or ask for shorter windows)"
        )
        self.lock_seconds = lock_seconds
        self.max_lock = max_lock


class ChainUnavailable(SettlementError):
    """The chain cannot be reached or the devnet cannot be started."""


class AnvilNotFound(ChainUnavailable):
    """The anvil binary was not found."""


class KeystoreError(SettlementError):
    """A keystore file is missing, malformed or cannot be decrypted."""


class KeystoreNotFound(KeystoreError, FileNotFoundError):
    """The keystore file does not exist."""


class WrongPassword(KeystoreError):
    """The keystore password is wrong (the MAC check failed)."""


class ArtifactError(SettlementError):
    """A compiled contract artifact is missing or malformed."""


class TransactionFailed(SettlementError):
    """A transaction failed without a decodable revert reason (e.g. out of gas)."""

    def __init__(self, message: str, tx_hash: str | None = None, gas_used: int | None = None):
        super().__init__(message)
        self.tx_hash = tx_hash
        self.gas_used = gas_used


class ContractError(SettlementError):
    """A contract call reverted with a decoded reason.

    Attributes
    ----------
    name : str
        The Solidity error name (``"BondTooSmall"``).
    args_by_name : dict
        The decoded arguments keyed by snake_case name; each is also an attribute.
    data : bytes
        The raw revert data.
    """

    #: message template over the snake_case argument names; subclasses override
    template: ClassVar[str] = ""
    #: ABI argument names in order, set when the class is bound to an ABI entry
    fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data: bytes = b"", **kwargs: Any):
        self.name = type(self).__name__
        self.data = data
        self.args_by_name = dict(kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)
        super().__init__(self._message())

    def _message(self) -> str:
        if self.template:
            try:
                return f"{self.name}: " + self.template.format(**self.args_by_name)
            except (KeyError, IndexError, ValueError):
                pass
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args_by_name.items())
        return f"{self.name}({inner})"


class UnknownContractError(ContractError):
    """A revert whose selector is not in the ABI (or empty revert data)."""

    def _message(self) -> str:
        if not self.data:
            return "the contract reverted without data (out of gas, or a call to a non-contract?)"
        return f"the contract reverted with unknown data 0x{self.data.hex()}"


class ContractRevert(ContractError):
    """A ``require(..., "reason")`` style revert (``Error(string)``)."""

    template = "{reason}"


class ContractPanic(ContractError):
    """A Solidity panic (``Panic(uint256)``): assertion, overflow, division by zero, ..."""

    template = "panic code {code:#x} (0x11 = arithmetic overflow, 0x12 = division by zero)"


# ---------------------------------------------------------------- the contract's custom errors
# One class per error of contracts/IFedSettle.sol; the template says what went wrong and the fix.


class NotOperator(ContractError):
    template = "{caller} is not the contract operator; send this from the operator account"


class UnknownRound(ContractError):
    template = "round {round_id} does not exist; round ids start at 1 (see round_count())"


class UnsupportedMechanism(ContractError):
    template = "mechanism_id {mechanism_id} is not implemented; use 1 (TradeFL) or 2 (cogen)"


class InvalidParameter(ContractError):
    template = "parameter {field!r} is invalid; check its range in IFedSettle.RoundConfig"


class ParameterOverflow(ContractError):
    template = (
        "amounts for {field!r} would overflow their bounds (payoffs < 2^119, deposits < 2^120, "
        "round totals < 2^128); lower gamma, lambda, the scales, the org maxima or the amount"
    )


class PhaseSpanTooLong(ContractError):
    template = (
        "the {field} phase would last {span} s, longer than the contract's maximum of "
        "{max_span} s; shorten the window"
    )


class RhoLength(ContractError):
    template = (
        "this rho chunk has {actual} bytes but must have {expected} (the upper triangle, "
        "n(n-1) bytes, cut in chunks of RHO_CHUNK bytes; see settlement.rho_chunks)"
    )


class RhoOutOfRange(ContractError):
    template = "the rho entry at triangle byte offset {offset} is {value} bps, above 10000 (1.0)"


class RhoIncomplete(ContractError):
    template = (
        "only {uploaded} of the {expected} bytes of rho are uploaded; the operator must "
        "finish with rho_append before deposits and settlement"
    )


class RhoComplete(ContractError):
    template = "round {round_id} already has its whole rho; nothing to append"


class DuplicateAccount(ContractError):
    template = "account {account} appears in more than one org slot; use one slot per account"


class BadIndex(ContractError):
    template = "org index {index} is out of range for a round of {n} orgs (0 .. n-1)"


class WrongCaller(ContractError):
    template = "this slot belongs to {expected}, not {caller}; send from the slot's account"


class WrongPhase(ContractError):
    template = "the round is in phase {actual!r}, this needs phase {expected!r}"

    def __init__(self, data: bytes = b"", **kwargs: Any):
        from settlement._types import Phase  # the enum lives with the value objects

        for key in ("expected", "actual"):
            if key in kwargs:
                kwargs[key] = Phase(kwargs[key])
        super().__init__(data, **kwargs)


class AlreadyDeposited(ContractError):
    template = "org {index} has already deposited in this round"


class BondTooSmall(ContractError):
    template = (
        "a deposit of {sent} is below the required bond of {required}; deposit at least "
        "`required` (see SettlementClient.required_bond)"
    )


class NotJoined(ContractError):
    template = "org {index} has not deposited its bond; call deposit_submit first"


class AlreadyReported(ContractError):
    template = "org {index} has already reported its contribution in this round"


class ReportOutOfBounds(ContractError):
    template = "reported {field} = {value} is outside [{min}, {max}]; report a value in range"


class ValueMismatch(ContractError):
    template = (
        "sent {sent} wei of ether but this deposit needs exactly {expected} (ETH rounds: "
        "msg.value == amount; token rounds: no ether)"
    )


class TokenShortfall(ContractError):
    template = (
        "the token delivered {received} units for a deposit of {expected}: fee-on-transfer "
        "and similar tokens cannot be settled exactly; use a plain ERC-20"
    )


class ReportsByCoordinator(ContractError):
    template = "this round's reports come from its coordinator {coordinator} as one table"


class NoCoordinator(ContractError):
    template = "this round has no coordinator; each org reports with contribution_submit"


class TableAlreadySubmitted(ContractError):
    template = "the coordinator already submitted this round's report table (one per round)"


class TableLength(ContractError):
    template = (
        "the report table has {actual} bytes but must have {expected} (16 per slot; market "
        "rounds: the length the table's graphs imply)"
    )


class MarketLengthMismatch(ContractError):
    template = "a market graph has {got} entries where {expected} are needed"


class MarketRowStart(ContractError):
    template = (
        "a market graph's rowStart[{index}] breaks the shape (0 first, non-decreasing, edges last)"
    )


class MarketBadExporter(ContractError):
    template = "a market graph has importer {importer} import {exporter} (not another slot)"


class MarketDuplicateEdge(ContractError):
    template = "a market graph has importer {importer} import {exporter} twice"


class MarketDistanceOutOfRange(ContractError):
    template = "a market graph's distance d[{importer}][{exporter}] = {dist_wad} is above 2e18"


class CannotAbandon(ContractError):
    template = (
        "round cannot be abandoned now (phase {phase!r}): the operator may abandon only in "
        "phase Deposit, anyone else only after deposits closed with fewer than two depositors"
    )

    def __init__(self, data: bytes = b"", **kwargs: Any):
        from settlement._types import Phase

        if "phase" in kwargs:
            kwargs["phase"] = Phase(kwargs["phase"])
        super().__init__(data, **kwargs)


class AlreadyWithdrawn(ContractError):
    template = "org {index} has already withdrawn its payout"


class NothingToWithdraw(ContractError):
    template = "org {index} has nothing to withdraw in this round"


class TransferFailed(ContractError):
    template = "sending {amount} to {to} failed (the recipient or the token reverted)"


class SafeERC20FailedOperation(ContractError):
    template = (
        "the token {token} refused the transfer (no allowance or balance?); approve the "
        "settlement contract for the amount, or deposit with a permit"
    )


class DeployFailed(ContractError):
    template = (
        "storing a data contract (org table, rho chunk or report table) ran out of gas; "
        "resend the transaction with a higher gas limit"
    )


class ReentrancyGuardReentrantCall(ContractError):
    template = "re-entrant call rejected (OpenZeppelin ReentrancyGuardTransient)"


_BUILTIN: dict[str, type[ContractError]] = {
    cls.__name__: cls
    for cls in (
        NotOperator,
        UnknownRound,
        UnsupportedMechanism,
        InvalidParameter,
        ParameterOverflow,
        PhaseSpanTooLong,
        RhoLength,
        RhoOutOfRange,
        RhoIncomplete,
        RhoComplete,
        DuplicateAccount,
        BadIndex,
        WrongCaller,
        WrongPhase,
        AlreadyDeposited,
        BondTooSmall,
        NotJoined,
        AlreadyReported,
        ReportOutOfBounds,
        ValueMismatch,
        TokenShortfall,
        ReportsByCoordinator,
        NoCoordinator,
        TableAlreadySubmitted,
        TableLength,
        MarketLengthMismatch,
        MarketRowStart,
        MarketBadExporter,
        MarketDuplicateEdge,
        MarketDistanceOutOfRange,
        CannotAbandon,
        AlreadyWithdrawn,
        NothingToWithdraw,
        TransferFailed,
        DeployFailed,
        SafeERC20FailedOperation,
        ReentrancyGuardReentrantCall,
    )
}

_GENERATED: dict[str, type[ContractError]] = {}

_ERROR_STRING = keccak(text="Error(string)")[:4]
_PANIC = keccak(text="Panic(uint256)")[:4]


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _abi_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


class ErrorDecoder:
    """Maps 4-byte selectors of an ABI's errors to :class:`ContractError` classes.

    Parameters
    ----------
    abi : sequence of dict
        A contract ABI; every ``{"type": "error"}`` entry is registered.
    """

    def __init__(self, abi: Sequence[Mapping[str, Any]]):
        self._by_selector: dict[bytes, tuple[type[ContractError], list[str], list[str]]] = {}
        for entry in abi:
            if entry.get("type") != "error":
                continue
            name = str(entry["name"])
            types = [_abi_type(p) for p in entry.get("inputs", [])]
            names = [_snake(str(p.get("name") or f"arg{k}")) for k, p in enumerate(entry["inputs"])]
            selector = keccak(text=f"{name}({','.join(types)})")[:4]
            cls = _BUILTIN.get(name) or _GENERATED.get(name)
            if cls is None:
                # generated once per name so `except` clauses see one stable class
                cls = type(name, (ContractError,), {"__module__": __name__})
                _GENERATED[name] = cls
            self._by_selector[selector] = (cls, types, names)

    @property
    def classes(self) -> dict[str, type[ContractError]]:
        """Error name -> exception class for every error in the ABI."""
        return {cls.__name__: cls for cls, _, _ in self._by_selector.values()}

    def decode(self, data: bytes | str | None) -> ContractError:
        """Return the exception for revert ``data`` (never raises; unknown -> UnknownContractError)."""
        raw = _to_bytes(data)
        selector, body = raw[:4], raw[4:]
        try:
            if selector in self._by_selector:
                cls, types, names = self._by_selector[selector]
                values = abi_decode(types, body)
                plain = {k: _plain(v, t) for k, v, t in zip(names, values, types, strict=True)}
                return cls(raw, **plain)
            if selector == _ERROR_STRING:
                return ContractRevert(raw, reason=abi_decode(["string"], body)[0])
            if selector == _PANIC:
                return ContractPanic(raw, code=abi_decode(["uint256"], body)[0])
        except Exception:  # malformed revert data is reported as unknown, never crashes
            pass
        return UnknownContractError(raw)


def _plain(value: Any, abi_type: str) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _to_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    text = str(data)
    if text.startswith(("0x", "0X")):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


def error_classes_from_abi(abi: Sequence[Mapping[str, Any]]) -> dict[str, type[ContractError]]:
    """Return error name -> exception class for every custom error in ``abi``."""
    return ErrorDecoder(abi).classes
