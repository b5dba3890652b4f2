"""Python mirror of the contract's mechanism rules (``contracts/rules/``) and pair arithmetic.

Integers only, Solidity's division (truncation toward zero, also for negative numerators). Each
mechanism defines a score, a minimum report (what a silent depositor is settled at) and report
bounds; both mechanisms here are pairwise:
``t_ij = trunc(gammaWad * w_ij * (s_i - s_j) / (BPS * WAD * scoreUnit))`` and ``R_i = sum_j t_ij``
over depositors, computed per row (``t_ji = -t_ij`` because truncation is odd, so the rows sum to 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from settlement._errors import ConfigError
from settlement._fixedpoint import BPS, WAD, div_ceil, div_trunc
from settlement._types import MECHANISM_COGEN, MECHANISM_TRADEFL, OrgSpec, RoundConfig

SUPPORTED_MECHANISMS = (MECHANISM_TRADEFL, MECHANISM_COGEN)

F_MIN = 1
"""Smallest reportable TradeFL compute level ``f`` (reports need ``1 <= f <= fMax``)."""


@dataclass(frozen=True)
class Rule:
    """One mechanism's rule bound to a round's numbers (mirror of ``contracts/rules/Rules.sol``)."""

    config: RoundConfig

    def __post_init__(self) -> None:
        if self.config.mechanism_id not in SUPPORTED_MECHANISMS:
            raise ConfigError(
                f"mechanism_id: {self.config.mechanism_id} is not implemented; use "
                f"{MECHANISM_TRADEFL} (TradeFL) or {MECHANISM_COGEN} (cogen)"
            )

    @property
    def tradefl(self) -> bool:
        return self.config.mechanism_id == MECHANISM_TRADEFL

    @property
    def score_unit(self) -> int:
        """Divide a score by this to get the real contribution (``x + lambda f`` or ``D + q x``)."""
        c = self.config
        return c.x_scale * c.f_scale * WAD if self.tradefl else c.x_scale * WAD

    @property
    def denominator(self) -> int:
        """``BPS * WAD * scoreUnit``: the divisor of every pair transfer."""
        return BPS * WAD * self.score_unit

    def score(self, org: OrgSpec, x: int, f: int) -> int:
        """Exact integer score of report ``(x, f)``."""
        c = self.config
        if self.tradefl:
            return x * c.f_scale * WAD + c.lambda_wad * f * c.x_scale
        return org.base * c.x_scale * WAD + c.lambda_wad * x

    def min_report(self, org: OrgSpec) -> tuple[int, int]:
        """The report a silent depositor is settled at (the slot's minimum score)."""
        if self.tradefl:
            return div_ceil(self.config.d_min_wad * org.x_max, WAD), F_MIN
        return 0, 0

    def bounds(self, org: OrgSpec) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((xMin, xMax), (fMin, fMax))`` of an admissible report."""
        x_lo, f_lo = self.min_report(org)
        return (x_lo, org.x_max), (f_lo, org.f_max)

    def check_report(self, org: OrgSpec, x: int, f: int, field: str = "report") -> None:
        """Raise :class:`ConfigError` naming ``x`` or ``f`` if the report is out of bounds."""
        (x_lo, x_hi), (f_lo, f_hi) = self.bounds(org)
        if not x_lo <= x <= x_hi:
            raise ConfigError(f"{field}: x = {x} is outside [{x_lo}, {x_hi}]")
        if not f_lo <= f <= f_hi:
            raise ConfigError(f"{field}: f = {f} is outside [{f_lo}, {f_hi}]")

    def min_score(self, org: OrgSpec) -> int:
        return self.score(org, *self.min_report(org))

    def max_score(self, org: OrgSpec) -> int:
        return self.score(org, org.x_max, org.f_max)

    def pair_transfer(self, s_i: int, s_j: int, w_bps: int) -> int:
        """``t_ij``: credited to ``i``, and (as ``t_ji = -t_ij``) debited from ``j``."""
        return div_trunc(self.config.gamma_wad * w_bps * (s_i - s_j), self.denominator)

    def bonds(self, orgs: Sequence[OrgSpec], w: Sequence[Sequence[int]]) -> list[int]:
        """Every slot's bond: its exact worst-case liability (rivals at max, itself at min)."""
        s_max = [self.max_score(o) for o in orgs]
        out = []
        for i, org in enumerate(orgs):
            s_min = self.min_score(org)
            out.append(
                sum(
                    self.config.gamma_wad * w[i][j] * (s_max[j] - s_min) // self.denominator
                    for j in range(len(orgs))
                    if j != i and s_max[j] > s_min
                )
            )
        return out

    def payoffs(self, scores: Sequence[int | None], w: Sequence[Sequence[int]]) -> list[int]:
        """Every ``R_i`` from its own row; ``None`` marks a slot that never deposited."""
        n = len(scores)
        out = [0] * n
        for i, s_i in enumerate(scores):
            if s_i is None:
                continue
            out[i] = sum(
                self.pair_transfer(s_i, s_j, w[i][j])
                for j, s_j in enumerate(scores)
                if j != i and s_j is not None
            )
        return out

    def settled_scores(
        self,
        orgs: Sequence[OrgSpec],
        deposited: Sequence[bool],
        reports: dict[int, tuple[int, int]],
    ) -> list[int | None]:
        """The score each slot is settled at: its report, a silent depositor's minimum, ``None``."""
        out: list[int | None] = []
        for i, org in enumerate(orgs):
            if not deposited[i]:
                out.append(None)
            else:
                out.append(self.score(org, *reports.get(i, self.min_report(org))))
        return out
