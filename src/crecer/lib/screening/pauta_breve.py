"""Pauta Breve — brief developmental screening of Chile's well-child check-ups.

Source: Ministerio de Salud de Chile, Norma Técnica para la supervisión de niños y niñas de 0 a 9
años en la Atención Primaria de Salud (2014, updated 2021), which applies the *Pauta Breve de
Evaluación del Desarrollo Psicomotor* at 4, 12 and 24 months (a country profile may schedule it at
other ages).

At each age the professional tests 4 pass/fail items (the items differ by age; the form, not this
library, shows them). Score = items passed; 4/4 is ``normal``, anything less ``altered``. An altered
Pauta Breve is followed by a full evaluation: the EEDP before 24 months, the TEPSI from 24 months
(``details["next"]``; the switch age is the parameter ``pauta_breve_tepsi_from_days``, 730 days by
default — ASSUMPTION that the protocol follows the age bands of the two scales).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import (
    ALTERED,
    CHILD,
    DEVELOPMENT,
    NORMAL,
    InputSpec,
    Instrument,
    Result,
    ScreeningInputError,
    boolean,
    month_start_days,
    sequence,
)

__all__ = ["ITEMS", "PAUTA_BREVE"]

ITEMS = 4

DEFAULTS = {"pauta_breve_tepsi_from_days": month_start_days(24)}  # ASSUMPTION (730 days)


def _check(params: dict[str, Any]) -> None:
    name = "pauta_breve_tepsi_from_days"
    if params[name] < 0:
        raise ScreeningInputError(name, "invalid_param", name=name)


def _score(inputs: Mapping[str, Any], age_days: int | None, params: Mapping[str, Any]) -> Result:
    assert age_days is not None  # age_required
    answers = [boolean(v, f"items.{i}") for i, v in enumerate(sequence(inputs.get("items"), "items", ITEMS), start=1)]
    passed = sum(1 for a in answers if a)
    classification = NORMAL if passed == ITEMS else ALTERED
    details: dict[str, Any] = {"failed_items": [i for i, a in enumerate(answers, start=1) if not a]}
    if classification == ALTERED:
        details["next"] = "tepsi" if age_days >= params["pauta_breve_tepsi_from_days"] else "eedp"
    return Result(
        instrument=PAUTA_BREVE.code,
        version=PAUTA_BREVE.version,
        score=float(passed),
        classification=classification,
        details=details,
    )


PAUTA_BREVE = Instrument(
    code="pauta_breve",
    version="minsal-2014",
    name="Pauta Breve de Evaluación del Desarrollo Psicomotor",
    subject=CHILD,
    category=DEVELOPMENT,
    min_age_days=0,
    max_age_days=month_start_days(60),  # ASSUMPTION: any age up to 5 years a profile schedules
    age_required=True,
    inputs=(InputSpec("items", "boolean list", True, "the 4 items of the child's age, passed (true) or failed"),),
    defaults=DEFAULTS,
    assumptions=frozenset({"pauta_breve_tepsi_from_days"}),
    source="MINSAL, Norma Técnica de supervisión de niños y niñas de 0 a 9 años en APS (2014, 2021)",
    scorer=_score,
    param_check=_check,
)
