"""Label mixes: heterogeneity against the reference distribution and the synthetic class counts.

A silo with label counts ``c`` (``D = sum c`` real samples) that adds ``s`` synthetic samples per
class (``sum s = x``) has the mixed label distribution ``(c + s) / (D + x)``. Its heterogeneity is
the L1 distance of that distribution to the reference ``qbar`` (spec section 2, 0 .. 2;
:func:`solver.cogen.heterogeneity`).

:func:`synthetic_counts` chooses the integer ``s`` that minimizes this distance exactly. Spending
``x`` samples in proportion to ``qbar`` gives the formulation's ``delta D / (D + x)``; the optimum
is never worse and usually better, because it fills only the classes the silo lacks. A generator
trained on the silo's own data can only produce classes it has seen, so the allocation may be
restricted to ``available`` classes; then the distance can stay above ``delta D / (D + x)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.cogen import heterogeneity

__all__ = ["MixError", "mixed_label_heterogeneity", "pooled_distribution", "synthetic_counts"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


class MixError(ValueError):
    """Label counts, a reference distribution or a sample budget is invalid (message says which)."""


def _counts(counts: ArrayLike, name: str = "counts") -> IntArray:
    c = np.asarray(counts)
    if c.ndim != 1 or c.size == 0:
        raise MixError(f"{name} must be a non-empty 1-D array of per-class counts; got {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        raise MixError(f"{name} must be non-negative integers; got {c.tolist()}")
    return c.astype(np.int64)


def _reference(qbar: ArrayLike, n_classes: int) -> FloatArray:
    q = np.asarray(qbar, dtype=np.float64)
    if q.shape != (n_classes,):
        raise MixError(f"qbar must have one share per class ({n_classes}); got shape {q.shape}")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or abs(float(q.sum()) - 1.0) > 1e-9:
        raise MixError(f"qbar must be non-negative shares summing to 1; got {q.tolist()}")
    return q


def pooled_distribution(histograms: ArrayLike) -> FloatArray:
    """The label distribution of all silos' data together (the default reference ``qbar``)."""
    hist = np.asarray(histograms)
    if hist.ndim != 2:
        raise MixError(f"histograms must be (silos, classes) label counts; got shape {hist.shape}")
    total = np.sum([_counts(h, "histogram") for h in hist], axis=0)
    if total.sum() == 0:
        raise MixError("the silos hold no samples; qbar cannot be formed from empty histograms")
    return np.asarray(total / total.sum(), dtype=np.float64)


def mixed_label_heterogeneity(counts: ArrayLike, synthetic: ArrayLike, qbar: ArrayLike) -> float:
    """Heterogeneity of the real counts plus the synthetic counts, measured from the counts.

    (:func:`solver.cogen.mixed_heterogeneity` is the formulation's ``delta D / (D + x)``, which
    assumes the synthetic samples follow ``qbar``; this is what a given allocation achieves.)
    """
    c = _counts(counts)
    s = _counts(synthetic, "synthetic")
    if s.shape != c.shape:
        raise MixError(f"synthetic has {s.size} classes, counts has {c.size}")
    return heterogeneity(c + s, _reference(qbar, c.size))


def synthetic_counts(
    counts: ArrayLike,
    qbar: ArrayLike,
    x: int,
    *,
    available: ArrayLike | None = None,
) -> IntArray:
    """Per-class synthetic counts ``s`` (``sum s = x``) minimizing the mixed heterogeneity.

    The objective ``sum_k |c_k + s_k - (D + x) qbar_k|`` is separable and convex in each
    ``s_k``, so taking the ``x`` units of largest marginal reduction is exact. Units that reduce
    the distance by the same amount are spread in proportion to ``qbar`` (then by class index),
    so the result is deterministic.

    Parameters
    ----------
    counts : array of int
        The silo's real label counts per class.
    qbar : array of float
        Reference label distribution (shares summing to 1).
    x : int
        Synthetic samples to generate, >= 0.
    available : array of bool or None
        Classes the silo's generator can produce (default: all). Needs at least one when x > 0.

    Returns
    -------
    ndarray of int64
        ``s`` with ``s >= 0``, ``sum(s) == x`` and ``s[k] == 0`` for unavailable classes.

    Examples
    --------
    >>> synthetic_counts([6, 2, 0], [1 / 3, 1 / 3, 1 / 3], 4).tolist()
    [0, 2, 2]
    """
    c = _counts(counts)
    q = _reference(qbar, c.size)
    if isinstance(x, bool) or not isinstance(x, int | np.integer) or x < 0:
        raise MixError(f"x must be a non-negative integer number of samples; got {x!r}")
    x = int(x)
    mask = np.ones(c.size, dtype=bool) if available is None else np.asarray(available, dtype=bool)
    if mask.shape != c.shape:
        raise MixError(f"available must have one flag per class ({c.size}); got {mask.shape}")
    if x > 0 and not mask.any():
        raise MixError("no class is available to generate; the generator knows no class")
    s = np.zeros(c.size, dtype=np.int64)
    if x == 0:
        return s
    target = (float(c.sum()) + x) * q
    gap = target - c  # > 0: missing samples of that class
    # Unit j (0-based) added to class k changes |c + j - t| to |c + j + 1 - t|: the gain is
    # min(1, max(-1, 2 (gap - j) - 1)); it is 1 for the whole units of the gap, then one partial
    # unit, then -1. Take the x best units; ties share in proportion to qbar.
    full = np.where(mask, np.floor(np.maximum(gap, 0.0)), 0.0).astype(np.int64)
    frac = np.maximum(gap, 0.0) - full
    take_full = min(x, int(full.sum()))
    s += _spread(take_full, full, np.where(mask, np.maximum(q, 1e-12), 0.0))
    left = x - take_full
    if left > 0:
        partial_gain = np.where(mask & (frac > 0), 2.0 * frac - 1.0, -1.0)
        for k in np.argsort(-partial_gain, kind="stable"):
            if left == 0 or partial_gain[k] <= -1.0:
                break
            s[k] += 1
            left -= 1
    if left > 0:
        s += _spread(left, np.full(c.size, left), np.where(mask, np.maximum(q, 1e-12), 0.0))
    return s


def _spread(total: int, caps: IntArray, shares: FloatArray) -> IntArray:
    """Integer counts summing to ``total``, at most ``caps``, as proportional to ``shares`` as the
    caps allow (largest remainder, repeated while some class is capped)."""
    out = np.zeros(caps.size, dtype=np.int64)
    left = total
    open_ = (caps > 0) & (shares > 0)
    while left > 0:
        w = np.where(open_, shares, 0.0)
        quotas = w / w.sum() * left
        add = np.minimum(np.floor(quotas).astype(np.int64), caps - out)
        short = left - int(add.sum())
        order = np.argsort(-(quotas - np.floor(quotas)), kind="stable")
        for k in order:
            if short == 0:
                break
            if open_[k] and out[k] + add[k] < caps[k]:
                add[k] += 1
                short -= 1
        out += add
        left -= int(add.sum())
        open_ &= out < caps
    return out
