"""Vectorised WHO z-scores, replicating WHO's reference software rule by rule.

Under 60 months the rules are those of WHO's R package ``anthro`` (``anthro_zscores``); from 60
months those of ``anthroplus`` 1.1 (``anthroplus_zscores``, WHO Reference 2007). The docstring of
each helper names the rule it reproduces; ``docs/growth.md`` lists them all.

Inputs are numpy arrays or scalars (broadcast together); NaN means missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .lms import lms_zscore, restricted_zscore
from .tables import LmsTable, load_table

__all__ = [
    "AGE_LENGTH_TO_HEIGHT_DAYS",
    "DAYS_PER_MONTH",
    "FLAG_LIMITS",
    "INDICATORS",
    "standardize_measure",
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

DAYS_PER_MONTH = 30.4375  # WHO's constant (365.25 / 12) to convert between days and months
AGE_LENGTH_TO_HEIGHT_DAYS = 731  # from 731 days (24 months) WHO expects standing height, before lying length
_POSITION_CORRECTION_CM = 0.7  # standing height is 0.7 cm shorter than recumbent length
_MAX_AGE_DAYS_ANTHRO = 1856  # anthro's allowed_age_range upper bound (the < 60 months rule bites first)
_HEIGHT_MIN_AGE_MONTHS = 9  # anthro: a standing measurement before 9 months is implausible, so ignored

# (lower, upper): the z-score is flagged implausible if z < lower or z > upper (on z rounded to 2 decimals).
FLAG_LIMITS: dict[str, tuple[float, float]] = {
    "wfa": (-6.0, 5.0),
    "lhfa": (-6.0, 6.0),
    "wflh": (-5.0, 5.0),
    "bmi": (-5.0, 5.0),
    "hcfa": (-5.0, 5.0),
    "acfa": (-5.0, 5.0),
}
INDICATORS: tuple[str, ...] = tuple(FLAG_LIMITS)

_UNDER_FIVE_MONTHS = 60.0
# anthroplus 1.1: 60 <= age < 229 months (121 for weight-for-age), both bounds as WHO's package has them.
_REF2007_MAX_MONTHS = {"wfa2007": 121.0, "hfa2007": 229.0, "bfa2007": 229.0}


# --------------------------------------------------------------------------- input cleaning


def _float(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def _common_shape(*inputs: Any) -> tuple[int, ...]:
    """Broadcast shape of all given inputs (None = not given)."""
    return np.broadcast_shapes(*(np.shape(a) for a in inputs if a is not None))


def _codes(arr: np.ndarray, table: dict[str, int], normalise: Any) -> np.ndarray:
    """Map text to int8 codes: exact spellings vectorised, the rest normalised one subset at a time."""
    text = arr if arr.dtype.kind == "U" else arr.astype(str)
    codes = np.zeros(text.shape, dtype=np.int8)
    for spelling, code in table.items():
        codes[text == spelling] = code
    other = (codes == 0) & (text != "")
    if other.any():
        cleaned = normalise(np.char.strip(text[other]))
        sub = np.zeros(cleaned.shape, dtype=np.int8)
        for spelling, code in table.items():
            sub[cleaned == spelling] = code
        codes[other] = sub
    return codes


_SEX_CODES = {"1": 1, "2": 2, "M": 1, "F": 2, "m": 1, "f": 2}
_MEASURE_CODES = {"l": 1, "h": 2, "L": 1, "H": 2}
_OEDEMA_CODES = {"y": 1, "Y": 1, "1": 1, "yes": 1, "true": 1}


def standardize_sex(sex: Any) -> np.ndarray:
    """Map sex to int8 codes 1 (male) / 2 (female) / 0 (missing or unknown).

    Accepts numbers 1/2, or text ``"1"``/``"2"``/``"m"``/``"f"`` in any case (as ``anthro`` does).
    """
    arr = np.asarray(sex)
    if arr.dtype.kind in "biuf":
        with np.errstate(invalid="ignore"):
            return np.where(arr == 1, 1, np.where(arr == 2, 2, 0)).astype(np.int8)
    return _codes(arr, _SEX_CODES, np.char.upper)


def standardize_measure(measure: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Map the measuring position to int8 codes 1 (lying, ``l``) / 2 (standing, ``h``) / 0 (unknown)."""
    if measure is None:
        return np.zeros(shape, dtype=np.int8)
    arr = np.asarray(measure)
    if arr.dtype.kind in "biu":
        return np.broadcast_to(np.where(np.isin(arr, (1, 2)), arr, 0).astype(np.int8), shape)
    return np.broadcast_to(_codes(arr, _MEASURE_CODES, np.char.lower), shape)


def standardize_oedema(oedema: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Map oedema to a boolean array: True for ``y``/``Y``/``1``/True, False for anything else.

    Like ``anthro``, a missing value counts as "no oedema".
    """
    if oedema is None:
        return np.zeros(shape, dtype=bool)
    arr = np.asarray(oedema)
    if arr.dtype.kind == "b":
        out = arr
    elif arr.dtype.kind in "iuf":
        out = arr == 1
    else:
        out = _codes(arr, _OEDEMA_CODES, np.char.lower) == 1
    return np.broadcast_to(out, shape)


def _positive(v: np.ndarray) -> np.ndarray:
    """Measurements <= 0 are treated as missing (anthro: "a measure <= 0 should result in NA")."""
    with np.errstate(invalid="ignore"):
        return np.where(v > 0, v, np.nan)


def _round_half_up(x: np.ndarray) -> np.ndarray:
    """anthro's ``round_up``: .5 goes up (ages are non-negative), NaN stays NaN."""
    fl = np.floor(x)
    with np.errstate(invalid="ignore"):
        return np.where(x - fl >= 0.5, fl + 1.0, fl)


class _Prepared:
    """Cleaned inputs shared by all indicators (anthro's ``csex``, ``clenhei``, ``cmeasure``...)."""

    __slots__ = ("age_days", "age_months", "age_rounded", "lenhei", "measure", "sex", "shape")

    def __init__(self, sex: Any, age_days: Any, length_cm: Any = None, measure: Any = None, *others: Any) -> None:
        self.shape: tuple[int, ...] = _common_shape(sex, age_days, length_cm, measure, *others)
        self.sex = np.broadcast_to(standardize_sex(sex), self.shape).reshape(-1)
        age = np.broadcast_to(_float(age_days), self.shape).reshape(-1).copy()
        with np.errstate(invalid="ignore"):
            age[age < 0] = np.nan  # a negative age is an input error: no age-based z-score
        self.age_days = age
        self.age_months = age / DAYS_PER_MONTH
        self.age_rounded = _round_half_up(age)
        meas = standardize_measure(measure, self.shape).reshape(-1).copy()
        with np.errstate(invalid="ignore"):
            # anthro sets the position of a standing child under 9 months to "unknown" (c9mo_flag).
            meas[(meas == 2) & (self.age_months < _HEIGHT_MIN_AGE_MONTHS)] = 0
        self.measure = meas
        if length_cm is None:
            self.lenhei = np.full(self.sex.shape, np.nan)
        else:
            raw = np.broadcast_to(_float(length_cm), self.shape).reshape(-1)
            with np.errstate(invalid="ignore"):
                young = self.age_rounded < AGE_LENGTH_TO_HEIGHT_DAYS
                old = self.age_rounded >= AGE_LENGTH_TO_HEIGHT_DAYS
                # Same float operations as anthro's adjust_lenhei, so results are bit-identical.
                lenhei = np.where(young & (meas == 2), raw + _POSITION_CORRECTION_CM, raw)
                lenhei = np.where(old & (meas == 1), raw - _POSITION_CORRECTION_CM, lenhei)
            self.lenhei = lenhei

    def values(self, a: Any) -> np.ndarray:
        """Broadcast a measurement to the common shape, with values <= 0 treated as missing."""
        return _positive(np.broadcast_to(_float(a), self.shape).reshape(-1))


# --------------------------------------------------------------------------- table lookups


def _gather(table: LmsTable, sex: np.ndarray, grid: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, ...]:
    """L, M, S at integer grid points (NaN where ``ok`` is False)."""
    # Index arithmetic on whole arrays (invalid rows point at row 0) beats boolean-mask indexing.
    row = np.where(ok, grid, table.x0).astype(np.int64) - table.x0
    row += (np.where(ok, sex, 1).astype(np.int64) - 1) * table.n
    missing = ~ok
    out = []
    for arr in (table.l, table.m, table.s):
        v = np.take(arr, row)
        np.putmask(v, missing, np.nan)
        out.append(v)
    return tuple(out)


def _interpolate(
    table: LmsTable, sex: np.ndarray, low: np.ndarray, upp: np.ndarray, frac: np.ndarray, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LMS linearly interpolated between grid rows ``low`` and ``upp`` (anthro/anthroplus rule: only
    where the fraction is > 0, so an exact grid point never needs the next row)."""
    lo = _gather(table, sex, low, ok)
    need = ok & (frac > 0)
    hi = _gather(table, sex, upp, need)
    res = []
    for a, b in zip(lo, hi, strict=True):
        res.append(np.where(need, a + frac * (b - a), a))
    return res[0], res[1], res[2]


def _lms_at(table: LmsTable, sex: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S at integer grid points, for rows known to be inside the table (sex 1 or 2)."""
    row = grid.astype(np.int64) - table.x0
    row += (sex.astype(np.int64) - 1) * table.n
    return table.l[row], table.m[row], table.s[row]


def _lms_between(
    table: LmsTable, sex: np.ndarray, low: np.ndarray, upp: np.ndarray, frac: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_interpolate` for rows known to be inside the table: the next row is read only where
    the fraction is > 0 (elsewhere ``low`` is read twice and the interpolation is not used)."""
    need = frac > 0
    lo = _lms_at(table, sex, low)
    hi = _lms_at(table, sex, np.where(need, upp, low))
    l, m, s = (np.where(need, a + frac * (b - a), a) for a, b in zip(lo, hi, strict=True))
    return l, m, s


def _on_rows(ok: np.ndarray, compute: Any) -> np.ndarray:
    """``compute(rows)`` on the rows where ``ok`` (an index array), NaN elsewhere.

    The z-score formulas run on the rows a table applies to only (a 10-year-old gets no day-table
    work): the same element-wise operations on fewer elements, so the same values.
    """
    z = np.full(ok.shape, np.nan)
    rows = np.flatnonzero(ok)
    if rows.size:
        z[rows] = compute(rows)
    return z


def _day_indicator(
    prep: _Prepared, y: np.ndarray, table_name: str, restricted: bool, min_age_days: float = 0.0
) -> np.ndarray:
    """anthro's ``anthro_zscore_adjusted``: the day table at the rounded age, for age < 60 months."""
    table = load_table(table_name)
    with np.errstate(invalid="ignore"):
        ok = (
            (prep.sex > 0)
            & (prep.age_days >= min_age_days)
            & (prep.age_days <= _MAX_AGE_DAYS_ANTHRO)
            & (prep.age_months < _UNDER_FIVE_MONTHS)
            & (prep.age_rounded >= table.x0)
            & (prep.age_rounded < table.x0 + table.n)
            & ~np.isnan(y)
        )
    formula = restricted_zscore if restricted else lms_zscore

    def compute(rows: np.ndarray) -> np.ndarray:
        l, m, s = _lms_at(table, prep.sex[rows], prep.age_rounded[rows])
        return formula(y[rows], l, m, s)

    return _on_rows(ok, compute)


def _month_indicator(prep: _Prepared, y: np.ndarray, table_name: str, restricted: bool) -> np.ndarray:
    """anthroplus' ``zscore_indicator``: monthly table interpolated at the exact age in months."""
    table = load_table(table_name)
    months = prep.age_months
    with np.errstate(invalid="ignore"):
        ok = (prep.sex > 0) & (months >= _UNDER_FIVE_MONTHS) & (months < _REF2007_MAX_MONTHS[table_name]) & ~np.isnan(y)
    formula = restricted_zscore if restricted else lms_zscore

    def compute(rows: np.ndarray) -> np.ndarray:
        at = months[rows]
        low = np.trunc(at)
        l, m, s = _lms_between(table, prep.sex[rows], low, np.trunc(at + 1.0), at - low)
        return formula(y[rows], l, m, s)

    return _on_rows(ok, compute)


def _combine(under5: np.ndarray, over5: np.ndarray) -> np.ndarray:
    # The two age ranges are disjoint, so at most one of the two is not NaN.
    return np.where(np.isnan(under5), over5, under5)


# --------------------------------------------------------------------------- indicators


def _wfa(prep: _Prepared, weight: np.ndarray, oedema: np.ndarray) -> np.ndarray:
    w = np.where(oedema, np.nan, weight)  # weight-based z-scores are not computed with oedema
    return _combine(_day_indicator(prep, w, "wfa", True), _month_indicator(prep, w, "wfa2007", True))


def _lhfa(prep: _Prepared) -> np.ndarray:
    h = _positive(prep.lenhei)
    return _combine(_day_indicator(prep, h, "lhfa", False), _month_indicator(prep, h, "hfa2007", False))


def _bmi_values(prep: _Prepared, weight: np.ndarray) -> np.ndarray:
    return weight / ((_positive(prep.lenhei) / 100.0) ** 2)


def _bmi(prep: _Prepared, weight: np.ndarray, oedema: np.ndarray) -> np.ndarray:
    b = np.where(oedema, np.nan, _bmi_values(prep, weight))
    return _combine(_day_indicator(prep, b, "bmi", True), _month_indicator(prep, b, "bfa2007", True))


def _wflh(prep: _Prepared, weight: np.ndarray, oedema: np.ndarray) -> np.ndarray:
    """anthro's ``anthro_zscore_weight_for_lenhei``.

    The table is chosen by age (unrounded days < 731: weight-for-length) or, without an age, by the
    stated position, or else by the measurement (< 87 cm: length). Valid ranges: 45-110 cm lying,
    65-120 cm standing. LMS is interpolated between the 0.1 cm rows around the (corrected) length.
    """
    lenhei = prep.lenhei
    age = prep.age_days
    no_age = np.isnan(age)
    with np.errstate(invalid="ignore"):
        on_l = (~no_age & (age < AGE_LENGTH_TO_HEIGHT_DAYS)) | (no_age & (prep.measure == 1))
        on_l |= no_age & (prep.measure == 0) & (lenhei < 87)
        on_h = (~no_age & (age >= AGE_LENGTH_TO_HEIGHT_DAYS)) | (no_age & (prep.measure == 2))
        on_h |= no_age & (prep.measure == 0) & (lenhei >= 87)
        in_range = np.where(on_l, (lenhei >= 45) & (lenhei <= 110), on_h & (lenhei >= 65) & (lenhei <= 120))
        # With an age, anthro requires < 60 months; without one it computes anyway.
        age_ok = no_age | ((age <= _MAX_AGE_DAYS_ANTHRO) & (prep.age_months < _UNDER_FIVE_MONTHS))
        ok = (prep.sex > 0) & in_range & age_ok & ~oedema & ~np.isnan(weight)
    z = np.full(lenhei.shape, np.nan)
    for table_name, on in (("wfl", on_l), ("wfh", on_h)):
        table = load_table(table_name)

        def compute(rows: np.ndarray, table: LmsTable = table) -> np.ndarray:
            at = lenhei[rows]
            tenths = at * 10.0
            low10 = np.trunc(tenths)
            frac = (at - low10 / 10.0) / 0.1
            l, m, s = _lms_between(table, prep.sex[rows], low10, np.trunc(tenths + 1.0), frac)
            return restricted_zscore(weight[rows], l, m, s)

        sel = ok & on
        if sel.any():
            z = np.where(sel, _on_rows(sel, compute), z)
    return z


def _hcfa(prep: _Prepared, head: np.ndarray) -> np.ndarray:
    return _day_indicator(prep, head, "hcfa", False)


def _acfa(prep: _Prepared, muac: np.ndarray) -> np.ndarray:
    # anthro's allowed_age_range for arm circumference starts at 91 days (3 months).
    return _day_indicator(prep, muac, "acfa", True, min_age_days=91.0)


def _reshape(a: np.ndarray, shape: tuple[int, ...], decimals: int | None) -> np.ndarray:
    if decimals is not None:
        a = np.round(a, decimals)
    return a.reshape(shape)


def zscore_wfa(sex: Any, age_days: Any, weight_kg: Any, oedema: Any = None) -> np.ndarray:
    """Weight-for-age z-score: WHO standards to 60 months (by day), WHO 2007 reference 60-<121 months.

    Restricted beyond +/-3 SD; missing (NaN) with oedema.
    """
    prep = _Prepared(sex, age_days, None, None, weight_kg, oedema)
    oed = standardize_oedema(oedema, prep.shape).reshape(-1)
    return _wfa(prep, prep.values(weight_kg), oed).reshape(prep.shape)


def zscore_lhfa(sex: Any, age_days: Any, length_cm: Any, measure: Any = None) -> np.ndarray:
    """Length/height-for-age z-score (standards to 60 months, 2007 reference 60-<229 months).

    ``length_cm`` is corrected by +/-0.7 cm when the position (``measure``: ``l``/``h``) does not match
    the age (lying before 731 days, standing from 731 days).
    """
    prep = _Prepared(sex, age_days, length_cm, measure)
    return _lhfa(prep).reshape(prep.shape)


def zscore_wflh(
    sex: Any, age_days: Any, weight_kg: Any, length_cm: Any, measure: Any = None, oedema: Any = None
) -> np.ndarray:
    """Weight-for-length (45-110 cm) / weight-for-height (65-120 cm) z-score, under 60 months.

    ``age_days`` may be NaN: the table is then chosen by ``measure`` or by the length (< 87 cm).
    Restricted beyond +/-3 SD; missing with oedema.
    """
    prep = _Prepared(sex, age_days, length_cm, measure, weight_kg, oedema)
    oed = standardize_oedema(oedema, prep.shape).reshape(-1)
    return _wflh(prep, prep.values(weight_kg), oed).reshape(prep.shape)


def zscore_bmi(
    sex: Any, age_days: Any, weight_kg: Any, length_cm: Any, measure: Any = None, oedema: Any = None
) -> np.ndarray:
    """BMI-for-age z-score from weight and the position-corrected length/height (to 229 months).

    Restricted beyond +/-3 SD; missing with oedema.
    """
    prep = _Prepared(sex, age_days, length_cm, measure, weight_kg, oedema)
    oed = standardize_oedema(oedema, prep.shape).reshape(-1)
    return _bmi(prep, prep.values(weight_kg), oed).reshape(prep.shape)


def zscore_hcfa(sex: Any, age_days: Any, head_cm: Any) -> np.ndarray:
    """Head-circumference-for-age z-score (0 to 60 months; plain LMS, no restriction, as in anthro)."""
    prep = _Prepared(sex, age_days, None, None, head_cm)
    return _hcfa(prep, prep.values(head_cm)).reshape(prep.shape)


def zscore_acfa(sex: Any, age_days: Any, muac_cm: Any) -> np.ndarray:
    """Arm-circumference-for-age z-score (91 days to 60 months; restricted beyond +/-3 SD, as in anthro)."""
    prep = _Prepared(sex, age_days, None, None, muac_cm)
    return _acfa(prep, prep.values(muac_cm)).reshape(prep.shape)


def _flags(z: np.ndarray, indicator: str) -> np.ndarray:
    lower, upper = FLAG_LIMITS[indicator]
    # WHO's software rounds to 2 decimals first and flags the rounded value (5.004 is not > 5).
    zr = np.round(z, 2)
    with np.errstate(invalid="ignore"):
        return ((zr < lower) | (zr > upper)).astype(np.int8)


def zscores(
    sex: Any,
    age_days: Any,
    weight_kg: Any,
    length_cm: Any,
    measure: Any = None,
    oedema: Any = None,
    head_cm: Any = None,
    muac_cm: Any = None,
    *,
    decimals: int | None = None,
    indicators: Sequence[str] = INDICATORS,
) -> dict[str, np.ndarray]:
    """All WHO z-scores and implausibility flags for arrays of children (one row per measurement).

    Args:
        sex: 1 = male, 2 = female (``"m"``/``"f"`` accepted); anything else gives no z-score.
        age_days: exact age in days (NaN if unknown; negative counts as unknown).
        weight_kg, length_cm, head_cm, muac_cm: measurements (NaN or <= 0 = missing).
        measure: ``"l"`` lying / ``"h"`` standing / ``""`` unknown (then assumed to match the age).
        oedema: booleans, or ``"y"``/``"n"`` (also ``"1"``/``"2"``); weight-based z-scores are NaN with oedema.
        decimals: round z-scores (WHO's software reports 2); default: full precision.
        indicators: subset of ``("wfa", "lhfa", "wflh", "bmi", "hcfa", "acfa")`` to compute.

    Returns:
        ``z_<indicator>`` float arrays (NaN where not computable), ``flag_<indicator>`` int8 arrays
        (1 = implausible per WHO, 0 otherwise, including where there is no z-score), plus
        ``lenhei_cm`` (position-corrected length/height) and ``bmi``.
    """
    unknown = set(indicators) - set(INDICATORS)
    if unknown:
        raise ValueError(f"unknown indicators: {sorted(unknown)}")
    prep = _Prepared(sex, age_days, length_cm, measure, weight_kg, oedema, head_cm, muac_cm)
    shape = prep.shape
    oed = standardize_oedema(oedema, prep.shape).reshape(-1)
    weight = prep.values(weight_kg)
    out: dict[str, np.ndarray] = {}
    compute = {
        "wfa": lambda: _wfa(prep, weight, oed),
        "lhfa": lambda: _lhfa(prep),
        "wflh": lambda: _wflh(prep, weight, oed),
        "bmi": lambda: _bmi(prep, weight, oed),
        "hcfa": lambda: _hcfa(prep, prep.values(np.nan if head_cm is None else head_cm)),
        "acfa": lambda: _acfa(prep, prep.values(np.nan if muac_cm is None else muac_cm)),
    }
    for name in INDICATORS:
        z = compute[name]() if name in indicators else np.full(prep.sex.shape, np.nan)
        out[f"z_{name}"] = _reshape(z, shape, decimals)
        out[f"flag_{name}"] = _flags(z, name).reshape(shape)
    out["lenhei_cm"] = prep.lenhei.reshape(shape)
    out["bmi"] = _bmi_values(prep, weight).reshape(shape)
    return out
