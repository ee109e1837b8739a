"""Pages of planning: the costing of a territory (by year to the horizon, by territory below, planned against
executed; coverage targets), unit costs, and an indicator's projection (chart, yearly targets); each with
its Excel download. Figures only: no person is shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import xlsx_response
from crecer.costing import actions, compute, projections, scope
from crecer.costing.models import UnitCost
from crecer.lib import minicharts
from crecer.lib import projections as trends
from crecer.monitoring import definitions
from crecer.monitoring.actions import clean_target, save_target
from crecer.monitoring.reading import children_of
from crecer.territories.models import Territory
from crecer.validation import Collector, InputErrors


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _territory(request: HttpRequest) -> Territory:
    territory = scope.territory_for(request.user, request.GET.get("territory", "").strip())
    if territory is None:
        raise Http404
    return territory


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw or default)
    except ValueError:
        return default
    return value if low <= value <= high else default


def _language() -> str:
    return get_language() or "es"


def _exported(request: HttpRequest, what: str) -> None:
    with transaction.atomic():
        record(_actor(request), Action.EXPORT, entity="costing.download", note=what)


def _errors(exc: InputErrors) -> dict[str, list[str]]:
    return {name: [e.message for e in errors] for name, errors in exc.errors.items()}


def _percent(share: Decimal | None) -> str:
    return "—" if share is None else f"{share * 100:.2f}".rstrip("0").rstrip(".") + " %"


@login_required
def costing_page(request: HttpRequest) -> HttpResponse:
    territory = _territory(request)
    today = timezone.localdate()
    horizon = _int(request.GET.get("horizon"), projections.DEFAULT_HORIZON, today.year, today.year + 30)
    year = _int(request.GET.get("year"), today.year, 2000, horizon)
    errors: dict[str, list[str]] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("service", "year", "coverage")}
        try:
            actions.set_coverage(_actor(request), {**form, "territory": territory.code})
        except InputErrors as exc:
            errors = _errors(exc)
        except PermissionDenied:
            raise
        else:
            return redirect(f"{reverse('costing')}?territory={territory.code}&year={year}")
    years = sorted({year, *range(today.year, horizon + 1)})
    results = compute.costings(request.user, territory, years, today)
    chosen = results[year]
    language = _language()
    lines = [
        {
            "name": line.service.name(language),
            "unit_cost": line.unit_cost,
            "eligible": line.eligible,
            "coverage": _percent(line.coverage),
            "cost": line.cost,
            "served": line.served,
            "executed": line.executed,
        }
        for line in chosen.lines
    ]
    if request.GET.get("format") == "xlsx":
        _exported(request, f"costing {territory.code} {year}")
        header = [
            _("Service"),
            _("Unit cost"),
            _("Eligible"),
            _("Coverage"),
            _("Cost"),
            _("Children served"),
            _("Executed"),
        ]
        rows: list[list[Any]] = [
            [r["name"], r["unit_cost"], r["eligible"], r["coverage"], r["cost"], r["served"], r["executed"]]
            for r in lines
        ]
        rows.append([_("Total"), "", "", "", chosen.total, "", chosen.executed])
        rows.append([])
        rows.append([_("Year"), _("Planned cost")])
        rows.extend([[y, results[y].total] for y in years])
        return xlsx_response(header, rows, f"costeo-{territory.code}-{year}")
    below = compute.roll_up(chosen, children_of(territory))
    plan = permissions.plan_costs_refusal(request.user, territory.path) is None  # type: ignore[arg-type]
    return render(
        request,
        "costing/costing.html",
        {
            "territory": territory,
            "ancestors": [a for a in territory.ancestors() if request.user.territory.contains(a)],  # type: ignore[union-attr]
            "year": year,
            "years": years,
            "horizon": horizon,
            "currency": chosen.currency,
            "lines": lines,
            "total": chosen.total,
            "executed": chosen.executed,
            "by_year": [(y, results[y].total) for y in years],
            "below": below,
            "plan": plan,
            "services": [(s.code, s.name(language)) for s in compute.costed_services()],
            "errors": errors,
            "form": form,
        },
    )


@login_required
def unit_costs_page(request: HttpRequest) -> HttpResponse:
    if not scope.may_read(request.user):
        raise Http404
    language = _language()
    names = {s.code: s.name(language) for s in compute.costed_services()}
    errors: dict[str, list[str]] = {}
    form: dict[str, str] = {}
    may_add = permissions.plan_costs_refusal(request.user, None) is None  # type: ignore[arg-type]
    if request.method == "POST":
        form = {
            k: request.POST.get(k, "")
            for k in ("service", "product", "amount", "currency", "price_year", "valid_from", "note")
        }
        try:
            actions.add_unit_cost(_actor(request), form)
        except InputErrors as exc:
            errors = _errors(exc)
        else:
            return redirect("unit-costs")
    rows = [
        {
            "service": names.get(c.service, c.service),
            "product": c.product,
            "amount": c.amount,
            "currency": c.currency,
            "price_year": c.price_year,
            "valid_from": c.valid_from,
        }
        for c in UnitCost.objects.order_by("service", "product", "-valid_from")
    ]
    if request.GET.get("format") == "xlsx":
        _exported(request, "unit costs")
        header = [_("Service"), _("Product"), _("Unit cost"), _("Currency"), _("Price year"), _("Valid from")]
        return xlsx_response(header, (list(r.values()) for r in rows), "costos-unitarios")
    today = timezone.localdate()
    return render(
        request,
        "costing/unit_costs.html",
        {
            "rows": rows,
            "may_add": may_add,
            "services": list(names.items()),
            "errors": errors,
            "form": form or {"price_year": str(today.year), "valid_from": f"{today.year}-01-01"},
        },
    )


@login_required
def projections_page(request: HttpRequest) -> HttpResponse:
    territory = _territory(request)
    language = _language()
    indicators = list(definitions.indicators())
    code = request.GET.get("indicator") or (indicators[0].code if indicators else "")
    indicator = projections.indicator_or_none(code)
    if indicator is None:
        raise Http404
    today = timezone.localdate()
    horizon = _int(request.GET.get("horizon"), projections.DEFAULT_HORIZON, today.year, today.year + 30)
    method = request.GET.get("method", "")
    if method not in trends.METHODS or (method == trends.LOGISTIC and indicator.unit != "percent"):
        method = ""
    errors: dict[str, list[str]] = {}
    form: dict[str, str] = {}
    may_set = permissions.has(request.user, permissions.SET_TARGETS) and permissions.within(  # type: ignore[arg-type]
        request.user,  # type: ignore[arg-type]
        territory.path,
    )
    if request.method == "POST" and may_set:
        form = {k: request.POST.get(k, "").strip() for k in ("period", "target")}
        series = projections.observed(indicator, territory)
        collected = Collector()
        cleaned = clean_target(
            {
                "indicator": indicator.code,
                "territory_code": territory.code,
                "period": form["period"],
                "baseline": str(series[-1][1]) if series else form["target"],
                "target": form["target"],
            },
            {territory.code: territory},
            collected,
        )
        if not (len(form["period"]) == 4 and form["period"].isdigit()) and "period" not in collected.errors:
            collected.add("period", "invalid", _("Write a year, such as 2030."))
        try:
            collected.raise_if_any()
            save_target(_actor(request), cleaned)
        except InputErrors as exc:
            errors = _errors(exc)
        else:
            return redirect(
                f"{reverse('projections')}?indicator={indicator.code}&territory={territory.code}&horizon={horizon}"
            )
    result = projections.project(indicator, territory, horizon, method)
    unit = " %" if indicator.unit == "percent" else ""
    if request.GET.get("format") == "xlsx":
        _exported(request, f"projection {indicator.code} {territory.code}")
        rows: list[list[Any]] = [[p.code, v, "", "", ""] for p, v in result.observed]
        rows += [[str(p.year), "", round(p.value, 2), round(p.low, 2), round(p.high, 2)] for p in result.points]
        return xlsx_response(
            [_("Period"), _("Observed"), _("Trend"), _("Low"), _("High")],
            rows,
            f"proyeccion-{indicator.code}-{territory.code}",
        )
    chart = minicharts.projection(
        [(projections.middle(p), v) for p, v in result.observed],
        [(p.year, p.value, p.low, p.high) for p in result.points],
        targets=[(y, t) for y, t, _v, _r in result.targets],
        unit=unit.strip(),
        title=indicator.name(language),
        decimal=str(formats.get_format("DECIMAL_SEPARATOR")),
    )
    method_names = {
        trends.LINEAR: _("linear"),
        trends.LOGISTIC: _("logistic"),
        trends.CONSTANT: _("constant (a single value)"),
    }
    return render(
        request,
        "costing/projections.html",
        {
            "territory": territory,
            "indicator": indicator,
            "indicator_name": indicator.name(language),
            "indicators": [(i.code, i.name(language)) for i in indicators],
            "horizon": horizon,
            "method": method,
            "method_name": method_names.get(result.method, result.method),
            "is_share": indicator.unit == "percent",
            "chart": chart,
            "observed": [(p.code, v) for p, v in result.observed],
            "points": result.points,
            "targets": result.targets,
            "unit": unit,
            "may_set": may_set,
            "errors": errors,
            "form": form,
        },
    )
