"""WHO growth z-scores and nutritional classification for one stored measurement."""

from __future__ import annotations

import math
from typing import Any

from crecer.lib import growth

# Haemoglobin below which a child is anaemic, by age (g/L). WHO 2024 guideline on haemoglobin cut-offs:
# 6–23 months < 105, 24–59 months < 110; 5–11 years < 115 (WHO 2011). Not adjusted for altitude or
# smoking: ASSUMPTION until the profile carries the facility's altitude.
ANAEMIA_THRESHOLDS: tuple[tuple[int, int, float], ...] = (
    (183, 730, 105.0),  # 6–23 months (from 6 months = 183 days)
    (731, 1826, 110.0),  # 24–59 months
    (1827, 4383, 115.0),  # 5–11 years
)
INDICATORS = ("wfa", "lhfa", "wflh", "bmi", "hcfa", "acfa")
CLASSES = ("stunting", "underweight", "wasting", "overweight", "bmi_5_19")


def anaemic(haemoglobin_g_l: float | None, age_days: int) -> bool | None:
    """True/False against the age's threshold; None when not measured or under 6 months."""
    if haemoglobin_g_l is None:
        return None
    for low, high, threshold in ANAEMIA_THRESHOLDS:
        if low <= age_days <= high:
            return haemoglobin_g_l < threshold
    return None


def _value(x: float | None) -> float:
    return math.nan if x is None else float(x)


def compute(sex: str, age_days: int, values: dict[str, Any]) -> dict[str, Any]:
    """The z-score, implausibility and classification fields of a measurement."""
    return compute_many([(sex, age_days, values)])[0]


def alerts(measurement: Any) -> list[str]:
    """Codes of the nutritional problems a measurement shows (for worklists and the timeline)."""
    found = []
    for name in ("stunting", "underweight", "wasting"):
        code = getattr(measurement, name)
        if code is not None and code >= growth.Severity.MODERATE:
            found.append(f"{name}_severe" if code == growth.Severity.SEVERE else name)
    if measurement.overweight is not None and measurement.overweight >= growth.Overweight.OVERWEIGHT:
        found.append("obesity" if measurement.overweight == growth.Overweight.OBESE else "overweight")
    if measurement.bmi_5_19 is not None and measurement.bmi_5_19 >= growth.BmiStatus.OVERWEIGHT:
        found.append("obesity" if measurement.bmi_5_19 == growth.BmiStatus.OBESITY else "overweight")
    if measurement.bmi_5_19 in (growth.BmiStatus.THINNESS, growth.BmiStatus.SEVERE_THINNESS):
        found.append("thinness")
    if measurement.anaemia:
        found.append("anaemia")
    if measurement.implausible:
        found.append("implausible")
    return found


def compute_many(rows: list[tuple[str, int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """:func:`compute` for many measurements at once (one vectorised call; imports)."""
    import numpy as np

    if not rows:
        return []
    sex = np.array([1 if s == "M" else 2 if s == "F" else 0 for s, _a, _v in rows], dtype=np.int8)
    age = np.array([float(a) for _s, a, _v in rows])

    def column(name: str) -> Any:
        return np.array([_value(v.get(name)) for _s, _a, v in rows])

    measure = np.array([v.get("position") or "" for _s, _a, v in rows], dtype="<U1")
    oedema = np.array([bool(v.get("oedema")) for _s, _a, v in rows])
    result = growth.zscores(
        sex, age, column("weight_kg"), column("length_cm"), measure, oedema, column("head_cm"), column("muac_cm")
    )
    classes = growth.classify(result, age, oedema=oedema)
    out = []
    for i, (_s, a, values) in enumerate(rows):
        fields: dict[str, Any] = {}
        for name in INDICATORS:
            z = float(result[f"z_{name}"][i])
            fields[f"z_{name}"] = None if math.isnan(z) else round(z, 2)
        fields["implausible"] = [name for name in INDICATORS if int(result[f"flag_{name}"][i]) == 1]
        for name in CLASSES:
            code = int(classes[name][i])
            fields[name] = None if code == growth.MISSING else code
        fields["anaemia"] = anaemic(values.get("haemoglobin_g_l"), a)
        out.append(fields)
    return out


def anaemia_codes(haemoglobin_g_l: Any, age_days: Any) -> Any:
    """:func:`anaemic` for arrays: 1.0 anaemic, 0.0 not, NaN when not measured or under 6 months."""
    import numpy as np

    hb = np.asarray(haemoglobin_g_l, dtype=float)
    age = np.asarray(age_days, dtype=float)
    out = np.full(hb.shape, np.nan)
    for low, high, threshold in ANAEMIA_THRESHOLDS:
        band = (age >= low) & (age <= high) & ~np.isnan(hb)
        out[band] = (hb[band] < threshold).astype(float)
    return out
