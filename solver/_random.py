"""Random games in the shape of the paper's Table II, for tests, sweeps and benchmarks."""

from __future__ import annotations

from typing import Any

import numpy as np

from solver._model import Game, Org

__all__ = ["TABLE2", "random_game"]

#: consortium parameters of the ``paper-table2`` preset (the values the paper leaves out were
#: chosen so that equilibria are interior; see ``presets/paper-table2.toml``)
TABLE2: dict[str, float] = {
    "tau": 60.0,
    "gamma": 3e-3,
    "lam": 5e-7,
    "w_e": 0.01,
    "kappa": 1e-27,
    "G": 5.0,
    "D_min": 0.1,
    "A0": 0.215,
}

#: above this many organizations, rho is sparse: each org competes with its ring neighbours
DENSE_LIMIT = 500
NEIGHBOURS = 8


def random_game(
    n: int,
    *,
    levels: int = 5,
    seed: int | None = 0,
    mean_rho: float | None = None,
    **params: Any,
) -> Game:
    """A random game shaped like the paper's Table II.

    |S_i| ~ U{1000..2000} samples, p_i ~ U[500, 2500], top compute level ~ U[3, 5] GHz with
    ``levels`` evenly spaced levels F_max k/levels, eta_i ~ U[4, 8] x 1e7 cycles per sample,
    T1, T3 ~ U[1, 4] s. rho is symmetric with entries ~ mean_rho U[0.5, 1.5] (dense for
    n <= 500, otherwise sparse with 8 ring neighbours per org); the default mean_rho keeps
    sum_j rho_ij p_j near a quarter of the smallest profitability, so every z_i > 0.
    ``params`` override the consortium parameters of :data:`TABLE2`.
    """
    rng = np.random.default_rng(seed)
    # rounded so that a written-out game (a preset) reads back bit for bit
    s = rng.integers(1000, 2001, n).astype(float)
    p = np.round(rng.uniform(500, 2500, n), 1)
    fmax = np.round(rng.uniform(3e9, 5e9, n), -6)
    eta = np.round(rng.uniform(4e7, 8e7, n), -5)
    T1 = np.round(rng.uniform(1, 4, n), 2)
    T3 = np.round(rng.uniform(1, 4, n), 2)
    steps = np.arange(1, levels + 1) / levels
    orgs = tuple(
        Org(f"org{i + 1:0{len(str(n))}d}", s[i], p[i], tuple(fmax[i] * steps), eta[i], T1[i], T3[i])
        for i in range(n)
    )
    partners = n - 1 if n <= DENSE_LIMIT else NEIGHBOURS
    mu = mean_rho if mean_rho is not None else 0.25 * 500 / (max(partners, 1) * 1500)
    if n <= DENSE_LIMIT:
        r = np.triu(np.round(rng.uniform(0.5, 1.5, (n, n)) * mu, 6), 1)
        rho: Any = r + r.T
    else:
        rows, cols = [], []
        for k in range(1, NEIGHBOURS // 2 + 1):
            rows.append(np.arange(n))
            cols.append((np.arange(n) + k) % n)
        i = np.concatenate(rows)
        j = np.concatenate(cols)
        v = rng.uniform(0.5, 1.5, i.size) * mu
        import scipy.sparse as sp

        upper = sp.coo_matrix((v, (i, j)), shape=(n, n))
        rho = (upper + upper.T).tocsr()
    kw: dict[str, Any] = dict(TABLE2)
    kw.update(params)
    return Game(orgs=orgs, rho=rho, **kw)
