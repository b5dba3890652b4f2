"""Unit types and value objects mirroring the structs of ``contracts/IFedSettle.sol``.

Every value object converts to and from the tuple the ABI codec uses (``to_abi`` /
``from_abi``), so the client never passes loose tuples around. Integer fields are checked to fit
their Solidity type on construction; the semantic rules (deadline order, scale ranges) are the
contract's job, so a test can still exercise the contract's own validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NewType

from eth_utils import is_address, to_checksum_address

from settlement._errors import ConfigError

Wei = NewType("Wei", int)
"""An amount of ether in wei (an exact integer, never a float)."""

Address = NewType("Address", str)
"""A checksummed 20-byte hex address (``0x`` + 40 hex digits)."""

RoundId = NewType("RoundId", int)
"""A round identifier; ids start at 1."""

ZERO_ADDRESS = Address("0x0000000000000000000000000000000000000000")
ZERO_BYTES32 = b"\x00" * 32

UINT8_MAX = 2**8 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1


class Phase(IntEnum):
    """Round phase, same order as the Solidity ``enum Phase``."""

    NONE = 0
    DEPOSIT = 1
    REPORT = 2
    CALCULATE = 3
    SETTLED = 4
    ABANDONED = 5


def to_address(value: str | bytes, field: str = "address") -> Address:
    """Return ``value`` as a checksummed :data:`Address`.

    Raises
    ------
    ConfigError
        If ``value`` is not a 20-byte address; the message names ``field``.
    """
    if isinstance(value, bytes | bytearray) and len(value) == 20:
        return Address(to_checksum_address(bytes(value)))
    if isinstance(value, str) and is_address(value):
        return Address(to_checksum_address(value))
    raise ConfigError(f"{field}: {value!r} is not a 20-byte hex address (0x + 40 hex digits)")


def _check_uint(value: int, bits: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{field}: expected an integer, got {type(value).__name__} {value!r}")
    if not 0 <= value < 2**bits:
        raise ConfigError(f"{field}: {value} does not fit uint{bits} (0 .. 2**{bits} - 1)")
    return value


def _check_bytes32(value: bytes, field: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise ConfigError(f"{field}: expected 32 bytes, got {value!r}")
    return bytes(value)


@dataclass(frozen=True)
class RoundConfig:
    """Round parameters fixed at open (``IFedSettle.RoundConfig``).

    Build one from real-valued parameters with :func:`settlement.round_config_from_reals`.
    """

    gamma_wad: int
    lambda_wad: int
    d_min_wad: int
    x_scale: int
    f_scale: int
    deposit_deadline: int
    report_deadline: int
    settle_deadline: int
    coordinator: str = ZERO_ADDRESS  # any address form; stored checksummed
    params_digest: bytes = ZERO_BYTES32
    mechanism_id: int = 1

    def __post_init__(self) -> None:
        _check_uint(self.mechanism_id, 8, "mechanism_id")
        for name in ("gamma_wad", "lambda_wad", "d_min_wad"):
            _check_uint(getattr(self, name), 256, name)
        for name in (
            "x_scale",
            "f_scale",
            "deposit_deadline",
            "report_deadline",
            "settle_deadline",
        ):
            _check_uint(getattr(self, name), 64, name)
        object.__setattr__(self, "coordinator", to_address(self.coordinator, "coordinator"))
        _check_bytes32(self.params_digest, "params_digest")

    @property
    def attested(self) -> bool:
        """Whether reports need the coordinator's EIP-712 attestation."""
        return self.coordinator != ZERO_ADDRESS

    def to_abi(self) -> tuple[Any, ...]:
        """Return the tuple in Solidity field order."""
        return (
            self.mechanism_id,
            self.gamma_wad,
            self.lambda_wad,
            self.d_min_wad,
            self.x_scale,
            self.f_scale,
            self.deposit_deadline,
            self.report_deadline,
            self.settle_deadline,
            self.coordinator,
            self.params_digest,
        )

    @classmethod
    def from_abi(cls, value: Sequence[Any]) -> RoundConfig:
        """Build from a decoded ABI tuple (Solidity field order)."""
        (mech, gamma, lam, dmin, xs, fs, dd, rd, sd, coord, digest) = value
        return cls(
            gamma_wad=gamma,
            lambda_wad=lam,
            d_min_wad=dmin,
            x_scale=xs,
            f_scale=fs,
            deposit_deadline=dd,
            report_deadline=rd,
            settle_deadline=sd,
            coordinator=to_address(coord, "coordinator"),
            params_digest=bytes(digest),
            mechanism_id=mech,
        )


@dataclass(frozen=True)
class OrgSpec:
    """One organization slot fixed at open (``IFedSettle.OrgSpec``)."""

    account: str  # any address form; stored checksummed
    x_max: int
    f_max: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "account", to_address(self.account, "account"))
        _check_uint(self.x_max, 64, "x_max")
        _check_uint(self.f_max, 64, "f_max")

    def to_abi(self) -> tuple[Any, ...]:
        """Return the tuple in Solidity field order."""
        return (self.account, self.x_max, self.f_max)

    @classmethod
    def from_abi(cls, value: Sequence[Any]) -> OrgSpec:
        """Build from a decoded ABI tuple."""
        account, x_max, f_max = value
        return cls(account=account, x_max=x_max, f_max=f_max)


@dataclass(frozen=True)
class Profile:
    """Per-round, per-org record for auditors (``IFedSettle.Profile``)."""

    account: Address
    bond: Wei
    deposited: Wei
    x_max: int
    f_max: int
    x: int
    f: int
    score: int
    payoff: Wei
    joined: bool
    reported: bool
    withdrawn: bool

    @classmethod
    def from_abi(cls, value: Sequence[Any]) -> Profile:
        """Build from a decoded ABI tuple."""
        (account, bond, dep, x_max, f_max, x, f, score, payoff, joined, reported, withdrawn) = value
        return cls(
            account=to_address(account),
            bond=Wei(bond),
            deposited=Wei(dep),
            x_max=x_max,
            f_max=f_max,
            x=x,
            f=f,
            score=score,
            payoff=Wei(payoff),
            joined=joined,
            reported=reported,
            withdrawn=withdrawn,
        )


@dataclass(frozen=True)
class RoundState:
    """Per-round summary (``IFedSettle.RoundState``)."""

    phase: Phase
    n: int
    joined_count: int
    reported_count: int
    total_deposits: Wei
    total_withdrawn: Wei
    rho_hash: bytes
    payoff_digest: bytes
    operator: Address

    @classmethod
    def from_abi(cls, value: Sequence[Any]) -> RoundState:
        """Build from a decoded ABI tuple."""
        (phase, n, joined, reported, total_dep, total_wd, rho_hash, digest, operator) = value
        return cls(
            phase=Phase(phase),
            n=n,
            joined_count=joined,
            reported_count=reported,
            total_deposits=Wei(total_dep),
            total_withdrawn=Wei(total_wd),
            rho_hash=bytes(rho_hash),
            payoff_digest=bytes(digest),
            operator=to_address(operator),
        )
