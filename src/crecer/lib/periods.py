"""Reporting periods: a year (``2025``), a quarter (``2025-Q2``) or a month (``2025-07``)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    code: str
    kind: str  # year, quarter, month
    start: dt.date
    end: dt.date  # inclusive

    def previous(self, count: int = 1) -> list[Period]:
        """The ``count`` periods of the same kind before this one, oldest first."""
        out = []
        day = self.start
        for _ in range(count):
            day = day - dt.timedelta(days=1)
            if self.kind == "year":
                out.append(parse(str(day.year)))
            elif self.kind == "quarter":
                out.append(parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}"))
            else:
                out.append(parse(f"{day.year}-{day.month:02d}"))
            day = out[-1].start
        return list(reversed(out))


class PeriodError(ValueError):
    pass


def parse(code: str) -> Period:
    """A period from its code; :class:`PeriodError` if it is not one."""
    code = code.strip().upper()
    if m := _YEAR.match(code):
        year = int(m.group(1))
        return Period(code, "year", dt.date(year, 1, 1), dt.date(year, 12, 31))
    if m := _QUARTER.match(code):
        year, quarter = int(m.group(1)), int(m.group(2))
        first = 3 * (quarter - 1) + 1
        last = first + 2
        return Period(code, "quarter", dt.date(year, first, 1), dt.date(year, last, calendar.monthrange(year, last)[1]))
    if m := _MONTH.match(code):
        year, month = int(m.group(1)), int(m.group(2))
        return Period(code, "month", dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]))
    raise PeriodError(f"{code!r} is not a period (use 2025, 2025-Q2 or 2025-07)")
