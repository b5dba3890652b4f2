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


MECHANISM_TRADEFL = 1
"""Mechanism id of coopetitive resource trading (TradeFL): score x + lambda f."""

MECHANISM_COGEN = 2
"""Mechanism id of strategic synthetic-data generation (cogen): score D + q x."""


@dataclass(frozen=True)
class RoundConfig:
    """Round parameters fixed at open (``IFedSettle.RoundConfig``).

    Build one from real-valued parameters with :func:`settlement.round_config_from_reals`.
    ``token`` is the ERC-20 the round settles in (the zero address: ETH); ``coordinator``, if
    set, is the only account that submits the report table. For mechanism 2 (cogen)
    ``lambda_wad`` is the quality weight q, ``d_min_wad`` is 0 and ``f_scale`` is 1.
    """

    gamma_wad: int
    lambda_wad: int
    d_min_wad: int
    x_scale: int
    f_scale: int
    deposit_deadline: int
    report_deadline: int
    coordinator: str = ZERO_ADDRESS  # any address form; stored checksummed
    token: str = ZERO_ADDRESS
    mechanism_id: int = MECHANISM_TRADEFL

    def __post_init__(self) -> None:
        _check_uint(self.mechanism_id, 8, "mechanism_id")
        for name in ("gamma_wad", "lambda_wad", "d_min_wad"):
            _check_uint(getattr(self, name), 256, name)
        for name in ("x_scale", "f_scale", "deposit_deadline", "report_deadline"):
            _check_uint(getattr(self, name), 64, name)
        object.__setattr__(self, "coordinator", to_address(self.coordinator, "coordinator"))
        object.__setattr__(self, "token", to_address(self.token, "token"))

    @property
    def attested(self) -> bool:
        """Whether the coordinator submits the report table (else each org self-reports)."""
        return self.coordinator != ZERO_ADDRESS

    @property
    def uses_token(self) -> bool:
        """Whether the round settles in an ERC-20 token (else in ETH)."""
        return self.token != ZERO_ADDRESS

    def to_abi(self) -> tuple[Any, ...]:
        """Return the tuple in Solidity field order."""
        return (
            self.mechanism_id,
            self.token,
            self.coordinator,
            self.gamma_wad,
            self.lambda_wad,
            self.d_min_wad,
            self.x_scale,
            self.f_scale,
            self.deposit_deadline,
            self.report_deadline,
        )

    @classmethod
    def from_abi(cls, value: Sequence[Any]) -> RoundConfig:
        """Build from a decoded ABI tuple (Solidity field order)."""
        (mech, token, coord, gamma, lam, dmin, xs, fs, dd, rd) = value
        return cls(
            gamma_wad=gamma,
            lambda_wad=lam,
            d_min_wad=dmin,
            x_scale=xs,
            f_scale=fs,
            deposit_deadline=dd,
            report_deadline=rd,
            coordinator=to_address(coord, "coordinator"),
            token=to_address(token, "token"),
            mechanism_id=mech,
        )


@dataclass(frozen=True)
class OrgSpec:
    """One organization slot fixed at open (``IFedSettle.OrgSpec``).

    ``base`` is the cogen slot's public real-sample count D_i (0 for TradeFL); cogen slots have
    ``f_max = 0``.
    """

    account: str  # any address form; stored checksummed
    x_max: int
    f_max: int
    base: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "account", to_address(self.account, "account"))
        _check_uint(self.x_max, 64, "x_max")
        _check_uint(self.f_max, 64, "f_max")
        _check_uint(self.base, 64, "base")

    def to_abi(self) -> tuple[Any, ...]:
        """Return the tuple in Solidity field order."""
        return (self.account, self.x_max, self.f_max, self.base)

    @classmethod
    def from_abi(cls, value: Sequence[Any]) -> OrgSpec:
        """Build from a decoded ABI tuple."""
        account, x_max, f_max, base = value
        return cls(account=account, x_max=x_max, f_max=f_max, base=base)


@dataclass(frozen=True)
class Profile:
    """Per-round, per-org record for auditors (``IFedSettle.Profile``).

    ``score`` is what the slot is settled at: its report, else its minimum report (silence never
    pays); 0 if it never deposited.
    """

    account: Address
    x_max: int
    f_max: int
    base: int
    bond: Wei
    deposited: Wei
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
        (account, x_max, f_max, base, bond, dep, x, f, score, payoff, joined, reported, wd) = value
        return cls(
            account=to_address(account),
            x_max=x_max,
            f_max=f_max,
            base=base,
            bond=Wei(bond),
            deposited=Wei(dep),
            x=x,
            f=f,
            score=score,
            payoff=Wei(payoff),
            joined=joined,
            reported=reported,
            withdrawn=wd,
        )


@dataclass(frozen=True)
class RoundState:
    """Per-round summary (``IFedSettle.RoundState``)."""

    phase: Phase
    n: int
    joined_count: int
    reported_count: int
    settled_count: int
    total_deposits: Wei
    total_withdrawn: Wei
    rho_bytes: int
    rho_hash: bytes
    orgs_hash: bytes
    params_digest: bytes
    payoff_digest: bytes
    operator: Address

    @property
    def rho_complete(self) -> bool:
        """Whether the whole weight triangle is uploaded (deposits need it)."""
        return self.rho_bytes == self.n * (self.n - 1)

    @classmethod
    def from_abi(cls, value: Sequence[Any]) -> RoundState:
        """Build from a decoded ABI tuple."""
        (phase, n, joined, reported, settled, dep, wd, rho_bytes, rho_hash, orgs_hash, params,
         payoff, operator) = value  # fmt: skip
        return cls(
            phase=Phase(phase),
            n=n,
            joined_count=joined,
            reported_count=reported,
            settled_count=settled,
            total_deposits=Wei(dep),
            total_withdrawn=Wei(wd),
            rho_bytes=rho_bytes,
            rho_hash=bytes(rho_hash),
            orgs_hash=bytes(orgs_hash),
            params_digest=bytes(params),
            payoff_digest=bytes(payoff),
            operator=to_address(operator),
        )
