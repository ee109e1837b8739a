"""crecer.lib.screening: each instrument's cut-offs at and around their edges, the EEDP mental age
worked by hand from the manual's rule, input validation (field and code), parameters and isolation.

The expected values come from the manuals (docs/screening.md cites them), never from the library.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crecer.lib import screening
from crecer.lib.screening import (
    CLASSIFICATIONS,
    INSTRUMENTS,
    MESSAGES,
    ScreeningInputError,
    completed_months,
    eedp_chronological_days,
    month_start_days,
    score,
)
from crecer.lib.screening.ecdi import ECDI2030_ITEMS, MICS_ECDI_DOMAINS, MICS_ECDI_ITEMS
from crecer.lib.screening.eedp import AGE_GROUPS, ITEM_DAYS, mental_age_days

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screening.md"


def _error(code: str, inputs: object, age_days: int | None = None, params: dict | None = None) -> ScreeningInputError:
    with pytest.raises(ScreeningInputError) as info:
        score(code, inputs, age_days, params)  # type: ignore[arg-type]
    err = info.value
    assert err.code in MESSAGES
    assert err.text == MESSAGES[err.code] % err.params  # the template formats with the params given
    return err


# --- the registry ---------------------------------------------------------------------------


def test_registry_declares_every_instrument():
    assert set(INSTRUMENTS) == {"eedp", "tepsi", "pauta_breve", "epds", "epsa", "mics_ecdi", "ecdi2030"}
    for code, instrument in INSTRUMENTS.items():
        assert instrument.code == code and instrument.version and instrument.source
        assert instrument.subject in {"child", "caregiver"}
        assert instrument.category == ("mental_health" if code in ("epds", "epsa") else "development")
        assert all(name.startswith(f"{code}_") for name in instrument.defaults)
        assert instrument.assumptions <= set(instrument.defaults)
        if instrument.min_age_days is not None:
            assert instrument.max_age_days is not None and instrument.min_age_days < instrument.max_age_days
    assert INSTRUMENTS["epds"].subject == "caregiver"
    assert screening.get("tepsi") is INSTRUMENTS["tepsi"]


def test_unknown_instrument():
    with pytest.raises(ScreeningInputError) as info:
        screening.get("denver")
    assert (info.value.field, info.value.code) == ("instrument", "unknown_instrument")
    assert "denver" in info.value.text


@pytest.mark.parametrize(
    ("code", "low", "high"),
    [
        ("eedp", 0, 730),  # 0-24 months
        ("tepsi", 730, 1826),  # 2y 0m 0d to 5y 0m 0d, both included
        ("pauta_breve", 0, 1826),
        ("mics_ecdi", 1095, 1825),  # 36-59 completed months
        ("ecdi2030", 730, 1825),  # 24-59 completed months
    ],
)
def test_age_bands_in_days(code, low, high):
    instrument = INSTRUMENTS[code]
    assert (instrument.min_age_days, instrument.max_age_days) == (low, high)


def test_month_day_convention():
    assert [month_start_days(m) for m in (24, 30, 36, 42, 48, 60)] == [730, 913, 1095, 1278, 1461, 1826]
    for days in range(0, 2200):
        months = completed_months(days)
        assert month_start_days(months) <= days < month_start_days(months + 1)


# --- EEDP -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cd", "expected"),
    [
        (1.2, "normal"),
        (0.85, "normal"),
        (0.849, "risk"),
        (0.77, "risk"),
        (0.70, "risk"),
        (0.699, "delay"),
        (0.0, "delay"),
    ],
)
def test_eedp_coefficient_cut_offs(cd, expected):
    result = score("eedp", {"cd": cd})
    assert (result.score, result.classification, result.details["cd_method"]) == (cd, expected, "entered")


def test_eedp_item_values_follow_the_manual():
    # 6 points per item from 1 to 10 months, 12 in the 12-month group, 18 from 15 to 24 months
    assert [ITEM_DAYS[g] for g in AGE_GROUPS] == [6] * 10 + [12] + [18] * 4
    # each group's 5 items span exactly the days between its month and the previous group's
    previous = 0
    for group in AGE_GROUPS:
        assert previous * 30 + 5 * ITEM_DAYS[group] == group * 30
        previous = group
    assert mental_age_days({g: 5 for g in AGE_GROUPS})[0] == 720


FULL_TO_8 = {str(g): 5 for g in range(1, 9)}


@pytest.mark.parametrize(
    ("passed", "age_days", "mental", "basal", "expected"),
    [
        # 9 months 7 days (EC 277); basal 8 months = 240; + 3 x 6 (9 m) + 1 x 6 (10 m) = 264
        ({**FULL_TO_8, "9": 3, "10": 1, "12": 0}, 277, 264, 8, "normal"),
        # 15 months (EC 450); basal 10 = 300; + 3 x 12 (12 m) + 2 x 18 (15 m) = 372 -> 0.827
        ({"8": 5, "9": 5, "10": 5, "12": 3, "15": 2, "18": 0}, 450, 372, 10, "risk"),
        # 12 months (EC 360); basal 9 = 270; + 4 x 6 (10 m) + 1 x 12 (12 m) = 306 -> exactly 0.85
        ({"9": 5, "10": 4, "12": 1, "15": 0}, 360, 306, 9, "normal"),
        # the same child without the 12-month item: 294 / 360 = 0.817
        ({"9": 5, "10": 4, "12": 0}, 360, 294, 9, "risk"),
        # 12 months; basal 5 = 150; + 3 x 6 + 1 x 6 = 174 -> 0.483
        ({"5": 5, "6": 3, "7": 1, "8": 0}, 360, 174, 5, "delay"),
        # no complete group: only the items passed count; 4 x 6 = 24 of 60 days
        ({"1": 3, "2": 1, "3": 0}, 60, 24, 0, "delay"),
    ],
)
def test_eedp_mental_age_worked_examples(passed, age_days, mental, basal, expected):
    result = score("eedp", {"passed": passed}, age_days)
    assert result.details["mental_age_days"] == mental
    assert result.details["basal_group"] == basal
    assert result.score == pytest.approx(mental / age_days)
    assert result.classification == expected
    assert result.details["cd_method"] == "ratio"


def test_eedp_basal_is_the_highest_complete_group():
    # 7 months has a failure but 8 months is complete: basal 8 (240) + 2 x 6 = 252; the failure
    # below the basal is not counted, as the manual's rule says, and is reported
    result = score("eedp", {"passed": {"6": 5, "7": 4, "8": 5, "9": 2, "10": 0}}, 300)
    assert result.details["mental_age_days"] == 252
    assert result.details["groups_ignored_below_basal"] == [7]
    assert result.score == pytest.approx(0.84) and result.classification == "risk"


def test_eedp_accepts_int_group_keys():
    assert score("eedp", {"passed": {8: 5, 9: 3}}, 277).details["mental_age_days"] == 258


@pytest.mark.parametrize(
    ("birth", "on", "days"),
    [
        (dt.date(2024, 1, 10), dt.date(2024, 10, 17), 277),  # the manual's example: 9 months 7 days
        (dt.date(2024, 1, 10), dt.date(2024, 1, 10), 0),
        (dt.date(2023, 5, 20), dt.date(2024, 5, 19), 11 * 30 + 29),
        (dt.date(2024, 1, 31), dt.date(2024, 3, 1), 31),  # 1 month (to 29 Feb) and 1 day
        (dt.date(2022, 3, 1), dt.date(2024, 3, 1), 720),  # 24 months
    ],
)
def test_eedp_chronological_days(birth, on, days):
    assert eedp_chronological_days(birth, on) == days


def test_eedp_areas_and_lag():
    result = score("eedp", {"cd": 0.9, "areas": {"motor": 0.6, "language": 0.8, "social": 1.0}})
    assert result.classification == "normal"
    assert result.sub_classifications == {"motor": "delay", "language": "risk", "social": "normal"}
    assert result.details["lag"] is True
    assert score("eedp", {"cd": 0.9, "areas": {"motor": 0.95}}).details["lag"] is False


@pytest.mark.parametrize(
    ("inputs", "age_days", "field", "code"),
    [
        ({"passed": {"1": 5, "2": 5, "3": 6}}, 100, "passed.3", "out_of_range"),
        ({"passed": {"1": 5, "2": -1}}, 100, "passed.2", "out_of_range"),
        ({"passed": {"1": 5, "11": 2}}, 100, "passed.11", "unknown_age_group"),
        ({"passed": {"1": 5, "x": 2}}, 100, "passed.x", "unknown_age_group"),
        ({"passed": {"1": 2.5}}, 100, "passed.1", "not_an_integer"),
        ({"passed": {}}, 100, "passed", "required"),
        ({"passed": [5, 5]}, 100, "passed", "invalid_type"),
        ({"passed": {"1": 5}, "cd": 0.9}, 100, "cd", "ambiguous_input"),
        ({}, 100, "passed", "required"),
        ({"passed": {"1": 5}}, None, "age_days", "age_required"),
        ({"passed": {"1": 5}}, 0, "age_days", "age_out_of_band"),
        ({"cd": 85}, None, "cd", "out_of_range"),  # 85 written for 0.85
        ({"cd": "0.9"}, None, "cd", "not_a_number"),
        ({"cd": 0.9}, 731, "age_days", "age_out_of_band"),
        ({"cd": 0.9}, -1, "age_days", "invalid_age"),
        ({"cd": 0.9, "areas": {"fine_motor": 0.9}}, None, "areas.fine_motor", "unknown_field"),
        ({"cd": 0.9, "coefficient": 0.9}, None, "coefficient", "unknown_field"),
    ],
)
def test_eedp_input_errors(inputs, age_days, field, code):
    err = _error("eedp", inputs, age_days)
    assert (err.field, err.code) == (field, code)


# --- TEPSI ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (70, "normal"),
        (40, "normal"),
        (39.9, "risk"),
        (39, "risk"),
        (30, "risk"),
        (29.5, "delay"),
        (29, "delay"),
        (20, "delay"),
    ],
)
def test_tepsi_total_cut_offs(t, expected):
    result = score("tepsi", {"t_total": t})
    assert (result.score, result.classification) == (t, expected)


def test_tepsi_subtests_and_lag():
    result = score("tepsi", {"t_total": 45, "t_coordination": 50, "t_language": 38, "t_motor": 29})
    assert result.subscores == {"coordination": 50.0, "language": 38.0, "motor": 29.0}
    assert result.sub_classifications == {"coordination": "normal", "language": "risk", "motor": "delay"}
    assert result.classification == "normal" and result.details["lag"] is True
    assert score("tepsi", {"t_total": 45, "t_language": 40}).details["lag"] is False
    assert score("tepsi", {"t_total": 35, "t_language": 20}).details["lag"] is False  # lag only when normal


def test_tepsi_raw_scores_kept():
    raw = {"raw_total": 40, "raw_coordination": 14, "raw_language": 16, "raw_motor": 10}
    result = score("tepsi", {"t_total": 50, **raw}, age_days=1100)
    assert result.details["raw"] == {"coordination": 14, "language": 16, "motor": 10, "total": 40}
    assert result.details["age_days"] == 1100


@pytest.mark.parametrize(
    ("inputs", "age_days", "field", "code"),
    [
        ({}, None, "t_total", "required"),
        ({"t_total": 120}, None, "t_total", "out_of_range"),
        ({"t_total": 50, "t_language": -5}, None, "t_language", "out_of_range"),
        ({"t_total": 50, "raw_coordination": 17}, None, "raw_coordination", "out_of_range"),
        ({"t_total": 50, "raw_language": 25}, None, "raw_language", "out_of_range"),
        ({"t_total": 50, "raw_motor": 13}, None, "raw_motor", "out_of_range"),
        ({"t_total": 50, "raw_total": 53}, None, "raw_total", "out_of_range"),
        ({"t_total": 50, "raw_motor": 2.5}, None, "raw_motor", "not_an_integer"),
        (
            {"t_total": 50, "raw_total": 30, "raw_coordination": 10, "raw_language": 10, "raw_motor": 5},
            None,
            "raw_total",
            "inconsistent_total",
        ),
        ({"t_total": 50}, 729, "age_days", "age_out_of_band"),
        ({"t_total": 50}, 1827, "age_days", "age_out_of_band"),
        ({"t_total": True}, None, "t_total", "not_a_number"),
        ({"t_total": float("nan")}, None, "t_total", "not_a_number"),
    ],
)
def test_tepsi_input_errors(inputs, age_days, field, code):
    err = _error("tepsi", inputs, age_days)
    assert (err.field, err.code) == (field, code)


@pytest.mark.parametrize("age_days", [730, 1095, 1826])  # 2 years, 3 years, 5 years 0 months 0 days
def test_tepsi_band_edges_included(age_days):
    assert score("tepsi", {"t_total": 50}, age_days).classification == "normal"


# --- Pauta Breve ----------------------------------------------------------------------------


def test_pauta_breve_four_of_four_is_normal():
    result = score("pauta_breve", {"items": [True, True, True, True]}, 122)
    assert (result.score, result.classification) == (4.0, "normal")
    assert "next" not in result.details


@pytest.mark.parametrize(
    ("items", "age_days", "passed", "next_step"),
    [
        ([True, True, False, True], 122, 3, "eedp"),  # 4 months
        ([False, True, True, True], 365, 3, "eedp"),  # 12 months
        ([True, True, True, False], 729, 3, "eedp"),
        ([True, False, True, True], 730, 3, "tepsi"),  # 24 months
        ([False, False, False, False], 740, 0, "tepsi"),
    ],
)
def test_pauta_breve_altered_and_next_step(items, age_days, passed, next_step):
    result = score("pauta_breve", {"items": items}, age_days)
    assert (result.score, result.classification) == (passed, "altered")
    assert result.details["next"] == next_step
    assert result.details["failed_items"] == [i for i, ok in enumerate(items, start=1) if not ok]


def test_pauta_breve_next_step_parameter():
    result = score("pauta_breve", {"items": [False, True, True, True]}, 740, {"pauta_breve_tepsi_from_days": 760})
    assert result.details["next"] == "eedp"


@pytest.mark.parametrize(
    ("inputs", "age_days", "field", "code"),
    [
        ({"items": [True, True, True]}, 365, "items", "wrong_count"),
        ({"items": [True] * 5}, 365, "items", "wrong_count"),
        ({"items": [True, None, True, True]}, 365, "items.2", "required"),
        ({"items": [True, "yes", True, True]}, 365, "items.2", "not_a_boolean"),
        ({"items": "TTTT"}, 365, "items", "invalid_type"),
        ({}, 365, "items", "required"),
        ({"items": [True] * 4}, None, "age_days", "age_required"),
        ({"items": [True] * 4}, 1827, "age_days", "age_out_of_band"),
    ],
)
def test_pauta_breve_input_errors(inputs, age_days, field, code):
    err = _error("pauta_breve", inputs, age_days)
    assert (err.field, err.code) == (field, code)


# --- EPDS -----------------------------------------------------------------------------------


def _epds_items(total: int, item10: int = 0) -> list[int]:
    """Ten item scores adding up to ``total`` with item 10 fixed."""
    items, rest = [0] * 9, total - item10
    for i in range(9):
        items[i] = min(3, rest)
        rest -= items[i]
    assert rest == 0
    return [*items, item10]


@pytest.mark.parametrize(
    ("total", "params", "period", "expected"),
    [
        (0, None, None, "negative"),
        (9, None, None, "negative"),  # default postnatal cut-off 10: cut-off - 1
        (10, None, None, "positive"),  # at the cut-off
        (27, None, None, "positive"),
        (12, None, "pregnancy", "negative"),  # pregnancy cut-off 13
        (13, None, "pregnancy", "positive"),
        (12, {"epds_cutoff": 13}, None, "negative"),  # a profile overriding the default
        (13, {"epds_cutoff": 13}, "postnatal", "positive"),
        (9, {"epds_cutoff_pregnancy": 9}, "pregnancy", "positive"),
    ],
)
def test_epds_cut_off(total, params, period, expected):
    inputs: dict = {"items": _epds_items(total)}
    if period:
        inputs["period"] = period
    result = score("epds", inputs, params=params)
    assert (result.score, result.classification, result.urgent) == (total, expected, False)


@pytest.mark.parametrize("item10", [1, 2, 3])
def test_epds_self_harm_item_is_urgent_and_positive(item10):
    result = score("epds", {"items": _epds_items(item10, item10=item10)})
    assert result.score == item10 < 10
    assert result.urgent is True and result.classification == "positive"
    assert result.details["positive_by"] == ["self_harm"]
    high = score("epds", {"items": _epds_items(20, item10=item10)})
    assert high.urgent and high.details["positive_by"] == ["total", "self_harm"]


def test_epds_scores_items_as_entered():
    result = score("epds", {"items": [3, 0, 2, 1, 3, 0, 0, 0, 0, 0]})
    assert result.score == 9 and result.subscores == {"anxiety_3a": 6.0}


@pytest.mark.parametrize(
    ("inputs", "field", "code"),
    [
        ({"items": [0] * 9}, "items", "wrong_count"),
        ({"items": [0] * 11}, "items", "wrong_count"),
        ({"items": [0] * 9 + [4]}, "items.10", "out_of_range"),
        ({"items": [-1] + [0] * 9}, "items.1", "out_of_range"),
        ({"items": [0, 1.5] + [0] * 8}, "items.2", "not_an_integer"),
        ({"items": [0, True] + [0] * 8}, "items.2", "not_an_integer"),
        ({"items": [0, None] + [0] * 8}, "items.2", "required"),
        ({"items": [0] * 10, "period": "antenatal"}, "period", "invalid_choice"),
    ],
)
def test_epds_input_errors(inputs, field, code):
    err = _error("epds", inputs)
    assert (err.field, err.code) == (field, code)


# --- MICS ECDI ------------------------------------------------------------------------------


def _mics(**domains: int) -> dict[str, bool]:
    """Answers achieving the first ``n`` items of each named domain (the others all achieved)."""
    answers: dict[str, bool] = {}
    for domain, keys in MICS_ECDI_DOMAINS.items():
        n = domains.get(domain, len(keys))
        answers |= {key: i < n for i, key in enumerate(keys)}
    return answers


@pytest.mark.parametrize(
    ("domain", "achieved", "on_track"),
    [
        ("literacy_numeracy", 1, False),
        ("literacy_numeracy", 2, True),  # >= 2 of 3
        ("physical", 0, False),
        ("physical", 1, True),  # >= 1 of 2
        ("social_emotional", 1, False),
        ("social_emotional", 2, True),  # >= 2 of 3
        ("learning", 0, False),
        ("learning", 1, True),  # >= 1 of 2
    ],
)
def test_mics_ecdi_domain_rules(domain, achieved, on_track):
    result = score("mics_ecdi", {"items": _mics(**{domain: achieved})})
    assert result.sub_classifications[domain] == ("on_track" if on_track else "not_on_track")
    assert result.classification == "on_track"  # the other three domains carry the child


@pytest.mark.parametrize(
    ("domains", "expected"),
    [
        ({}, "on_track"),
        ({"learning": 0}, "on_track"),  # 3 of 4
        ({"literacy_numeracy": 0}, "on_track"),
        ({"learning": 0, "physical": 0}, "not_on_track"),  # 2 of 4
        ({"literacy_numeracy": 1, "social_emotional": 1}, "not_on_track"),
        ({"literacy_numeracy": 0, "physical": 0, "social_emotional": 0, "learning": 0}, "not_on_track"),
    ],
)
def test_mics_ecdi_three_of_four_domains(domains, expected):
    result = score("mics_ecdi", {"items": _mics(**domains)}, 1400)
    assert result.classification == expected
    assert result.score == sum(1 for c in result.sub_classifications.values() if c == "on_track")


def test_mics_ecdi_list_input_follows_domain_order():
    answers = _mics(learning=0, physical=0)
    as_list = [answers[key] for key in MICS_ECDI_ITEMS]
    assert score("mics_ecdi", {"items": as_list}) == score("mics_ecdi", {"items": answers})
    assert MICS_ECDI_ITEMS[:3] == ("letters_10", "words_4", "numbers_1_10")


def test_mics_ecdi_missing_answers():
    answers = _mics(learning=0) | {"gets_along": None}  # counted as not achieved
    result = score("mics_ecdi", {"items": answers})
    assert result.sub_classifications["social_emotional"] == "on_track"  # 2 of 3 still
    assert result.details["missing"] == 1 and result.details["determinate"] is True
    undecided = _mics(learning=0, physical=1) | {"small_object": None, "not_too_sick": False}
    result = score("mics_ecdi", {"items": undecided})
    assert result.classification == "not_on_track" and result.details["determinate"] is False


def test_mics_ecdi_domain_params():
    params = {"mics_ecdi_domains_min": 4}
    assert score("mics_ecdi", {"items": _mics(learning=0)}, params=params).classification == "not_on_track"


@pytest.mark.parametrize(
    ("inputs", "age_days", "field", "code"),
    [
        ({"items": [True] * 9}, None, "items", "wrong_count"),
        ({"items": _mics() | {"gets_along": None, "independent": None}}, None, "items", "too_many_missing"),
        ({"items": {k: v for k, v in _mics().items() if k != "words_4"}}, None, "items.words_4", "required"),
        ({"items": _mics() | {"sings": True}}, None, "items.sings", "unknown_field"),
        ({"items": _mics() | {"words_4": "no"}}, None, "items.words_4", "not_a_boolean"),
        ({"items": _mics()}, 1094, "age_days", "age_out_of_band"),
        ({"items": _mics()}, 1826, "age_days", "age_out_of_band"),
    ],
)
def test_mics_ecdi_input_errors(inputs, age_days, field, code):
    err = _error("mics_ecdi", inputs, age_days)
    assert (err.field, err.code) == (field, code)


@pytest.mark.parametrize("age_days", [1095, 1825])  # 36 and 59 completed months
def test_mics_ecdi_band_edges_included(age_days):
    assert score("mics_ecdi", {"items": _mics()}, age_days).classification == "on_track"


# --- ECDI2030 -------------------------------------------------------------------------------

# (age in days, completed months, UNICEF's cut-score): first and last day of each age group
ECDI2030_EDGES = [
    (730, 24, 7),
    (912, 29, 7),
    (913, 30, 9),
    (1094, 35, 9),
    (1095, 36, 11),
    (1277, 41, 11),
    (1278, 42, 13),
    (1460, 47, 13),
    (1461, 48, 15),
    (1825, 59, 15),
]


def _achieved(n: int) -> list[bool]:
    return [i < n for i in range(len(ECDI2030_ITEMS))]


@pytest.mark.parametrize(("age_days", "months", "cut"), ECDI2030_EDGES)
def test_ecdi2030_cut_scores_by_age(age_days, months, cut):
    at = score("ecdi2030", {"items": _achieved(cut)}, age_days)
    below = score("ecdi2030", {"items": _achieved(cut - 1)}, age_days)
    assert (at.details["age_months"], at.details["cut_score"]) == (months, cut)
    assert (at.score, at.classification) == (cut, "on_track")
    assert (below.score, below.classification) == (cut - 1, "not_on_track")


def test_ecdi2030_domains():
    assert len(ECDI2030_ITEMS) == 20
    result = score("ecdi2030", {"items": _achieved(20)}, 1500)
    assert result.subscores == {"health": 4.0, "learning": 11.0, "psychosocial": 5.0}
    mapping = dict.fromkeys(ECDI2030_ITEMS, False) | {"walks_uneven_surface": True, "not_sad_daily": True}
    assert score("ecdi2030", {"items": mapping}, 800).subscores == {"health": 1.0, "learning": 0.0, "psychosocial": 1.0}


def test_ecdi2030_missing_answers():
    items: list[bool | None] = [*_achieved(7)[:18], None, None]  # 7 achieved, 2 missing
    result = score("ecdi2030", {"items": items}, 913)  # 30 months: cut 9
    assert result.classification == "not_on_track"
    assert result.details["missing"] == 2 and result.details["determinate"] is False
    decided = score("ecdi2030", {"items": items}, 1461)  # 48 months: 7 + 2 < 15 either way
    assert decided.details["determinate"] is True
    err = _error("ecdi2030", {"items": [*_achieved(17)[:17], None, None, None]}, 913)
    assert (err.field, err.code, err.params) == ("items", "too_many_missing", {"missing": 3, "max": 2})


def test_ecdi2030_max_missing_param():
    err = _error("ecdi2030", {"items": [*_achieved(19)[:19], None]}, 913, {"ecdi2030_max_missing": 0})
    assert err.code == "too_many_missing"


@pytest.mark.parametrize(
    "cut_scores",
    [((24, 5), (36, 10), (48, 12)), {"24": 5, "36": 10, "48": 12}, [[48, 12], [24, 5], [36, 10]]],
)
def test_ecdi2030_cut_scores_are_parameters(cut_scores):
    params = {"ecdi2030_cut_scores": cut_scores}
    assert score("ecdi2030", {"items": _achieved(5)}, 1000, params).classification == "on_track"
    assert score("ecdi2030", {"items": _achieved(9)}, 1100, params).classification == "not_on_track"
    assert score("ecdi2030", {"items": _achieved(12)}, 1500, params).details["cut_score"] == 12


@pytest.mark.parametrize(
    "cut_scores",
    [(), ((30, 9),), ((24, 7), (24, 9)), ((24, 21),), ((24, -1),), "7,9,11", ((24, 7.5),), None],
)
def test_ecdi2030_invalid_cut_scores(cut_scores):
    err = _error("ecdi2030", {"items": _achieved(10)}, 1000, {"ecdi2030_cut_scores": cut_scores})
    assert (err.field, err.code) == ("ecdi2030_cut_scores", "invalid_param")


@pytest.mark.parametrize(
    ("inputs", "age_days", "field", "code"),
    [
        ({"items": _achieved(19)[:19]}, 1000, "items", "wrong_count"),
        ({"items": _achieved(10)}, None, "age_days", "age_required"),
        ({"items": _achieved(10)}, 729, "age_days", "age_out_of_band"),
        ({"items": _achieved(10)}, 1826, "age_days", "age_out_of_band"),
        ({"items": [*_achieved(19)[:19], 2]}, 1000, "items.20", "not_a_boolean"),
    ],
)
def test_ecdi2030_input_errors(inputs, age_days, field, code):
    err = _error("ecdi2030", inputs, age_days)
    assert (err.field, err.code) == (field, code)


# --- parameters -----------------------------------------------------------------------------


def test_params_override_defaults():
    assert score("eedp", {"cd": 0.87}).classification == "normal"
    assert score("eedp", {"cd": 0.87}, params={"eedp_normal_min": 0.9}).classification == "risk"
    assert score("eedp", {"cd": 0.72}, params={"eedp_risk_min": 0.75}).classification == "delay"
    assert score("tepsi", {"t_total": 42}, params={"tepsi_normal_min": 45}).classification == "risk"
    assert score("tepsi", {"t_total": 32}, params={"tepsi_risk_min": 35}).classification == "delay"


def test_a_profile_passes_all_its_params_at_once():
    profile = screening.default_params() | {"tepsi_normal_min": 45, "epds_cutoff": 13}
    assert score("epds", {"items": _epds_items(12)}, params=profile).classification == "negative"
    assert score("tepsi", {"t_total": 42}, params=profile).classification == "risk"
    assert score("eedp", {"cd": 0.85}, params=profile).classification == "normal"


@pytest.mark.parametrize(
    ("code", "inputs", "params", "field", "error"),
    [
        ("eedp", {"cd": 0.9}, {"eedp_normal_mn": 0.9}, "eedp_normal_mn", "unknown_param"),
        ("eedp", {"cd": 0.9}, {"eedp_risk_min": 0.9, "eedp_normal_min": 0.8}, "eedp_risk_min", "invalid_param"),
        ("eedp", {"cd": 0.9}, {"eedp_normal_min": "0.85"}, "eedp_normal_min", "invalid_param"),
        ("tepsi", {"t_total": 50}, {"tepsi_risk_min": 45}, "tepsi_risk_min", "invalid_param"),
        (
            "pauta_breve",
            {"items": [True] * 4},
            {"pauta_breve_tepsi_from_days": -1},
            "pauta_breve_tepsi_from_days",
            "invalid_param",
        ),
        ("epds", {"items": [0] * 10}, {"epds_cutoff": 31}, "epds_cutoff", "invalid_param"),
        ("epds", {"items": [0] * 10}, {"epds_cutoff": True}, "epds_cutoff", "invalid_param"),
        ("mics_ecdi", {"items": [True] * 10}, {"mics_ecdi_domains_min": 5}, "mics_ecdi_domains_min", "invalid_param"),
        (
            "mics_ecdi",
            {"items": [True] * 10},
            {"mics_ecdi_physical_min": 1.5},
            "mics_ecdi_physical_min",
            "invalid_param",
        ),
    ],
)
def test_invalid_params(code, inputs, params, field, error):
    err = _error(code, inputs, None, params)
    assert (err.field, err.code) == (field, error)


def test_defaults_are_not_mutable():
    with pytest.raises(TypeError):
        INSTRUMENTS["eedp"].defaults["eedp_normal_min"] = 0.5  # type: ignore[index]


# --- general --------------------------------------------------------------------------------


def test_inputs_must_be_a_mapping():
    err = _error("epds", [0] * 10)
    assert (err.field, err.code) == ("inputs", "invalid_type")


EXAMPLES = [
    ("eedp", {"passed": {"8": 5, "9": 2}}, 277),
    ("eedp", {"cd": 0.7, "areas": {"motor": 0.5}}, None),
    ("tepsi", {"t_total": 45, "t_motor": 30, "raw_motor": 8}, 1100),
    ("pauta_breve", {"items": [True, False, True, True]}, 365),
    ("epds", {"items": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}, None),
    ("mics_ecdi", {"items": [True, None, False, True, False, True, True, False, True, True]}, 1200),
    ("ecdi2030", {"items": [*_achieved(12)[:19], None]}, 1300),
]


@pytest.mark.parametrize(("code", "inputs", "age_days"), EXAMPLES)
def test_results_are_well_formed(code, inputs, age_days):
    result = score(code, inputs, age_days)
    assert result.instrument == code and result.version == INSTRUMENTS[code].version
    assert result.classification in CLASSIFICATIONS
    assert set(result.sub_classifications.values()) <= CLASSIFICATIONS
    json.dumps(result.as_dict())


def test_error_messages_have_only_named_placeholders():
    for code, template in MESSAGES.items():
        assert "%s" not in template and "%d" not in template, code
        for name in re.findall(r"%\((\w+)\)s", template):
            assert name not in {"field", "code"}, code  # would collide with the error's own arguments


def test_docs_list_every_parameter_and_assumption():
    text = DOCS.read_text(encoding="utf-8")
    lines = text.splitlines()
    for instrument in INSTRUMENTS.values():
        assert f"`{instrument.code}`" in text
        for name in instrument.defaults:
            assert f"`{name}`" in text, name
        for name in instrument.assumptions:
            assert any(f"`{name}`" in line and "ASSUMPTION" in line for line in lines), name


def test_library_imports_no_django():
    package = Path(screening.__file__).parent
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in {"django", "ninja"}], path
    code = (
        "import sys, crecer.lib.screening; print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'ninja'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "[]"


# --- EPsA (prenatal psychosocial screen) ------------------------------------------------------------

EPSA_NONE = {
    "late_entry": False,
    "low_schooling": False,
    "adolescent": False,
    "rejection": False,
    "low_support": False,
    "depressive_symptoms": [False, False, False],
    "substance_use": {"tobacco": False, "alcohol": False, "tranquillisers": False, "drugs": False},
    "gender_violence": [False, False, False],
    "other": "",
}


def test_epsa_no_risk_is_negative():
    result = screening.score("epsa", EPSA_NONE)
    assert (result.score, result.classification) == (0.0, "negative")


@pytest.mark.parametrize(
    "change",
    [
        {"adolescent": True},
        {"depressive_symptoms": [False, True, False]},
        {"substance_use": {"tobacco": False, "alcohol": True, "tranquillisers": False, "drugs": False}},
        {"gender_violence": True},
        {"other": "vive en situación de calle"},
    ],
)
def test_epsa_any_single_factor_counts(change):
    result = screening.score("epsa", {**EPSA_NONE, **change})
    assert result.score == 1.0
    assert result.classification == "positive"  # default threshold: any risk factor
    assert len(result.details["present"]) == 1


def test_epsa_threshold_is_a_parameter():
    two = {**EPSA_NONE, "adolescent": True, "low_support": True}
    assert screening.score("epsa", two, params={"epsa_threshold": 3}).classification == "negative"
    assert (
        screening.score("epsa", {**two, "rejection": True}, params={"epsa_threshold": 3}).classification == "positive"
    )


def test_epsa_input_errors():
    with pytest.raises(screening.ScreeningInputError) as exc:
        screening.score("epsa", {**EPSA_NONE, "depressive_symptoms": [True]})
    assert (exc.value.field, exc.value.code) == ("depressive_symptoms", "wrong_count")
    with pytest.raises(screening.ScreeningInputError) as exc:
        screening.score("epsa", {k: v for k, v in EPSA_NONE.items() if k != "rejection"})
    assert (exc.value.field, exc.value.code) == ("rejection", "required")
    with pytest.raises(screening.ScreeningInputError) as exc:
        screening.score("epsa", {**EPSA_NONE, "smoker": True})
    assert exc.value.code == "unknown_field"
