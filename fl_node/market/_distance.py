"""Model distances d_ij = 1 - cos(theta_i - theta0, theta_j - theta0) and the prox centers.

Models are flat float64 vectors here (:func:`flatten`). The gradient of the cosine distance is
in closed form: with x = theta_i - theta0, y = theta_j - theta0,

    grad_x (1 - cos(x, y)) = -(y / (|x| |y|) - cos(x, y) x / |x|^2),

which is orthogonal to x (it turns x toward y). A zero update (a silo that did not move from
theta0) has no direction: its cosine with anything is taken as 0 (distance 1) and its distance
gradient as 0.

Free-rider rule (coordinator side, :func:`distance_matrix` with ``sent``): a silo whose upload did
not move from the model the coordinator sent it, ``||upload_i - sent_i|| / sqrt(p) <= stall_tol``
(root-mean-square change per parameter, default :data:`STALL_TOL`), gets the maximal distance 2
(cos = -1) to every other silo, in its row and its column. Without the rule such a silo (a
free-rider that sends its received model back) has a zero update and the neutral distance 1, and a
large reported N can still clear the import threshold; at distance 2 every candidate edge to it
costs the importer 2 lambda_pay N_j / N_i, the most the market allows. That is not a proof of
exclusion: an importer whose marginal gain still exceeds c_j + 2 lambda_pay N_j / N_i buys it
(eager importers, small N_j / N_i, small lambda_pay). A free-rider that adds noise above the
tolerance is not caught either (a random direction has cos about 0: distance 1 again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "cosine_distance",
    "cosine_distance_grad",
    "distance_matrix",
    "flatten",
    "prox_center",
    "stalled",
    "unflatten",
]

Vector = NDArray[np.float64]

#: norms at or below this are treated as a zero update (no direction)
ZERO_NORM = 1e-12
#: root-mean-square change per parameter at or below which an upload has not moved from what the
#: silo was sent (honest local training moves digits MLPs by about 1e-3 to 1e-2 per parameter)
STALL_TOL = 1e-6
#: the distance a stalled silo gets to every other silo (cos = -1, the top of the contract's range)
STALLED_DISTANCE = 2.0


def flatten(arrays: Sequence[NDArray[Any]]) -> Vector:
    """Concatenate a model state (list of arrays) into one float64 vector."""
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def unflatten(vector: ArrayLike, like: Sequence[NDArray[Any]]) -> list[NDArray[Any]]:
    """Split a flat vector back into arrays shaped (and typed) like ``like``."""
    v = np.asarray(vector, dtype=np.float64)
    total = sum(int(np.asarray(a).size) for a in like)
    if v.shape != (total,):
        raise ValueError(f"vector has shape {v.shape}; the model state has {total} entries")
    out: list[NDArray[Any]] = []
    pos = 0
    for a in like:
        ref = np.asarray(a)
        out.append(v[pos : pos + ref.size].reshape(ref.shape).astype(ref.dtype))
        pos += ref.size
    return out


def _updates(theta_i: ArrayLike, theta_j: ArrayLike, theta0: ArrayLike) -> tuple[Vector, Vector]:
    t0 = np.asarray(theta0, dtype=np.float64)
    return np.asarray(theta_i, dtype=np.float64) - t0, np.asarray(theta_j, dtype=np.float64) - t0


def cosine_distance(theta_i: ArrayLike, theta_j: ArrayLike, theta0: ArrayLike) -> float:
    """1 - cos(theta_i - theta0, theta_j - theta0), clipped to [0, 2]; 1 for a zero update."""
    x, y = _updates(theta_i, theta_j, theta0)
    nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if nx <= ZERO_NORM or ny <= ZERO_NORM:
        return 1.0
    return float(np.clip(1.0 - float(x @ y) / (nx * ny), 0.0, 2.0))


def cosine_distance_grad(theta_i: ArrayLike, theta_j: ArrayLike, theta0: ArrayLike) -> Vector:
    """Gradient with respect to theta_i of :func:`cosine_distance` (closed form, see module)."""
    x, y = _updates(theta_i, theta_j, theta0)
    nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if nx <= ZERO_NORM or ny <= ZERO_NORM:
        return np.zeros_like(x)
    cos = float(x @ y) / (nx * ny)
    return np.asarray(-(y / (nx * ny) - cos * x / nx**2), dtype=np.float64)


def stalled(
    thetas: Sequence[ArrayLike], sent: Sequence[ArrayLike], tol: float = STALL_TOL
) -> NDArray[np.bool_]:
    """Which uploads did not move from what was sent: ``||theta_i - sent_i|| / sqrt(p) <= tol``."""
    if len(sent) != len(thetas):
        raise ValueError(f"sent has {len(sent)} models for {len(thetas)} uploads; give one each")
    if not tol >= 0:
        raise ValueError(f"stall_tol must be >= 0; got {tol}")
    change = np.stack([np.asarray(t, dtype=np.float64) for t in thetas]) - np.stack(
        [np.asarray(s, dtype=np.float64) for s in sent]
    )
    rms = np.linalg.norm(change, axis=1) / np.sqrt(max(change.shape[1], 1))
    return np.asarray(rms <= tol, dtype=np.bool_)


def distance_matrix(
    thetas: Sequence[ArrayLike],
    theta0: ArrayLike,
    *,
    sent: Sequence[ArrayLike] | None = None,
    stall_tol: float = STALL_TOL,
) -> Vector:
    """The m x m matrix of :func:`cosine_distance`: exactly symmetric, zero diagonal, in [0, 2].

    With ``sent`` (the model the coordinator sent each silo before it trained), the free-rider
    rule applies: every silo that is :func:`stalled` gets :data:`STALLED_DISTANCE` to all others.
    """
    t0 = np.asarray(theta0, dtype=np.float64)
    x = np.stack([np.asarray(t, dtype=np.float64) - t0 for t in thetas])
    norms = np.linalg.norm(x, axis=1)
    moved = norms > ZERO_NORM
    unit = np.where(moved[:, None], x / np.where(moved, norms, 1.0)[:, None], 0.0)
    d = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    d = 0.5 * (d + d.T)
    if sent is not None:
        idle = stalled(thetas, sent, stall_tol)
        d[idle, :] = STALLED_DISTANCE
        d[:, idle] = STALLED_DISTANCE
    np.fill_diagonal(d, 0.0)
    return np.asarray(d, dtype=np.float64)


def prox_center(
    i: int, thetas: Sequence[ArrayLike], theta0: ArrayLike, weights: ArrayLike, eta: float
) -> Vector:
    """Importer i's prox center u_i = theta_i - eta grad_theta_i sum_j w_ij d(theta_i, theta_j).

    ``weights`` is row i of w_ij = a_ij N_j / N_i (:func:`solver.market.import_weights`, on the
    sizes the market accepted); w_ii must be 0. With no imports u_i = theta_i.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(thetas),):
        raise ValueError(f"weights has shape {w.shape}; give one weight per silo ({len(thetas)})")
    if w[i] != 0:
        raise ValueError(f"org {i} cannot import its own model (w[{i}] = {w[i]!r})")
    theta_i = np.asarray(thetas[i], dtype=np.float64)
    grad = np.zeros_like(theta_i)
    for j in map(int, np.flatnonzero(w)):
        grad += w[j] * cosine_distance_grad(theta_i, thetas[j], theta0)
    return np.asarray(theta_i - eta * grad, dtype=np.float64)
