"""Data-accuracy functions P(Omega): the global model's accuracy gain from Omega units of data.

Every form is increasing and concave (paper eq. 5). The solver needs the value, the derivative
and the inverse of the derivative (the aggregate at which the marginal accuracy equals a given
slope). A new form subclasses :class:`AccuracyFunction` and implements ``value`` and
``derivative``; the inverse then comes from a vectorized bisection, and forms with a closed
form override it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver._errors import GameError

__all__ = ["AccuracyFunction", "PaperAccuracy", "PowerLawAccuracy"]

FloatArray = NDArray[np.float64]


class AccuracyFunction(ABC):
    """Interface of a data-accuracy function P(Omega), increasing and concave in Omega > 0."""

    @abstractmethod
    def value(self, omega: ArrayLike) -> FloatArray:
        """P(Omega), elementwise."""

    @abstractmethod
    def derivative(self, omega: ArrayLike) -> FloatArray:
        """P'(Omega) >= 0, non-increasing, elementwise."""

    def value_scalar(self, omega: float) -> float:
        """P(Omega) for one float; forms override this with plain ``math`` for speed."""
        return float(self.value(omega))

    def derivative_scalar(self, omega: float) -> float:
        """P'(Omega) for one float."""
        return float(self.derivative(omega))

    def inverse_derivative_scalar(self, slope: float, lo: float, hi: float) -> float:
        """:meth:`inverse_derivative` for one float."""
        return float(self.inverse_derivative(slope, lo, hi))

    def inverse_derivative(self, slope: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> FloatArray:
        """The Omega in ``[lo, hi]`` where P'(Omega) = ``slope``, elementwise.

        Returns ``lo`` where P'(lo) <= slope and ``hi`` where P'(hi) >= slope (``hi`` may be
        ``inf`` only for slopes <= 0). The default is a bisection on the (monotone) derivative,
        geometric when ``lo > 0``, to full double precision.
        """
        y = np.asarray(slope, dtype=float)
        lo_a, hi_a, y = np.broadcast_arrays(
            np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), y
        )
        out = np.empty(y.shape)
        at_hi = (y <= 0) | ~np.isfinite(hi_a)
        out[at_hi] = hi_a[at_hi]
        todo = ~at_hi
        a, b, yy = lo_a[todo].copy(), hi_a[todo].copy(), y[todo]
        below = self.derivative(a) <= yy
        above = self.derivative(b) >= yy
        for _ in range(200):
            mid = np.where(a > 0, np.sqrt(np.maximum(a, 1e-300) * b), 0.5 * (a + b))
            mid = np.where((mid <= a) | (mid >= b), 0.5 * (a + b), mid)
            up = self.derivative(mid) > yy
            a = np.where(up, mid, a)
            b = np.where(up, b, mid)
            if np.all(b - a <= 4 * np.spacing(b)):
                break
        res = 0.5 * (a + b)
        res = np.where(below, lo_a[todo], np.where(above, hi_a[todo], res))
        out[todo] = res
        return out


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise GameError(f"must be a positive finite number, got {value!r}", field=name)
    return value


@dataclass(frozen=True)
class PowerLawAccuracy(AccuracyFunction):
    """P(Omega) = a - b * Omega**(-c) with b > 0, c > 0 (closed-form inverse derivative)."""

    a: float
    b: float
    c: float

    def __post_init__(self) -> None:
        if not math.isfinite(float(self.a)):
            raise GameError(f"must be finite, got {self.a!r}", field="accuracy.a")
        object.__setattr__(self, "a", float(self.a))
        object.__setattr__(self, "b", _check_positive("accuracy.b", self.b))
        object.__setattr__(self, "c", _check_positive("accuracy.c", self.c))

    def value(self, omega: ArrayLike) -> FloatArray:
        w = np.asarray(omega, dtype=float)
        with np.errstate(divide="ignore"):
            return np.asarray(self.a - self.b * np.power(w, -self.c), dtype=float)

    def value_scalar(self, omega: float) -> float:
        return self.a - self.b * omega ** (-self.c)

    def derivative(self, omega: ArrayLike) -> FloatArray:
        w = np.asarray(omega, dtype=float)
        with np.errstate(divide="ignore"):
            return np.asarray(self.b * self.c * np.power(w, -self.c - 1.0), dtype=float)

    def derivative_scalar(self, omega: float) -> float:
        return self.b * self.c * omega ** (-self.c - 1.0)

    def inverse_derivative_scalar(self, slope: float, lo: float, hi: float) -> float:
        if slope <= 0:
            return hi
        w = (self.b * self.c / slope) ** (1.0 / (self.c + 1.0))
        return lo if w < lo else (hi if w > hi else w)

    def inverse_derivative(self, slope: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> FloatArray:
        y = np.asarray(slope, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(
                y > 0,
                np.power(self.b * self.c / np.where(y > 0, y, 1.0), 1.0 / (self.c + 1.0)),
                np.inf,
            )
        return np.asarray(np.clip(w, lo, hi), dtype=float)


@dataclass(frozen=True)
class PaperAccuracy(AccuracyFunction):
    """The paper's simulation form (footnote 7): P(Omega) = A0 - 1/sqrt(Omega G) - 1/G.

    ``G`` is the number of training epochs and ``A0`` the accuracy loss of the untrained model.
    It is the power law with a = A0 - 1/G, b = G**-0.5, c = 1/2.
    """

    A0: float
    G: float

    def __post_init__(self) -> None:
        if not math.isfinite(float(self.A0)):
            raise GameError(f"must be finite, got {self.A0!r}", field="A0")
        object.__setattr__(self, "A0", float(self.A0))
        object.__setattr__(self, "G", _check_positive("G", self.G))

    def as_power_law(self) -> PowerLawAccuracy:
        """The same function as a :class:`PowerLawAccuracy`."""
        return PowerLawAccuracy(self.A0 - 1.0 / self.G, self.G**-0.5, 0.5)

    @cached_property
    def _power(self) -> PowerLawAccuracy:
        return self.as_power_law()

    def value(self, omega: ArrayLike) -> FloatArray:
        w = np.asarray(omega, dtype=float)
        with np.errstate(divide="ignore"):
            return np.asarray(self.A0 - 1.0 / np.sqrt(w * self.G) - 1.0 / self.G, dtype=float)

    def value_scalar(self, omega: float) -> float:
        return self.A0 - 1.0 / math.sqrt(omega * self.G) - 1.0 / self.G

    def derivative(self, omega: ArrayLike) -> FloatArray:
        w = np.asarray(omega, dtype=float)
        with np.errstate(divide="ignore"):
            return np.asarray(0.5 / math.sqrt(self.G) * np.power(w, -1.5), dtype=float)

    def derivative_scalar(self, omega: float) -> float:
        return 0.5 / math.sqrt(self.G) * omega**-1.5

    def inverse_derivative(self, slope: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> FloatArray:
        return self._power.inverse_derivative(slope, lo, hi)

    def inverse_derivative_scalar(self, slope: float, lo: float, hi: float) -> float:
        return self._power.inverse_derivative_scalar(slope, lo, hi)
