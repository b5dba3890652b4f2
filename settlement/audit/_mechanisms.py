"""Per-mechanism recomputation: given a round's on-chain inputs, what the contract must produce.

The verifier (:mod:`settlement.audit._verify`) does not know any mechanism's formula: it hands a
round's inputs (:class:`RoundInputs`) to the :class:`Mechanism` registered for the round's
mechanism id and compares the :class:`Recomputation` with what the chain recorded. A mechanism
with no entry in :data:`MECHANISMS` is reported as not checked, never as passed.

Mechanism 1 (contribution-based redistribution, spec section 2) recomputes exactly with the
integer mirror of the contract (:func:`settlement._outcome.compute_outcome`) and independently in
floating point with the solver's formula (:func:`settlement.audit._solver.real_payoffs`).
Mechanism 2 (synthetic-data generation, spec section 2 "cogen") uses the same exact mirror and,
as its reference, the game's redistribution ``R_i = kappa sum_j gamma_ij (s_i - s_j)`` over the
real scores ``s_i = D_i + q x_i`` of every depositor (a silent one at ``x_i = 0``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from settlement._fixedpoint import BPS, WAD
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
        The org slots (account, xMax, fMax, base), by index.
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

    def parameters(self, inputs: RoundInputs) -> dict[str, Any]:
        """The round's inputs in the mechanism's own terms (for dashboards and exports)."""
        ...


class Redistribution:
    """Mechanism 1 (TradeFL): ``R_i = sum_j gamma rho_ij (c_i - c_j)`` over the depositors."""

    mechanism_id = 1
    name = "contribution-based redistribution"

    def recompute(self, inputs: RoundInputs) -> Recomputation:
        c = inputs.config
        outcome = compute_outcome(
            c, inputs.orgs, inputs.rho_bps, inputs.deposits, dict(inputs.reports)
        )
        # every depositor is settled: at its report, a silent one at its minimum report
        scores = [
            outcome.scores[i] if i in inputs.deposits else None for i in range(len(inputs.orgs))
        ]
        reference = real_payoffs(scores, inputs.rho_bps, c.gamma_wad, c.x_scale, c.f_scale)
        # each of the (depositors - 1) pair terms is truncated once: < 1 wei each, plus float error
        largest = max((abs(int(v)) for v in outcome.payoffs), default=0)
        tolerance = max(len(inputs.deposits) - 1, 0) + 1e-9 * largest + 1e-6
        return Recomputation(outcome=outcome, reference=reference, tolerance_wei=tolerance)

    def parameters(self, inputs: RoundInputs) -> dict[str, Any]:
        c = inputs.config
        return {
            "gamma_wei_per_score": str(c.gamma_wad / WAD),
            "lambda": c.lambda_wad / WAD,
            "d_min": c.d_min_wad / WAD,
            "x_scale": c.x_scale,
            "f_scale": c.f_scale,
        }


class SyntheticGeneration:
    """Mechanism 2 (cogen): ``R_i = kappa sum_j gamma_ij (s_i - s_j)``, ``s_i = D_i + q x_i``."""

    mechanism_id = 2
    name = "synthetic-data generation (cogen)"

    def recompute(self, inputs: RoundInputs) -> Recomputation:
        c = inputs.config
        outcome = compute_outcome(
            c, inputs.orgs, inputs.rho_bps, inputs.deposits, dict(inputs.reports)
        )
        n = len(inputs.orgs)
        joined = np.array([i in inputs.deposits for i in range(n)])
        x = np.array([inputs.reports.get(i, (0, 0))[0] for i in range(n)], dtype=float)
        D = np.array([o.base for o in inputs.orgs], dtype=float)
        s = D + (c.lambda_wad / WAD) * x / c.x_scale  # real scores D_i + q x_i
        gamma = np.asarray(inputs.rho_bps, dtype=float).reshape(n, n) / BPS
        kappa = c.gamma_wad / WAD  # wei per unit of score difference per unit of gamma
        both = np.outer(joined, joined)
        r = kappa * np.where(both, gamma * (s[:, None] - s[None, :]), 0.0).sum(axis=1)
        largest = max((abs(int(v)) for v in outcome.payoffs), default=0)
        tolerance = max(int(joined.sum()) - 1, 0) + 1e-9 * largest + 1e-6
        return Recomputation(
            outcome=outcome, reference=[float(v) for v in r], tolerance_wei=tolerance
        )

    def parameters(self, inputs: RoundInputs) -> dict[str, Any]:
        c = inputs.config
        return {
            "kappa_wei_per_score": str(c.gamma_wad / WAD),
            "q": c.lambda_wad / WAD,
            "D": [o.base for o in inputs.orgs],
            "x_max": [o.x_max for o in inputs.orgs],
            "x_scale": c.x_scale,
        }


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

    def parameters(self, inputs: RoundInputs) -> dict[str, Any]:
        c = inputs.config
        return {
            "unit_wei": str(c.gamma_wad),
            "lambda_pay": c.lambda_wad / WAD,
            "fl_rounds_covered": c.d_min_wad,
            "N": [o.base for o in inputs.orgs],
        }


#: mechanism id -> its recomputation (ids without an entry are reported as not checked)
MECHANISMS: dict[int, Mechanism] = {
    1: Redistribution(),
    2: SyntheticGeneration(),
    3: MarketPayments(),
}


def mechanism_for(mechanism_id: int) -> Mechanism | None:
    """The registered mechanism of ``mechanism_id``, or None."""
    return MECHANISMS.get(mechanism_id)
