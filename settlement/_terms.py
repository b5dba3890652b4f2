"""A silo checks every number of a round before it deposits (mechanisms.md 4.1).

:func:`check_round` reads the round from the chain and compares each parameter with the terms the
silo accepted, raising :class:`TermsMismatch` naming the first field that differs, or
:class:`LockTooLong` when the deposit would be locked longer than the silo allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from settlement._client import SettlementClient, _rho_bytes
from settlement._digests import params_digest
from settlement._errors import LockTooLong, TermsMismatch
from settlement._fixedpoint import unpack_rho
from settlement._market import MECHANISM_MARKET, market_bonds
from settlement._rules import Rule
from settlement._types import OrgSpec, Phase, RoundConfig

#: the RoundConfig fields compared one by one, in this order
CONFIG_FIELDS = (
    "mechanism_id",
    "token",
    "coordinator",
    "gamma_wad",
    "lambda_wad",
    "d_min_wad",
    "x_scale",
    "f_scale",
)


@dataclass(frozen=True)
class AcceptedTerms:
    """The round a silo agreed to, in chain units.

    Attributes
    ----------
    config : RoundConfig
        Mechanism, token, coordinator, gamma, lambda, D_min and scales are compared exactly;
        the deadlines only if ``check_deadlines`` (they depend on when the round was opened).
    orgs : sequence of OrgSpec
        Every slot (the bonds depend on all of them).
    rho : bytes or matrix
        The weight triangle (packed) or the full matrix.
    check_deadlines : bool
        Compare ``config``'s deadlines exactly too.
    """

    config: RoundConfig
    orgs: Sequence[OrgSpec]
    rho: Any
    check_deadlines: bool = False


def check_round(
    client: SettlementClient,
    round_id: int,
    terms: AcceptedTerms,
    *,
    index: int | None = None,
    max_lock: int | None = None,
    now: int | None = None,
) -> RoundConfig:
    """Compare every on-chain parameter of ``round_id`` with ``terms``; return the config.

    Parameters
    ----------
    client : SettlementClient
    round_id : int
    terms : AcceptedTerms
    index : int, optional
        The silo's own slot: its on-chain bond must equal the Python mirror's (the market's,
        :func:`settlement.market_bonds`, for mechanism 3).
    max_lock : int, optional
        Longest acceptable lock in seconds: the report deadline (after which anyone can settle)
        must be at most ``now + max_lock``.
    now : int, optional
        Defaults to the chain's time.

    Raises
    ------
    TermsMismatch
        Naming the field (``"gamma_wad"``, ``"orgs[1].x_max"``, ``"rho"``, ``"bond[2]"``,
        ``"params_digest"``...).
    LockTooLong
        When the lock exceeds ``max_lock``.
    """
    if client.phase_of(round_id) == Phase.NONE:
        raise TermsMismatch("round_id", "an open round", "no such round")
    state = client.round_state(round_id)
    chain = client.round_config(round_id)
    for field in CONFIG_FIELDS:
        _same(field, getattr(terms.config, field), getattr(chain, field))
    if terms.check_deadlines:
        _same("deposit_deadline", terms.config.deposit_deadline, chain.deposit_deadline)
        _same("report_deadline", terms.config.report_deadline, chain.report_deadline)
    _same("n", len(terms.orgs), state.n)
    profiles = client.profiles(round_id)
    for i, (want, got) in enumerate(zip(terms.orgs, profiles, strict=True)):
        _same(f"orgs[{i}].account", want.account, got.account)
        _same(f"orgs[{i}].x_max", want.x_max, got.x_max)
        _same(f"orgs[{i}].f_max", want.f_max, got.f_max)
        _same(f"orgs[{i}].base", want.base, got.base)
    triangle = _rho_bytes(terms.rho)
    if not state.rho_complete:
        raise TermsMismatch("rho", f"{len(triangle)} bytes", f"{state.rho_bytes} bytes uploaded")
    on_chain = client.round_rho(round_id)
    if on_chain != triangle:
        want_m, got_m = unpack_rho(triangle, len(terms.orgs)), unpack_rho(on_chain, state.n)
        for i, (wr, gr) in enumerate(zip(want_m, got_m, strict=True)):
            for j, (w, g) in enumerate(zip(wr, gr, strict=True)):
                _same(f"rho[{i}][{j}]", w, g)
    if index is not None:
        if chain.mechanism_id == MECHANISM_MARKET:
            bonds = market_bonds(chain, terms.orgs)
        else:
            bonds = Rule(chain).bonds(terms.orgs, unpack_rho(triangle, len(terms.orgs)))
        _same(f"bond[{index}]", bonds[index], profiles[index].bond)
    digest = params_digest(
        chain_id=client.chain_id,
        contract=client.address,
        round_id=round_id,
        config=chain,
        orgs=terms.orgs,
        triangle=triangle,
    )
    _same("params_digest", "0x" + digest.hex(), "0x" + state.params_digest.hex())
    if max_lock is not None:
        now = client.chain_time() if now is None else now
        lock = chain.report_deadline - now
        if lock > max_lock:
            raise LockTooLong(lock, max_lock)
    return chain


def _same(field: str, expected: object, actual: object) -> None:
    if expected != actual:
        raise TermsMismatch(field, expected, actual)
