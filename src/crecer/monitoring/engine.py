"""Computing indicators: one grouped SQL query per side (numerator, denominator) per indicator.

Each query groups the subjects by their territory and by every disaggregation the indicator has, so a
single pass gives the fine cells; totals, single-dimension breakdowns and every level of the territory
tree (a region is the sum of its municipalities) are sums of those cells, done on a few thousand rows,
never on the subjects. Medians (days to attention) are computed from the values of their subjects.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.utils import timezone

from crecer.lib.periods import Period
from crecer.monitoring.definitions import Indicator
from crecer.monitoring.facts import FACTS, POPULATIONS
from crecer.territories.models import Territory

TOTAL = ""  # the group key of a figure without disaggregation
#: indicators computed at once by compute_many (the machine's cores, at most 4)
JOBS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Figure:
    indicator: str
    version: int
    territory_id: int
    period: str
    group: str  # "" for the total, else "dimension=value"
    numerator: float
    denominator: float
    value: float | None


def conditions(indicator: Indicator, period: Period, side: str) -> list[Q]:
    """The conditions of the denominator, or of the numerator (the denominator's and its own)."""
    steps = list(indicator.denominator) + (list(indicator.numerator) if side == "numerator" else [])
    return [FACTS[(indicator.population, step.fact)](period, **step.params) for step in steps]


def subjects(indicator: Indicator, period: Period, side: str = "denominator") -> QuerySet[Any]:
    """The subjects of the denominator (or of the numerator, a subset of it), not scoped."""
    return POPULATIONS[indicator.population].base().filter(*conditions(indicator, period, side))


def _dimension(indicator: Indicator, name: str, period: Period) -> Any:
    population = POPULATIONS[indicator.population]
    if name == "age_band":
        end = period.end
        return Case(
            When(birth_date__gt=end - dt.timedelta(days=365), then=Value("0-11m")),
            When(birth_date__gt=end - dt.timedelta(days=730), then=Value("12-23m")),
            When(birth_date__gt=end - dt.timedelta(days=1826), then=Value("24-59m")),
            default=Value("60m+"),
            output_field=CharField(),
        )
    if name == "vulnerability":
        field = population.disaggregations["vulnerability"]
        return Case(
            When(**{f"{field}__isnull": True}, then=Value("unknown")),
            When(**{f"{field}__lte": 40}, then=Value("0-40")),
            When(**{f"{field}__lte": 60}, then=Value("41-60")),
            default=Value("61-100"),
            output_field=CharField(),
        )
    return F(population.disaggregations[name])


def _dimensions(indicator: Indicator) -> list[str]:
    return [d for d in indicator.disaggregations if d != "territory"]


def _cells(indicator: Indicator, period: Period, dims: list[str]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """{(leaf territory id, *dimension values): (numerator, denominator)} in one grouped query: the
    denominator's subjects counted, and those also meeting the numerator's conditions counted apart."""
    annotations = {f"_d_{d}": _dimension(indicator, d, period) for d in dims}
    numerator = Q(*conditions(indicator, period, "numerator")[len(indicator.denominator) :])
    rows = (
        subjects(indicator, period)
        .annotate(_t=F(POPULATIONS[indicator.population].territory), **annotations)
        .values("_t", *annotations)
        .annotate(_den=Count("pk"), _num=Count("pk", filter=numerator))
        .values_list("_t", *annotations, "_num", "_den")
    )
    return {tuple(row[:-2]): (row[-2], row[-1]) for row in rows}


def _ancestors(territory_ids: Iterable[int]) -> dict[int, list[int]]:
    """leaf id -> [itself and every ancestor id]"""
    by_code = dict(Territory.objects.values_list("code", "id"))
    out = {}
    for pk, path in Territory.objects.filter(pk__in=set(territory_ids)).values_list("pk", "path"):
        out[pk] = [by_code[c] for c in path.strip("/").split("/") if c in by_code]
    return out


def _value(unit: str, numerator: float, denominator: float) -> float | None:
    if unit == "count":
        return numerator
    if not denominator:
        return None
    if unit == "percent":
        return round(100.0 * numerator / denominator, 2)
    if unit == "per_1000":
        return round(1000.0 * numerator / denominator, 2)
    raise ValueError(unit)


def compute(indicator: Indicator, period: Period, *, disaggregate: bool = True) -> list[Figure]:
    """Every figure of ``indicator`` for ``period``: each territory at every level, the total and, with
    ``disaggregate``, one breakdown per disaggregation dimension."""
    if indicator.unit == "median_days":
        return _compute_median(indicator, period, disaggregate)
    dims = _dimensions(indicator) if disaggregate else []
    cells = _cells(indicator, period, dims)
    ancestors = _ancestors({key[0] for key in cells})
    totals: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for key, (num, den) in cells.items():
        leaf, values = key[0], key[1:]
        groups = [TOTAL] + [f"{d}={v}" for d, v in zip(dims, values, strict=True)]
        for territory in ancestors.get(leaf, []):
            for group in groups:
                total = totals[(territory, group)]
                total[0] += num
                total[1] += den
    return [
        Figure(indicator.code, indicator.version, territory, period.code, group, n, d, _value(indicator.unit, n, d))
        for (territory, group), (n, d) in sorted(totals.items())
    ]


def compute_many(
    indicators: Iterable[Indicator], period: Period, *, disaggregate: bool = True, jobs: int | None = None
) -> list[Figure]:
    """:func:`compute` for several indicators, ``jobs`` at a time on their own database connections
    (the database does the work; on SQLite and PostgreSQL alike queries of separate connections run in
    parallel). Inside a transaction, whose uncommitted data other connections cannot see, they run one
    after another on the caller's connection."""
    indicators = list(indicators)
    jobs = jobs or JOBS
    if jobs <= 1 or connection.in_atomic_block or len(indicators) < 2:
        return [f for indicator in indicators for f in compute(indicator, period, disaggregate=disaggregate)]

    def run(indicator: Indicator) -> list[Figure]:
        try:
            return compute(indicator, period, disaggregate=disaggregate)
        finally:
            connection.close()  # this worker thread's own connection

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(run, indicators))
    return [f for figures in results for f in figures]


def _compute_median(indicator: Indicator, period: Period, disaggregate: bool) -> list[Figure]:
    """Median days from sending to first attention, in calendar days of the country's time zone."""
    dims = _dimensions(indicator) if disaggregate else []
    annotations = {f"_d_{d}": _dimension(indicator, d, period) for d in dims}
    qs = subjects(indicator, period).annotate(_t=F(POPULATIONS[indicator.population].territory), **annotations)
    rows = list(qs.values_list("_t", "sent_at", "started_at", *annotations))
    ancestors = _ancestors({r[0] for r in rows})
    values: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row in rows:
        days = (timezone.localdate(row[2]) - timezone.localdate(row[1])).days
        groups = [TOTAL] + [f"{d}={v}" for d, v in zip(dims, row[3:], strict=True)]
        for territory in ancestors.get(row[0], []):
            for group in groups:
                values[(territory, group)].append(days)
    return [
        Figure(
            indicator.code,
            indicator.version,
            territory,
            period.code,
            group,
            len(v),
            len(v),
            round(float(np.median(v)), 2),
        )
        for (territory, group), v in sorted(values.items())
    ]
