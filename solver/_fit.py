"""Fitting the data-accuracy function P from measured (data amount, accuracy or loss) points.

The paper's Fig. 2 fits accuracy against the data used; the FL side of the platform measures
the same thing on real training runs and calls :func:`fit_accuracy`.

Forms (``kind="accuracy"`` fits the measured accuracy, ``kind="loss"`` the measured loss and
needs the untrained model's loss ``a0`` so that P = a0 - loss):

* ``"power"``: accuracy = a - b Omega^-c, or loss = e + b Omega^-c (b > 0, 0 < c <= 5);
* ``"paper"``: accuracy = A0 - 1/sqrt(Omega G) - 1/G, or loss = 1/sqrt(Omega G) + 1/G.

The power law is fitted by a profile search over c (the other parameters are linear given c)
followed by a nonlinear least-squares polish, so no starting point is needed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._accuracy import AccuracyFunction, PaperAccuracy, PowerLawAccuracy
from solver._errors import FitError

__all__ = ["AccuracyFit", "fit_accuracy"]

FloatArray = NDArray[np.float64]
C_MAX = 5.0
C_MIN = 1e-4
LOG_G_BOUND = 30.0


@dataclass(frozen=True, eq=False)
class AccuracyFit:
    """A fitted accuracy function and how well it fits.

    ``function`` is P for the game; ``params`` the fitted parameters of the measured quantity;
    ``rmse`` and ``r2`` compare ``predict`` with the measurements.

    ``status`` is ``"ok"``, ``"flat"`` (accuracy does not rise with data: the fitted P is
    constant to rounding over the measured range) or ``"at_bound"`` (a parameter sits at its
    search bound: the power law's exponent c at 5, the paper form's G at exp(+-30), so the data
    do not determine it; c at its lower bound is the logarithmic limit and stays ``"ok"``);
    ``message`` says which and why. A game refuses the ``function`` of a fit that is not
    ``"ok"`` (a :class:`solver.GameError` on ``accuracy``) unless it comes from :meth:`accept`.
    """

    function: AccuracyFunction
    params: Mapping[str, float]
    rmse: float
    r2: float
    n_points: int
    kind: str
    form: str
    predict: Callable[[ArrayLike], FloatArray]
    status: str = "ok"
    message: str = "fit ok"

    @property
    def ok(self) -> bool:
        """Whether the fit is usable as it is (``status == "ok"``)."""
        return self.status == "ok"

    def accept(self) -> AccuracyFunction:
        """The fitted P, accepted explicitly even if the fit is degenerate (an unmarked copy)."""
        return dataclasses.replace(self.function)  # type: ignore[type-var]


def _power_given_c(
    w: FloatArray, y: FloatArray, c: float, sign: float
) -> tuple[float, float, float]:
    """Least squares of y = k + sign * b * w^-c in (k, b) for fixed c; returns (k, b, sse)."""
    u = sign * w ** (-c)
    A = np.column_stack((np.ones_like(u), u))
    (k, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    b = max(float(b), 1e-300)
    k = float(np.mean(y - sign * b * w ** (-c)))
    r = y - k - sign * b * w ** (-c)
    return k, b, float(r @ r)


def _fit_power(w: FloatArray, y: FloatArray, sign: float) -> tuple[float, float, float]:
    from scipy.optimize import least_squares  # imported here: scipy.optimize is slow to import

    cs = np.geomspace(1e-3, C_MAX, 200)
    sse = [_power_given_c(w, y, c, sign)[2] for c in cs]
    c0 = float(cs[int(np.argmin(sse))])
    k0, b0, _ = _power_given_c(w, y, c0, sign)
    scale = float(np.max(np.abs(y))) or 1.0

    def resid(v: FloatArray) -> FloatArray:
        k, logb, c = v
        return (y - k - sign * math.exp(logb) * w ** (-c)) / scale

    sol = least_squares(
        resid,
        x0=[k0, math.log(b0), c0],
        bounds=([-np.inf, -700, C_MIN], [np.inf, 700, C_MAX]),
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
        max_nfev=2000,
    )
    k, logb, c = (float(v) for v in sol.x)
    return k, math.exp(logb), c


def _fit_paper(w: FloatArray, y: FloatArray, kind: str) -> tuple[float, float]:
    """(A0, G) for accuracy; (0, G) for loss."""
    from scipy.optimize import minimize_scalar

    def sse(logG: float) -> float:
        G = math.exp(logG)
        base = 1.0 / np.sqrt(w * G) + 1.0 / G
        if kind == "accuracy":
            r = y + base
            return float(np.var(r) * r.size)
        r = y - base
        return float(r @ r)

    sol = minimize_scalar(
        sse, bounds=(-LOG_G_BOUND, LOG_G_BOUND), method="bounded", options={"xatol": 1e-12}
    )
    G = math.exp(float(sol.x))
    A0 = float(np.mean(y + 1.0 / np.sqrt(w * G) + 1.0 / G)) if kind == "accuracy" else 0.0
    return A0, G


def fit_accuracy(
    data_amount: ArrayLike,
    values: ArrayLike,
    *,
    kind: Literal["accuracy", "loss"] = "accuracy",
    form: Literal["power", "paper"] = "power",
    a0: float | None = None,
) -> AccuracyFit:
    """Fit the data-accuracy function P(Omega) from measured points.

    Parameters
    ----------
    data_amount
        Omega of each run (total data used, in the game's unit), all > 0.
    values
        Measured accuracy (``kind="accuracy"``) or loss (``kind="loss"``) of each run.
    kind
        What ``values`` are.
    form
        ``"power"`` or ``"paper"`` (see the module docstring).
    a0
        For ``kind="loss"``: the untrained model's loss, so that P = a0 - loss.

    Returns
    -------
    AccuracyFit
        ``function`` is P, ready for ``Game(accuracy=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1e3, 2e3, 4e3, 8e3, 1.6e4])
    >>> fit = fit_accuracy(w, 0.9 - 2.0 * w**-0.5)
    >>> round(fit.params["c"], 6), fit.r2 > 0.999999
    (0.5, True)
    """
    w = np.asarray(data_amount, dtype=float).ravel()
    y = np.asarray(values, dtype=float).ravel()
    if w.shape != y.shape:
        raise FitError(f"data_amount and values differ in length ({w.size} vs {y.size})")
    if kind not in ("accuracy", "loss"):
        raise FitError(f"kind must be 'accuracy' or 'loss', got {kind!r}")
    if form not in ("power", "paper"):
        raise FitError(f"form must be 'power' or 'paper', got {form!r}")
    need = 3 if form == "power" else 2
    if w.size < need:
        raise FitError(f"form {form!r} needs at least {need} points, got {w.size}")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(y))) or np.any(w <= 0):
        raise FitError("data amounts must be finite and > 0, values finite")
    if np.unique(w).size < need:
        raise FitError(f"need at least {need} distinct data amounts")
    if kind == "loss" and (a0 is None or not math.isfinite(a0)):
        raise FitError("kind='loss' needs a0, the loss of the untrained model (P = a0 - loss)")
    fn: AccuracyFunction
    if form == "power":
        sign = -1.0 if kind == "accuracy" else 1.0
        k, b, c = _fit_power(w, y, sign)
        if kind == "accuracy":
            params = {"a": k, "b": b, "c": c}
            fn = PowerLawAccuracy(k, b, c)
        else:
            params = {"e": k, "b": b, "c": c}
            fn = PowerLawAccuracy(float(a0) - k, b, c)  # type: ignore[arg-type]

        def predict(o: ArrayLike) -> FloatArray:
            return np.asarray(k + sign * b * np.asarray(o, dtype=float) ** (-c), dtype=float)

    else:
        A0, G = _fit_paper(w, y, kind)
        if kind == "accuracy":
            params = {"A0": A0, "G": G}
            fn = PaperAccuracy(A0, G)
        else:
            params = {"G": G}
            fn = PaperAccuracy(float(a0), G)  # type: ignore[arg-type]
        sgn = -1.0 if kind == "accuracy" else 1.0
        off = A0 if kind == "accuracy" else 0.0

        def predict(o: ArrayLike) -> FloatArray:
            oo = np.asarray(o, dtype=float)
            return np.asarray(off + sgn * (1.0 / np.sqrt(oo * G) + 1.0 / G), dtype=float)

    r = y - predict(w)
    rmse = float(np.sqrt(np.mean(r**2)))
    tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(r @ r) / tot if tot > 0 else (1.0 if rmse == 0 else 0.0)
    status, message = _diagnose(w, y, predict, params, form, kind, r2)
    if status != "ok":
        object.__setattr__(fn, "fit_problem", message)
    return AccuracyFit(fn, params, rmse, r2, int(w.size), kind, form, predict, status, message)


def _diagnose(
    w: FloatArray,
    y: FloatArray,
    predict: Callable[[ArrayLike], FloatArray],
    params: Mapping[str, float],
    form: str,
    kind: str,
    r2: float,
) -> tuple[str, str]:
    """(status, message) of a fit: flat, a parameter at its search bound, or ok."""
    ends = predict(np.array([w.min(), w.max()]))
    span = abs(float(ends[1] - ends[0]))
    scale = max(float(np.max(np.abs(y))), float(np.ptp(y)), 1e-300)
    trend = float(np.polyfit(np.log(w), y, 1)[0]) * (1.0 if kind == "accuracy" else -1.0)
    if trend <= 0:
        word = "falls" if kind == "accuracy" else "rises"
        return "flat", (
            f"degenerate fit: the measured {kind} {word} with the data amount (least-squares "
            f"slope {trend:.3g} per log unit in the wrong direction, R^2 = {r2:.3g}), so no "
            "increasing P fits it"
        )
    if span <= 1e-9 * scale:
        return "flat", (
            f"degenerate fit: P does not rise with data (the fitted curve changes by {span:.3g} "
            f"over the measured range, R^2 = {r2:.3g}); the measurements do not improve with "
            "more data, so P cannot drive contributions"
        )
    note = ""
    if form == "power":
        c = params["c"]
        if c >= C_MAX * (1 - 1e-6):
            return "at_bound", (
                f"degenerate fit: exponent c = {c:.6g} sits at its upper search bound {C_MAX:g}, "
                "so the data do not determine how fast accuracy saturates (too narrow or too "
                "noisy a range of data amounts)"
            )
        if c <= C_MIN * (1 + 1e-3):
            # c -> 0 with b c fixed is the logarithmic limit: P is still well determined
            note = f"; c at its lower bound {C_MIN:g}: P is close to logarithmic in the data"
    else:
        G = params["G"]
        if not math.exp(-LOG_G_BOUND + 1e-6) < G < math.exp(LOG_G_BOUND - 1e-6):
            return "at_bound", (
                f"degenerate fit: G = {G:.6g} sits at its search bound exp(+-{LOG_G_BOUND:g})"
            )
    return "ok", f"fit ok (R^2 = {r2:.6g}){note}"
