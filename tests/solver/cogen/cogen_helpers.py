"""Helpers of the cogen tests: random small games over wide parameter ranges."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from solver.cogen import CogenGame, CogenOrg

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def small_game(seed: int, n: int | None = None, *, kappa: float | None = None) -> CogenGame:
    """A random valid game with 2-5 orgs: heterogeneity sometimes exactly 0, costs that put
    some orgs at a bound and some inside, competition small enough that every w_i > 0."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6)) if n is None else n
    orgs = []
    for i in range(n):
        orgs.append(
            CogenOrg(
                name=f"o{i}",
                D=float(rng.uniform(100, 3000)),
                delta=0.0 if rng.random() < 0.15 else float(rng.uniform(0, 2)),
                theta=float(rng.uniform(2000, 8000)),
                c=float(rng.uniform(0, 2)),
                x_max=float(rng.uniform(0, 5000)) if rng.random() > 0.05 else 0.0,
            )
        )
    g = np.triu(rng.uniform(0, 0.2 / n, (n, n)), 1)  # sum_j gamma_ij theta_j < theta_i
    return CogenGame(
        orgs=tuple(orgs),
        a=float(rng.uniform(0.5, 5)),
        b=float(rng.uniform(0.1, 1.5)),
        alpha_D=float(rng.uniform(0, 2)),
        kappa=float(rng.uniform(0, 0.05)) if kappa is None else kappa,
        q=float(rng.uniform(0, 2)),
        gamma=g + g.T,
    )
