"""Fit the loss parameters a, b, alpha_D of the synthetic-data game from measured training runs.

The game's loss is ``L = a N^-b + alpha_D H`` with ``N = D + X`` the samples trained on and
``H = Delta / N`` the data-weighted heterogeneity of the mixed silos (spec section 2). A run gives
one point ``(N, H, measured test loss)``; ``H`` is the measured ``sum_i (D_i + x_i) delta_i^mixed / N``
of the data actually trained on. The fit adds a constant ``e`` (cross-entropy does not go to 0
with data); the game uses only differences of the loss, on which ``e`` has no effect.

Least squares (scipy) with ``a >= 0``, ``0 < b <= 5``, ``alpha_D >= 0``. ``status`` says when a
parameter is not identified by the points:

* ``"ok"``;
* ``"too_few_points"``: fewer than 5 runs or fewer than 3 distinct N (nothing fitted);
* ``"heterogeneity_constant"``: H does not vary, alpha_D is not identified (set to 0);
* ``"alpha_D_at_zero"``: the points show no loss increase with heterogeneity;
* ``"b_at_bound"``: the exponent hit a bound (the size effect is flat or too steep to resolve);
* ``"poor_fit"``: R^2 < 0.5.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import least_squares

__all__ = ["LossFit", "fit_loss"]

B_MAX = 5.0
B_MIN = 1e-3


@dataclass(frozen=True)
class LossFit:
    """Fitted ``loss = e + a N^-b + alpha_D H`` and how well it fits.

    ``a``, ``b``, ``alpha_D`` are the game's parameters; ``e`` the constant the game ignores.
    """

    a: float
    b: float
    alpha_D: float
    e: float
    r2: float
    rmse: float
    n_points: int
    status: str

    @property
    def usable(self) -> bool:
        """Whether the parameters may be fed to the game (anything but ``too_few_points``)."""
        return self.status != "too_few_points"

    def predict(self, n: ArrayLike, h: ArrayLike) -> np.ndarray:
        nn_ = np.asarray(n, dtype=float)
        return np.asarray(self.e + self.a * nn_ ** (-self.b) + self.alpha_D * np.asarray(h))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def fit_loss(total: ArrayLike, heterogeneity: ArrayLike, loss: ArrayLike) -> LossFit:
    """Fit ``loss = e + a N^-b + alpha_D H`` to measured runs.

    Parameters
    ----------
    total : array
        ``N`` of each run (real plus synthetic samples trained on), > 0.
    heterogeneity : array
        ``H`` of each run (data-weighted mixed heterogeneity, 0 .. 2).
    loss : array
        Measured loss of each run's global model on held-out real data.

    Returns
    -------
    LossFit

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([500.0, 800, 1200, 2000, 3000, 900, 1500])
    >>> h = np.array([0.9, 0.7, 0.5, 0.3, 0.2, 0.4, 0.6])
    >>> f = fit_loss(n, h, 0.1 + 4.0 * n**-0.5 + 0.3 * h)
    >>> round(f.a, 3), round(f.b, 3), round(f.alpha_D, 3), f.status
    (4.0, 0.5, 0.3, 'ok')
    """
    n = np.asarray(total, dtype=float).ravel()
    h = np.asarray(heterogeneity, dtype=float).ravel()
    y = np.asarray(loss, dtype=float).ravel()
    if not n.shape == h.shape == y.shape:
        raise ValueError(
            f"total, heterogeneity and loss differ in length: {n.size}, {h.size}, {y.size}"
        )
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(h)) and np.all(np.isfinite(y))):
        raise ValueError("total, heterogeneity and loss must be finite")
    if np.any(n <= 0):
        raise ValueError("every total N must be > 0 samples")
    nan = math.nan
    if n.size < 5 or np.unique(n).size < 3:
        return LossFit(nan, nan, nan, nan, nan, nan, int(n.size), "too_few_points")
    vary_h = float(np.ptp(h)) > 1e-9
    scale = float(np.median(n))
    u = n / scale  # fit in scaled units: a N^-b = (a scale^-b) u^-b

    def model(p: np.ndarray) -> np.ndarray:
        return np.asarray(p[0] + p[1] * u ** (-p[2]) + (p[3] * h if vary_h else 0.0))

    lower, upper = [-np.inf, 0.0, B_MIN, 0.0], [np.inf, np.inf, B_MAX, np.inf]
    k = 4 if vary_h else 3  # without variation in H, alpha_D is not a parameter
    best = None
    for b0 in (0.2, 0.5, 1.0, 2.0):
        sol = least_squares(
            lambda p: model(p) - y,
            x0=[float(y.min()) * 0.5, max(float(np.ptp(y)), 1e-3), b0, 0.1][:k],
            bounds=(lower[:k], upper[:k]),
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
            max_nfev=5000,
        )
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    e, a_s, b = (float(v) for v in best.x[:3])
    al = float(best.x[3]) if vary_h and best.x[3] > 1e-9 else 0.0
    r = model(best.x) - y
    rmse = float(np.sqrt(np.mean(r**2)))
    tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(r @ r) / tot if tot > 0 else (1.0 if rmse == 0 else 0.0)
    if not vary_h:
        status = "heterogeneity_constant"
    elif al == 0.0:
        status = "alpha_D_at_zero"
    elif b <= B_MIN * 1.01 or b >= B_MAX * 0.99:
        status = "b_at_bound"
    elif r2 < 0.5:
        status = "poor_fit"
    else:
        status = "ok"
    return LossFit(
        a=a_s * scale**b,
        b=b,
        alpha_D=al,
        e=e,
        r2=r2,
        rmse=rmse,
        n_points=int(n.size),
        status=status,
    )
