"""API for planning: an indicator's projection to a horizon, and the costing of a territory and year.

Planners (national and regional managers), municipal coordinators (their own municipality) and auditors
read them for their territory; any other territory answers 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from crecer.costing import compute, projections, scope
from crecer.lib import projections as trends
from crecer.validation import Collector

router = Router(tags=["planning"])
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _territory(request: HttpRequest, code: str) -> Any:
    territory = scope.territory_for(request.user, code)
    if territory is None:
        raise Http404
    return territory


def _year(errors: Collector, name: str, value: int) -> None:
    if not FIRST_YEAR <= value <= LAST_YEAR:
        errors.add(
            name, "invalid", _("Write a year between %(low)s and %(high)s.") % {"low": FIRST_YEAR, "high": LAST_YEAR}
        )


@router.get("/projections")
def projection(
    request: HttpRequest,
    indicator: str,
    territory: str = "",
    horizon: int = projections.DEFAULT_HORIZON,
    method: str = "",
) -> dict[str, Any]:
    """An indicator's observed series in a territory (yours by default), from the frozen snapshots, and its
    trend to ``horizon`` with a 95 % band: ``method`` linear or logistic (default: logistic for a
    percentage, linear otherwise); with the yearly targets and whether the trend reaches them."""
    place = _territory(request, territory)
    errors = Collector()
    chosen = projections.indicator_or_none(indicator)
    if chosen is None:
        errors.add("indicator", "unknown", _("Choose an indicator of the country profile."))
    _year(errors, "horizon", horizon)
    if method and method not in trends.METHODS:
        errors.add(
            "method", "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": ", ".join(trends.METHODS)}
        )
    if method == trends.LOGISTIC and chosen is not None and chosen.unit != "percent":
        errors.add("method", "not_a_share", _("The logistic trend is for percentages."))
    errors.raise_if_any()
    assert chosen is not None
    return projections.project(chosen, place, horizon, method).payload()


def costing_payload(result: compute.Costing) -> dict[str, Any]:
    return {
        "territory": result.territory.code,
        "year": result.year,
        "currency": result.currency,
        "lines": [
            {
                "service": line.service.code,
                "unit_cost": None if line.unit_cost is None else str(line.unit_cost),
                "eligible": line.eligible,
                "coverage": None if line.coverage is None else str(line.coverage),
                "cost": str(line.cost),
                "served": line.served,
                "executed": str(line.executed),
            }
            for line in result.lines
        ],
        "total": str(result.total),
        "executed_total": str(result.executed),
    }


@router.get("/costing")
def costing(request: HttpRequest, year: int, territory: str = "") -> dict[str, Any]:
    """The costing of a territory (yours by default) for a year: per costed service, the unit cost in force,
    the eligible population, the effective coverage and the cost (amounts as exact decimal text); the
    children served and what that cost (executed); and the totals. A territory's cost is the sum of the
    costs of the territories in it."""
    place = _territory(request, territory)
    errors = Collector()
    _year(errors, "year", year)
    errors.raise_if_any()
    return costing_payload(compute.costing(request.user, place, year, timezone.localdate()))
