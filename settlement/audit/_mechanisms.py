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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from settlement._market import market_outcome, market_table_of, unpack_market_table
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
    market_table : bytes or None
        Mechanism 3: the coordinator's table (the code of the data contract named by
        ``ReportTableSubmitted``), None if never submitted.
    """

    config: RoundConfig
    orgs: Sequence[OrgSpec]
    rho_bps: Sequence[Sequence[int]]
    deposits: Mapping[int, int]
    reports: Mapping[int, tuple[int, int]]
    market_table: bytes | None = None


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


class MarketPayments:
    """Mechanism 3: every FL round's edge payments from the attested graphs (spec section 3).

    Exact: the integer mirror of MarketRule (``settlement.rules``). Reference: the same formula
    in floating point, r_ij = max(0, [G_i(S_i) - G_i(S_i without j)] - lambda d_ij N_j / N_i)
    times the wei per unit, from the real K_i = kWad / 1e18 and d_ij = distWad / 1e18.
    """

    mechanism_id = 3
    name = "model-sharing market"

    def recompute(self, inputs: RoundInputs) -> Recomputation:
        c, orgs, n = inputs.config, inputs.orgs, len(inputs.orgs)
        outcome = market_outcome(c, orgs, inputs.deposits, inputs.market_table)
        graphs = unpack_market_table(n, inputs.market_table) if inputs.market_table else []
        table = market_table_of(c, orgs)
        lam, unit = table.lambda_wad / 1e18, table.unit_wei
        reference = [0.0] * n
        edges = 0
        for g in graphs:
            for i, row in enumerate(g.rows()):
                k, ni = table.k_wad[i] / 1e18, table.n[i]
                total = ni + sum(table.n[j] for j in row)
                for e in range(g.row_start[i], g.row_start[i + 1]):
                    j, nj = g.exporters[e], table.n[g.exporters[e]]
                    marg = math.sqrt(k / (total - nj)) - math.sqrt(k / total)
                    r = max(0.0, marg - lam * (g.dist_wad[e] / 1e18) * nj / ni) * unit
                    reference[j] += r
                    reference[i] -= r
                    edges += 1
        # per edge under 2 wei + 2 unit / 1e18 of truncation (MarketRule's notice), plus float error
        largest = max((abs(int(v)) for v in outcome.payoffs), default=0)
        tolerance = edges * (2 + 2 * unit / 1e18) + 1e-9 * largest + 1e-6
        return Recomputation(outcome=outcome, reference=reference, tolerance_wei=tolerance)


#: mechanism id -> its recomputation (ids without an entry are reported as not checked)
MECHANISMS: dict[int, Mechanism] = {1: Redistribution(), 3: MarketPayments()}


def mechanism_for(mechanism_id: int) -> Mechanism | None:
    """The registered mechanism of ``mechanism_id``, or None."""
    return MECHANISMS.get(mechanism_id)
