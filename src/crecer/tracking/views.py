"""Pages of the trajectory: worklists, the check-up form, pregnancies, and the child page's sections."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access.models import DataCategory
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import EXCEL_MAX_ROWS, csv_response, xlsx_response
from crecer.lib import schedule as schedule_lib
from crecer.lib import screening as screening_lib
from crecer.lib.growth.chart import ChartLabels, render_chart
from crecer.lib.growth.compute import AGE_LENGTH_TO_HEIGHT_DAYS
from crecer.registry import scope
from crecer.registry.models import Child
from crecer.registry.reads import log_reads
from crecer.territories.models import Facility, FacilityKind
from crecer.tracking import actions, forms, inputs, timeline, worklists
from crecer.tracking.models import Measurement, Screening
from crecer.validation import InputErrors

PAGE_SIZE = 20


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _language() -> str:
    return get_language() or "es"


# --- the child page's trajectory sections -----------------------------------------------------------


def growth_charts(child: Child) -> list[dict[str, str]]:
    """WHO charts (weight-for-age, length/height-for-age, weight-for-length/height) with the child's points."""
    if child.sex not in ("F", "M") or child.birth_date is None:
        return []
    measurements = list(Measurement.unscoped.filter(child=child, is_current=True).order_by("measured_on"))
    sex = 1 if child.sex == "M" else 2
    age_days = (timezone.localdate() - child.birth_date).days
    months = _("months")
    age_label = _("Age")
    charts = []
    for indicator, title, y_label, value in (
        ("wfa", _("Weight for age"), _("Weight"), "weight_kg"),
        ("lhfa", _("Length/height for age"), _("Length/height"), "length_cm"),
    ):
        points: list[tuple[float, float, str]] = [
            (
                float(m.age_days),
                float(getattr(m, value)),
                f"{m.measured_on:%d/%m/%Y} · {getattr(m, value)} · z {_z(m, 'z_' + indicator)}",
            )
            for m in measurements
            if getattr(m, value) is not None
        ]
        if indicator == "wfa" and age_days > 3650:
            continue
        charts.append(
            {
                "title": title,
                "svg": render_chart(indicator, sex, points, labels=ChartLabels(title, age_label, y_label, months)),
            }
        )
    standing = age_days >= AGE_LENGTH_TO_HEIGHT_DAYS
    if age_days < 1856:
        title = _("Weight for height") if standing else _("Weight for length")
        points = [
            (
                float(m.length_cm),
                float(m.weight_kg),
                f"{m.measured_on:%d/%m/%Y} · {m.weight_kg} kg · z {_z(m, 'z_wflh')}",
            )
            for m in measurements
            if m.length_cm is not None and m.weight_kg is not None
        ]
        charts.append(
            {
                "title": title,
                "svg": render_chart(
                    "wflh",
                    sex,
                    points,
                    measure="h" if standing else "l",
                    labels=ChartLabels(title, _("Length/height"), _("Weight"), months),
                ),
            }
        )
    return charts


def _z(m: Measurement, name: str) -> str:
    value = getattr(m, name)
    return "—" if value is None else f"{value:+.2f}"


def child_sections(user: Any, child: Child) -> dict[str, Any]:
    """Context for the child page: timeline, schedule, charts and whether the user may record."""
    categories = scope.categories(user, child)
    context: dict[str, Any] = {"timeline": timeline.build(user, child)}
    if DataCategory.HEALTH in categories:
        context["charts"] = growth_charts(child)
        if child.birth_date is not None:
            done = actions.done_contacts(child=child)
            context["schedule"] = [
                s
                for s in schedule_lib.states(
                    conf.profile().child_schedule, child.birth_date, timezone.localdate(), done
                )
                if s.state != schedule_lib.State.UPCOMING or s.opens <= timezone.localdate() + dt.timedelta(days=120)
            ]
    context["can_record"] = (
        scope.can_register_in(user, child.territory)
        and child.birth_date is not None
        and DataCategory.HEALTH in categories
    )
    return context


# --- check-up form -------------------------------------------------------------------------------


def _visit_date(data: Any, today: dt.date) -> dt.date:
    """The date of the check-up posted (today when none or not a date: the action reports it)."""
    try:
        return dt.date.fromisoformat(str(data.get("date", "")).strip()) if data else today
    except ValueError:
        return today


def _check_up_instruments() -> list[str]:
    """The profile's instruments a check-up may record (the child's and the caregiver's; the EPsA is prenatal)."""
    return [code for code in conf.profile().instruments if code != "epsa"]


def _form_context(child: Child, data: Any, errors: dict[str, Any]) -> dict[str, Any]:
    """The check-up form: the contacts open now, the measurements, the instruments that apply at the child's
    age on the check-up's date (today's on a new form; those the open contacts expect first, ticked), the
    services; each field with the value posted back and its errors beside it (``errors`` are by posted name,
    see :func:`forms.form_errors`). An instrument posted that does not apply at that age is shown too, with
    the registry's error beside it: nothing posted is dropped."""
    profile = conf.profile()
    language = _language()
    today = timezone.localdate()
    assert child.birth_date is not None
    done = actions.done_contacts(child=child)
    open_contacts = [
        s
        for s in schedule_lib.states(profile.child_schedule, child.birth_date, today, done)
        if s.state in (schedule_lib.State.DUE, schedule_lib.State.OVERDUE)
    ]
    expected = {i for s in open_contacts for i in s.contact.screenings}
    age_days = (_visit_date(data, today) - child.birth_date).days
    instruments = []
    for code in _check_up_instruments():
        posted = bool(data) and data.get(f"use.{code}") == "on"
        instrument = screening_lib.get(code)
        if instrument.subject == screening_lib.CHILD and not posted:
            low, high = inputs.instrument_band(instrument)
            if not (low <= age_days and (high is None or age_days <= high)):
                continue
        instruments.append(
            {
                "code": code,
                "name": inputs.instrument_name(code),
                "expected": code in expected,
                "use": posted or (not data and code in expected),
                "errors": errors.get(f"use.{code}", []),
                "fields": [forms.bind(f, f"s.{code}.", data, errors) for f in forms.instrument_fields(code, language)],
                "confirm": forms.needs_confirmation(errors, f"s.{code}.")
                or forms.needs_confirmation(errors, f"use.{code}")
                or bool(data and data.get(f"s.{code}.confirm_reason")),
                "confirm_value": data.get(f"s.{code}.confirm_reason", "") if data else "",
            }
        )
    instruments.sort(key=lambda i: not i["expected"])
    services = [s for s in profile.services if s.delivery in ("once", "visit", "session", "enrolment")]
    labels: dict[str, Any] = {f"m.{name}": label for name, label in forms.MEASUREMENT_LABELS.items()}
    for i in instruments:
        labels[f"use.{i['code']}"] = i["name"]
        for f in i["fields"]:
            labels[f["name"]] = f"{i['name']}: {f['field'].label}"
    labels.update(
        {
            "date": _("Date"),
            "contact_code": _("Scheduled contact"),
            "m": _("Measurements"),
            "d": _("Services delivered"),
        }
    )
    return {
        "child": child,
        "today": today,
        "age": inputs.age_words((today - child.birth_date).days),
        "open_contacts": [
            (s.contact.code, s.contact.name(language), _("due") if s.state == schedule_lib.State.DUE else _("overdue"))
            for s in open_contacts
        ],
        "measurement_fields": [forms.bind(f, "m.", data, errors) for f in forms.measurement_fields()],
        "measurement_confirm": forms.needs_confirmation(errors, "m.") or bool(data and data.get("m.confirm_reason")),
        "measurement_confirm_value": data.get("m.confirm_reason", "") if data else "",
        "instruments": instruments,
        "services": [(s.code, s.name(language), bool(data) and data.get(f"d.{s.code}") == "on") for s in services],
        "data": data,
        "errors": errors,
        "error_list": forms.error_list(errors, labels),
        "date_errors": errors.get("date", []),
        "contact_errors": errors.get("contact_code", []),
    }


def saved_message(raw: dict[str, Any], language: str, *, prenatal: bool = False, contact: str = "") -> str:
    """What a check-up or prenatal contact saved, in plain words: "Check-up saved: weight, length/height,
    EEDP."; "Prenatal contact saved: Ingreso, EPsA." (``contact``: the scheduled contact's code)."""
    what: list[str] = []
    if contact:
        schedule = conf.profile().prenatal_schedule if prenatal else conf.profile().child_schedule
        what += [c.name(language) for c in schedule if c.code == contact]
    measurement = raw.get("measurement") or {}
    for name, label in forms.MEASUREMENT_LABELS.items():
        if name != "position" and measurement.get(name) not in (None, "", False):
            what.append(str(label))
    what += [inputs.instrument_name(item["instrument"]) for item in raw.get("screenings") or []]
    services = {s.code: s.name(language) for s in conf.profile().services}
    what += [services.get(code, "") for code in raw.get("deliveries") or []]
    if prenatal:
        if not what:
            return _("Prenatal contact saved.")
        return _("Prenatal contact saved: %(what)s.") % {"what": ", ".join(what)}
    if not what:
        return _("Check-up saved.")
    return _("Check-up saved: %(what)s.") % {"what": ", ".join(what)}


@login_required
def check_up(request: HttpRequest, child_id: int) -> HttpResponse:
    """Record a check-up: measurements, screenings and deliveries in one form. Doubtful values (WHO
    implausible, an instrument outside its age band, a score outside its scale) come back with their
    message beside the field and a reason to give, as the country profile says."""
    child = scope.get_child_or_404(request.user, child_id)
    if not scope.can_register_in(request.user, child.territory) or child.birth_date is None:
        raise PermissionDenied(_("You cannot record check-ups for this child."))
    errors: dict[str, Any] = {}
    if request.method == "POST":
        offered = _form_context(child, request.POST, {})
        # every instrument posted goes to the action, which refuses one outside its age band on that date
        raw = forms.encounter_input(
            request.POST, _check_up_instruments(), [code for code, _name, _checked in offered["services"]]
        )
        try:
            encounter = actions.record_encounter(_actor(request), raw, child=child)
        except InputErrors as exc:
            errors = forms.form_errors(exc.as_dict(), [s["instrument"] for s in raw.get("screenings", [])])
        else:
            messages.success(request, saved_message(raw, _language(), contact=encounter.contact_code))
            return redirect("child-detail", child_id=child.pk)
    log_reads(_actor(request), "check-up form", [child.pk])
    return render(
        request,
        "tracking/check_up.html",
        _form_context(child, request.POST if errors else {}, errors),
        status=422 if errors else 200,
    )


# --- worklists -----------------------------------------------------------------------------------


def worklist_filters(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    facilities = Facility.objects.none()
    if user.territory is not None:
        facilities = Facility.objects.filter(
            kind__in=(FacilityKind.HEALTH_CENTRE, FacilityKind.HOSPITAL),
            territory__path__startswith=user.territory.path,
        ).order_by("name")
    code = request.GET.get("facility")
    if code is None and user.facility_id:
        code = user.facility.code
    facility = facilities.filter(code=code).first() if code else None
    professionals = worklists.professionals(user)
    professional = professionals.filter(username=request.GET.get("professional", "")).first()
    tab = request.GET.get("tab", "week")
    if tab not in worklists.TABS:
        tab = "week"
    contact = request.GET.get("contact", "")
    if contact and contact not in {c.code for c in conf.profile().child_schedule}:
        contact = ""
    return {
        "tab": tab,
        "facility": facility,
        "facilities": facilities[:500],
        "professional": professional,
        "professionals": professionals[:500],
        "contact": contact,
    }


def _worklist_query(request: HttpRequest, filters: dict[str, Any]) -> Any:
    return worklists.worklist(
        request.user,
        filters["tab"],
        timezone.localdate(),
        facility_id=filters["facility"].pk if filters["facility"] else None,
        professional_id=filters["professional"].pk if filters["professional"] else None,
        contact_code=filters["contact"],
    )


def worklist_tabs() -> list[tuple[str, str]]:
    return [
        ("today", _("Today")),
        ("week", _("Due this week")),
        ("overdue", _("Overdue")),
        ("missed", _("Missed")),
        ("risk", _("Open risk")),
    ]


def worklist_context(request: HttpRequest, filters: dict[str, Any]) -> dict[str, Any]:
    """A worklist page's rows, with the urgent results awaiting action pinned on top (reads logged)."""
    page = Paginator(_worklist_query(request, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = worklists.build_rows(request.user, filters["tab"], list(page.object_list), timezone.localdate())
    pinned = worklists.pinned(request.user)
    worklists.log_worklist(_actor(request), f"worklist {filters['tab']}", rows, pinned)
    language = _language()
    query = request.GET.copy()
    query.pop("page", None)
    return {
        **filters,
        "page": page,
        "rows": rows,
        "pinned": pinned,
        "contacts": [(c.code, c.name(language)) for c in conf.profile().child_schedule],
        "tabs": worklist_tabs(),
        "querystring": query.urlencode(),
    }


@login_required
def worklist_page(request: HttpRequest) -> HttpResponse:
    return render(request, "tracking/worklist.html", worklist_context(request, worklist_filters(request)))


@login_required
def worklist_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    filters = worklist_filters(request)
    today = timezone.localdate()
    rows = worklists.build_rows(request.user, filters["tab"], list(_worklist_query(request, filters)), today)
    language = _language()
    header = [
        *("registry_number", "name", "birth_date", "facility", "contact", "state", "opens", "closes", "alerts"),
        "caregiver_phone",
    ]
    table = [
        (
            r.child.registry_number,
            r.child.full_name,
            r.child.birth_date,
            r.child.facility.code if r.child.facility else "",
            r.contact.name(language) if r.contact else "",
            r.state,
            r.opens,
            r.closes,
            "; ".join([label for _rule, label, _urgent in r.flags] + [timeline.alert_label(a) for a in r.alerts]),
            r.phone,
        )
        for r in rows
    ]
    with transaction.atomic():
        record(
            _actor(request),
            Action.EXPORT,
            entity="tracking.worklist",
            note=filters["tab"],
            after={"count": len(table), "format": fmt},
        )
    name = f"worklist-{filters['tab']}-{today:%Y%m%d}"
    if fmt == "xlsx" and len(table) > EXCEL_MAX_ROWS:
        return HttpResponse(
            _("Too many rows for Excel (%(count)s); download CSV instead.") % {"count": len(table)}, status=413
        )
    # The table is built in memory: every child in it goes out.
    worklists.log_worklist(_actor(request), f"worklist export {fmt} {filters['tab']}", rows)
    return xlsx_response(header, table, name) if fmt == "xlsx" else csv_response(header, iter(table), name)


# --- pregnancies ---------------------------------------------------------------------------------


@login_required
def pregnancy_detail(request: HttpRequest, pregnancy_id: int) -> HttpResponse:
    user: Any = request.user
    pregnancy = scope.get_pregnancy_or_404(user, pregnancy_id)
    categories = user.data_categories()
    origin = pregnancy.origin
    done = actions.done_contacts(pregnancy=pregnancy)
    today = timezone.localdate()
    errors: dict[str, Any] = {}
    if request.method == "POST":
        if not scope.can_register_in(user, pregnancy.mother.territory):
            raise PermissionDenied(_("You cannot record contacts for this pregnancy."))
        raw: dict[str, Any] = {
            "date": request.POST.get("date", ""),
            "contact_code": request.POST.get("contact_code", ""),
        }
        if request.POST.get("use.epsa") == "on":
            raw["screenings"] = [
                {"instrument": "epsa", "inputs": forms.instrument_inputs("epsa", request.POST, "s.epsa.")}
            ]
        try:
            encounter = actions.record_encounter(_actor(request), raw, pregnancy=pregnancy)
        except InputErrors as exc:
            errors = forms.form_errors(exc.as_dict(), [s["instrument"] for s in raw.get("screenings", [])])
        else:
            messages.success(request, saved_message(raw, _language(), prenatal=True, contact=encounter.contact_code))
            return redirect("pregnancy-detail", pregnancy_id=pregnancy.pk)
    language = _language()
    states = (
        schedule_lib.states(conf.profile().prenatal_schedule, origin, today, done)
        if pregnancy.outcome == "ongoing"
        else []
    )
    screenings = Screening.unscoped.filter(pregnancy=pregnancy, is_current=True, data_category__in=categories)
    log_reads(_actor(request), "pregnancy", pregnancies=[pregnancy.pk])
    return render(
        request,
        "tracking/pregnancy.html",
        {
            "pregnancy": pregnancy,
            "weeks": (today - origin).days // 7 if pregnancy.outcome == "ongoing" else None,
            "states": [(s, s.contact.name(language)) for s in states],
            "encounters": pregnancy.encounters.filter(voided_at__isnull=True).order_by("date"),
            "screenings": screenings,
            "can_record": pregnancy.outcome == "ongoing" and scope.can_register_in(user, pregnancy.mother.territory),
            # the birth of an ongoing pregnancy, or another baby (twins) of one that ended in a live birth;
            # the birth action decides what may be recorded
            "can_register_birth": pregnancy.outcome in ("ongoing", "live_birth")
            and scope.can_register_in(user, pregnancy.mother.territory),
            "epsa_fields": [
                forms.bind(f, "s.epsa.", request.POST if errors else {}, errors)
                for f in forms.instrument_fields("epsa")
            ],
            "error_list": forms.error_list(
                errors,
                {
                    "date": _("Date"),
                    "contact_code": _("Scheduled contact"),
                    "use.epsa": inputs.instrument_name("epsa"),
                    **{f"s.epsa.{f.name}": f.label for f in forms.instrument_fields("epsa")},
                },
            ),
            "open_contacts": [
                (s.contact.code, s.contact.name(language))
                for s in states
                if s.state in (schedule_lib.State.DUE, schedule_lib.State.OVERDUE)
            ],
            "today": today,
            "data": request.POST if errors else {},
            "errors": errors,
            "result_label": timeline.result_label,
        },
        status=422 if errors else 200,
    )


@login_required
def pregnancy_list(request: HttpRequest) -> HttpResponse:
    from crecer.lib import names

    query = request.GET.get("q", "").strip()
    pregnancies = scope.pregnancies(request.user).filter(outcome="ongoing").select_related("mother", "facility")
    for word in names.fold(query).split():
        pregnancies = pregnancies.filter(mother__search_name__contains=word)
    page = Paginator(pregnancies.order_by("edd_date", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # Like every worklist, the urgent results awaiting action are pinned on top.
    pinned = worklists.pinned(request.user)
    worklists.log_worklist(_actor(request), "pregnancy list", [], pinned, pregnancies=[p.pk for p in page.object_list])
    return render(
        request,
        "tracking/pregnancies.html",
        {"page": page, "query": query, "today": timezone.localdate(), "pinned": pinned},
    )
