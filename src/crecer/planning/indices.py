"""Composite indices computed from frozen snapshots: the figures of the period's latest snapshot revision
(read as :mod:`crecer.results.evaluation` reads them, never live data), the arithmetic in
:mod:`crecer.lib.planning`. A period without a snapshot answers with an error naming the period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer import conf
from crecer.lib import planning
from crecer.lib.results import exact
from crecer.monitoring import definitions
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.results.evaluation import latest_snapshots
from crecer.territories.models import Territory
from crecer.validation import Collector


def indices() -> tuple[planning.Index, ...]:
    return conf.profile().planning.indices


def index_or_404(code: str) -> planning.Index:
    try:
        return conf.profile().planning.index(code)
    except KeyError:
        raise Http404 from None


def indicator_name(code: str) -> str:
    try:
        return definitions.get(code).name(get_language() or "es")
    except KeyError:
        return code


def snapshot_of(period: str, snapshot_id: int | None = None) -> Snapshot:
    """The latest frozen revision of ``period`` (or the one asked for); refuses, naming the period, without one."""
    found: Snapshot | None
    if snapshot_id is not None:
        found = Snapshot.objects.filter(pk=snapshot_id, period=period).first()
        if found is None:
            raise Http404
        return found
    found = latest_snapshots([period]).get(period)
    if found is None:
        errors = Collector()
        errors.add(
            "period",
            "missing_snapshot",
            _("No frozen snapshot of the period %(period)s: take one first.") % {"period": period},
        )
        errors.raise_if_any()
    assert found is not None
    return found


@dataclass(frozen=True)
class Computed:
    snapshot: Snapshot
    territories: dict[int, Territory]
    values: dict[int, planning.IndexValue]


def compute(index: planning.Index, snapshot: Snapshot, territories: Sequence[Territory]) -> Computed:
    """The index of each of ``territories`` on ``snapshot`` (two queries). A ``territories`` normalisation
    compares each territory with every territory of its level in the snapshot."""
    wanted = {t.pk: t for t in territories}
    codes = [c.indicator for c in index.components]
    rows = SnapshotValue.objects.filter(snapshot=snapshot, indicator__in=codes, group="")
    compared = any(c.normalisation == "territories" for c in index.components)
    if compared:
        rows = rows.filter(territory__depth__in={t.depth for t in territories})
    else:
        rows = rows.filter(territory_id__in=list(wanted))
    figures: dict[int, dict[str, Fraction | None]] = {pk: {} for pk in wanted}
    depth_of = {pk: t.depth for pk, t in wanted.items()}
    for territory_id, indicator, value, depth in rows.values_list(
        "territory_id", "indicator", "value", "territory__depth"
    ):
        figures.setdefault(territory_id, {})[indicator] = exact(value)
        depth_of[territory_id] = depth
    values = planning.compute(index, figures, depth_of)
    return Computed(snapshot, wanted, {pk: values[pk] for pk in wanted})


def number(value: Fraction | None, places: int = 2) -> float | None:
    return None if value is None else float(planning.decimal_text(value, places))


def index_payload(index: planning.Index) -> dict[str, Any]:
    language = get_language() or "es"
    return {
        "code": index.code,
        "name": index.name(language),
        "description": index.description(language),
        "scale": index.scale,
        "components": [
            {
                "indicator": c.indicator,
                "indicator_name": indicator_name(c.indicator),
                "weight": float(c.weight),
                "normalisation": c.normalisation,
                "direction": c.direction,
                "low": None if c.low is None else float(c.low),
                "high": None if c.high is None else float(c.high),
                "target": None if c.target is None else float(c.target),
            }
            for c in index.components
        ],
    }


def value_payload(territory: Territory, result: planning.IndexValue) -> dict[str, Any]:
    return {
        "territory": territory.code,
        "territory_name": territory.name,
        "level": territory.level,
        "value": number(result.value),
        "value_exact": None if result.value is None else str(result.value),
        "missing": list(result.missing),
        "components": [
            {
                "indicator": c.indicator,
                "indicator_name": indicator_name(c.indicator),
                "value": number(c.value, 4),
                "normalised": number(c.normalised, 4),
                "weight": float(c.weight),
                "effective_weight": number(c.effective_weight, 4),
                "contribution": number(c.contribution),
            }
            for c in result.components
        ],
    }
