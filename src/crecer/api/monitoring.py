"""API for indicators: definitions, figures for a territory and the territories below it, snapshots."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from crecer.api.base import paginate
from crecer.lib.periods import PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import definitions, quality, reading
from crecer.monitoring.definitions import Indicator
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.territories.models import Territory
from crecer.validation import Collector

router = Router(tags=["indicators"])
VALUES_PAGE_SIZE = 1000


def _territory(request: HttpRequest, code: str) -> Territory:
    territory = reading.territory_for(request.user, code)
    if territory is None:
        raise Http404
    return territory


def _indicator(code: str) -> Indicator:
    try:
        return definitions.get(code)
    except KeyError:
        try:
            return quality.get(code)
        except KeyError:
            raise Http404 from None


def indicator_payload(i: Indicator) -> dict[str, Any]:
    return {
        "code": i.code,
        "version": i.version,
        "name_es": i.name_es,
        "name_en": i.name_en,
        "axis": i.axis,
        "population": i.population,
        "unit": i.unit,
        "period_type": i.period,
        "direction": i.direction,
        "source": i.source,
        "denominator": [{"fact": s.fact, **s.params} for s in i.denominator],
        "numerator": [{"fact": s.fact, **s.params} for s in i.numerator],
        "disaggregations": list(i.disaggregations),
        "data_quality": i.axis == "management" and i.code.startswith("dq_"),
    }


def snapshot_payload(s: Snapshot) -> dict[str, Any]:
    return {
        "id": s.pk,
        "period": s.period,
        "revision": s.revision,
        "profile": s.profile,
        "profile_version": s.profile_version,
        "definitions": s.definitions,
        "fingerprint": s.fingerprint,
        "data_marker": s.data_marker,
        "created_at": s.created_at,
        "created_by": s.created_by.username if s.created_by_id else None,  # type: ignore[union-attr]
        "reason": s.reason,
        "seconds": s.seconds,
    }


@router.get("/indicators")
def list_indicators(request: HttpRequest) -> dict[str, Any]:
    _territory(request, "")
    return {"results": [indicator_payload(i) for i in (*definitions.indicators(), *quality.QUALITY)]}


@router.get("/indicators/{code}/values")
def indicator_values(
    request: HttpRequest,
    code: str,
    territory: str = "",
    period: str = "",
    by: str = "",
    snapshot: int | None = None,
    live: bool = False,
) -> dict[str, Any]:
    """The figure of a territory (yours by default) and of each territory directly below it, for a
    period; ``by`` adds one disaggregation; from the period's latest snapshot unless ``live`` or a
    ``snapshot`` id is given."""
    indicator = _indicator(code)
    place = _territory(request, territory)
    errors = Collector()
    try:
        chosen = parse_period(period) if period else None
    except PeriodError:
        chosen = None
    if chosen is None:
        errors.add("period", "invalid", _("Use a year (2025), a quarter (2025-Q2) or a month (2025-07)."))
    if by and by not in indicator.disaggregations:
        errors.add(
            "by",
            "invalid_choice",
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(indicator.disaggregations) or "—"},
        )
    errors.raise_if_any()
    assert chosen is not None
    frozen = None
    if snapshot is not None:
        frozen = Snapshot.objects.filter(pk=snapshot, period=chosen.code).first()
        if frozen is None:
            raise Http404
    elif not live:
        frozen = reading.latest_snapshot(chosen.code)
    below = reading.children_of(place)
    territories = {t.pk: t for t in (place, *below)}
    values = reading.figures(chosen, list(territories), frozen, groups=bool(by) and by != "territory")
    targets = reading.targets(chosen.code, list(territories))
    rows = []
    for (ind, territory_id, group), v in sorted(
        values.items(), key=lambda item: (territories[item[0][1]].path, item[0][2])
    ):
        if ind != code or (group and not group.startswith(f"{by}=")):
            continue
        t = territories[territory_id]
        target = targets.get((code, territory_id)) if not group else None
        rows.append(
            {
                "territory": t.code,
                "territory_name": t.name,
                "level": t.level,
                "group": group,
                "numerator": v.numerator,
                "denominator": v.denominator,
                "value": v.value,
                "target": {"baseline": target.baseline, "target": target.target, "progress": target.progress(v.value)}
                if target
                else None,
            }
        )
    return {
        "indicator": indicator_payload(indicator),
        "territory": place.code,
        "period": chosen.code,
        "snapshot": snapshot_payload(frozen) if frozen else None,
        "values": rows,
    }


@router.get("/snapshots")
def list_snapshots(request: HttpRequest, period: str = "") -> dict[str, Any]:
    _territory(request, "")
    snapshots = Snapshot.objects.select_related("created_by").order_by("-period", "-revision")
    if period:
        snapshots = snapshots.filter(period=period)
    return {"results": [snapshot_payload(s) for s in snapshots[:200]]}


@router.get("/snapshots/{snapshot_id}")
def get_snapshot(request: HttpRequest, snapshot_id: int, indicator: str = "", page: int = 1) -> dict[str, Any]:
    """A snapshot and its frozen figures for the territories you may see (paged, 1000 a page)."""
    place = _territory(request, "")
    frozen = Snapshot.objects.select_related("created_by").filter(pk=snapshot_id).first()
    if frozen is None:
        raise Http404
    values = SnapshotValue.objects.filter(snapshot=frozen, territory__path__startswith=place.path).order_by(
        "indicator", "territory_id", "group"
    )
    if indicator:
        values = values.filter(indicator=indicator)
    rows, pages = paginate(
        values.values_list("indicator", "version", "territory__code", "group", "numerator", "denominator", "value"),
        page,
        VALUES_PAGE_SIZE,
    )
    return {
        **snapshot_payload(frozen),
        **pages,
        "values": [
            dict(
                zip(("indicator", "version", "territory", "group", "numerator", "denominator", "value"), r, strict=True)
            )
            for r in rows
        ],
    }
