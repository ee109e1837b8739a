"""The arithmetic of costing a service (pure; no Django). See ``docs/costing.md`` for the worked example.

* A child born in calendar month ``M`` (``month_index``) is ``a`` completed months old during month
  ``M + a``. A service for ages ``[low, high]`` months counts a child in year ``Y`` when one of those
  months falls in ``Y``: born from month ``12·Y − high`` to month ``12·Y + 11 − low`` (:func:`window`).
  A service for pregnancies counts one pregnancy a birth of the year (the window of ``[0, 0]``).
* Months before the reference month (the current one) are counted from the registry; months from it on
  are projected at the territory's birth rate: the births of the twelve complete months before the
  reference month, divided by 12 (an exact fraction). No deaths or moves are projected.
* The eligible population of a territory is rounded half up to whole people; the cost of a line is
  ``unit cost × eligible × coverage`` rounded half up to the cent. A larger territory's cost is the sum of
  the rounded costs of the territories in it, never recomputed from its own totals, so a region's total
  is exactly the sum of its municipalities'.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

CENT = Decimal("0.01")
SHARE = Decimal("0.0001")


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def window(year: int, age_months: tuple[int, int] | None) -> tuple[int, int]:
    """The birth months (first, last, both included) of the children eligible during ``year``."""
    low, high = age_months if age_months is not None else (0, 0)
    return year * 12 - high, year * 12 + 11 - low


def registered_span(span: tuple[int, int], reference: int) -> tuple[int, int] | None:
    """The birth months of ``span`` counted from the registry: those before ``reference`` (None: none)."""
    first, last = span[0], min(span[1], reference - 1)
    return (first, last) if first <= last else None


def future_months(span: tuple[int, int], reference: int) -> int:
    """The birth months of ``span`` projected: ``reference`` and after."""
    first, last = span
    return max(0, last - max(first, reference) + 1)


def rate_span(reference: int) -> tuple[int, int]:
    """The twelve complete months before ``reference``, whose births set the monthly birth rate."""
    return reference - 12, reference - 1


def eligible(registered: int, span: tuple[int, int], reference: int, rate: Fraction) -> Fraction:
    """Children born in ``span``: ``registered`` (those of :func:`registered_span`) plus ``rate`` a month for
    :func:`future_months`. ``rate`` is the births of :func:`rate_span` divided by 12."""
    return Fraction(registered) + rate * future_months(span, reference)


def month_dates(first: int, last: int) -> tuple[dt.date, dt.date]:
    """The first day of month ``first`` and the last day of month ``last`` (month indexes)."""
    start = dt.date(first // 12, first % 12 + 1, 1)
    after = dt.date((last + 1) // 12, (last + 1) % 12 + 1, 1)
    return start, after - dt.timedelta(days=1)


def whole_people(value: Fraction) -> int:
    """Half up to a whole person."""
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cost(unit_cost: Decimal, people: int, coverage: Decimal) -> Decimal:
    """``unit cost × eligible × coverage``, half up to the cent."""
    return (unit_cost * people * coverage).quantize(CENT, rounding=ROUND_HALF_UP)


def share(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """An effective coverage (half up to 4 decimals); None with no one eligible."""
    if not denominator:
        return None
    return (numerator / denominator).quantize(SHARE, rounding=ROUND_HALF_UP)
