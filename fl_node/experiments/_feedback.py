"""Fit the data-accuracy function P from the measured runs and solve the game again with it.

The points are (total samples trained on, test accuracy of the trained model), one per distinct
training run. The accuracy of the trained model is the mean test accuracy over the last
``SMOOTH_ROUNDS`` FL rounds: with non-IID silos the global model's accuracy moves by one or two
points from one round to the next, and that noise would otherwise go straight into the fit. The
fit on the final round alone is reported as well. The fitted P replaces the paper's form in each seed's game (``Game(accuracy=...)``); the
schemes are solved again, at the seed's gamma* and at a gamma* chosen again for the new P.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

import solver
from fl_node.experiments._schemes import scheme_strategies, sweep_gamma
from solver import AccuracyFit, FitError, Game

__all__ = ["SMOOTH_ROUNDS", "FitPoint", "feedback", "fit_points", "fit_summary", "try_fit"]

#: the fit's accuracy is the mean over this many last rounds
SMOOTH_ROUNDS = 3

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FitPoint:
    """One measured point: a run's total samples, its smoothed and its final test accuracy."""

    seed: int
    source: str
    samples: int
    accuracy: float
    final_accuracy: float

    @classmethod
    def from_curve(cls, seed: int, source: str, samples: int, curve: Sequence[float]) -> FitPoint:
        """The point of a run with test accuracy ``curve`` (one value per round)."""
        tail = list(curve)[-SMOOTH_ROUNDS:]
        return cls(seed, source, int(samples), float(np.mean(tail)), float(curve[-1]))


def fit_points(
    points: Sequence[FitPoint],
    *,
    form: str = "power",
    sources: Sequence[str] | None = None,
    final: bool = False,
) -> AccuracyFit:
    """Fit P (``kind="accuracy"``) to the points, optionally only those from ``sources``.

    ``final=True`` fits the final-round accuracy instead of the smoothed one.
    """
    use = [p for p in points if sources is None or p.source in sources]
    w = np.array([p.samples for p in use], dtype=float)
    y = np.array([p.final_accuracy if final else p.accuracy for p in use], dtype=float)
    return solver.fit_accuracy(w, y, kind="accuracy", form=form)  # type: ignore[arg-type]


def fit_summary(fit: AccuracyFit) -> dict[str, Any]:
    """JSON-ready parameters and errors of a fit."""
    return {
        "form": fit.form,
        "params": {k: float(v) for k, v in fit.params.items()},
        "rmse": float(fit.rmse),
        "r2": float(fit.r2),
        "n_points": int(fit.n_points),
    }


def try_fit(
    points: Sequence[FitPoint],
    *,
    form: str,
    sources: Sequence[str] | None = None,
    final: bool = False,
) -> AccuracyFit | str:
    """:func:`fit_points`, or the reason it cannot fit (too few distinct data amounts) or why the
    fit is degenerate (``fit.message``: flat, or a parameter at its search bound), in which case
    no game is built from it."""
    try:
        fit = fit_points(points, form=form, sources=sources, final=final)
    except FitError as exc:
        return str(exc)
    return fit if fit.ok else fit.message


def feedback(
    game: Game,
    gamma: float,
    fit: AccuracyFit,
    gammas: FloatArray,
    *,
    fip: bool,
    cgbd_max_profiles: int,
    profiles: dict[str, tuple[FloatArray, FloatArray]],
) -> dict[str, Any]:
    """Solve the schemes in ``game`` with P replaced by ``fit.function``.

    Parameters
    ----------
    game
        The seed's game (any gamma; it is set here).
    gamma
        The seed's gamma* under the paper's P.
    fit
        The fitted accuracy function.
    gammas
        Grid for choosing gamma* again under the fitted P.
    profiles
        ``scheme -> (d, f)`` found under the paper's P: evaluated again under the fitted P
        (their welfare as the measured P values it).

    Returns
    -------
    dict
        ``same_gamma`` and ``refit_gamma`` (scheme summaries), ``gamma_star_fit``, and
        ``paper_profiles_under_fit`` (welfare and Nash status of the trained profiles).
    """
    fitted = game.replace(accuracy=fit.function)
    same = scheme_strategies(
        fitted.replace(gamma=float(gamma)), fip=fip, cgbd_max_profiles=cgbd_max_profiles
    )
    sweep = sweep_gamma(fitted, gammas)
    refit = scheme_strategies(
        fitted.replace(gamma=sweep.best), fip=fip, cgbd_max_profiles=cgbd_max_profiles
    )
    at_gamma = fitted.replace(gamma=float(gamma))
    trained = {}
    for k, (d, f) in profiles.items():
        r = solver.evaluate(at_gamma, d, f)
        trained[k] = {
            "total_x": float(np.sum(r.x)),
            "social_welfare": float(r.social_welfare),
            "is_nash": bool(r.is_nash),
            "predicted_accuracy": float(fit.function.value_scalar(float(np.sum(r.x)))),
        }
    return {
        "same_gamma": {k: v.summary() for k, v in same.items()},
        "gamma_star_fit": sweep.best,
        "refit_gamma": {k: v.summary() for k, v in refit.items()},
        "sweep": {
            "gammas": sweep.gammas.tolist(),
            "welfare": sweep.welfare.tolist(),
            "total_x": {k: v.tolist() for k, v in sweep.total_x.items()},
        },
        "paper_profiles_under_fit": trained,
    }
