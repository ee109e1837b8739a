"""WHO growth z-scores in pure numpy (no Django).

WHO Child Growth Standards (2006) from birth to 60 months and WHO Reference 2007 from 60 months
to 19 years, computed the way WHO's own software does (R packages ``anthro`` and ``anthroplus``):
day-based tables under 5 years, monthly tables interpolated at the exact age from 5 years,
restricted z-scores beyond +/-3 SD for weight-based indicators, the 0.7 cm lying/standing
correction, oedema and implausibility flags. ``docs/growth.md`` describes each rule and where
it comes from.

>>> from crecer.lib.growth import zscores
>>> r = zscores(sex=2, age_days=1522, weight_kg=17.0, length_cm=float("nan"))
>>> round(float(r["z_wfa"]), 2)
0.24

The reference tables are read (and cached) on first use, not at import.
"""

from __future__ import annotations

from .classify import (
    IMPLAUSIBLE,
    MISSING,
    BmiStatus,
    Overweight,
    Severity,
    classify,
    classify_bmi_5_19,
    classify_overweight,
    classify_stunting,
    classify_underweight,
    classify_wasting,
)
from .compute import (
    DAYS_PER_MONTH,
    FLAG_LIMITS,
    INDICATORS,
    standardize_oedema,
    standardize_sex,
    zscore_acfa,
    zscore_bmi,
    zscore_hcfa,
    zscore_lhfa,
    zscore_wfa,
    zscore_wflh,
    zscores,
)
from .curves import CURVE_INDICATORS, ReferenceCurve, reference_curve
from .lms import lms_value, lms_zscore, restricted_value, restricted_zscore

__all__ = [
    "CURVE_INDICATORS",
    "DAYS_PER_MONTH",
    "FLAG_LIMITS",
    "IMPLAUSIBLE",
    "INDICATORS",
    "MISSING",
    "BmiStatus",
    "Overweight",
    "ReferenceCurve",
    "Severity",
    "classify",
    "classify_bmi_5_19",
    "classify_overweight",
    "classify_stunting",
    "classify_underweight",
    "classify_wasting",
    "lms_value",
    "lms_zscore",
    "reference_curve",
    "restricted_value",
    "restricted_zscore",
    "standardize_oedema",
    "standardize_sex",
    "zscore_acfa",
    "zscore_bmi",
    "zscore_hcfa",
    "zscore_lhfa",
    "zscore_wfa",
    "zscore_wflh",
    "zscores",
]
