"""Dashboards: national → region → municipality, an indicator's detail, the list behind a figure,
exports and the printable municipal report."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import EXCEL_MAX_ROWS, csv_response, xlsx_response
from crecer.lib import minicharts
from crecer.monitoring import actions, definitions, engine, quality, reading
from crecer.monitoring.models import Snapshot, Target
from crecer.referrals import scope as referral_scope
from crecer.registry import scope
from crecer.registry.reads import CHUNK, log_reads
from crecer.territories.models import Territory
from crecer.validation import Collector, InputErrors

DIMENSION_LABELS = {
    "sex": gettext_lazy("sex"),
    "age_band": gettext_lazy("age band"),
    "vulnerability": gettext_lazy("vulnerability percentile of the household"),
    "service": gettext_lazy("service"),
}
VALUE_LABELS = {
    "F": gettext_lazy("Female"),
    "M": gettext_lazy("Male"),
    "": gettext_lazy("not recorded"),
    "unknown": gettext_lazy("unknown"),
    "None": gettext_lazy("unknown"),
}
UNIT_LABELS = {
    "percent": gettext_lazy("percentage"),
    "per_1000": gettext_lazy("per thousand"),
    "count": gettext_lazy("count"),
    "median_days": gettext_lazy("median, in days"),
}
PERIOD_LABELS = {"month": gettext_lazy("month"), "quarter": gettext_lazy("quarter"), "year": gettext_lazy("year")}
UNIT_SUFFIX = {"percent": "%", "per_1000": "‰", "count": "", "median_days": " d"}
#: the name of a trend chart's vertical axis
AXIS_NAMES = {
    "percent": gettext_lazy("Percentage"),
    "per_1000": gettext_lazy("Per thousand"),
    "count": gettext_lazy("Count"),
    "median_days": gettext_lazy("Days (median)"),
}
SIDE_LABELS = {
    "numerator": gettext_lazy("Numerator"),
    "denominator": gettext_lazy("Denominator"),
    "missing": gettext_lazy("In the denominator, not in the numerator"),
}


def _trend_svg(
    indicator: definitions.Indicator, points: list[tuple[str, float | None]], target: Any, *, compact: bool = False
) -> str:
    """An indicator's trend: the periods along the bottom, its unit up the side, each value at its point."""
    name = indicator.name(_language())
    return minicharts.trend(
        points,
        width=260 if compact else 360,
        height=120 if compact else 210,
        target=target.target if target else None,
        title=name,
        desc=_("Trend by period:"),
        unit=UNIT_SUFFIX[indicator.unit],
        x_label="" if compact else _("Period"),
        y_label="" if compact else str(AXIS_NAMES[indicator.unit]),
        target_label=_("target"),
        missing=_("no data"),
        decimal=str(formats.get_format("DECIMAL_SEPARATOR")),
    )


def _language() -> str:
    return get_language() or "es"


def _territory(request: HttpRequest) -> Territory:
    """The territory asked for, within the user's own (404 otherwise: deny by default)."""
    territory = reading.territory_for(request.user, request.GET.get("territory", ""))
    if territory is None:
        raise Http404
    return territory


def _context(request: HttpRequest) -> dict[str, Any]:
    territory = _territory(request)
    period = reading.parse_period(request.GET.get("period", ""), str(timezone.localdate().year))
    snapshot = None
    if request.GET.get("snapshot"):
        snapshot = Snapshot.objects.filter(pk=request.GET["snapshot"], period=period.code).first()
    elif request.GET.get("live") != "1":
        snapshot = reading.latest_snapshot(period.code)
    user: Any = request.user
    ancestors = [t for t in territory.ancestors() if user.territory.contains(t)]
    return {"territory": territory, "period": period, "snapshot": snapshot, "ancestors": ancestors}


def _progress(target: Any, value: float | None) -> int | None:
    progress = target.progress(value) if target is not None else None
    return None if progress is None else max(0, min(100, round(progress * 100)))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    territory, period, snapshot = context["territory"], context["period"], context["snapshot"]
    below = reading.children_of(territory)
    values = reading.figures(period, [territory.pk, *[t.pk for t in below]], snapshot)
    targets = reading.targets(period.code, [territory.pk])
    language = _language()
    axes: dict[str, list[dict[str, Any]]] = {}
    trends = reading.trends([i.code for i in definitions.indicators()], territory.pk, period, 4) if snapshot else {}
    for indicator in definitions.indicators():
        value = values.get((indicator.code, territory.pk, ""))
        target = targets.get((indicator.code, territory.pk))
        axes.setdefault(indicator.axis, []).append(
            {
                "indicator": indicator,
                "name": indicator.name(language),
                "value": value,
                "suffix": UNIT_SUFFIX[indicator.unit],
                "target": target,
                "progress": _progress(target, value.value if value else None),
                "act_on": engine.act_on(indicator),
                "act_on_count": engine.act_on_count(indicator, value.numerator, value.denominator) if value else None,
                "trend": _trend_svg(indicator, trends[indicator.code], target, compact=True) if snapshot else "",
            }
        )
    focus = request.GET.get("focus") or definitions.indicators()[0].code
    focus_indicator = _indicator(focus)
    context.update(
        {
            "axes": [(label, axes[a]) for a, label in definitions.AXIS_LABELS.items() if a in axes],
            "focus": focus_indicator,
            "focus_name": focus_indicator.name(language),
            "focus_suffix": UNIT_SUFFIX[focus_indicator.unit],
            "below": _ranking(focus_indicator, values, below),
            "quality": [(q, q.name(language), values.get((q.code, territory.pk, ""))) for q in quality.QUALITY],
            "snapshots": Snapshot.objects.filter(period=period.code).order_by("-revision")[:10],
        }
    )
    return render(request, "monitoring/dashboard.html", context)


def _ranking(
    indicator: definitions.Indicator, values: dict[Any, Any], below: list[Territory]
) -> list[tuple[Territory, Any]]:
    rows = [(t, values.get((indicator.code, t.pk, ""))) for t in below]
    known = [(t, v) for t, v in rows if v is not None and v.value is not None]
    unknown = [r for r in rows if r not in known]
    known.sort(key=lambda r: r[1].value, reverse=indicator.direction == "higher")
    return known + unknown


def _indicator(code: str) -> definitions.Indicator:
    try:
        return definitions.get(code)
    except KeyError:
        try:
            return quality.get(code)
        except KeyError:
            raise Http404 from None


@login_required
def indicator_detail(request: HttpRequest, code: str) -> HttpResponse:
    indicator = _indicator(code)
    context = _context(request)
    territory, period, snapshot = context["territory"], context["period"], context["snapshot"]
    below = reading.children_of(territory)
    values = reading.figures(period, [territory.pk, *[t.pk for t in below]], snapshot, groups=True)
    target = reading.targets(period.code, [territory.pk]).get((code, territory.pk))
    value = values.get((code, territory.pk, ""))
    ranking = _ranking(indicator, values, below)
    language = _language()
    context.update(
        {
            "indicator": indicator,
            "name": indicator.name(language),
            "value": value,
            "suffix": UNIT_SUFFIX[indicator.unit],
            "target": target,
            "progress": _progress(target, value.value if value else None),
            "trend_svg": _trend_svg(indicator, reading.trend(code, territory.pk, period, 6), target),
            "act_on": engine.act_on(indicator),
            "act_on_count": engine.act_on_count(indicator, value.numerator, value.denominator) if value else None,
            "ranking": [
                (t, v, engine.act_on_count(indicator, v.numerator, v.denominator) if v else None) for t, v in ranking
            ],
            "ranking_svg": minicharts.bars(
                [(t.name, v.value if v else None) for t, v in ranking],
                unit=UNIT_SUFFIX[indicator.unit],
                title=indicator.name(language),
                missing=_("no data"),
                decimal=str(formats.get_format("DECIMAL_SEPARATOR")),
            ),
            "groups": [
                (DIMENSION_LABELS.get(d, d), [(VALUE_LABELS.get(label, label), v) for label, v in rows])
                for d, rows in reading.group_rows(values, code, territory.pk).items()
            ],
            "unit_label": UNIT_LABELS[indicator.unit],
            "period_label": PERIOD_LABELS[indicator.period],
            "quality": [(q, q.name(language), values.get((q.code, territory.pk, ""))) for q in quality.QUALITY],
        }
    )
    return render(request, "monitoring/indicator.html", context)


@login_required
def ranking_export(request: HttpRequest, code: str, fmt: str) -> HttpResponseBase:
    indicator = _indicator(code)
    context = _context(request)
    territory, period, snapshot = context["territory"], context["period"], context["snapshot"]
    below = reading.children_of(territory) or [territory]
    values = reading.figures(period, [t.pk for t in below], snapshot)
    header = [
        _("Indicator"),
        _("Territory code"),
        _("Territory"),
        _("Period"),
        _("Numerator"),
        _("Denominator"),
        _("Value"),
        _("To act on"),
        _("Figures"),
    ]
    source = (
        _("snapshot %(period)s, revision %(revision)s") % {"period": snapshot.period, "revision": snapshot.revision}
        if snapshot
        else _("live")
    )
    name = indicator.name(_language())
    rows = [
        (
            name,
            t.code,
            t.name,
            period.code,
            v.numerator if v else "",
            v.denominator if v else "",
            "" if not v or v.value is None else v.value,
            "" if not v else engine.act_on_count(indicator, v.numerator, v.denominator),
            source,
        )
        for t, v in _ranking(indicator, values, below)
    ]
    filename = f"{code}-{territory.code}-{period.code}"
    return xlsx_response(header, rows, filename) if fmt == "xlsx" else csv_response(header, iter(rows), filename)


def _subject_list(request: HttpRequest, code: str) -> tuple[definitions.Indicator, dict[str, Any], str, Any]:
    """The figure's list asked for (its indicator, the page's context, the side and the subjects the user
    may see, in a stable order): the one query behind the page and its downloads."""
    indicator = _indicator(code)
    context = _context(request)
    side = request.GET.get("side", "")
    if side not in engine.SIDES:
        side = "denominator"
    if side == "missing" and not indicator.numerator:
        raise Http404  # a median has no numerator
    qs = engine.subjects(indicator, context["period"], side)
    qs = _scoped(qs, indicator.population, request.user, context["territory"]).order_by("pk")
    return indicator, context, side, qs


@login_required
def subjects(request: HttpRequest, code: str) -> HttpResponse:
    """The children (pregnancies, referrals) behind a figure, within the user's scope: its numerator, its
    denominator, or those of the denominator not in the numerator."""
    indicator, context, side, qs = _subject_list(request, code)
    territory, period = context["territory"], context["period"]
    user: Any = request.user
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    note = f"{code} {side} {territory.code} {period.code}"
    actor = Actor(user, Channel.WEB)
    record(
        actor,
        Action.SEARCH,
        entity=f"monitoring.{indicator.population}",
        note=note,
        after={"count": page.paginator.count},
    )
    children, pregnancies = _subjects_read(indicator.population, page.object_list)
    log_reads(actor, f"figure list {note}", children, pregnancies=pregnancies)
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        {
            "indicator": indicator,
            "name": indicator.name(_language()),
            "side": side,
            "side_label": SIDE_LABELS[side],
            "act_on": engine.act_on(indicator),
            "sides": [(s, SIDE_LABELS[s]) for s in engine.SIDES if s != "missing" or indicator.numerator],
            "page": page,
            "rows": [_row(indicator.population, item) for item in page.object_list],
            "querystring": query.urlencode(),
        }
    )
    return render(request, "monitoring/subjects.html", context)


#: the date column of a figure's list, by population
DATE_LABELS = {
    "child": gettext_lazy("Date of birth"),
    "pregnancy": gettext_lazy("First visit"),
    "referral": gettext_lazy("Sent"),
    "encounter": gettext_lazy("Date"),
    "measurement": gettext_lazy("Date"),
    "group_member": gettext_lazy("Completed on"),
}


@login_required
def subjects_export(request: HttpRequest, code: str, fmt: str) -> HttpResponseBase:
    """A figure's list (any side, usually the one to act on) as CSV (streamed) or Excel, within the user's
    scope. The download is audited, and every child (pregnancy) in the file is logged as read, chunk by
    chunk just before its rows go out."""
    indicator, context, side, qs = _subject_list(request, code)
    territory, period = context["territory"], context["period"]
    actor = Actor(request.user, Channel.WEB)  # type: ignore[arg-type]
    note = f"{code} {side} {territory.code} {period.code}"
    count = qs.count()
    with transaction.atomic():
        record(
            actor,
            Action.EXPORT,
            entity=f"monitoring.{indicator.population}",
            note=note,
            after={"count": count, "format": fmt},
        )
    if fmt == "xlsx" and count > EXCEL_MAX_ROWS:
        return HttpResponse(
            _("Too many rows for Excel (%(count)s); download CSV instead.") % {"count": count}, status=413
        )
    header = [
        _("Name"),
        _("Detail"),
        str(DATE_LABELS.get(indicator.population, _("Date"))),
        _("Territory"),
        _("Indicator"),
        _("List"),
        _("Period"),
    ]
    name, side_label = indicator.name(_language()), SIDE_LABELS[side]

    def rows() -> Any:
        batch: list[Any] = []
        for item in itertools.chain(qs.iterator(chunk_size=CHUNK), [None]):
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) >= CHUNK):
                children, pregnancies = _subjects_read(indicator.population, batch)
                log_reads(actor, f"figure list {fmt} {note}", children, pregnancies=pregnancies)
                for one in batch:
                    row = _row(indicator.population, one)
                    yield (row["label"], row["detail"], row["date"], row["territory"], name, side_label, period.code)
                batch = []

    filename = f"{code}-{side}-{territory.code}-{period.code}"
    return xlsx_response(header, rows(), filename) if fmt == "xlsx" else csv_response(header, rows(), filename)


def _subjects_read(population: str, items: list[Any]) -> tuple[list[int], list[int]]:
    """The children and pregnancies whose data a page of a figure's list shows (its rows, see
    :func:`_row`); members of parenting groups are listed as caregivers, without their child."""
    if population == "child":
        return [item.pk for item in items], []
    if population == "pregnancy":
        return [], [item.pk for item in items]
    if population == "referral":
        return referral_scope.subjects(items)
    if population in ("encounter", "measurement"):
        return [item.child_id for item in items], []
    return [], []


def _row(population: str, item: Any) -> dict[str, Any]:
    """One line of a figure's list: what it is, its date, where, and the child it opens."""
    if population == "child":
        return {
            "label": item.full_name or item.registry_number,
            "detail": item.registry_number,
            "child_id": item.pk,
            "date": item.birth_date,
            "territory": item.territory.name,
        }
    if population == "pregnancy":
        return {
            "label": item.mother.full_name,
            "detail": _("first visit, week %(w)s") % {"w": item.first_visit_week or "?"},
            "url": reverse("pregnancy-detail", args=[item.pk]),
            "date": item.first_visit_date,
            "territory": item.mother.territory.name,
        }
    if population == "referral":
        return {
            "label": f"{item.child.full_name if item.child else ''} → {item.service.name(_language())}",
            "detail": item.get_state_display(),
            "url": reverse("referral-detail", args=[item.pk]),
            "date": item.sent_at,
            "territory": item.territory.name,
        }
    if population in ("encounter", "measurement"):
        return {
            "label": item.child.full_name,
            "detail": item.child.registry_number,
            "child_id": item.child_id,
            "date": getattr(item, "date", None) or getattr(item, "measured_on", None),
            "territory": item.child.territory.name,
        }
    return {
        "label": item.caregiver.full_name,
        "detail": item.group.name,
        "date": item.completed_on,
        "territory": item.caregiver.territory.name,
    }


def _scoped(qs: Any, population: str, user: Any, territory: Territory) -> Any:
    """Subjects of a figure restricted to what the user may see and to the territory (deny by default)."""
    under = territory.path
    if population == "child":
        return qs.filter(pk__in=scope.children(user).values("pk"), territory__path__startswith=under).select_related(
            "territory"
        )
    if population == "pregnancy":
        return qs.filter(
            pk__in=scope.pregnancies(user).values("pk"), mother__territory__path__startswith=under
        ).select_related("mother__territory")
    if population == "referral":
        return qs.filter(
            pk__in=referral_scope.visible(user).values("pk"), territory__path__startswith=under
        ).select_related("service", "child", "territory")
    if population in ("encounter", "measurement"):
        return qs.filter(
            child__in=scope.children(user).values("pk"), child__territory__path__startswith=under
        ).select_related("child__territory")
    if population == "group_member":
        return qs.filter(
            caregiver__in=scope.caregivers(user).values("pk"), caregiver__territory__path__startswith=under
        ).select_related("caregiver__territory", "group")
    raise Http404


@login_required
def targets_page(request: HttpRequest) -> HttpResponse:
    """Baselines and targets of the territory and those below it; managers set them (one at a time here,
    many with ``crecer import targets FILE``)."""
    context = _context(request)
    territory, period = context["territory"], context["period"]
    user: Any = request.user
    editable = permissions.has(user, permissions.SET_TARGETS)
    errors: dict[str, Any] = {}
    saved = ""
    if request.method == "POST":
        if not editable:
            raise Http404
        collector = Collector()
        allowed = {t.code: t for t in Territory.objects.filter(path__startswith=user.territory.path)}
        cleaned = actions.clean_target(request.POST, allowed, collector)
        if collector.errors:
            errors = InputErrors(collector.errors).as_dict()
        else:
            _, saved = actions.save_target(Actor(user, Channel.WEB), cleaned)
    rows = Target.objects.filter(period=period.code, territory__path__startswith=territory.path).select_related(
        "territory"
    )
    language = _language()
    names = {i.code: i.name(language) for i in (*definitions.indicators(), *quality.QUALITY)}
    context.update(
        {
            "targets": sorted(rows, key=lambda t: (t.territory.path, t.indicator)),
            "names": names,
            "indicators": sorted(names.items(), key=lambda item: item[1]),
            "editable": editable,
            "errors": errors,
            "saved": saved,
            "form": request.POST if errors else {},
        }
    )
    return render(request, "monitoring/targets.html", context, status=400 if errors else 200)


@login_required
def report_pdf(request: HttpRequest) -> HttpResponse:
    """A printable report of a territory (usually a municipality) for a period, with charts."""
    from crecer.monitoring.report import render_pdf

    context = _context(request)
    territory, period, snapshot = context["territory"], context["period"], context["snapshot"]
    below = reading.children_of(territory)
    values = reading.figures(period, [territory.pk, *[t.pk for t in below]], snapshot)
    targets = reading.targets(period.code, [territory.pk])
    focus = _indicator(request.GET["focus"]) if request.GET.get("focus") else definitions.indicators()[0]
    ranking = _ranking(focus, values, below)
    pdf = render_pdf(territory, period, snapshot, values, targets, ranking, _language(), focus)
    with transaction.atomic():
        record(
            Actor(request.user, Channel.WEB),  # type: ignore[arg-type]
            Action.EXPORT,
            entity="monitoring.report",
            note=f"{territory.code} {period.code}",
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="crecer-{territory.code}-{period.code}.pdf"'
    return response
