"""Reading figures for dashboards and the API: from a frozen snapshot (fast, what was reported) or
computed live (cached until the data changes)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from crecer.access import permissions
from crecer.audit.models import Action, AuditEvent
from crecer.lib.periods import Period, PeriodError, parse
from crecer.monitoring import definitions, engine, quality
from crecer.monitoring.models import Snapshot, SnapshotValue, Target
from crecer.territories.models import Territory


@dataclass(frozen=True)
class Value:
    numerator: float
    denominator: float
    value: float | None


def latest_snapshot(period: str) -> Snapshot | None:
    return Snapshot.objects.filter(period=period).order_by("-revision").first()


_NOT_DATA_CHANGES = (
    Action.READ,
    Action.SEARCH,
    Action.EXPORT,
    Action.LOGIN,
    Action.LOGOUT,
    Action.LOGIN_FAILED,
    Action.LOCKOUT,
    Action.PASSWORD,
    Action.TWO_FACTOR,
)


def write_marker() -> int:
    """The id of the last audited write: every change of data is audited; reads, exports and the events of
    signing in (sign-ins, sign-outs, failures, lockouts, passwords, second factors) are not changes of data."""
    last = AuditEvent.objects.exclude(action__in=_NOT_DATA_CHANGES).order_by("-id").values_list("id", flat=True).first()
    return last or 0


def _live(period: Period) -> list[tuple[Any, ...]]:
    """Every figure of the period computed now (cached until the next audited write)."""
    key = f"crecer:figures:{period.code}:{write_marker()}"
    rows = cache.get(key)
    if rows is None:
        rows = [
            (f.indicator, f.territory_id, f.group, f.numerator, f.denominator, f.value)
            for f in engine.compute_many((*definitions.indicators(), *quality.QUALITY), period)
        ]
        cache.set(key, rows, 3600)
    return rows


def figures(
    period: Period, territory_ids: list[int], snapshot: Snapshot | None, *, groups: bool = False
) -> dict[tuple[str, int, str], Value]:
    """{(indicator, territory id, group): value} for these territories, from the snapshot (which also froze
    the data-quality figures of its moment) or live."""
    wanted = set(territory_ids)
    out = {}
    if snapshot is not None:
        rows = SnapshotValue.objects.filter(snapshot=snapshot, territory_id__in=wanted)
        if not groups:
            rows = rows.filter(group="")
        for r in rows.values_list("indicator", "territory_id", "group", "numerator", "denominator", "value"):
            out[(r[0], r[1], r[2])] = Value(r[3], r[4], r[5])
        return out
    for r in _live(period):
        if r[1] in wanted and (groups or r[2] == ""):
            out[(r[0], r[1], r[2])] = Value(r[3], r[4], r[5])
    return out


def trends(
    codes: list[str], territory_id: int, period: Period, count: int = 6
) -> dict[str, list[tuple[str, float | None]]]:
    """Each indicator's value in the ``count`` periods up to this one, from each period's latest snapshot
    (two queries whatever the number of indicators)."""
    periods = [p.code for p in period.previous(count - 1)] + [period.code]
    latest: dict[str, int] = {}
    for pk, p in Snapshot.objects.filter(period__in=periods).order_by("revision").values_list("pk", "period"):
        latest[p] = pk  # the highest revision wins
    by_snapshot = {pk: p for p, pk in latest.items()}
    values: dict[tuple[str, str], float | None] = {}
    rows = SnapshotValue.objects.filter(
        snapshot_id__in=list(by_snapshot), indicator__in=codes, territory_id=territory_id, group=""
    ).values_list("snapshot_id", "indicator", "value")
    for snapshot_id, code, value in rows:
        values[(code, by_snapshot[snapshot_id])] = value
    return {code: [(p, values.get((code, p))) for p in periods] for code in codes}


def trend(code: str, territory_id: int, period: Period, count: int = 6) -> list[tuple[str, float | None]]:
    return trends([code], territory_id, period, count)[code]


def targets(period: str, territory_ids: list[int]) -> dict[tuple[str, int], Target]:
    return {
        (t.indicator, t.territory_id): t for t in Target.objects.filter(period=period, territory_id__in=territory_ids)
    }


def group_rows(
    values: dict[tuple[str, int, str], Value], code: str, territory_id: int
) -> dict[str, list[tuple[str, Value]]]:
    """A figure's disaggregations: {dimension: [(value label, figure)]}."""
    out: dict[str, list[tuple[str, Value]]] = defaultdict(list)
    for (indicator, territory, group), value in values.items():
        if indicator == code and territory == territory_id and group:
            dimension, label = group.split("=", 1)
            out[dimension].append((label, value))
    return {k: sorted(v) for k, v in out.items()}


def territory_for(user: Any, code: str) -> Territory | None:
    """The territory asked for (the user's own when ``code`` is empty), or None when the user may not
    see its figures: deny by default, the same answer for unknown and out-of-scope codes."""
    if not getattr(user, "is_active", False) or not permissions.has(user, permissions.READ_INDICATORS):
        return None
    if not code:
        return user.territory
    territory = Territory.objects.filter(code=code).first()
    if territory is None or not user.territory.contains(territory):
        return None
    return territory


def parse_period(raw: str, default: str) -> Period:
    try:
        return parse(raw or default)
    except PeriodError:
        return parse(default)


def children_of(territory: Territory) -> list[Territory]:
    return list(territory.children.order_by("name"))
