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

from collections.abc import Mapping
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


def birth_rate(births: Mapping[int, int], reference: int) -> Fraction:
    """Births a month: those of the twelve complete months before ``reference``, divided by 12."""
    return Fraction(sum(births.get(m, 0) for m in range(reference - 12, reference)), 12)


def eligible(births: Mapping[int, int], span: tuple[int, int], reference: int, rate: Fraction) -> Fraction:
    """Children born in ``span`` (birth months): registered ones before ``reference``, projected ones at
    ``rate`` a month from ``reference`` on."""
    first, last = span
    counted = sum(n for m, n in births.items() if first <= m <= last and m < reference)
    future = max(0, last - max(first, reference) + 1)
    return Fraction(counted) + rate * future


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
