"""EPsA — Evaluación Psicosocial Abreviada (Chile), the psychosocial screen at prenatal entry.

Applied to every pregnant woman at her first prenatal visit (REM rule: EPsA applied = prenatal
admissions). Items as a hospital system's questionnaire uses them (see ``docs/screening.md``):

1. ``late_entry``: entry to prenatal care after 20 weeks of gestation;
2. ``low_schooling``: schooling up to 6th grade;
3. ``adolescent``: age 17 or younger;
4. ``rejection``: rejection of the pregnancy;
5. ``low_support``: insufficient social or family support;
6. ``depressive_symptoms``: any of three sub-questions (a list of 3 yes/no answers, or one yes/no);
7. ``substance_use``: any of tobacco, alcohol, unprescribed tranquillisers, illegal drugs (a mapping
   with those four keys, or one yes/no);
8. ``gender_violence``: any of three sub-questions (a list of 3 yes/no, or one yes/no);
9. ``other``: another risk factor, as free text (present when not empty).

The score is the number of risk factors present (0–9). The threshold from which the screen is
``positive`` (and triggers referral and home visits) is the parameter ``epsa_threshold``: the official
manual was not found, so the default of 1 (any risk factor) is an ASSUMPTION; the country's risk rules
may also act on single items (``details["present"]`` lists them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import (
    CAREGIVER,
    MENTAL_HEALTH,
    NEGATIVE,
    POSITIVE,
    InputSpec,
    Instrument,
    Result,
    ScreeningInputError,
    boolean,
    keyed_booleans,
    sequence,
)

__all__ = ["EPSA", "ITEMS", "SUBSTANCES"]

ITEMS = (
    "late_entry",
    "low_schooling",
    "adolescent",
    "rejection",
    "low_support",
    "depressive_symptoms",
    "substance_use",
    "gender_violence",
    "other",
)
SUBSTANCES = ("tobacco", "alcohol", "tranquillisers", "drugs")
DEFAULTS = {"epsa_threshold": 1}  # ASSUMPTION: the official threshold was not found


def _check(params: dict[str, Any]) -> None:
    if not 1 <= params["epsa_threshold"] <= len(ITEMS):
        raise ScreeningInputError("epsa_threshold", "invalid_param", name="epsa_threshold")


def _any_of(value: Any, name: str, count: int) -> bool:
    """A single yes/no, or a list of ``count`` sub-answers (present if any is yes)."""
    if isinstance(value, list | tuple):
        return any(boolean(v, f"{name}.{i}") for i, v in enumerate(sequence(value, name, count), start=1))
    return bool(boolean(value, name))


def _score(inputs: Mapping[str, Any], age_days: int | None, params: Mapping[str, Any]) -> Result:
    for key in inputs:
        if key not in ITEMS:
            raise ScreeningInputError(key, "unknown_field", name=key)
    present: dict[str, bool] = {}
    for item in ("late_entry", "low_schooling", "adolescent", "rejection", "low_support"):
        present[item] = bool(boolean(inputs.get(item), item))
    present["depressive_symptoms"] = _any_of(inputs.get("depressive_symptoms"), "depressive_symptoms", 3)
    substances = inputs.get("substance_use")
    if isinstance(substances, Mapping):
        present["substance_use"] = any(keyed_booleans(substances, "substance_use", SUBSTANCES))
    else:
        present["substance_use"] = bool(boolean(substances, "substance_use"))
    present["gender_violence"] = _any_of(inputs.get("gender_violence"), "gender_violence", 3)
    other = inputs.get("other") or ""
    if not isinstance(other, str):
        raise ScreeningInputError("other", "invalid_type", expected="text")
    present["other"] = bool(other.strip())
    total = sum(present.values())
    threshold = params["epsa_threshold"]
    return Result(
        instrument=EPSA.code,
        version=EPSA.version,
        score=float(total),
        classification=POSITIVE if total >= threshold else NEGATIVE,
        subscores={item: float(flag) for item, flag in present.items()},
        details={
            "threshold": threshold,
            "present": [item for item, flag in present.items() if flag],
            "other": other.strip(),
        },
    )


EPSA = Instrument(
    code="epsa",
    version="chcc-2008",
    name="Evaluación Psicosocial Abreviada (EPsA)",
    subject=CAREGIVER,
    category=MENTAL_HEALTH,
    min_age_days=None,
    max_age_days=None,
    age_required=False,
    inputs=tuple(InputSpec(item, "yes/no" if item != "other" else "text", item != "other", item) for item in ITEMS),
    defaults=DEFAULTS,
    assumptions=frozenset(DEFAULTS),
    source="Chile Crece Contigo, Evaluación Psicosocial Abreviada (items as in a hospital system's questionnaire)",
    scorer=_score,
    param_check=_check,
)
