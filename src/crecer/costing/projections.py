"""An indicator's observed series in a territory, from the frozen snapshots (the latest revision of each
period, as :mod:`crecer.results.evaluation` reads them), its trend to a horizon year
(:mod:`crecer.lib.projections`) and the yearly targets managers set (:class:`crecer.monitoring.models.Target`
with a year as period)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crecer.lib import projections as trends
from crecer.lib.periods import Period, PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import definitions
from crecer.monitoring.definitions import Indicator
from crecer.monitoring.models import Snapshot, SnapshotValue, Target
from crecer.results.evaluation import latest_snapshots
from crecer.territories.models import Territory

DEFAULT_HORIZON = 2030


def middle(period: Period) -> float:
    """The middle of a period as a decimal year (2025 → 2025.5; 2025-01 → about 2025.04)."""
    year = period.start.year
    days = (period.end - period.start).days + 1
    mid = (period.start.toordinal() - period.start.replace(month=1, day=1).toordinal()) + days / 2
    return year + mid / (366 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 365)


def observed(indicator: Indicator, territory: Territory) -> list[tuple[Period, float]]:
    """(period, value) of the indicator's own kind of period, oldest first, from each period's latest
    snapshot; periods whose figure has no value are left out (two queries)."""
    periods = []
    for code in Snapshot.objects.values_list("period", flat=True).distinct():
        try:
            period = parse_period(code)
        except PeriodError:
            continue
        if period.kind == indicator.period:
            periods.append(period)
    found = latest_snapshots(p.code for p in periods)
    by_snapshot = {s.pk: parse_period(code) for code, s in found.items()}
    rows = SnapshotValue.objects.filter(
        snapshot_id__in=list(by_snapshot), indicator=indicator.code, territory=territory, group=""
    ).values_list("snapshot_id", "value")
    series = [(by_snapshot[pk], value) for pk, value in rows if value is not None]
    return sorted(series, key=lambda item: item[0].start)


@dataclass(frozen=True)
class Projection:
    indicator: Indicator
    territory: Territory
    method: str
    observed: list[tuple[Period, float]]
    points: list[trends.Point]
    targets: list[tuple[int, float, float | None, bool | None]]  # year, target, projected, reached

    def payload(self) -> dict[str, Any]:
        last = self.targets[-1] if self.targets else None
        return {
            "method": self.method,
            "indicator": self.indicator.code,
            "territory": self.territory.code,
            "unit": self.indicator.unit,
            "observed": [{"period": p.code, "value": v} for p, v in self.observed],
            "points": [
                {"year": p.year, "value": round(p.value, 4), "low": round(p.low, 4), "high": round(p.high, 4)}
                for p in self.points
            ],
            "targets": [
                {"year": y, "target": t, "projected": None if v is None else round(v, 4), "reaches_target": r}
                for y, t, v, r in self.targets
            ],
            "reaches_target": last[3] if last else None,
        }


def project(indicator: Indicator, territory: Territory, horizon: int, method: str = "") -> Projection:
    """The trend of the observed series to ``horizon`` (logistic for a percentage unless ``method`` says
    linear), and whether it reaches each yearly target."""
    series = observed(indicator, territory)
    percent = indicator.unit == "percent"
    scale = 100.0 if percent else 1.0
    values = [v / scale for _, v in series]
    method = method or trends.default_method(values, share=percent)
    points: list[trends.Point] = []
    if series:
        fitted = trends.fit([middle(p) for p, _ in series], values, method, share=percent)
        first = series[-1][0].start.year
        points = [
            trends.Point(p.year, p.value * scale, p.low * scale, p.high * scale)
            for p in trends.project(fitted, range(first, max(horizon, first) + 1))
        ]
    by_year = {p.year: p.value for p in points}
    targets = []
    for year, target in (
        Target.objects.filter(indicator=indicator.code, territory=territory)
        .order_by("period")
        .values_list("period", "target")
    ):
        if not (len(year) == 4 and year.isdigit()):  # yearly targets only
            continue
        value = by_year.get(int(year))
        reached = None if value is None else trends.reaches(value, target, indicator.direction)
        targets.append((int(year), target, value, reached))
    return Projection(indicator, territory, method if series else trends.CONSTANT, series, points, targets)


def indicator_or_none(code: str) -> Indicator | None:
    try:
        return definitions.get(code)
    except KeyError:
        return None
