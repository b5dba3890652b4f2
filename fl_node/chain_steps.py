"""The chain steps of one settlement round, each idempotent so a restarted process can resume.

Every step first reads the round's state from the chain and does nothing if it already happened
(a deposit is never made twice, a payout never withdrawn twice); this is what lets the node
daemon and the coordinator restart at any point.

Who does what (``contracts/IFedSettle.sol``): the operator opens the round (:func:`open_round`);
each silo checks every parameter against the terms it accepted and deposits (:func:`join`); in a
round with a coordinator, the coordinator account submits the whole report table once
(:func:`submit_table`), otherwise each silo self-reports (:func:`report`); anyone settles
(:func:`settle`) and pays out (:func:`payout`); a silo can always pull its own payout
(:func:`withdraw`).

Units on chain: ``x = round(d * s * x_scale)`` (contributed samples with ``x_scale`` decimals),
``f`` an integer compute level (samples/s, ``f_scale`` = 1), ``gamma`` in wei (token units) per
unit of contribution score = ``gamma_game * unit_wei`` where ``unit_wei`` is the value of one unit
of the game's payoff, converted exactly from the decimal text of the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from eth_account.signers.local import LocalAccount

from fl_node.agent import ConsortiumTerms, Strategy
from settlement import (
    ZERO_ADDRESS,
    AcceptedTerms,
    OrgSpec,
    Phase,
    Receipt,
    RoundConfig,
    Rule,
    SettlementClient,
    Wei,
    check_round,
    pack_rho,
    rho_to_bps,
    round_config_from_reals,
)

__all__ = [
    "ChainUnits",
    "accepted_terms",
    "join",
    "open_round",
    "payout",
    "pushed_terms",
    "report",
    "round_terms",
    "settle",
    "submit_table",
    "to_report",
    "withdraw",
]


@dataclass(frozen=True)
class ChainUnits:
    """Fixed-point choices of a round: report scales and the wei value of one payoff unit."""

    x_scale: int = 1000
    f_scale: int = 1
    unit_wei: int = 10**18

    def gamma_wei(self, gamma: float | str | Decimal) -> Fraction:
        """gamma in wei per unit of contribution score, exactly.

        A float is read through its shortest ``repr`` (the decimal text it was parsed from), so
        ``ChainUnits().gamma_wei(0.07)`` is exactly ``7 * 10**16``, not ``0.07 * 1e18`` in floats.
        """
        text = repr(gamma) if isinstance(gamma, float) else str(gamma)
        return Fraction(Decimal(text)) * self.unit_wei


def round_terms(
    terms: ConsortiumTerms,
    sizes: Sequence[float],
    max_levels: Sequence[float],
    accounts: Sequence[str],
    *,
    units: ChainUnits = ChainUnits(),
    coordinator: str | None = None,
    token: str | None = None,
    now: int = 0,
    windows: tuple[int, int] = (3600, 3600),
) -> tuple[RoundConfig, list[OrgSpec], bytes]:
    """The round's config (deadlines from ``now``), org slots and packed rho for ``terms``.

    The coordinator opens exactly this, and each silo recomputes it from the terms it accepted.
    """
    config = round_config_from_reals(
        now=now,
        gamma=units.gamma_wei(terms.gamma),
        lambda_=terms.lam,
        d_min=terms.D_min,
        x_scale=units.x_scale,
        f_scale=units.f_scale,
        deposit_window=windows[0],
        report_window=windows[1],
        coordinator=coordinator or ZERO_ADDRESS,
        token=token or ZERO_ADDRESS,
    )
    orgs = [
        OrgSpec(account=a, x_max=round(s * units.x_scale), f_max=round(fmax * units.f_scale))
        for a, s, fmax in zip(accounts, sizes, max_levels, strict=True)
    ]
    rho = pack_rho(rho_to_bps([list(r) for r in terms.rho]))
    return config, orgs, rho


def accepted_terms(
    terms: ConsortiumTerms,
    sizes: Sequence[float],
    max_levels: Sequence[float],
    accounts: Sequence[str],
    *,
    units: ChainUnits = ChainUnits(),
    coordinator: str | None = None,
    token: str | None = None,
) -> AcceptedTerms:
    """What a silo compares the on-chain round with before depositing (deadlines: ``max_lock``)."""
    config, orgs, rho = round_terms(
        terms, sizes, max_levels, accounts, units=units, coordinator=coordinator, token=token
    )
    return AcceptedTerms(config=config, orgs=orgs, rho=rho)


def pushed_terms(
    client: SettlementClient, round_id: int, terms: ConsortiumTerms, units: ChainUnits
) -> AcceptedTerms:
    """The terms a silo received from the coordinator, for :func:`join`'s check of the round.

    The numbers (gamma, lambda, D_min, scales, rho) come from the pushed ``terms`` and
    ``units``; the slots, coordinator and token from the round itself (the silo checks its own
    slot separately, and the pushed terms do not carry the others' sizes).
    """
    cfg = client.round_config(round_id)
    orgs = [OrgSpec(p.account, p.x_max, p.f_max, p.base) for p in client.profiles(round_id)]
    config, _, rho = round_terms(
        terms,
        [o.x_max / units.x_scale for o in orgs],
        [o.f_max / units.f_scale for o in orgs],
        [o.account for o in orgs],
        units=units,
        coordinator=cfg.coordinator,
        token=cfg.token,
    )
    return AcceptedTerms(config=config, orgs=orgs, rho=rho)


def open_round(
    client: SettlementClient,
    terms: ConsortiumTerms,
    sizes: Sequence[float],
    max_levels: Sequence[float],
    accounts: Sequence[str],
    *,
    units: ChainUnits = ChainUnits(),
    coordinator: str | None = None,
    token: str | None = None,
    windows: tuple[int, int] = (3600, 3600),
) -> int:
    """Open a round for the consortium (operator = the client's account); return its id."""
    config, orgs, rho = round_terms(
        terms,
        sizes,
        max_levels,
        accounts,
        units=units,
        coordinator=coordinator,
        token=token,
        now=client.chain_time(),
        windows=windows,
    )
    return int(client.round_open(config, orgs, rho).round_id)


def join(
    client: SettlementClient,
    round_id: int,
    index: int,
    account: LocalAccount,
    *,
    expected: AcceptedTerms | None = None,
    max_lock: int | None = None,
) -> Receipt | None:
    """Deposit the required bond for slot ``index`` unless already joined.

    With ``expected``, every on-chain parameter is first compared with the accepted terms
    (:func:`settlement.check_round`: raises :class:`settlement.TermsMismatch` naming the field,
    or :class:`settlement.LockTooLong` beyond ``max_lock`` seconds) and nothing is sent on a
    mismatch. Token rounds approve the bond first (skipped when the allowance already covers it).
    """
    if client.profile_record(round_id, index).joined:
        return None
    if expected is not None:
        config = check_round(client, round_id, expected, index=index, max_lock=max_lock)
    else:
        config = client.round_config(round_id)
    bond = client.required_bond(round_id, index)
    if config.uses_token and bond:
        token = client.token(round_id)
        if token.allowance(account.address, client.address) < bond:
            token.approve(account, client.address, bond)
    return client.deposit_submit(round_id, index, bond, sender=account)


def to_report(
    strategy: Strategy, s: float, client: SettlementClient, round_id: int, index: int
) -> tuple[int, int]:
    """The on-chain (x, f) integers of a strategy, clipped into the round's bounds."""
    cfg = client.round_config(round_id)
    prof = client.profile_record(round_id, index)
    (x_lo, x_hi), (f_lo, f_hi) = Rule(cfg).bounds(OrgSpec(prof.account, prof.x_max, prof.f_max))
    x = min(max(round(strategy.d * s * cfg.x_scale), x_lo), x_hi)
    f = min(max(round(strategy.f * cfg.f_scale), f_lo), f_hi)
    return x, f


def report(
    client: SettlementClient, round_id: int, index: int, account: LocalAccount, x: int, f: int
) -> Receipt | None:
    """Self-report (x, f) for slot ``index`` (rounds without a coordinator) unless reported."""
    if client.profile_record(round_id, index).reported:
        return None
    return client.contribution_submit(round_id, index, x, f, sender=account)


def submit_table(
    client: SettlementClient,
    round_id: int,
    rows: Mapping[int, tuple[int, int]],
    sender: LocalAccount,
    *,
    measured: Mapping[int, float] | None = None,
) -> Receipt | None:
    """The coordinator submits every slot's (x, f) in one transaction; no-op once reports closed.

    Slots missing from ``rows`` are settled at their minimum report (silence never pays).
    ``measured`` (cogen) are the slots' leave-one-out scores, stored with the table, not paid on.
    """
    if client.phase_of(round_id) != Phase.REPORT:
        return None
    return client.contribution_table_submit(round_id, rows, measured=measured, sender=sender)


def settle(
    client: SettlementClient, round_id: int, sender: LocalAccount | None = None, chunk: int = 0
) -> Receipt | None:
    """Run ``payoffCalculate`` (in chunks of ``chunk`` slots) until Settled; no-op once settled.

    Returns the last receipt (the one that settled the round).
    """
    if client.phase_of(round_id) != Phase.CALCULATE:
        return None
    receipts = client.settle(round_id, chunk, sender=sender)
    return receipts[-1] if receipts else None


def payout(
    client: SettlementClient, round_id: int, sender: LocalAccount | None = None
) -> Receipt | None:
    """Push every unpaid payout in one batch (anyone); refusing recipients keep theirs to pull."""
    if client.phase_of(round_id) not in (Phase.SETTLED, Phase.ABANDONED):
        return None
    if all(p.withdrawn or not p.joined for p in client.profiles(round_id)):
        return None
    return client.payout_batch(round_id, sender=sender)


def withdraw(
    client: SettlementClient, round_id: int, index: int, account: LocalAccount
) -> tuple[Receipt | None, Wei]:
    """Withdraw slot ``index``'s payout unless already paid; return (receipt, amount)."""
    prof = client.profile_record(round_id, index)
    amount = Wei(
        prof.deposited + prof.payoff
        if client.phase_of(round_id) == Phase.SETTLED
        else prof.deposited
    )
    if prof.withdrawn or not prof.joined:
        return None, amount
    return client.payoff_transfer(round_id, index, sender=account), amount
