"""Pregnancy dating: the one home of the 280-day rule.

Gestational age counts from the first day of the last menstrual period (LMP). When only the expected
delivery date (EDD) is known, the LMP is taken as 280 days (40 weeks) before it (Naegele's rule, as
used by WHO and by the Chilean prenatal guideline); when only the LMP is known, the EDD is 280 days
after it. Every part of Crecer that dates a pregnancy — validation, imports, the prenatal schedule,
risk facts, pages, the synthetic generator — goes through these functions.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["GESTATION_DAYS", "expected_delivery", "gestational_days", "gestational_week", "origin"]

#: days from the LMP to the expected delivery date (40 weeks)
GESTATION_DAYS = 280


def expected_delivery(lmp: dt.date) -> dt.date:
    """The expected delivery date of a pregnancy whose last menstrual period began on ``lmp``."""
    return lmp + dt.timedelta(days=GESTATION_DAYS)


def origin(lmp: dt.date | None, edd: dt.date | None) -> dt.date | None:
    """The day gestational age counts from: the LMP, or 280 days before the expected delivery date."""
    if lmp is not None:
        return lmp
    if edd is not None:
        return edd - dt.timedelta(days=GESTATION_DAYS)
    return None


def gestational_days(start: dt.date | None, on: dt.date | None) -> int | None:
    """Days of gestation on ``on`` for a pregnancy dated from ``start`` (see :func:`origin`)."""
    if start is None or on is None:
        return None
    return (on - start).days


def gestational_week(start: dt.date | None, on: dt.date | None) -> int | None:
    """Completed weeks of gestation on ``on`` (week 12 runs from day 84 to day 90)."""
    days = gestational_days(start, on)
    return None if days is None else days // 7


#: The weeks of gestation in which a birth is recorded without question: from 20 (below it, a loss rather
#: than a birth in most civil registries) to 45 (beyond any prolonged pregnancy). A birth date outside
#: them says the birth or the pregnancy's dates are wrong.
BIRTH_WEEKS = (20, 45)


def birth_week_out_of_range(start: dt.date, birth: dt.date) -> int | None:
    """The completed week of gestation on ``birth`` when it lies outside :data:`BIRTH_WEEKS`, else None."""
    days = (birth - start).days
    week = max(days // 7, 0)
    low, high = BIRTH_WEEKS
    return week if not low <= week <= high else None
