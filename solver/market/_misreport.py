"""How much a client gains in the pure model by misreporting its data size or its cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from solver.market._gain import gain, imported_sizes
from solver.market._model import Market
from solver.market._random import random_market
from solver.market._round import solve_round

__all__ = ["MisreportStudy", "misreport_gain", "misreport_study"]


def misreport_gain(
    market: Market,
    distance: ArrayLike,
    liar: int,
    *,
    n_factor: float = 1.0,
    c_factor: float = 1.0,
) -> tuple[float, float]:
    """The liar's true utility when truthful and when reporting ``n_factor N`` / ``c_factor c``.

    Everyone else reports truthfully. Under the lie the graph and the payments follow the reports;
    the liar's true utility is its true gain from the models it imports (its real pool is its true
    N plus the others' true sizes), minus its net payment, minus its true cost times its number of
    importers. Returns ``(truthful utility, misreported utility)``.
    """
    truth = solve_round(market, distance)
    N, c = market.N.copy(), market.c.copy()
    N[liar] *= n_factor
    c[liar] *= c_factor
    lie = solve_round(market.replace(N=N, c=c), distance)
    imported = imported_sizes(market.N, lie.graph)[0]
    true_gain = float(gain(market, imported)[liar])
    true_cost = float(market.c[liar] * sum(liar in row for row in lie.graph))
    u_lie = true_gain - float(lie.net_payment[liar]) - true_cost
    return float(truth.utility[liar]), u_lie


@dataclass(frozen=True)
class MisreportStudy:
    """Summary of :func:`misreport_study`: the liar's truthful utility and its gain
    u_lie - u_truth, one entry per market."""

    n_factor: float
    c_factor: float
    markets: int
    truthful: np.ndarray
    gains: np.ndarray

    @property
    def share_better(self) -> float:
        """Fraction of markets where the lie strictly helps (gain > 1e-9)."""
        return float(np.mean(self.gains > 1e-9))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready statistics of the gains."""
        g = self.gains
        return {
            "n_factor": self.n_factor,
            "c_factor": self.c_factor,
            "markets": self.markets,
            "share_better": self.share_better,
            "share_worse": float(np.mean(g < -1e-9)),
            "mean_gain": float(g.mean()),
            "median_gain": float(np.median(g)),
            "max_gain": float(g.max()),
            "min_gain": float(g.min()),
            "mean_truthful_utility": float(self.truthful.mean()),
        }


def misreport_study(
    markets: int,
    *,
    n_factor: float = 1.0,
    c_factor: float = 1.0,
    orgs: tuple[int, int] = (4, 12),
    seed: int = 0,
) -> MisreportStudy:
    """Gain of one random liar (any org) in ``markets`` :func:`random_market` draws."""
    rng = np.random.default_rng(seed)
    gains: list[float] = []
    truthful: list[float] = []
    for _ in range(markets):
        market, d = random_market(int(rng.integers(orgs[0], orgs[1] + 1)), rng)
        liar = int(rng.integers(0, market.n))
        u_truth, u_lie = misreport_gain(market, d, liar, n_factor=n_factor, c_factor=c_factor)
        gains.append(u_lie - u_truth)
        truthful.append(u_truth)
    return MisreportStudy(n_factor, c_factor, markets, np.asarray(truthful), np.asarray(gains))
