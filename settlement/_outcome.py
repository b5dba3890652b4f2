"""The expected outcome of a round, computed in Python from its public inputs.

This is what the tests and the auditor compare the chain against: given the round's
configuration, its org slots, rho, who deposited how much and who reported what, it returns the
bonds, scores, payoffs, payouts and the payoff digest the contract must produce.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from settlement._fixedpoint import payoff_digest, payoffs, required_bonds, score
from settlement._types import OrgSpec, RoundConfig, Wei


@dataclass(frozen=True)
class RoundOutcome:
    """Expected settlement of one round.

    Attributes
    ----------
    bonds : list of Wei
        Required bond per slot.
    scores : list of int
        Exact score per slot (0 for non-reporters).
    payoffs : list of Wei
        ``R_i`` per slot (0 for non-reporters); sums to 0.
    payouts : list of Wei
        What each slot withdraws after settlement: deposit + R_i (0 if it never joined).
    digest : bytes
        The payoff digest the contract stores.
    """

    bonds: list[Wei]
    scores: list[int]
    payoffs: list[Wei]
    payouts: list[Wei]
    digest: bytes


def compute_outcome(
    config: RoundConfig,
    orgs: Sequence[OrgSpec],
    rho_bps: Sequence[Sequence[int]],
    deposits: Mapping[int, int],
    reports: Mapping[int, tuple[int, int]],
) -> RoundOutcome:
    """Settle a round in Python.

    Parameters
    ----------
    config, orgs :
        As passed to ``roundOpen``.
    rho_bps : matrix of int
        rho in basis points (``unpack_rho`` of the round's bytes).
    deposits : mapping index -> wei
        Slots that joined and what they deposited.
    reports : mapping index -> (x, f)
        Slots that reported (each must also be in ``deposits``).
    """
    n = len(orgs)
    stray = sorted(set(reports) - set(deposits))
    if stray:
        raise ValueError(f"reports: slots {stray} reported without depositing")
    bonds = required_bonds(
        [o.x_max for o in orgs],
        [o.f_max for o in orgs],
        rho_bps,
        gamma_wad=config.gamma_wad,
        lambda_wad=config.lambda_wad,
        d_min_wad=config.d_min_wad,
        x_scale=config.x_scale,
        f_scale=config.f_scale,
    )
    exact: list[int | None] = [None] * n
    for i, (x, f) in reports.items():
        exact[i] = score(x, f, config.lambda_wad, config.x_scale, config.f_scale)
    pay = payoffs(exact, rho_bps, config.gamma_wad, config.x_scale, config.f_scale)
    scores = [s or 0 for s in exact]
    payouts = [Wei(deposits[i] + pay[i]) if i in deposits else Wei(0) for i in range(n)]
    return RoundOutcome(
        bonds=[Wei(b) for b in bonds],
        scores=scores,
        payoffs=[Wei(p) for p in pay],
        payouts=payouts,
        digest=payoff_digest([o.account for o in orgs], scores, pay),
    )
