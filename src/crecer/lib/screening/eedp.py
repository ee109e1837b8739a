"""EEDP — Escala de Evaluación del Desarrollo Psicomotor (Chile, 0 to 24 months).

Source: Rodríguez S., Arancibia V., Undurraga C., *Escala de Evaluación del Desarrollo Psicomotor:
0 a 24 meses* (Santiago, 1974; revised 1976 and 1978), the instrument of Chile's well-child
programme (applied at 8 and 18 months in the Norma Técnica schedule).

75 items, 5 per age group at 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 18, 21 and 24 months, in four
areas (motor, language, social, coordination). Scoring, as the manual and its record sheet state:

* chronological age (EC) in days = completed months x 30 + remaining days (a child of 9 months and
  7 days has EC = 277), see :func:`eedp_chronological_days`;
* the *mes base* (basal age) is the highest age group whose 5 items are all passed; it is worth
  its month x 30 days;
* each item passed in a group above the basal age adds 6 days in the groups of 1 to 10 months,
  12 days in the 12-month group and 18 days in the groups of 15 to 24 months (each group's span
  in days divided by its 5 items: 30/5, 60/5, 90/5);
* mental age (EM) = basal days + the days of the items passed above it;
* the manual converts the ratio EM/EC into the development coefficient (CD) with its age tables
  (*puntaje estándar*). Those tables are not reproduced here: the library classifies the ratio
  itself (ASSUMPTION, documented). A professional who computed the CD on paper enters it
  directly (``{"cd": 0.9}``), which is the preferred input.

Classification: CD >= 0.85 normal, 0.70-0.84 risk, < 0.70 delay (parameters ``eedp_normal_min``
and ``eedp_risk_min``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .base import (
    CHILD,
    DEVELOPMENT,
    NORMAL,
    InputSpec,
    Instrument,
    Result,
    ScreeningInputError,
    check_order,
    classify_three,
    integer,
    mapping,
    month_start_days,
    number,
)

__all__ = ["AGE_GROUPS", "AREAS", "EEDP", "ITEM_DAYS", "eedp_chronological_days", "mental_age_days"]

AGE_GROUPS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 18, 21, 24)
ITEMS_PER_GROUP = 5
#: days of mental age one passed item is worth, per age group (the manual's 6, 12 and 18 points)
ITEM_DAYS = {group: 6 if group <= 10 else 12 if group == 12 else 18 for group in AGE_GROUPS}
AREAS = ("motor", "language", "social", "coordination")
CD_MAX = 3.0  # plausibility limit for an entered coefficient (ASSUMPTION; catches "85" for 0.85)

DEFAULTS = {"eedp_normal_min": 0.85, "eedp_risk_min": 0.70}


def eedp_chronological_days(birth: dt.date, on: dt.date) -> int:
    """The manual's chronological age in days: completed calendar months x 30 + remaining days."""
    if on < birth:
        raise ValueError("the evaluation date is before the birth date")
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        months -= 1
    year, month = divmod(birth.month - 1 + months, 12)
    year += birth.year
    month += 1
    # the monthly anniversary, clipped to the end of a short month (31 Jan + 1 month = 28/29 Feb)
    day = birth.day
    while True:
        try:
            anniversary = dt.date(year, month, day)
            break
        except ValueError:
            day -= 1
    return months * 30 + (on - anniversary).days


def _group(key: Any) -> int:
    try:
        group = int(key)
    except (TypeError, ValueError):
        group = -1
    if group not in AGE_GROUPS or isinstance(key, bool) or (isinstance(key, float) and not key.is_integer()):
        raise ScreeningInputError(
            f"passed.{key}", "unknown_age_group", group=key, groups=", ".join(str(g) for g in AGE_GROUPS)
        )
    return group


def mental_age_days(passed: Mapping[Any, Any]) -> tuple[int, int, list[int]]:
    """``(mental_age_days, basal_group, groups_ignored)`` from the items passed per age group.

    ``passed`` maps age groups (1, 2, ... 24, as ints or strings) to the number of their 5 items
    passed. Groups not listed are treated as not administered: below the basal age they are
    credited (the manual stops going down once a group is fully passed), above it they add nothing.
    ``groups_ignored`` lists groups below the basal age with failures, which the manual's rule
    does not count.
    """
    counts: dict[int, int] = {}
    for key, value in mapping(passed, "passed").items():
        group = _group(key)
        if group in counts:
            raise ScreeningInputError(f"passed.{key}", "ambiguous_input", first=group, second=key)
        counts[group] = integer(value, f"passed.{key}", 0, ITEMS_PER_GROUP)
    if not counts:
        raise ScreeningInputError("passed", "required")
    complete = [g for g, n in counts.items() if n == ITEMS_PER_GROUP]
    basal = max(complete, default=0)
    days = basal * 30 + sum(n * ITEM_DAYS[g] for g, n in counts.items() if g > basal)
    ignored = sorted(g for g, n in counts.items() if g < basal and n < ITEMS_PER_GROUP)
    return days, basal, ignored


def _check(params: dict[str, Any]) -> None:
    check_order(params, "eedp_normal_min", "eedp_risk_min")


def _score(inputs: Mapping[str, Any], age_days: int | None, params: Mapping[str, Any]) -> Result:
    normal_min, risk_min = params["eedp_normal_min"], params["eedp_risk_min"]
    has_cd, has_passed = inputs.get("cd") is not None, inputs.get("passed") is not None
    if has_cd and has_passed:
        raise ScreeningInputError("cd", "ambiguous_input", first="cd", second="passed")
    details: dict[str, Any] = {"normal_min": normal_min, "risk_min": risk_min}
    if has_cd:
        cd = number(inputs["cd"], "cd", 0.0, CD_MAX)
        details["cd_method"] = "entered"
    elif has_passed:
        if age_days is None:
            raise ScreeningInputError("age_days", "age_required")
        if age_days == 0:
            raise ScreeningInputError("age_days", "age_out_of_band", min_days=1, max_days=EEDP.max_age_days, age_days=0)
        mental, basal, ignored = mental_age_days(inputs["passed"])
        cd = mental / age_days
        details.update(
            cd_method="ratio",
            mental_age_days=mental,
            chronological_age_days=age_days,
            basal_group=basal,
            groups_ignored_below_basal=ignored,
        )
    else:
        raise ScreeningInputError("passed", "required")

    subscores: dict[str, float] = {}
    sub_classifications: dict[str, str] = {}
    if inputs.get("areas") is not None:
        for area, value in mapping(inputs["areas"], "areas").items():
            if area not in AREAS:
                raise ScreeningInputError(f"areas.{area}", "unknown_field", name=area)
            subscores[area] = number(value, f"areas.{area}", 0.0, CD_MAX)
            sub_classifications[area] = classify_three(subscores[area], normal_min, risk_min)
    classification = classify_three(cd, normal_min, risk_min)
    # Chile's "normal con rezago": a normal coefficient with an area below normal (ASSUMPTION).
    details["lag"] = classification == NORMAL and any(c != NORMAL for c in sub_classifications.values())
    return Result(
        instrument=EEDP.code,
        version=EEDP.version,
        score=cd,
        classification=classification,
        subscores=subscores,
        sub_classifications=sub_classifications,
        details=details,
    )


EEDP = Instrument(
    code="eedp",
    version="1978",
    name="Escala de Evaluación del Desarrollo Psicomotor (0-24 months)",
    subject=CHILD,
    category=DEVELOPMENT,
    min_age_days=0,
    max_age_days=month_start_days(24),
    age_required=False,  # required only to compute the coefficient from the items passed
    inputs=(
        InputSpec("passed", "mapping", False, "items passed (0-5) per age group, e.g. {'1': 5, ..., '12': 3}"),
        InputSpec("cd", "number", False, "development coefficient computed on paper (instead of 'passed')"),
        InputSpec("areas", "mapping", False, "coefficient per area: motor, language, social, coordination"),
    ),
    defaults=DEFAULTS,
    assumptions=frozenset(),
    source="Rodríguez, Arancibia & Undurraga, EEDP 0-24 meses (1974, rev. 1976/1978)",
    scorer=_score,
    param_check=_check,
)
