"""The costing arithmetic: birth-month windows, projected births, rounding of people and money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from crecer.lib import costing as c


def test_windows_are_the_birth_months_eligible_during_the_year():
    # a newborn service in 2025: born January to December 2025
    assert c.window(2025, (0, 0)) == (c.month_index(2025, 1), c.month_index(2025, 12))
    # under five (0–59 months): born from February 2020 (59 months old in January 2025)
    first, last = c.window(2025, (0, 59))
    assert first == c.month_index(2020, 2) and last == c.month_index(2025, 12)
    # 3–71 months: the youngest turn 3 months in December 2025 (born September 2025)
    assert c.window(2025, (3, 71))[1] == c.month_index(2025, 9)


def test_registered_then_projected_births():
    reference = c.month_index(2026, 6)
    # births July and November 2025 in the twelve months before June 2026: 2/12 a month
    assert c.rate_span(reference) == (c.month_index(2025, 6), c.month_index(2026, 5))
    rate = Fraction(2, 12)
    span_2026 = c.window(2026, (0, 0))
    # 2026: January–May registered, June–December projected (7 months)
    assert c.registered_span(span_2026, reference) == (c.month_index(2026, 1), c.month_index(2026, 5))
    assert c.future_months(span_2026, reference) == 7
    assert c.eligible(0, span_2026, reference, rate) == Fraction(7, 6)
    assert c.whole_people(Fraction(7, 6)) == 1 and c.whole_people(Fraction(3, 2)) == 2
    # 2025: all registered; 2027: all projected
    assert c.future_months(c.window(2025, (0, 0)), reference) == 0
    assert c.registered_span(c.window(2027, (0, 0)), reference) is None
    assert c.eligible(2, c.window(2025, (0, 0)), reference, rate) == 2
    assert c.month_dates(c.month_index(2024, 2), c.month_index(2024, 2)) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


def test_money_half_up_to_the_cent():
    assert c.cost(Decimal("46000.50"), 3, Decimal("0.9")) == Decimal("124201.35")
    assert c.cost(Decimal("0.05"), 1, Decimal("0.5")) == Decimal("0.03")  # 0.025 → 0.03
    assert c.share(Decimal("4.2"), Decimal(5)) == Decimal("0.8400") and c.share(Decimal(0), Decimal(0)) is None
