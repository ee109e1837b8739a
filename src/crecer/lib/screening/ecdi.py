"""UNICEF's caregiver-reported early childhood development indices: the MICS ECDI and the ECDI2030.

Both take yes/no answers as **"milestone achieved" booleans**: negatively worded questions are
already reversed by the form (``True`` for "is not sometimes too sick to play", "does not kick,
bite or hit..."). Answers may be given as a list in the order of the ``*_ITEMS`` tuples below or,
preferably, as a mapping by item key (every key present; ``None`` for a missing/"don't know"
answer).

Missing answers count as *not achieved*, as UNICEF's MICS tabulation syntax does (any answer other
than the achieving one recodes to 0). Up to a parameter's number of them are accepted (ASSUMPTION
defaults); ``details["determinate"]`` says whether the classification would be the same had every
missing answer been achieved.

**MICS ECDI** (MICS4-MICS6, children 36-59 months): 10 items in four domains, each on track when
enough of its items are achieved — literacy-numeracy 2 of 3, physical 1 of 2, social-emotional 2 of
3, learning 1 of 2; the child is developmentally on track when at least 3 of the 4 domains are.
Verified against published tables of the MICS definition (e.g. BMC Pediatrics 2020;20:108 table 1;
Int J Environ Res Public Health 2022;19:7599 table 1) and UNICEF's indicator metadata.

**ECDI2030** (SDG indicator 4.2.1, children 24-59 months): 20 items in the health, learning and
psychosocial well-being domains; score = milestones achieved; on track when the score reaches the
cut-score of the child's age group in completed months: 24-29: 7, 30-35: 9, 36-41: 11, 42-47: 13,
48-59: 15. Source: UNICEF, *The Early Childhood Development Index 2030: A new measure of early
childhood development* (technical manual, September 2023), whose cut-scores come from the standard
setting in Petrowski et al., J Health Popul Nutr 2023;42:140; the values were checked against
UNICEF's MICS tabulation syntax for the ECDI2030 table (EC21-EC40). The two frequency questions
count as achieved when the child is *not* sad or depressed daily, and does *not* kick, bite or hit
more (or a lot more) than other children of the same age.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from .base import (
    CHILD,
    DEVELOPMENT,
    NOT_ON_TRACK,
    ON_TRACK,
    InputSpec,
    Instrument,
    Result,
    ScreeningInputError,
    completed_months,
    keyed_booleans,
    month_start_days,
)

__all__ = ["ECDI2030", "ECDI2030_DOMAINS", "ECDI2030_ITEMS", "MICS_ECDI", "MICS_ECDI_DOMAINS", "MICS_ECDI_ITEMS"]

# --- MICS ECDI ------------------------------------------------------------------------------

#: domain -> its item keys, in the order a list of answers follows
MICS_ECDI_DOMAINS: dict[str, tuple[str, ...]] = {
    "literacy_numeracy": ("letters_10", "words_4", "numbers_1_10"),
    "physical": ("small_object", "not_too_sick"),
    "social_emotional": ("gets_along", "not_aggressive", "not_distracted"),
    "learning": ("follows_directions", "independent"),
}
MICS_ECDI_ITEMS = tuple(key for keys in MICS_ECDI_DOMAINS.values() for key in keys)

MICS_DEFAULTS = {
    "mics_ecdi_literacy_numeracy_min": 2,
    "mics_ecdi_physical_min": 1,
    "mics_ecdi_social_emotional_min": 2,
    "mics_ecdi_learning_min": 1,
    "mics_ecdi_domains_min": 3,
    "mics_ecdi_max_missing": 1,  # ASSUMPTION
}


def _check_mics(params: dict[str, Any]) -> None:
    limits = {f"mics_ecdi_{d}_min": len(keys) for d, keys in MICS_ECDI_DOMAINS.items()}
    limits |= {"mics_ecdi_domains_min": len(MICS_ECDI_DOMAINS), "mics_ecdi_max_missing": len(MICS_ECDI_ITEMS)}
    for name, high in limits.items():
        value = params[name]
        if not (0 <= value <= high and float(value).is_integer()):
            raise ScreeningInputError(name, "invalid_param", name=name)


def _missing_check(answers: Sequence[bool | None], max_missing: int) -> int:
    missing = sum(1 for a in answers if a is None)
    if missing > max_missing:
        raise ScreeningInputError("items", "too_many_missing", missing=missing, max=max_missing)
    return missing


def _score_mics(inputs: Mapping[str, Any], age_days: int | None, params: Mapping[str, Any]) -> Result:
    answers = keyed_booleans(inputs.get("items"), "items", MICS_ECDI_ITEMS)
    missing = _missing_check(answers, params["mics_ecdi_max_missing"])
    by_key = dict(zip(MICS_ECDI_ITEMS, answers, strict=True))

    def on_track_domains(assume_missing: bool) -> dict[str, bool]:
        out = {}
        for domain, keys in MICS_ECDI_DOMAINS.items():
            achieved = sum(1 for k in keys if (by_key[k] if by_key[k] is not None else assume_missing))
            out[domain] = achieved >= params[f"mics_ecdi_{domain}_min"]
        return out

    domains = on_track_domains(False)
    on_track = sum(domains.values()) >= params["mics_ecdi_domains_min"]
    optimistic = sum(on_track_domains(True).values()) >= params["mics_ecdi_domains_min"]
    return Result(
        instrument=MICS_ECDI.code,
        version=MICS_ECDI.version,
        score=float(sum(domains.values())),
        classification=ON_TRACK if on_track else NOT_ON_TRACK,
        subscores={d: float(v) for d, v in domains.items()},
        sub_classifications={d: ON_TRACK if v else NOT_ON_TRACK for d, v in domains.items()},
        details={
            "items_achieved": sum(1 for a in answers if a),
            "missing": missing,
            "determinate": on_track == optimistic,
            "domain_min": {d: params[f"mics_ecdi_{d}_min"] for d in MICS_ECDI_DOMAINS},
            "domains_min": params["mics_ecdi_domains_min"],
        },
    )


MICS_ECDI = Instrument(
    code="mics_ecdi",
    version="mics4",
    name="MICS Early Childhood Development Index (10 items)",
    subject=CHILD,
    category=DEVELOPMENT,
    min_age_days=month_start_days(36),
    max_age_days=month_start_days(60) - 1,
    age_required=False,
    inputs=(
        InputSpec(
            "items", "boolean list or mapping", True, "the 10 answers as milestone achieved (see MICS_ECDI_ITEMS)"
        ),
    ),
    defaults=MICS_DEFAULTS,
    assumptions=frozenset({"mics_ecdi_max_missing"}),
    source="UNICEF MICS4-6 questionnaire for children under five, ECDI module",
    scorer=_score_mics,
    param_check=_check_mics,
)

# --- ECDI2030 -------------------------------------------------------------------------------

ECDI2030_DOMAINS: dict[str, tuple[str, ...]] = {
    "health": ("walks_uneven_surface", "jumps_both_feet", "dresses_self", "buttons"),
    "learning": (
        "says_10_words",
        "sentences_3_words",
        "sentences_5_words",
        "uses_pronouns",
        "names_object",
        "recognises_5_letters",
        "writes_name",
        "recognises_numbers_1_5",
        "gives_3_objects",
        "counts_10_objects",
        "persists_in_activity",
    ),
    "psychosocial": (
        "asks_about_familiar_people",
        "offers_help",
        "gets_along",
        "not_sad_daily",
        "not_aggressive_more",
    ),
}
ECDI2030_ITEMS = tuple(key for keys in ECDI2030_DOMAINS.values() for key in keys)

#: (first month of the age group, minimum milestones) — UNICEF ECDI2030 technical manual (2023)
ECDI2030_CUT_SCORES = ((24, 7), (30, 9), (36, 11), (42, 13), (48, 15))

ECDI2030_DEFAULTS: dict[str, Any] = {
    "ecdi2030_cut_scores": ECDI2030_CUT_SCORES,
    "ecdi2030_max_missing": 2,  # ASSUMPTION
}


def _check_2030(params: dict[str, Any]) -> None:
    """Validate the parameters; the cut-scores may come as pairs or as a table {first month: cut}."""
    name = "ecdi2030_cut_scores"
    bands = params[name]
    if isinstance(bands, Mapping):
        bands = list(bands.items())
    try:
        pairs = sorted((int(m), int(c)) for m, c in bands)
        ok = (
            bool(pairs)
            and pairs[0][0] <= 24
            and all(a[0] < b[0] for a, b in itertools.pairwise(pairs))
            and all(0 <= c <= len(ECDI2030_ITEMS) for _, c in pairs)
            and all(float(m).is_integer() and float(c).is_integer() for m, c in bands)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ScreeningInputError(name, "invalid_param", name=name)
    value = params["ecdi2030_max_missing"]
    if not (0 <= value <= len(ECDI2030_ITEMS) and float(value).is_integer()):
        raise ScreeningInputError("ecdi2030_max_missing", "invalid_param", name="ecdi2030_max_missing")
    params[name] = tuple(pairs)


def cut_score(age_months: int, bands: Sequence[Sequence[int]] = ECDI2030_CUT_SCORES) -> int:
    """The ECDI2030 cut-score for a child of ``age_months`` completed months."""
    return int([c for m, c in bands if m <= age_months][-1])


def _score_2030(inputs: Mapping[str, Any], age_days: int | None, params: Mapping[str, Any]) -> Result:
    assert age_days is not None  # age_required
    answers = keyed_booleans(inputs.get("items"), "items", ECDI2030_ITEMS)
    missing = _missing_check(answers, params["ecdi2030_max_missing"])
    by_key = dict(zip(ECDI2030_ITEMS, answers, strict=True))
    achieved = sum(1 for a in answers if a)
    months = completed_months(age_days)
    cut = cut_score(months, params["ecdi2030_cut_scores"])
    on_track = achieved >= cut
    return Result(
        instrument=ECDI2030.code,
        version=ECDI2030.version,
        score=float(achieved),
        classification=ON_TRACK if on_track else NOT_ON_TRACK,
        subscores={d: float(sum(1 for k in keys if by_key[k])) for d, keys in ECDI2030_DOMAINS.items()},
        details={
            "age_months": months,
            "cut_score": cut,
            "missing": missing,
            "determinate": on_track or achieved + missing < cut,
        },
    )


ECDI2030 = Instrument(
    code="ecdi2030",
    version="2023",
    name="Early Childhood Development Index 2030",
    subject=CHILD,
    category=DEVELOPMENT,
    min_age_days=month_start_days(24),
    max_age_days=month_start_days(60) - 1,
    age_required=True,
    inputs=(
        InputSpec(
            "items", "boolean list or mapping", True, "the 20 answers as milestone achieved (see ECDI2030_ITEMS)"
        ),
    ),
    defaults=ECDI2030_DEFAULTS,
    assumptions=frozenset({"ecdi2030_max_missing"}),
    source="UNICEF, The Early Childhood Development Index 2030 (technical manual, 2023)",
    scorer=_score_2030,
    param_check=_check_2030,
)
