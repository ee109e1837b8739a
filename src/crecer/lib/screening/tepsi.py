"""TEPSI — Test de Desarrollo Psicomotor 2-5 años (Chile).

Source: Haeussler I. M. & Marchant T., *TEPSI: Test de Desarrollo Psicomotor 2-5 años* (Ediciones
Universidad Católica de Chile, 1985, later editions), applied at 3 years in Chile's well-child
schedule.

52 items in 3 subtests: coordination (16 items), language (24) and motor (12). The manual converts
each raw score (items passed) into a T-score with tables by age band; those tables are not public
domain, so the professional enters the T-scores (``t_total`` required, the subtests optional) and
may add the raw scores, which are checked against the item counts and kept in ``details``.

Classification, for the total and each subtest: T >= 40 normal, 30-39 risk, <= 29 delay
(parameters ``tepsi_normal_min`` and ``tepsi_risk_min``).

Age band: 2 years 0 months 0 days to 5 years 0 months 0 days, both included, as the manual says:
730 to 1826 days (``floor(365.25 x years)``). The T-scores already carry the age, so the age is not
needed to score, but when given it must fall in the band.
"""

from __future__ import annotations

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
    month_start_days,
    number,
    require,
)

__all__ = ["SUBTEST_ITEMS", "TEPSI", "TOTAL_ITEMS"]

SUBTEST_ITEMS = {"coordination": 16, "language": 24, "motor": 12}
TOTAL_ITEMS = sum(SUBTEST_ITEMS.values())  # 52
T_MIN, T_MAX = 0.0, 100.0  # plausibility limits for an entered T-score (ASSUMPTION: tables span ~20-80)

DEFAULTS = {"tepsi_normal_min": 40, "tepsi_risk_min": 30}


def _check(params: dict[str, Any]) -> None:
    check_order(params, "tepsi_normal_min", "tepsi_risk_min")


def _score(inputs: Mapping[str, Any], age_days: int | None, params: Mapping[str, Any]) -> Result:
    normal_min, risk_min = params["tepsi_normal_min"], params["tepsi_risk_min"]
    t_total = number(require(inputs, "t_total"), "t_total", T_MIN, T_MAX)
    subscores: dict[str, float] = {}
    sub_classifications: dict[str, str] = {}
    for subtest in SUBTEST_ITEMS:
        name = f"t_{subtest}"
        if inputs.get(name) is not None:
            subscores[subtest] = number(inputs[name], name, T_MIN, T_MAX)
            sub_classifications[subtest] = classify_three(subscores[subtest], normal_min, risk_min)

    raw: dict[str, int] = {}
    for subtest, items in SUBTEST_ITEMS.items():
        name = f"raw_{subtest}"
        if inputs.get(name) is not None:
            raw[subtest] = integer(inputs[name], name, 0, items)
    if inputs.get("raw_total") is not None:
        raw["total"] = integer(inputs["raw_total"], "raw_total", 0, TOTAL_ITEMS)
        if all(subtest in raw for subtest in SUBTEST_ITEMS):
            parts = sum(raw[subtest] for subtest in SUBTEST_ITEMS)
            if parts != raw["total"]:
                raise ScreeningInputError("raw_total", "inconsistent_total", total=raw["total"], sum=parts)

    classification = classify_three(t_total, normal_min, risk_min)
    details: dict[str, Any] = {
        "normal_min": normal_min,
        "risk_min": risk_min,
        "raw": raw,
        # Chile's "normal con rezago": normal total with a subtest at risk or delay (ASSUMPTION).
        "lag": classification == NORMAL and any(c != NORMAL for c in sub_classifications.values()),
    }
    if age_days is not None:
        details["age_days"] = age_days
    return Result(
        instrument=TEPSI.code,
        version=TEPSI.version,
        score=t_total,
        classification=classification,
        subscores=subscores,
        sub_classifications=sub_classifications,
        details=details,
    )


_T_HELP = "T-score from the manual's tables"

TEPSI = Instrument(
    code="tepsi",
    version="1985",
    name="Test de Desarrollo Psicomotor 2-5 años",
    subject=CHILD,
    category=DEVELOPMENT,
    min_age_days=month_start_days(24),
    max_age_days=month_start_days(60),
    age_required=False,
    inputs=(
        InputSpec("t_total", "number", True, f"total {_T_HELP}"),
        InputSpec("t_coordination", "number", False, f"coordination {_T_HELP}"),
        InputSpec("t_language", "number", False, f"language {_T_HELP}"),
        InputSpec("t_motor", "number", False, f"motor {_T_HELP}"),
        InputSpec("raw_total", "integer", False, "items passed, 0-52"),
        InputSpec("raw_coordination", "integer", False, "coordination items passed, 0-16"),
        InputSpec("raw_language", "integer", False, "language items passed, 0-24"),
        InputSpec("raw_motor", "integer", False, "motor items passed, 0-12"),
    ),
    defaults=DEFAULTS,
    assumptions=frozenset(),
    source="Haeussler & Marchant, TEPSI 2-5 años (Ediciones UC, 1985)",
    scorer=_score,
    param_check=_check,
)
