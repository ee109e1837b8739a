"""Demo monitoring: frozen snapshots of recent periods (so trends have points) and synthetic targets."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crecer.audit.trail import Actor
from crecer.lib.periods import Period, parse
from crecer.monitoring import definitions, snapshots
from crecer.monitoring.actions import save_target
from crecer.monitoring.models import Snapshot, SnapshotValue, Target
from crecer.territories.models import Territory

DEMO_REASON = "demo: synthetic data"


def demo_periods(today: dt.date) -> list[Period]:
    """Last year, this year, and the last four finished quarters."""
    current = parse(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    return [parse(str(today.year - 1)), parse(str(today.year)), *current.previous(4)]


def ensure_snapshots(actor: Actor) -> int:
    """Freeze the demo periods that have no snapshot yet; returns how many were taken."""
    taken = 0
    for period in demo_periods(timezone.localdate()):
        if not Snapshot.objects.filter(period=period.code).exists():
            snapshots.take(actor, period, DEMO_REASON)
            taken += 1
    return taken


def ensure_targets(actor: Actor) -> int:
    """Synthetic targets for this year at the national and regional levels: the baseline is last year's
    frozen figure, the target a tenth of the way towards the better end."""
    if Target.objects.exists():
        return 0
    today = timezone.localdate()
    last = Snapshot.objects.filter(period=str(today.year - 1)).order_by("-revision").first()
    if last is None:
        return 0
    top = list(Territory.objects.filter(depth__lte=1))
    values = SnapshotValue.objects.filter(snapshot=last, group="", territory__in=top, value__isnull=False)
    units = {i.code: i for i in definitions.indicators()}
    by_id = {t.pk: t for t in top}
    count = 0
    for v in values:
        indicator = units.get(v.indicator)
        if indicator is None or indicator.unit != "percent" or v.value is None:
            continue
        goal = v.value + (100 - v.value) / 10 if indicator.direction == "higher" else v.value * 0.9
        cleaned = {
            "indicator": v.indicator,
            "territory": by_id[v.territory_id],
            "period": str(today.year),
            "baseline": round(v.value, 1),
            "target": round(goal, 1),
        }
        save_target(actor, cleaned)
        count += 1
    return count
