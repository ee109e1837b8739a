"""Data quality: completeness, timeliness, plausibility and possible duplicates, per territory.

Expressed as indicators over the same facts (so they roll up the territory tree and open into the
list of records behind each figure), defined here rather than in the profile: they measure the data,
not the policy.
"""

from __future__ import annotations

from crecer.monitoring.definitions import Indicator, Step

LATE_DAYS = 7


def _quality(
    code: str, population: str, name_es: str, name_en: str, denominator: list[Step], numerator: list[Step]
) -> Indicator:
    return Indicator(
        code=code,
        version=1,
        name_es=name_es,
        name_en=name_en,
        axis="management",
        population=population,
        unit="percent",
        period="month",
        direction="lower",
        source="",
        denominator=tuple(denominator),
        numerator=tuple(numerator),
        value="",
        disaggregations=(),
    )


QUALITY: tuple[Indicator, ...] = (
    _quality(
        "dq_missing_document",
        "child",
        "Niños y niñas mayores de 60 días sin documento de identidad",
        "Children over 60 days without an identity document",
        [Step("older_than", {"days": 60})],
        [Step("without_document", {})],
    ),
    _quality(
        "dq_check_up_without_measurement",
        "encounter",
        "Controles de salud sin medición registrada",
        "Check-ups without a measurement recorded",
        [Step("check_up_in_period", {})],
        [Step("without_measurement", {})],
    ),
    _quality(
        "dq_recorded_late",
        "encounter",
        "Controles registrados más de 7 días después",
        "Check-ups recorded more than 7 days later",
        [Step("check_up_in_period", {})],
        [Step("recorded_late", {"days": LATE_DAYS})],
    ),
    _quality(
        "dq_implausible",
        "measurement",
        "Mediciones con valores improbables (alertas OMS)",
        "Measurements with implausible values (WHO flags)",
        [Step("measured_in_period", {})],
        [Step("implausible", {})],
    ),
    _quality(
        "dq_mother_pending",
        "child",
        "Niños y niñas cuya madre aún no está registrada (vínculo pendiente)",
        "Children whose mother is not registered yet (pending link)",
        [Step("older_than", {"days": -1})],
        [Step("mother_pending", {})],
    ),
    _quality(
        "dq_possible_duplicates",
        "child",
        "Niños y niñas con un posible duplicado (mismo nombre y fecha de nacimiento)",
        "Children with a possible duplicate (same name and birth date)",
        [Step("older_than", {"days": -1})],
        [Step("possible_duplicate", {})],
    ),
)


def get(code: str) -> Indicator:
    for indicator in QUALITY:
        if indicator.code == code:
            return indicator
    raise KeyError(code)
