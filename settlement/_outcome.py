"""The expected outcome of a round, computed in Python from its public inputs.

This is what the tests and the auditor compare the chain against: given the round's
configuration, its org slots, the weight matrix, who deposited how much and who reported what, it
returns the bonds, scores, payoffs, payouts and the payoff digest the contract must produce.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from settlement._digests import payoff_digest
from settlement._rules import Rule
from settlement._types import OrgSpec, RoundConfig, Wei


@dataclass(frozen=True)
class RoundOutcome:
    """Expected settlement of one round.

    Attributes
    ----------
    bonds : list of Wei
        Required bond per slot.
    scores : list of int
        The score each slot is settled at: its report, else (a silent depositor) its minimum
        report; 0 for slots that never deposited.
    payoffs : list of Wei
        ``R_i`` per slot (0 for slots that never deposited); sums to 0.
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
        The full symmetric weight matrix in basis points (``unpack_rho`` of the triangle).
    deposits : mapping index -> amount
        Slots that joined and what they deposited.
    reports : mapping index -> (x, f)
        Slots that reported (each must also be in ``deposits``); depositors missing here are
        settled at their minimum report.
    """
    stray = sorted(set(reports) - set(deposits))
    if stray:
        raise ValueError(f"reports: slots {stray} reported without depositing")
    rule = Rule(config)
    n = len(orgs)
    settled = rule.settled_scores(orgs, [i in deposits for i in range(n)], dict(reports))
    pay = rule.payoffs(settled, rho_bps)
    scores = [s or 0 for s in settled]
    payouts = [Wei(deposits[i] + pay[i]) if i in deposits else Wei(0) for i in range(n)]
    return RoundOutcome(
        bonds=[Wei(b) for b in rule.bonds(orgs, rho_bps)],
        scores=scores,
        payoffs=[Wei(p) for p in pay],
        payouts=payouts,
        digest=payoff_digest([o.account for o in orgs], scores, pay),
    )
