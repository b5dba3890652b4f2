"""Per-mechanism recomputation: given a round's on-chain inputs, what the contract must produce.

The verifier (:mod:`settlement.audit._verify`) does not know any mechanism's formula: it hands a
round's inputs (:class:`RoundInputs`) to the :class:`Mechanism` registered for the round's
mechanism id and compares the :class:`Recomputation` with what the chain recorded. A mechanism
with no entry in :data:`MECHANISMS` is reported as not checked, never as passed.

Mechanism 1 (contribution-based redistribution, spec section 2) recomputes exactly with the
integer mirror of the contract (:func:`settlement._outcome.compute_outcome`) and independently in
floating point with the solver's formula (:func:`settlement.audit._solver.real_payoffs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from settlement._outcome import RoundOutcome, compute_outcome
from settlement._types import OrgSpec, RoundConfig
from settlement.audit._solver import real_payoffs


@dataclass(frozen=True)
class RoundInputs:
    """What the chain logged as a round's inputs.

    Attributes
    ----------
    config : RoundConfig
        The round's parameters as opened.
    orgs : list of OrgSpec
        The org slots (account, xMax, fMax), by index.
    rho_bps : matrix of int
        Competition matrix in basis points.
    deposits : mapping index -> wei
        Slots that joined and what they deposited.
    reports : mapping index -> (x, f)
        Slots that reported, with their reported values.
    """

    config: RoundConfig
    orgs: Sequence[OrgSpec]
    rho_bps: Sequence[Sequence[int]]
    deposits: Mapping[int, int]
    reports: Mapping[int, tuple[int, int]]


@dataclass(frozen=True)
class Recomputation:
    """A mechanism's answer for one round.

    Attributes
    ----------
    outcome : RoundOutcome
        Exact bonds, scores, payoffs, payouts and payoff digest the contract must produce.
    reference : list of float or None
        An independent real-valued computation of the payoffs (wei), if the mechanism has one.
    tolerance_wei : float
        The largest acceptable ``|exact - reference|`` (the contract's truncation).
    """

    outcome: RoundOutcome
    reference: list[float] | None
    tolerance_wei: float


class Mechanism(Protocol):
    """Recomputes the outcome of rounds of one mechanism id."""

    mechanism_id: int
    name: str

    def recompute(self, inputs: RoundInputs) -> Recomputation:
        """The exact outcome (and a reference computation) from the round's inputs."""
        ...


class Redistribution:
    """Mechanism 1: ``R_i = sum_j gamma rho_ij (c_i - c_j)`` over the reporters."""

    mechanism_id = 1
    name = "contribution-based redistribution"

    def recompute(self, inputs: RoundInputs) -> Recomputation:
        c = inputs.config
        outcome = compute_outcome(
            c, inputs.orgs, inputs.rho_bps, inputs.deposits, dict(inputs.reports)
        )
        scores = [
            outcome.scores[i] if i in inputs.reports else None for i in range(len(inputs.orgs))
        ]
        reference = real_payoffs(scores, inputs.rho_bps, c.gamma_wad, c.x_scale, c.f_scale)
        # each of the (reporters - 1) pair terms is truncated once: < 1 wei each, plus float error
        largest = max((abs(int(v)) for v in outcome.payoffs), default=0)
        tolerance = max(len(inputs.reports) - 1, 0) + 1e-9 * largest + 1e-6
        return Recomputation(outcome=outcome, reference=reference, tolerance_wei=tolerance)


#: mechanism id -> its recomputation (ids without an entry are reported as not checked)
MECHANISMS: dict[int, Mechanism] = {1: Redistribution()}


def mechanism_for(mechanism_id: int) -> Mechanism | None:
    """The registered mechanism of ``mechanism_id``, or None."""
    return MECHANISMS.get(mechanism_id)
