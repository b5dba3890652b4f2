"""FedAMP-, CFL- and FedFomo-style baselines, reimplemented from their published update rules.

All three run on the same :class:`Setup` (silos, model, theta0, local solver) as the market and
report every silo's accuracy on its own test split after every round.

- **FedAMP** (Huang et al., AAAI 2021, attentive message passing): the server gives silo i the
  cloud model u_i = xi_ii w_i + sum_{j != i} xi_ij w_j with attention weights from the
  similarity of the model parameters, xi_ij proportional to exp(-||w_i - w_j||^2 / sigma)
  (sigma = ``sigma_scale_fedamp`` times the round's median squared distance) and scaled to sum to 1 - xi_ii; silo i then
  minimizes L_i(w) + mu/2 ||w - u_i||^2 from u_i. Fixed here: xi_ii = ``self_weight_fedamp``
  (the paper's xi_ii = 1 - alpha sum_j A'(.) varies with the distances).
- **CFL** (Sattler et al., IEEE TNNLS 2021, clustered FL): FedAvg inside each cluster (one at
  the start); a cluster whose weighted mean update is small against its largest update (norm
  ratio below ``cfl_norm_ratio``: near a stationary point of the joint objective while members
  still disagree) is bipartitioned by complete-linkage clustering of the cosine similarities of
  its members' updates, if the bipartition's largest cross-cluster cosine is below
  ``cfl_max_cross_cos``; splitting is recursive over rounds. Each silo's model is its cluster's.
- **FedFomo** (Zhang et al., ICLR 2021, first-order model optimization): each silo holds out
  ``fomo_val_fraction`` of its training set; before local training it moves its model theta_i
  toward the others' uploaded models with weights w_ij = max(0, (L_i(theta_i) - L_i(theta_j)) /
  ||theta_j - theta_i||) (L_i its validation loss), normalized: theta_i += sum_j w_ij (theta_j -
  theta_i), no move when no model improves its loss. It trains on the rest of its set.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fl_node.market._baselines import BaselineParams, MethodResult, Setup, average, upload
from fl_node.market._local import mean_loss

__all__ = ["bipartition", "cfl", "fedamp", "fedamp_weights", "fedfomo"]

Vector = NDArray[np.float64]


def fedamp_weights(
    thetas: list[Vector], self_weight: float, sigma_scale: float = 1.0
) -> NDArray[np.float64]:
    """FedAMP's message-passing matrix xi (rows sum to 1, diagonal ``self_weight``), with
    sigma = ``sigma_scale`` times the median squared distance between the models."""
    if not 0 <= self_weight <= 1:
        raise ValueError(f"self_weight_fedamp must be in [0, 1]; got {self_weight}")
    if not sigma_scale > 0:
        raise ValueError(f"sigma_scale_fedamp must be > 0; got {sigma_scale}")
    x = np.stack(thetas)
    m = x.shape[0]
    sq = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=2)
    off = ~np.eye(m, dtype=bool)
    sigma = sigma_scale * float(np.median(sq[off])) if m > 1 else 1.0
    a = np.exp(-sq / sigma) if sigma > 0 else np.ones_like(sq)
    a[~off] = 0.0
    xi = (1.0 - self_weight) * a / a.sum(axis=1, keepdims=True)
    np.fill_diagonal(xi, self_weight)
    return np.asarray(xi, dtype=np.float64)


def fedamp(s: Setup, p: BaselineParams) -> MethodResult:
    """FedAMP-style personalized FL (see the module docstring)."""
    cloud = [s.theta0.copy() for _ in range(s.m)]
    hist = []
    trained = cloud
    for r in range(s.rounds):
        trained = [s.train(i, r, cloud[i], cloud[i], p.mu_fedamp) for i in range(s.m)]
        ups = [upload(s.behaviours[i], trained[i], cloud[i]) for i in range(s.m)]
        hist.append(s.accuracies(trained))
        xi = fedamp_weights(ups, p.self_weight_fedamp, p.sigma_scale_fedamp)
        cloud = [average(ups, xi[i]) for i in range(s.m)]
    return MethodResult("fedamp", hist, trained)


def bipartition(cos: NDArray[np.float64]) -> tuple[list[int], list[int], float]:
    """Complete-linkage agglomerative clustering of 1 - cos down to two clusters.

    Returns both clusters (sorted member positions) and the largest cosine across them.
    """
    n = cos.shape[0]
    if n < 2:
        raise ValueError(f"a bipartition needs at least 2 members; got {n}")
    groups = [[k] for k in range(n)]
    while len(groups) > 2:
        best = min(
            ((a, b) for a in range(len(groups)) for b in range(a + 1, len(groups))),
            key=lambda ab: max(1 - cos[i, j] for i in groups[ab[0]] for j in groups[ab[1]]),
        )
        groups[best[0]] += groups.pop(best[1])
    left, right = sorted(groups[0]), sorted(groups[1])
    return left, right, float(max(cos[i, j] for i in left for j in right))


def _cosines(updates: list[Vector]) -> NDArray[np.float64]:
    u = np.stack(updates)
    norms = np.linalg.norm(u, axis=1)
    unit = u / np.where(norms > 0, norms, 1.0)[:, None]
    return np.asarray(unit @ unit.T, dtype=np.float64)


def _per_silo(clusters: list[list[int]], models: list[Vector], m: int) -> list[Vector]:
    """Each silo's cluster model."""
    out: list[Vector] = [models[0]] * m
    for members, model in zip(clusters, models, strict=True):
        for i in members:
            out[i] = model
    return out


def cfl(s: Setup, p: BaselineParams) -> MethodResult:
    """CFL-style clustered FL (see the module docstring)."""
    clusters = [list(range(s.m))]
    models = [s.theta0.copy()]
    hist = []
    for r in range(s.rounds):
        start = _per_silo(clusters, models, s.m)
        delta = [
            upload(s.behaviours[i], s.train(i, r, start[i]), start[i]) - start[i]
            for i in range(s.m)
        ]
        new_clusters, new_models = [], []
        for members, model in zip(clusters, models, strict=True):
            parts = [members]
            upd = [delta[i] for i in members]
            mean = np.linalg.norm(average(upd, s.sizes[members]))
            largest = max(float(np.linalg.norm(d)) for d in upd)
            if len(members) >= 2 and mean < p.cfl_norm_ratio * largest:
                left, right, cross = bipartition(_cosines(upd))
                if cross < p.cfl_max_cross_cos:
                    parts = [[members[k] for k in left], [members[k] for k in right]]
            for part in parts:
                new_clusters.append(part)
                new_models.append(model + average([delta[i] for i in part], s.sizes[part]))
        clusters, models = new_clusters, new_models
        hist.append(s.accuracies(_per_silo(clusters, models, s.m)))
    final = _per_silo(clusters, models, s.m)
    return MethodResult("cfl", hist, final, clusters=[sorted(c) for c in clusters])


def fedfomo(s: Setup, p: BaselineParams) -> MethodResult:
    """FedFomo-style personalized FL (see the module docstring)."""
    if not 0 < p.fomo_val_fraction < 1:
        raise ValueError(f"fomo_val_fraction must be in (0, 1); got {p.fomo_val_fraction}")
    rng = np.random.default_rng([s.seed, 19])
    fit, val = [], []
    for silo in s.silos:
        order = rng.permutation(silo.n)
        k = min(max(1, round(p.fomo_val_fraction * silo.n)), silo.n - 1)
        val.append(silo.train.subset(order[:k]))
        fit.append(silo.train.subset(order[k:]))
    personal = [s.theta0.copy() for _ in range(s.m)]
    ups: list[Vector] = []
    hist = []
    for r in range(s.rounds):
        start = []
        for i in range(s.m):
            theta = personal[i]
            if r == 0:
                start.append(theta)
                continue
            base = mean_loss(s.model, theta, val[i])
            w = np.zeros(s.m)
            for j in range(s.m):
                dist = float(np.linalg.norm(ups[j] - theta))
                if j != i and dist > 0:
                    w[j] = max(0.0, (base - mean_loss(s.model, ups[j], val[i])) / dist)
            if w.sum() > 0:
                w /= w.sum()
                theta = theta + np.tensordot(w, np.stack(ups) - theta, axes=1)
            start.append(np.asarray(theta, dtype=np.float64))
        personal = [s.train(i, r, start[i], data=fit[i]) for i in range(s.m)]
        ups = [upload(s.behaviours[i], personal[i], start[i]) for i in range(s.m)]
        hist.append(s.accuracies(personal))
    return MethodResult("fedfomo", hist, personal)
