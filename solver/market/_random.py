"""Random markets shaped like the authors' defaults (sqrt(K/N) about 10, a few pure sellers)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from solver.market._model import Market

__all__ = ["random_distance", "random_market"]


def random_distance(
    n: int, rng: np.random.Generator, clusters: int = 3, spread: float = 0.6
) -> NDArray[np.float64]:
    """Model distances 1 - cos of random model updates in ``clusters`` directions (dimension 8).

    Exactly symmetric, zero diagonal, entries in [0, 2].
    """
    centers = rng.normal(size=(clusters, 8))
    theta = centers[rng.integers(0, clusters, size=n)] + spread * rng.normal(size=(n, 8))
    unit = theta / np.linalg.norm(theta, axis=1, keepdims=True)
    d = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    d = 0.5 * (d + d.T)
    np.fill_diagonal(d, 0.0)
    return d


def random_market(
    n: int,
    seed: int | np.random.Generator | None = None,
    *,
    lambda_pay: float = 0.5,
    seller_share: float = 0.2,
) -> tuple[Market, NDArray[np.float64]]:
    """A random market of n orgs and one round's distance matrix.

    N_i ~ U[200, 5000] samples, K_i = 100 N_i u with u ~ U[0.5, 2] (so sqrt(K_i/N_i) is 7 to 14,
    the authors' scale), each org a pure seller (K_i = 0) with probability ``seller_share``,
    c_i ~ U[0, 0.2], distances from :func:`random_distance`.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    N = rng.uniform(200.0, 5000.0, size=n).round()
    K = 100.0 * N * rng.uniform(0.5, 2.0, size=n)
    K[rng.random(n) < seller_share] = 0.0
    c = rng.uniform(0.0, 0.2, size=n)
    names = [f"c{i}" for i in range(n)]
    return Market(names, N=N, c=c, K=K, lambda_pay=lambda_pay), random_distance(n, rng)
