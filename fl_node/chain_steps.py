"""The chain steps of one settlement round, each idempotent so a restarted process can resume.

Every step first reads the round's state from the chain and does nothing if it already happened
(a deposit is never made twice, a payout never withdrawn twice); this is what lets the node
daemon and the coordinator restart at any point.

Units on chain: ``x = round(d * s * x_scale)`` (contributed samples with ``x_scale`` decimals),
``f`` an integer compute level (samples/s, ``f_scale`` = 1), ``gamma`` in wei per unit of
contribution score = ``gamma_game * unit_wei`` where ``unit_wei`` is the wei value of one unit
of the game's payoff.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from fl_node.agent import ConsortiumTerms, Strategy
from settlement import (
    OrgSpec,
    Phase,
    Receipt,
    SettlementClient,
    Wei,
    pack_rho,
    rho_to_bps,
    x_min,
)

__all__ = [
    "ChainUnits",
    "join",
    "open_round",
    "params_digest",
    "report",
    "settle",
    "to_report",
    "withdraw",
]


@dataclass(frozen=True)
class ChainUnits:
    """Fixed-point choices of a round: report scales and the wei value of one payoff unit."""

    x_scale: int = 1000
    f_scale: int = 1
    unit_wei: int = 10**18

    def gamma_wei(self, gamma: float) -> float:
        """gamma in wei per unit of contribution score."""
        return gamma * self.unit_wei


def params_digest(terms: ConsortiumTerms, units: ChainUnits) -> bytes:
    """sha256 of the canonical JSON of the round's public parameter file."""
    doc = {"terms": terms.__dict__, "units": units.__dict__}
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=list).encode()
    return hashlib.sha256(blob).digest()


def open_round(
    client: SettlementClient,
    terms: ConsortiumTerms,
    sizes: Sequence[float],
    max_levels: Sequence[float],
    accounts: Sequence[str],
    *,
    units: ChainUnits = ChainUnits(),
    coordinator: str | None = None,
    windows: tuple[int, int, int] = (3600, 3600, 3600),
) -> int:
    """Open a round for the consortium (operator = the client's account); return its id."""
    config = client.round_config_from_reals(
        gamma=units.gamma_wei(terms.gamma),
        lambda_=terms.lam,
        d_min=terms.D_min,
        x_scale=units.x_scale,
        f_scale=units.f_scale,
        deposit_window=windows[0],
        report_window=windows[1],
        settle_window=windows[2],
        coordinator=coordinator or "0x" + "00" * 20,
        params_digest=params_digest(terms, units),
    )
    orgs = [
        OrgSpec(account=a, x_max=round(s * units.x_scale), f_max=round(fmax * units.f_scale))
        for a, s, fmax in zip(accounts, sizes, max_levels, strict=True)
    ]
    rho = pack_rho(rho_to_bps([list(r) for r in terms.rho]))
    return int(client.round_open(config, orgs, rho).round_id)


def join(
    client: SettlementClient, round_id: int, index: int, account: LocalAccount
) -> Receipt | None:
    """Deposit the required bond for slot ``index`` unless already joined."""
    if client.profile_record(round_id, index).joined:
        return None
    return client.deposit_submit(round_id, index, sender=account)


def to_report(
    strategy: Strategy, s: float, client: SettlementClient, round_id: int, index: int
) -> tuple[int, int]:
    """The on-chain (x, f) integers of a strategy, clipped into the round's bounds."""
    cfg = client.round_config(round_id)
    prof = client.profile_record(round_id, index)
    x = round(strategy.d * s * cfg.x_scale)
    x = min(max(x, x_min(cfg.d_min_wad, prof.x_max)), prof.x_max)
    f = min(max(round(strategy.f * cfg.f_scale), 1), prof.f_max)
    return x, f


def report(
    client: SettlementClient,
    round_id: int,
    index: int,
    account: LocalAccount,
    x: int,
    f: int,
    attestation: bytes = b"",
) -> Receipt | None:
    """Report (x, f) for slot ``index`` unless already reported."""
    if client.profile_record(round_id, index).reported:
        return None
    return client.contribution_submit(round_id, index, x, f, attestation, sender=account)


def settle(
    client: SettlementClient, round_id: int, sender: LocalAccount | None = None
) -> Receipt | None:
    """Run ``payoffCalculate`` if the round is in phase Calculate; no-op once settled."""
    phase = client.phase_of(round_id)
    if phase in (Phase.SETTLED, Phase.ABANDONED):
        return None
    return client.payoff_calculate(round_id, sender=sender)


def withdraw(
    client: SettlementClient, round_id: int, index: int, account: LocalAccount
) -> tuple[Receipt | None, Wei]:
    """Withdraw slot ``index``'s payout unless already withdrawn; return (receipt, amount)."""
    prof = client.profile_record(round_id, index)
    amount = Wei(
        prof.deposited + prof.payoff
        if client.phase_of(round_id) == Phase.SETTLED
        else prof.deposited
    )
    if prof.withdrawn or not prof.joined:
        return None, amount
    return client.payoff_transfer(round_id, index, sender=account), amount
