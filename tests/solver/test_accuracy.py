"""Accuracy functions and fitting P from measured points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import solver
from solver import FitError, PaperAccuracy, PowerLawAccuracy, fit_accuracy


class SaturatingExp(solver.AccuracyFunction):
    """P = a (1 - exp(-Omega / k)): a form without a closed-form inverse derivative."""

    def __init__(self, a: float, k: float) -> None:
        self.a, self.k = a, k

    def value(self, omega):  # type: ignore[no-untyped-def]
        return self.a * (1 - np.exp(-np.asarray(omega, dtype=float) / self.k))

    def derivative(self, omega):  # type: ignore[no-untyped-def]
        return self.a / self.k * np.exp(-np.asarray(omega, dtype=float) / self.k)


def test_paper_form_matches_footnote_7() -> None:
    P = PaperAccuracy(A0=0.9, G=4.0)
    w = np.array([100.0, 1e4])
    np.testing.assert_allclose(P.value(w), 0.9 - 1 / np.sqrt(4 * w) - 0.25)
    np.testing.assert_allclose(P.derivative(w), 0.25 * w**-1.5)
    np.testing.assert_allclose(P.as_power_law().value(w), P.value(w))
    assert P.value_scalar(100.0) == pytest.approx(float(P.value(100.0)), rel=1e-15)


@settings(max_examples=30, deadline=None)
@given(
    slope=st.floats(1e-12, 1e-2),
    a=st.floats(0.1, 2.0),
    b=st.floats(0.01, 10.0),
    c=st.floats(0.1, 2.0),
)
def test_inverse_derivative_closed_form_equals_bisection(
    slope: float, a: float, b: float, c: float
) -> None:
    pw = PowerLawAccuracy(a, b, c)
    closed = pw.inverse_derivative(slope, 1.0, 1e9)
    numeric = solver.AccuracyFunction.inverse_derivative(pw, slope, 1.0, 1e9)
    np.testing.assert_allclose(numeric, closed, rtol=1e-12)
    inner = (closed > 1.0) & (closed < 1e9)
    if inner:
        assert float(pw.derivative(closed)) == pytest.approx(slope, rel=1e-9)
    assert pw.inverse_derivative_scalar(slope, 1.0, 1e9) == pytest.approx(float(closed), rel=1e-15)


def test_numeric_inverse_for_a_form_without_closed_form() -> None:
    P = SaturatingExp(0.9, 5000.0)
    y = np.array([1e-6, 1e-5, 1e-4, 1.0, -1.0])
    w = P.inverse_derivative(y, 10.0, 1e6)
    expected = np.clip(-5000.0 * np.log(y.clip(1e-300) * 5000.0 / 0.9), 10.0, 1e6)
    expected[-1] = 1e6  # a non-positive slope is reached only at the upper end
    np.testing.assert_allclose(w, expected, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(a=st.floats(0.5, 1.0), b=st.floats(0.5, 20.0), c=st.floats(0.2, 1.5))
def test_fit_recovers_power_law_parameters(a: float, b: float, c: float) -> None:
    w = np.geomspace(200.0, 2e5, 12)
    fit = fit_accuracy(w, a - b * w**-c)
    assert fit.params["a"] == pytest.approx(a, rel=1e-6)
    assert fit.params["b"] == pytest.approx(b, rel=1e-5)
    assert fit.params["c"] == pytest.approx(c, rel=1e-6)
    assert fit.r2 > 1 - 1e-12 and fit.rmse < 1e-9
    np.testing.assert_allclose(fit.function.value(w), a - b * w**-c, rtol=1e-6)


def test_fit_from_loss_needs_a0_and_recovers_paper_form() -> None:
    w = np.geomspace(500.0, 5e4, 10)
    truth = PaperAccuracy(A0=1.3, G=6.0)
    loss = 1 / np.sqrt(w * 6.0) + 1 / 6.0
    with pytest.raises(FitError, match="a0"):
        fit_accuracy(w, loss, kind="loss")
    fit = fit_accuracy(w, loss, kind="loss", form="paper", a0=1.3)
    assert fit.params["G"] == pytest.approx(6.0, rel=1e-6)
    np.testing.assert_allclose(fit.function.value(w), truth.value(w), rtol=1e-7)
    acc = fit_accuracy(w, truth.value(w), form="paper")
    assert acc.params["A0"] == pytest.approx(1.3, rel=1e-7) and acc.params["G"] == pytest.approx(
        6.0, rel=1e-6
    )
    pw = fit_accuracy(w, 0.2 + 3.0 * w**-0.4, kind="loss", a0=2.0)
    assert (pw.params["e"], pw.params["b"], pw.params["c"]) == pytest.approx(
        (0.2, 3.0, 0.4), rel=1e-6
    )
    np.testing.assert_allclose(pw.function.value(w), 2.0 - (0.2 + 3.0 * w**-0.4), rtol=1e-6)


def test_noisy_fit_reports_its_error() -> None:
    rng = np.random.default_rng(0)
    w = np.geomspace(500, 5e4, 30)
    y = 0.85 - 1.5 * w**-0.4 + rng.normal(0, 2e-3, w.size)
    fit = fit_accuracy(w, y)
    resid = y - fit.predict(w)
    assert fit.rmse == pytest.approx(float(np.sqrt(np.mean(resid**2))))
    assert 1e-3 < fit.rmse < 4e-3 and 0.95 < fit.r2 < 1.0
    assert fit.params["a"] == pytest.approx(0.85, abs=0.02)


@pytest.mark.parametrize(
    ("w", "y", "kw", "match"),
    [
        ([1.0, 2.0], [0.1, 0.2], {}, "at least 3"),
        ([1.0, 2.0, -3.0], [0.1, 0.2, 0.3], {}, "> 0"),
        ([1.0, 1.0, 1.0], [0.1, 0.2, 0.3], {}, "distinct"),
        ([1.0, 2.0, 3.0], [0.1, 0.2], {}, "differ in length"),
        ([1.0, 2.0, 3.0], [0.1, 0.2, 0.3], {"form": "cubic"}, "form"),
        ([1.0, 2.0, 3.0], [0.1, 0.2, 0.3], {"kind": "f1"}, "kind"),
    ],
)
def test_fit_rejects_bad_input(
    w: list[float], y: list[float], kw: dict[str, str], match: str
) -> None:
    with pytest.raises(FitError, match=match):
        fit_accuracy(w, y, **kw)  # type: ignore[arg-type]


def test_fitted_function_plugs_into_a_game(preset: solver.Game) -> None:
    w = np.geomspace(1000, 20000, 8)
    fit = fit_accuracy(w, 0.9 - 3.0 * w**-0.6)
    game = preset.replace(accuracy=fit.function)
    res = solver.maximize_potential(game)
    assert res.status == solver.Status.OPTIMAL and res.is_nash
