"""Nutritional-status categories from WHO z-scores.

Cut-offs (strict inequalities, applied, as WHO's software does, to z-scores rounded to 2 decimals):

* under 5 years (WHO Child Growth Standards): stunting HAZ < -2 (severe < -3), underweight
  WAZ < -2 (severe < -3), wasting WHZ < -2 (severe < -3), overweight WHZ > +2, obesity WHZ > +3;
  bilateral oedema counts as severe wasting and severe underweight (as in WHO's prevalence tables);
* 5-19 years (WHO Reference 2007), BMI-for-age: thinness < -2 (severe < -3), overweight > +1,
  obesity > +2.

Every function returns an int8 array of codes: the members of the matching ``IntEnum`` for a
classified child, :data:`MISSING` (-1) where there is no z-score and :data:`IMPLAUSIBLE` (-2)
where the z-score is flagged implausible.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

import numpy as np

from .compute import DAYS_PER_MONTH, standardize_oedema

__all__ = [
    "IMPLAUSIBLE",
    "MISSING",
    "BmiStatus",
    "Overweight",
    "Severity",
    "classify",
    "classify_bmi_5_19",
    "classify_overweight",
    "classify_stunting",
    "classify_underweight",
    "classify_wasting",
]

MISSING = -1  # no z-score (not measured, out of the reference's range, or oedema for weight-based)
IMPLAUSIBLE = -2  # z-score flagged implausible: do not classify, re-measure


class Severity(IntEnum):
    """Stunting, underweight and wasting."""

    NONE = 0
    MODERATE = 1  # -3 <= z < -2
    SEVERE = 2  # z < -3 (or oedema, for underweight and wasting)


class Overweight(IntEnum):
    """Weight-for-length/height above the median, under 5 years."""

    NONE = 0
    OVERWEIGHT = 1  # +2 < z <= +3
    OBESE = 2  # z > +3


class BmiStatus(IntEnum):
    """BMI-for-age, 5-19 years (WHO Reference 2007)."""

    NORMAL = 0
    THINNESS = 1  # -3 <= z < -2
    SEVERE_THINNESS = 2  # z < -3
    OVERWEIGHT = 3  # +1 < z <= +2
    OBESITY = 4  # z > +2


def _prepare(z: Any, flag: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    zr = np.round(np.asarray(z, dtype=np.float64), 2)
    missing = np.isnan(zr)
    implausible = np.zeros(zr.shape, dtype=bool) if flag is None else np.broadcast_to(np.asarray(flag) == 1, zr.shape)
    return zr, missing, implausible & ~missing


def _finish(codes: np.ndarray, missing: np.ndarray, implausible: np.ndarray) -> np.ndarray:
    out = np.where(missing, MISSING, codes)
    return np.where(implausible, IMPLAUSIBLE, out).astype(np.int8)


def _severity(z: Any, flag: Any, oedema: Any = None) -> np.ndarray:
    zr, missing, implausible = _prepare(z, flag)
    with np.errstate(invalid="ignore"):
        codes = np.where(zr < -3, Severity.SEVERE, np.where(zr < -2, Severity.MODERATE, Severity.NONE))
    if oedema is not None:
        oed = standardize_oedema(oedema, zr.shape)
        # With oedema weight says nothing (the z-score is missing) but the child is severely malnourished.
        codes = np.where(oed, Severity.SEVERE, codes)
        missing = missing & ~oed
        implausible = implausible & ~oed
    return _finish(codes, missing, implausible)


def classify_stunting(z_lhfa: Any, flag: Any = None) -> np.ndarray:
    """Stunting from length/height-for-age: :class:`Severity` codes."""
    return _severity(z_lhfa, flag)


def classify_underweight(z_wfa: Any, flag: Any = None, oedema: Any = None) -> np.ndarray:
    """Underweight from weight-for-age (oedema = severe): :class:`Severity` codes."""
    return _severity(z_wfa, flag, oedema)


def classify_wasting(z_wflh: Any, flag: Any = None, oedema: Any = None) -> np.ndarray:
    """Wasting from weight-for-length/height (oedema = severe acute malnutrition): :class:`Severity` codes."""
    return _severity(z_wflh, flag, oedema)


def classify_overweight(z_wflh: Any, flag: Any = None) -> np.ndarray:
    """Overweight (> +2) and obesity (> +3) from weight-for-length/height, under 5: :class:`Overweight` codes."""
    zr, missing, implausible = _prepare(z_wflh, flag)
    with np.errstate(invalid="ignore"):
        codes = np.where(zr > 3, Overweight.OBESE, np.where(zr > 2, Overweight.OVERWEIGHT, Overweight.NONE))
    return _finish(codes, missing, implausible)


def classify_bmi_5_19(z_bmi: Any, flag: Any = None) -> np.ndarray:
    """BMI-for-age categories for 5-19 years: :class:`BmiStatus` codes."""
    zr, missing, implausible = _prepare(z_bmi, flag)
    with np.errstate(invalid="ignore"):
        codes = np.select(
            [zr < -3, zr < -2, zr > 2, zr > 1],
            [BmiStatus.SEVERE_THINNESS, BmiStatus.THINNESS, BmiStatus.OBESITY, BmiStatus.OVERWEIGHT],
            BmiStatus.NORMAL,
        )
    return _finish(codes, missing, implausible)


def classify(z: Mapping[str, Any], age_days: Any, oedema: Any = None) -> dict[str, np.ndarray]:
    """Apply the age-appropriate classifications to the output of :func:`~crecer.lib.growth.zscores`.

    Returns ``stunting``, ``underweight``, ``wasting``, ``overweight`` (under 60 months; MISSING
    from 60 months) and ``bmi_5_19`` (from 60 months; MISSING before). Flags are honoured.
    """
    months = np.asarray(age_days, dtype=np.float64) / DAYS_PER_MONTH
    with np.errstate(invalid="ignore"):
        under5 = months < 60
        over5 = months >= 60

    def get(name: str) -> tuple[Any, Any]:
        return z[f"z_{name}"], z.get(f"flag_{name}")

    out = {
        "stunting": classify_stunting(*get("lhfa")),
        "underweight": classify_underweight(*get("wfa"), oedema=oedema),
        "wasting": np.where(under5, classify_wasting(*get("wflh"), oedema=oedema), MISSING).astype(np.int8),
        "overweight": np.where(under5, classify_overweight(*get("wflh")), MISSING).astype(np.int8),
        "bmi_5_19": np.where(over5, classify_bmi_5_19(*get("bmi")), MISSING).astype(np.int8),
    }
    return out
