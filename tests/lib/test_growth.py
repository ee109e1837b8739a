"""crecer.lib.growth against WHO's own software.

The oracle is tests/data/who_growth_cases.csv: z-scores and flags produced by WHO's programs
(igrowup, the WHO 2007 macro, anthro, anthroplus) on WHO's example surveys and in WHO's package
documentation and tests; tests/data/README.md gives the provenance of every source. Nothing in
that file is computed by this library.
"""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from crecer.lib import growth
from crecer.lib.growth import (
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
    reference_curve,
    restricted_value,
    zscore_acfa,
    zscore_bmi,
    zscore_hcfa,
    zscore_lhfa,
    zscore_wfa,
    zscore_wflh,
    zscores,
)
from crecer.lib.growth.tables import TABLE_FILES, load_table

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "who_growth_cases.csv"
Z_COLUMNS = ("z_wfa", "z_lhfa", "z_wflh", "z_bmi", "z_hcfa")
FLAG_COLUMNS = ("flag_wfa", "flag_lhfa", "flag_wflh", "flag_bmi", "flag_hcfa")
TOLERANCE = 0.01  # WHO prints 2 decimals; the brief asks for agreement to 0.01


def _cell(text: str) -> float:
    return float(text) if text.strip() else np.nan


@cache
def _cases() -> tuple[list[dict[str, str]], dict[str, np.ndarray]]:
    """The WHO cases and this library's results for them (computed once, vectorised)."""
    with CASES_FILE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    days = np.array(
        [
            _cell(r["age_days"])
            if r["age_days"]
            else _cell(r["age_months"]) * growth.DAYS_PER_MONTH
            if r["age_months"]
            else np.nan
            for r in rows
        ]
    )
    result = zscores(
        np.array([r["sex"] for r in rows]),
        days,
        np.array([_cell(r["weight_kg"]) for r in rows]),
        np.array([_cell(r["length_cm"]) for r in rows]),
        measure=np.array([r["measure"] for r in rows]),
        oedema=np.array([r["oedema"] for r in rows]),
        head_cm=np.array([_cell(r["head_cm"]) for r in rows]),
    )
    return rows, result


def _case_ids() -> list[str]:
    with CASES_FILE.open(encoding="utf-8") as fh:
        return [r["case"] for r in csv.DictReader(line for line in fh if not line.startswith("#"))]


# --------------------------------------------------------------------------- the WHO oracle


@pytest.mark.parametrize("case", _case_ids())
def test_agrees_with_who(case):
    rows, result = _cases()
    i = next(k for k, r in enumerate(rows) if r["case"] == case)
    row = rows[i]
    checked = 0
    for col in Z_COLUMNS:
        expected, ours = row[col], float(result[col][i])
        if expected == "":
            continue
        checked += 1
        if expected == "NA":
            assert np.isnan(ours), f"{col}: WHO gives no z-score, we give {ours}"
        elif expected == "*":
            assert not np.isnan(ours), f"{col}: WHO gives a z-score, we give none"
        else:
            assert abs(ours - float(expected)) <= TOLERANCE, f"{col}: WHO {expected}, ours {ours:.4f}"
    for col in FLAG_COLUMNS:
        if row[col] != "":
            checked += 1
            assert int(result[col][i]) == int(row[col]), f"{col}: WHO {row[col]}"
    assert checked, "a case must check something"


def test_oracle_deviation_is_only_rounding():
    """WHO prints z rounded to 2 decimals: the largest gap must be the rounding, 0.005."""
    rows, result = _cases()
    gaps = [
        abs(float(result[col][i]) - float(r[col]))
        for i, r in enumerate(rows)
        for col in Z_COLUMNS
        if r[col] not in ("", "NA", "*")
    ]
    assert len(gaps) > 2400
    assert max(gaps) <= 0.005 + 1e-9


def test_two_decimals_reproduce_who_output_exactly():
    rows, result = _cases()
    differ = [
        (r["case"], col)
        for i, r in enumerate(rows)
        for col in Z_COLUMNS
        if r[col] not in ("", "NA", "*")
        and r["source"] != "anthroplus-tests"  # those are printed with 3 decimals
        and round(float(result[col][i]), 2) != float(r[col])
    ]
    assert differ == []


def test_oracle_covers_the_rules():
    rows, _ = _cases()
    notes = " ".join(r["note"] for r in rows)
    assert notes.count("restricted") >= 20  # beyond +/-3 SD
    assert notes.count("lying from 731 d") >= 20  # measured lying after 24 months
    assert notes.count("standing before 731 d") >= 2  # measured standing before 24 months
    assert sum(r["oedema"] == "y" for r in rows) >= 10
    assert sum("1" in (r[c] for c in FLAG_COLUMNS) for r in rows) >= 8
    assert sum(r["source"] in ("who2007", "anthroplus-rcpch", "anthroplus-tests") for r in rows) >= 150
    assert sum(r["z_hcfa"] not in ("", "NA") for r in rows) >= 20


# --------------------------------------------------------------------------- rules (behaviour)


def test_scalar_and_array_inputs_broadcast():
    one = zscores(1, 400, 10.0, 75.0)
    assert one["z_wfa"].shape == ()
    many = zscores(np.array([[1, 2], [2, 1]]), 400, 10.0, 75.0)
    assert many["z_wfa"].shape == (2, 2)
    assert many["z_wfa"][0, 0] == pytest.approx(float(one["z_wfa"]))
    assert (
        zscores([1, 2], 400, 10.0, 75.0, decimals=2)["z_wfa"].tolist()
        == np.round(zscores([1, 2], 400, 10.0, 75.0)["z_wfa"], 2).tolist()
    )


def test_per_indicator_functions_match_zscores():
    sex, age, w = np.array([1, 2, 1]), np.array([100.0, 800.0, 3000.0]), np.array([6.0, 11.0, 25.0])
    h = np.array([60.0, 82.0, 125.0])
    m, oed, head, arm = np.array(["l", "l", "h"]), np.array([False, False, False]), 40.0, 14.0
    allz = zscores(sex, age, w, h, m, oed, np.full(3, head), np.full(3, arm))
    np.testing.assert_array_equal(zscore_wfa(sex, age, w, oed), allz["z_wfa"])
    np.testing.assert_array_equal(zscore_lhfa(sex, age, h, m), allz["z_lhfa"])
    np.testing.assert_array_equal(zscore_wflh(sex, age, w, h, m, oed), allz["z_wflh"])
    np.testing.assert_array_equal(zscore_bmi(sex, age, w, h, m, oed), allz["z_bmi"])
    np.testing.assert_array_equal(zscore_hcfa(sex, age, np.full(3, head)), allz["z_hcfa"])
    np.testing.assert_array_equal(zscore_acfa(sex, age, np.full(3, arm)), allz["z_acfa"])


def test_oedema_blanks_weight_based_scores_only():
    r = zscores([1, 1], 400, 9.0, 75.0, oedema=["y", "n"], head_cm=45.0, muac_cm=14.0)
    for name in ("wfa", "wflh", "bmi"):
        assert np.isnan(r[f"z_{name}"][0]) and not np.isnan(r[f"z_{name}"][1])
    for name in ("lhfa", "hcfa", "acfa"):
        assert not np.isnan(r[f"z_{name}"][0])
    assert zscores(1, 400, 9.0, 75.0, oedema=True)["z_wfa"].item() != zscores(1, 400, 9.0, 75.0)["z_wfa"].item()


def test_position_correction_and_its_age_threshold():
    # 730 days: lying expected, a standing measurement gets +0.7 cm; 731 days: the reverse.
    r = zscores(1, [730, 730, 731, 731, 730.5], np.nan, 85.0, measure=["h", "l", "l", "h", "l"])
    assert r["lenhei_cm"].tolist() == [85.7, 85.0, 84.3, 85.0, 84.3]  # 730.5 rounds up to 731
    # Under 9 months a standing measurement is ignored (anthro's c9mo rule): no correction.
    assert zscores(1, 8 * 30.4375, np.nan, 60.0, measure="h")["lenhei_cm"].item() == 60.0


def test_weight_for_length_table_choice_without_age():
    # No age: stated position decides, else the measurement (< 87 cm lying).
    lying = zscore_wflh(1, np.nan, 12.0, 86.9)
    standing = zscore_wflh(1, np.nan, 12.0, 87.0)
    assert not np.isnan(lying) and not np.isnan(standing)
    assert lying.item() == zscore_wflh(1, np.nan, 12.0, 86.9, measure="l").item()
    assert standing.item() == zscore_wflh(1, np.nan, 12.0, 87.0, measure="h").item()
    assert zscore_wflh(1, np.nan, 12.0, 86.9, measure="h").item() != lying.item()
    assert zscore_wflh(1, np.nan, 12.0, 87.0, measure="l").item() != standing.item()
    # Ranges: 45-110 lying, 65-120 standing.
    assert np.isnan(zscore_wflh(1, 300, 2.0, 44.9)).item()
    assert not np.isnan(zscore_wflh(1, 300, 18.0, 110.0)).item()
    assert np.isnan(zscore_wflh(1, 300, 18.0, 110.1)).item()
    assert np.isnan(zscore_wflh(1, 800, 7.0, 64.9)).item()
    assert not np.isnan(zscore_wflh(1, 800, 23.0, 120.0)).item()


def test_age_limits():
    assert np.isnan(zscore_acfa(1, 90.6, 13.0)).item()  # arm circumference from 91 days (unrounded)
    assert not np.isnan(zscore_acfa(1, 91, 13.0)).item()
    assert np.isnan(zscore_hcfa(1, 60 * 30.4375, 50.0)).item()  # head circumference: under 60 months only
    assert not np.isnan(zscore_hcfa(1, 60 * 30.4375 - 1, 50.0)).item()
    assert np.isnan(zscore_wflh(1, 60 * 30.4375, 18.0, 108.0)).item()
    assert np.isnan(zscore_wfa(1, -5, 5.0)).item()  # a negative age is no age
    assert np.isnan(zscore_lhfa(3, 100, 60.0)).item()  # unknown sex


def test_measurements_at_or_below_zero_are_missing():
    r = zscores(1, 400, [0.0, -1.0], [0.0, -75.0], head_cm=0.0, muac_cm=-1.0)
    for name in growth.INDICATORS:
        assert np.isnan(r[f"z_{name}"]).all(), name


def test_length_interpolation_between_tenths():
    # Between two 0.1 cm rows the LMS is interpolated: z is continuous across the rows.
    lengths = np.array([80.0, 80.04, 80.05, 80.09999, 80.1])
    z = zscore_wflh(1, 400, 10.0, lengths)
    assert np.all(np.diff(z) < 0)  # heavier relative to shorter lengths
    assert z[3] == pytest.approx(z[4], abs=1e-4)


def test_flags_use_the_rounded_z_score():
    table = load_table("wfa")
    row = 200  # sex 1, day 200
    lms = (table.l[row], table.m[row], table.s[row])
    weights = [float(restricted_value(k, *lms)) for k in (4.999, 5.004, 5.006, -6.004, -6.006)]
    r = zscores(1, 200, weights, np.nan)
    np.testing.assert_allclose(r["z_wfa"], [4.999, 5.004, 5.006, -6.004, -6.006], atol=1e-9)
    assert r["flag_wfa"].tolist() == [0, 0, 1, 0, 1]


def test_restricted_adjustment_is_linear_beyond_three_sd():
    table = load_table("wfa")
    lms = (table.l[0], table.m[0], table.s[0])
    sd2, sd3, sd4 = (float(restricted_value(k, *lms)) for k in (2, 3, 4))
    assert sd4 - sd3 == pytest.approx(sd3 - sd2)
    assert float(zscore_wfa(1, 0, sd4)) == pytest.approx(4.0)
    # Length is not restricted: its z-score follows the LMS curve beyond 3 SD.
    len_table = load_table("lhfa")
    lms_len = (len_table.l[0], len_table.m[0], len_table.s[0])
    assert float(zscore_lhfa(1, 0, float(growth.lms_value(4.0, *lms_len)))) == pytest.approx(4.0)


# --------------------------------------------------------------------------- classification


def test_under_five_cut_offs():
    z = [-3.01, -3.0, -2.01, -2.0, -2.004, 0.0, np.nan]
    expected = [Severity.SEVERE, Severity.MODERATE, Severity.MODERATE, Severity.NONE, Severity.NONE, Severity.NONE]
    assert classify_stunting(z).tolist() == [*expected, MISSING]
    assert classify_underweight(z).tolist() == [*expected, MISSING]
    assert classify_wasting(z).tolist() == [*expected, MISSING]
    over = [3.01, 3.0, 2.01, 2.0, 2.004, -4.0, np.nan]
    assert classify_overweight(over).tolist() == [
        Overweight.OBESE,
        Overweight.OVERWEIGHT,
        Overweight.OVERWEIGHT,
        Overweight.NONE,
        Overweight.NONE,
        Overweight.NONE,
        MISSING,
    ]


def test_oedema_and_flags_in_classification():
    assert classify_wasting([np.nan, 1.0], oedema=["y", "n"]).tolist() == [Severity.SEVERE, Severity.NONE]
    assert classify_underweight([np.nan], oedema=[True]).tolist() == [Severity.SEVERE]
    assert classify_stunting([-7.0, -7.0], flag=[1, 0]).tolist() == [IMPLAUSIBLE, Severity.SEVERE]


def test_five_to_nineteen_bmi_cut_offs():
    z = [-3.01, -3.0, -2.01, -2.0, 1.0, 1.01, 2.0, 2.01, np.nan]
    assert classify_bmi_5_19(z).tolist() == [
        BmiStatus.SEVERE_THINNESS,
        BmiStatus.THINNESS,
        BmiStatus.THINNESS,
        BmiStatus.NORMAL,
        BmiStatus.NORMAL,
        BmiStatus.OVERWEIGHT,
        BmiStatus.OVERWEIGHT,
        BmiStatus.OBESITY,
        MISSING,
    ]


def test_classify_picks_the_age_appropriate_categories():
    age = np.array([400.0, 3000.0])
    z = zscores([1, 1], age, [6.5, 40.0], [74.0, 125.0])
    cats = classify(z, age)
    assert cats["wasting"][0] == Severity.SEVERE and cats["wasting"][1] == MISSING
    assert cats["bmi_5_19"][0] == MISSING and cats["bmi_5_19"][1] == BmiStatus.OBESITY
    assert cats["stunting"].tolist() == [Severity.NONE, Severity.NONE]


# --------------------------------------------------------------------------- reference curves

# WHO's published "Weight-for-length BOYS, birth to 2 years (z-scores)" table, SD -3..+3 rounded to
# 0.1 kg, as carried in github.com/ewheeler/pygrowup (pygrowup/tables/by_month/src/
# wfl_boys_0_2_zscores.txt, commit 7ce09543b7584cff3cc8c9959d2c1e5c2acf7986).
WHO_WFL_BOYS = {
    45.0: (1.9, 2.0, 2.2, 2.4, 2.7, 3.0, 3.3),
    60.0: (4.7, 5.1, 5.5, 6.0, 6.5, 7.1, 7.8),
    75.5: (7.6, 8.2, 8.8, 9.6, 10.4, 11.4, 12.5),
    80.0: (8.2, 8.9, 9.6, 10.4, 11.4, 12.4, 13.6),
    110.0: (14.2, 15.4, 16.8, 18.3, 20.0, 21.9, 24.1),
}


def test_reference_curve_matches_who_published_table():
    x = np.array(list(WHO_WFL_BOYS))
    curve = reference_curve("wflh", 1, sds=(-3, -2, -1, 0, 1, 2, 3), x=x)
    expected = np.array(list(WHO_WFL_BOYS.values())).T
    assert np.all(np.abs(curve.values - expected) <= 0.05 + 1e-9)


def test_reference_curve_is_the_inverse_of_the_z_score():
    sds = (-4, -3, -2, 0, 2, 3, 4)
    ages = np.array([0.0, 91.0, 400.0, 1500.0, 2500.0, 6000.0])
    for indicator, zfun in (
        ("wfa", lambda v, a: zscore_wfa(2, a, v)),
        ("lhfa", lambda v, a: zscore_lhfa(2, a, v)),
        ("hcfa", lambda v, a: zscore_hcfa(2, a, v)),
        ("acfa", lambda v, a: zscore_acfa(2, a, v)),
    ):
        curve = reference_curve(indicator, 2, sds=sds, x=ages)
        for k, values in zip(sds, curve.values, strict=True):
            z = zfun(values, ages)
            ok = ~np.isnan(values)
            np.testing.assert_allclose(z[ok], k, atol=1e-9, err_msg=indicator)
    lengths = np.array([50.0, 66.66, 87.05, 110.0])
    curve = reference_curve("wfl", 1, sds=sds, x=lengths)
    for k, values in zip(sds, curve.values, strict=True):
        np.testing.assert_allclose(zscore_wflh(1, 300, values, lengths), k, atol=1e-9)


def test_reference_curve_defaults_and_ranges():
    c = reference_curve("wfa", 1)
    assert c.x[0] == 0 and c.x[-1] == 1826 and c.values.shape == (5, 1827)
    assert np.all(np.diff(c.values, axis=0) > 0)  # the SD lines are ordered
    assert np.all(np.diff(c.values[2][10:]) > 0)  # the median rises after the first days
    assert reference_curve("wfh", 2).x[[0, -1]].tolist() == [65.0, 120.0]
    assert reference_curve("acfa", 2).x[0] == 91
    outside = reference_curve("wfa", 1, x=[121 * growth.DAYS_PER_MONTH + 1]).values
    assert np.isnan(outside).all()
    with pytest.raises(ValueError):
        reference_curve("height", 1)
    with pytest.raises(ValueError):
        reference_curve("wfa", 3)


# --------------------------------------------------------------------------- packaging


def test_data_files_match_the_documented_checksums():
    data = Path(growth.__file__).parent / "data"
    readme = (data / "README.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"\|\s*`?([a-z0-9]+\.txt)`?\s*\|[^|\n]*\|\s*`?([0-9a-f]{64})`?", readme))
    for filename, _ in TABLE_FILES.values():
        digest = hashlib.sha256((data / filename).read_bytes()).hexdigest()
        assert documented.get(filename) == digest, filename


def test_import_is_lazy_and_django_free():
    code = (
        "import sys\n"
        "import crecer.lib.growth as g, crecer.lib.growth.csvio\n"
        "from crecer.lib.growth.tables import load_table\n"
        "assert load_table.cache_info().currsize == 0, 'tables parsed at import'\n"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith(('django.', 'ninja'))]\n"
        "assert not bad, bad\n"
        "g.zscores(1, 100, 6.0, 60.0)\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - a fresh interpreter, our own code
