"""WHO reference curves (the SD lines of the growth charts) for drawing a child's chart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .compute import DAYS_PER_MONTH, _gather, _interpolate, _round_half_up
from .lms import lms_value, restricted_value
from .tables import load_table

__all__ = ["CURVE_INDICATORS", "ReferenceCurve", "reference_curve"]

# indicator -> (day table under 60 months, monthly 2007 table from 60 months or None, restricted)
_BY_AGE: dict[str, tuple[str, str | None, bool]] = {
    "wfa": ("wfa", "wfa2007", True),
    "lhfa": ("lhfa", "hfa2007", False),
    "bmi": ("bmi", "bfa2007", True),
    "hcfa": ("hcfa", None, False),
    "acfa": ("acfa", None, True),
}
_BY_LENGTH = ("wfl", "wfh")
CURVE_INDICATORS: tuple[str, ...] = (*_BY_AGE, *_BY_LENGTH, "wflh")
_MONTH_LIMITS = {"wfa2007": 121.0, "hfa2007": 229.0, "bfa2007": 229.0}


class ReferenceCurve(NamedTuple):
    """``x`` (age in days, or length/height in cm) and ``values[i]`` = the curve at ``sds[i]``."""

    x: np.ndarray
    values: np.ndarray


def _lms_by_age(day_table: str, month_table: str | None, sex: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, ...]:
    table = load_table(day_table)
    rounded = _round_half_up(days)
    months = days / DAYS_PER_MONTH
    with np.errstate(invalid="ignore"):
        ok = (months < 60) & (rounded >= table.x0) & (rounded < table.x0 + table.n)
    if day_table == "acfa":
        ok &= days >= 91  # anthro starts arm circumference at 91 days, even if 90.6 rounds to 91
    lms = _gather(table, sex, rounded, ok)
    if month_table is None:
        return lms
    with np.errstate(invalid="ignore"):
        later = (months >= 60) & (months < _MONTH_LIMITS[month_table])
    low = np.where(later, np.trunc(months), 0.0)
    upp = np.where(later, np.trunc(months + 1.0), 0.0)
    frac = np.where(later, months - low, 0.0)
    lms2 = _interpolate(load_table(month_table), sex, low, upp, frac, later)
    return tuple(np.where(ok, a, b) for a, b in zip(lms, lms2, strict=True))


def _lms_by_length(name: str, sex: np.ndarray, cm: np.ndarray) -> tuple[np.ndarray, ...]:
    table = load_table(name)
    with np.errstate(invalid="ignore"):
        ok = (cm >= table.x_min) & (cm <= table.x_max)
    tenths = cm * 10.0
    low = np.where(ok, np.trunc(tenths), 0.0)
    upp = np.where(ok, np.trunc(tenths + 1.0), 0.0)
    frac = np.where(ok, (cm - low / 10.0) / 0.1, 0.0)
    return _interpolate(table, sex, low, upp, frac, ok)


def reference_curve(
    indicator: str,
    sex: int,
    sds: Sequence[float] = (-3, -2, 0, 2, 3),
    x: Any = None,
    *,
    measure: str | None = None,
) -> ReferenceCurve:
    """Values of the WHO SD curves of one indicator for one sex, on a grid of ``x``.

    Args:
        indicator: ``wfa``, ``lhfa``, ``bmi``, ``hcfa``, ``acfa`` (x = age in days), or ``wfl``
            (45-110 cm), ``wfh`` (65-120 cm) (x = length/height in cm); ``wflh`` means ``wfh`` if
            ``measure == "h"`` else ``wfl``.
        sex: 1 = male, 2 = female.
        sds: the z-scores of the curves to draw (0 is the median).
        x: where to evaluate; default the reference's own grid (every day 0-1826, or every 0.1 cm).
            Ages from 60 months use the WHO 2007 reference (wfa to 121, lhfa and bmi to 229 months).

    Returns:
        :class:`ReferenceCurve` ``(x, values)`` with ``values.shape == (len(sds), len(x))``, NaN
        outside the reference. The curves are exactly those the z-scores use: the LMS value
        ``M (1 + L S z) ** (1 / L)``, extended linearly beyond +/-3 SD for the weight-based
        indicators and arm circumference (WHO's restricted method), and LMS interpolated between
        table rows where the z-score computation interpolates.
    """
    if sex not in (1, 2):
        raise ValueError("sex must be 1 (male) or 2 (female)")
    if indicator == "wflh":
        indicator = "wfh" if (measure or "").lower() == "h" else "wfl"
    if indicator in _BY_LENGTH:
        table = load_table(indicator)
        xs = np.arange(table.x0, table.x0 + table.n) / table.scale if x is None else np.asarray(x, dtype=np.float64)
        sexes = np.full(xs.shape, sex, dtype=np.int8)
        lms = _lms_by_length(indicator, sexes, xs)
        restricted = True
    elif indicator in _BY_AGE:
        day_table, month_table, restricted = _BY_AGE[indicator]
        table = load_table(day_table)
        xs = np.arange(table.x0, table.x0 + table.n, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
        sexes = np.full(xs.shape, sex, dtype=np.int8)
        lms = _lms_by_age(day_table, month_table, sexes, xs)
    else:
        raise ValueError(f"unknown indicator {indicator!r}; expected one of {CURVE_INDICATORS}")
    value = restricted_value if restricted else lms_value
    values = np.stack([value(float(k), *lms) for k in sds]) if len(sds) else np.empty((0, *xs.shape))
    return ReferenceCurve(x=xs, values=values)
