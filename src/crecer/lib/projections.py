"""Trends of an indicator to a horizon year: linear, and logistic for shares, with a 95 % band.

Pure Python and numpy (no Django). The methods (see ``docs/costing.md``):

* **linear**: ordinary least squares ``y = a + b·x`` on the observed points, ``x`` the middle of each
  period as a decimal year (a year ``2025`` is ``2025.5``). The band at ``x0`` is the 95 % prediction
  interval from the residuals: ``ŷ ± t(0.975, n−2) · s · √(1 + 1/n + (x0 − x̄)² / Σ(x − x̄)²)`` with
  ``s² = Σ residual² / (n − 2)``. For a share the point and band are clipped to [0, 1].
* **logistic** (shares only): the same line fitted to ``logit(y) = ln(y / (1 − y))`` and turned back
  with ``1 / (1 + e^(−z))``, band included, so the trend bends towards 0 and 1 and never leaves them.
  Shares of exactly 0 or 1 have no logit: they are taken as :data:`EPSILON` and ``1 − EPSILON``.

With one observed point, or several at one moment, there is no trend: the projection is that value
(the mean), with no band (low = high = value). With two points the line passes through both and the
spread cannot be estimated (n − 2 = 0): no band either. A perfectly straight series has no spread: a
band of zero width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LINEAR = "linear"
LOGISTIC = "logistic"
CONSTANT = "constant"
METHODS = (LINEAR, LOGISTIC)

#: what a share of exactly 0 or 1 is taken as before its logit
EPSILON = 0.001

#: two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; 1.96 beyond
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


class ProjectionError(ValueError):
    pass


def t975(df: int) -> float:
    """Student's t quantile 0.975 for ``df`` degrees of freedom (table to 30, then the normal 1.96)."""
    if df < 1:
        raise ProjectionError("at least one degree of freedom")
    return _T975[df - 1] if df <= len(_T975) else 1.96


@dataclass(frozen=True)
class Fit:
    """A fitted line on the (possibly transformed) scale: ``intercept + slope·x``."""

    method: str
    intercept: float
    slope: float
    n: int
    x_mean: float
    sxx: float
    #: residual standard deviation (None: not estimable, fewer than 3 points)
    sigma: float | None
    share: bool

    def _scale(self, z: float) -> float:
        if self.method == LOGISTIC:
            return 1.0 / (1.0 + math.exp(-z))
        if self.share:
            return min(1.0, max(0.0, z))
        return z

    def at(self, x: float) -> tuple[float, float, float]:
        """(value, low, high) at ``x`` (a decimal year)."""
        z = self.intercept + self.slope * x
        if self.sigma is None or self.sxx == 0:
            v = self._scale(z)
            return v, v, v
        half = t975(self.n - 2) * self.sigma * math.sqrt(1 + 1 / self.n + (x - self.x_mean) ** 2 / self.sxx)
        return self._scale(z), self._scale(z - half), self._scale(z + half)


@dataclass(frozen=True)
class Point:
    year: int
    value: float
    low: float
    high: float


def logit(y: float) -> float:
    y = min(1 - EPSILON, max(EPSILON, y))
    return math.log(y / (1 - y))


def fit(xs: Sequence[float], ys: Sequence[float], method: str = LINEAR, *, share: bool = False) -> Fit:
    """Least squares line through ``(xs, ys)`` (logit of ``ys`` for the logistic method)."""
    if method not in METHODS:
        raise ProjectionError(f"unknown method {method!r}")
    if len(xs) != len(ys) or not xs:
        raise ProjectionError("needs at least one observed point, as many x as y")
    if method == LOGISTIC:
        if any(y < 0 or y > 1 for y in ys):
            raise ProjectionError("the logistic trend is for shares between 0 and 1")
        share = True
    x = np.asarray(xs, dtype=float)
    y = np.asarray([logit(v) for v in ys] if method == LOGISTIC else ys, dtype=float)
    n = len(x)
    x_mean = float(x.mean())
    sxx = float(((x - x_mean) ** 2).sum())
    if sxx == 0:  # one point, or all at one moment: no trend
        return Fit(method, float(y.mean()), 0.0, n, x_mean, 0.0, None, share)
    dx = x - x_mean
    slope = float((dx * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * x_mean)
    sigma = None
    if n > 2:
        residuals = y - (intercept + slope * x)
        sigma = math.sqrt(float((residuals**2).sum()) / (n - 2))
    return Fit(method, intercept, slope, n, x_mean, sxx, sigma, share)


def project(fitted: Fit, years: Sequence[int]) -> list[Point]:
    """The trend at the middle of each year."""
    out = []
    for year in years:
        value, low, high = fitted.at(year + 0.5)
        out.append(Point(year, value, low, high))
    return out


def reaches(value: float, target: float, direction: str = "higher") -> bool:
    """Whether a projected value meets the target (``direction`` says which way is better)."""
    return value <= target if direction == "lower" else value >= target


def default_method(values: Sequence[float], share: bool) -> str:
    """Logistic for a share (every value in [0, 1]), linear otherwise."""
    return LOGISTIC if share and all(0 <= v <= 1 for v in values) else LINEAR
