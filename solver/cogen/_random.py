"""Random cogen games shaped like the ``cogen-demo`` preset, for tests, sweeps and benchmarks."""

from __future__ import annotations

from typing import Any

import numpy as np

from solver.cogen._model import CogenGame, CogenOrg

__all__ = ["random_cogen_game"]

#: above this many organizations, gamma is sparse: each org competes with its ring neighbours
DENSE_LIMIT = 500
NEIGHBOURS = 8


def random_cogen_game(
    n: int, *, seed: int | None = 0, mean_gamma: float | None = None, **params: Any
) -> CogenGame:
    """A random game: D_i ~ U{600..2000}, delta_i ~ U[0.1, 1.5], theta_i ~ U[2000, 4000],
    c_i ~ U[0.2, 0.8], x_i^max ~ U[1000, 4000]; gamma symmetric with entries
    ~ mean_gamma U[0.5, 1.5] (dense for n <= 500, otherwise 8 ring neighbours per org). The
    default mean_gamma keeps Gamma_i near 0.25, so every w_i > 0. The loss parameters follow
    the preset (a = 2, b = 0.5, alpha_D = 0.8, kappa = 1e-3, q = 1); ``params`` override them.
    About three quarters of the organizations have an interior equilibrium strategy at every n
    (``benchmarks/cogen_solver.py`` reports the share).
    """
    import scipy.sparse as sp  # here: its import costs a short CLI run a large share

    rng = np.random.default_rng(seed)
    D = rng.integers(600, 2001, n).astype(float)
    delta = np.round(rng.uniform(0.1, 1.5, n), 3)
    theta = np.round(rng.uniform(2000, 4000, n), 0)
    c = np.round(rng.uniform(0.2, 0.8, n), 3)
    x_max = np.round(rng.uniform(1000, 4000, n), 0)
    width = len(str(n))
    orgs = tuple(
        CogenOrg(f"org{i:0{width}d}", D[i], delta[i], theta[i], c[i], x_max[i]) for i in range(n)
    )
    partners = n - 1 if n <= DENSE_LIMIT else NEIGHBOURS
    mu = mean_gamma if mean_gamma is not None else 0.25 / max(partners, 1)
    gamma: Any
    if n <= DENSE_LIMIT:
        upper = np.triu(np.round(rng.uniform(0.5, 1.5, (n, n)) * mu, 6), 1)
        gamma = upper + upper.T
    else:
        i = np.tile(np.arange(n), NEIGHBOURS // 2)
        j = (i + np.repeat(np.arange(1, NEIGHBOURS // 2 + 1), n)) % n
        v = rng.uniform(0.5, 1.5, i.size) * mu
        up = sp.coo_matrix((v, (i, j)), shape=(n, n))
        gamma = (up + up.T).tocsr()
    kw: dict[str, Any] = {"a": 2.0, "b": 0.5, "alpha_D": 0.8, "kappa": 1e-3, "q": 1.0}
    kw.update(params)
    return CogenGame(orgs=orgs, gamma=gamma, **kw)
