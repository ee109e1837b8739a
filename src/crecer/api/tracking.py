"""API for the child's trajectory: timeline, schedule, encounters, measurements, screenings,
deliveries and worklists. Scoped and audited like the registry."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from crecer import conf
from crecer.access.categories import service_categories
from crecer.access.models import DataCategory
from crecer.api.base import actor, paginate
from crecer.lib import schedule as schedule_lib
from crecer.registry import scope
from crecer.registry.models import Pregnancy
from crecer.registry.reads import log_reads
from crecer.territories.models import Facility
from crecer.tracking import actions, timeline, worklists
from crecer.tracking import scope as tracking_scope
from crecer.tracking.models import Delivery, Encounter, Measurement, Screening
from crecer.validation import Collector

router = Router(tags=["trajectory"])
PAGE_SIZE = 25


class EncounterIn(Schema):
    kind: str | None = None
    date: str | None = None
    facility_code: str | None = None
    contact_code: str | None = None
    measurement: dict[str, Any] | None = None
    screenings: list[dict[str, Any]] | None = None
    deliveries: list[str] | None = None


class CorrectMeasurementIn(Schema):
    changes: dict[str, Any]
    reason: str
    #: why a value WHO flags as implausible is right (needed when the profile asks for a confirmation)
    confirm_reason: str = ""


class CorrectScreeningIn(Schema):
    inputs: dict[str, Any]
    reason: str
    #: why a score outside the scale is right (needed when the profile asks for a confirmation)
    confirm_reason: str = ""


class DeliveryIn(Schema):
    service: str
    date: str
    facility_code: str | None = None
    detail: str | None = None


def encounter_payload(e: Encounter) -> dict[str, Any]:
    return {
        "id": e.pk,
        "child": e.child_id,
        "pregnancy": e.pregnancy_id,
        "kind": e.kind,
        "contact_code": e.contact_code,
        "date": e.date,
        "facility_code": e.facility.code if e.facility else None,
        "professional": e.professional.username if e.professional else e.professional_name,
        "gestational_weeks": e.gestational_weeks,
        "measurements": [measurement_payload(m) for m in e.measurements.filter(is_current=True)],
        "screenings": [screening_payload(s) for s in e.screenings.filter(is_current=True)],
        "deliveries": [delivery_payload(d) for d in e.deliveries.all()],
    }


def measurement_payload(m: Measurement) -> dict[str, Any]:
    fields = (
        "weight_kg",
        "length_cm",
        "position",
        "head_cm",
        "muac_cm",
        "oedema",
        "haemoglobin_g_l",
        "z_wfa",
        "z_lhfa",
        "z_wflh",
        "z_bmi",
        "z_hcfa",
        "z_acfa",
        "implausible",
        "stunting",
        "underweight",
        "wasting",
        "overweight",
        "bmi_5_19",
        "anaemia",
    )
    return {
        "id": m.pk,
        "encounter": m.encounter_id,
        "measured_on": m.measured_on,
        "age_days": m.age_days,
        **{f: getattr(m, f) for f in fields},
        "is_current": m.is_current,
        "supersedes": m.supersedes_id,
        "correction_reason": m.correction_reason,
        "confirmation_reason": m.confirmation_reason,
    }


def screening_payload(s: Screening) -> dict[str, Any]:
    return {
        "id": s.pk,
        "encounter": s.encounter_id,
        "instrument": s.instrument,
        "instrument_version": s.instrument_version,
        "applied_on": s.applied_on,
        "age_days": s.age_days,
        "score": s.score,
        "subscores": s.subscores,
        "classification": s.classification,
        "sub_classifications": s.sub_classifications,
        "urgent": s.urgent,
        "data_category": s.data_category,
        "is_current": s.is_current,
        "supersedes": s.supersedes_id,
        "correction_reason": s.correction_reason,
        "confirmation_reason": s.confirmation_reason,
    }


def delivery_payload(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "service": d.service_code,
        "date": d.delivered_on,
        "child": d.child_id,
        "caregiver": d.caregiver_id,
        "detail": d.detail,
    }


def _child(request: HttpRequest, child_id: int) -> Any:
    child = scope.get_child_or_404(request.user, child_id)
    return child, scope.categories(request.user, child)


def _require(categories: frozenset[str], category: str) -> None:
    if category not in categories:
        raise Http404


@router.get("/children/{child_id}/timeline")
def child_timeline(request: HttpRequest, child_id: int) -> list[dict[str, Any]]:
    """The whole trajectory from pregnancy to age 8, in date order, as far as you may see it."""
    child, _categories = _child(request, child_id)
    log_reads(actor(request), "timeline", [child.pk])
    return [
        {
            "date": i.date,
            "kind": i.kind,
            "title": i.title,
            "detail": i.detail,
            "state": i.state,
            "alert": i.alert,
            "category": i.category,
            "data": i.data,
        }
        for i in timeline.build(request.user, child)
    ]


@router.get("/children/{child_id}/schedule")
def child_schedule(request: HttpRequest, child_id: int) -> list[dict[str, Any]]:
    child, categories = _child(request, child_id)
    _require(categories, DataCategory.HEALTH)
    log_reads(actor(request), "schedule", [child.pk])
    if child.birth_date is None:
        return []
    done = actions.done_contacts(child=child)
    return [
        {
            "code": s.contact.code,
            "name": s.contact.name("en" if (request.LANGUAGE_CODE or "es").startswith("en") else "es"),
            "state": s.state.value,
            "opens": s.opens,
            "closes": s.closes,
            "late_until": s.late_until,
        }
        for s in schedule_lib.states(conf.profile().child_schedule, child.birth_date, timezone.localdate(), done)
    ]


@router.get("/children/{child_id}/encounters")
def child_encounters(request: HttpRequest, child_id: int) -> list[dict[str, Any]]:
    child, categories = _child(request, child_id)
    _require(categories, DataCategory.HEALTH)
    log_reads(actor(request), "encounters", [child.pk])
    encounters = Encounter.unscoped.filter(child=child, voided_at__isnull=True).select_related(
        "facility", "professional"
    )
    return [_visible_encounter(e, categories) for e in encounters.order_by("date", "pk")]


def _visible_encounter(e: Encounter, categories: frozenset[str]) -> dict[str, Any]:
    payload = encounter_payload(e)
    payload["screenings"] = [s for s in payload["screenings"] if s["data_category"] in categories]
    return payload


@router.post("/children/{child_id}/encounters", response={201: dict[str, Any]})
def create_child_encounter(request: HttpRequest, child_id: int, payload: EncounterIn) -> Status[dict[str, Any]]:
    child, categories = _child(request, child_id)
    encounter = actions.record_encounter(actor(request), payload.model_dump(exclude_none=True), child=child)
    log_reads(actor(request), "encounter recorded", [child.pk])
    return Status(201, _visible_encounter(encounter, categories))


@router.post("/pregnancies/{pregnancy_id}/encounters", response={201: dict[str, Any]})
def create_prenatal_encounter(request: HttpRequest, pregnancy_id: int, payload: EncounterIn) -> Status[dict[str, Any]]:
    pregnancy = pregnancy_or_404(request.user, pregnancy_id)
    encounter = actions.record_encounter(actor(request), payload.model_dump(exclude_none=True), pregnancy=pregnancy)
    log_reads(actor(request), "encounter recorded", pregnancies=[pregnancy.pk])
    return Status(201, _visible_encounter(encounter, request.user.data_categories()))  # type: ignore[union-attr]


@router.get("/children/{child_id}/measurements")
def child_measurements(request: HttpRequest, child_id: int, history: bool = False) -> list[dict[str, Any]]:
    """Current measurements with z-scores (``history=true`` adds the corrected ones)."""
    child, categories = _child(request, child_id)
    _require(categories, DataCategory.HEALTH)
    log_reads(actor(request), "measurements", [child.pk])
    rows = Measurement.unscoped.filter(child=child)
    if not history:
        rows = rows.filter(is_current=True)
    return [measurement_payload(m) for m in rows.order_by("measured_on", "pk")]


@router.post("/measurements/{measurement_id}/correct", response={201: dict[str, Any]})
def correct_measurement(
    request: HttpRequest, measurement_id: int, payload: CorrectMeasurementIn
) -> Status[dict[str, Any]]:
    measurement = tracking_scope.get_measurement_or_404(request.user, measurement_id)
    new = actions.correct_measurement(
        actor(request), measurement, payload.changes, payload.reason, payload.confirm_reason
    )
    log_reads(actor(request), "measurement corrected", [new.child_id])
    return Status(201, measurement_payload(new))


@router.get("/children/{child_id}/screenings")
def child_screenings(request: HttpRequest, child_id: int, history: bool = False) -> list[dict[str, Any]]:
    child, categories = _child(request, child_id)
    log_reads(actor(request), "screenings", [child.pk])
    rows = Screening.unscoped.filter(child=child, data_category__in=categories)
    if not history:
        rows = rows.filter(is_current=True)
    return [screening_payload(s) for s in rows.order_by("applied_on", "pk")]


@router.post("/screenings/{screening_id}/correct", response={201: dict[str, Any]})
def correct_screening(request: HttpRequest, screening_id: int, payload: CorrectScreeningIn) -> Status[dict[str, Any]]:
    screening = tracking_scope.get_screening_or_404(request.user, screening_id)
    new = actions.correct_screening(actor(request), screening, payload.inputs, payload.reason, payload.confirm_reason)
    log_reads(actor(request), "screening corrected", [new.child_id])
    return Status(201, screening_payload(new))


@router.get("/children/{child_id}/deliveries")
def child_deliveries(request: HttpRequest, child_id: int) -> list[dict[str, Any]]:
    child, categories = _child(request, child_id)
    allowed = {code for code, category in service_categories().items() if category in categories}
    rows = Delivery.unscoped.filter(child=child, voided_at__isnull=True, service_code__in=allowed)
    log_reads(actor(request), "deliveries", [child.pk])
    return [delivery_payload(d) for d in rows.order_by("delivered_on", "pk")]


@router.post("/children/{child_id}/deliveries", response={201: dict[str, Any]})
def create_delivery(request: HttpRequest, child_id: int, payload: DeliveryIn) -> Status[dict[str, Any]]:
    child, _categories = _child(request, child_id)
    delivery = actions.record_delivery(
        actor(request),
        payload.service,
        payload.date,
        child=child,
        facility_code=payload.facility_code or "",
        detail=payload.detail or "",
    )
    log_reads(actor(request), "delivery recorded", [child.pk])
    return Status(201, delivery_payload(delivery))


@router.get("/worklists")
def worklist(
    request: HttpRequest,
    tab: str = "week",
    facility: str = "",
    professional: str = "",
    contact: str = "",
    page: int = 1,
) -> dict[str, Any]:
    """A worklist of your scope: tab ``today`` (open today, soonest deadline first), ``week`` (closing in
    the next 7 days, soonest first), ``overdue``, ``missed`` (last 90 days) or ``risk``. ``urgent`` lists
    the urgent results awaiting action, on every tab and page."""
    errors = Collector()
    if tab not in worklists.TABS:
        errors.add("tab", "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": ", ".join(worklists.TABS)})
    facility_id = None
    if facility:
        facility_id = Facility.objects.filter(code=facility).values_list("pk", flat=True).first()
        if facility_id is None:
            errors.add("facility", "unknown", _("No facility has the code “%(code)s”.") % {"code": facility})
    professional_id = None
    if professional:
        professional_id = (
            worklists.professionals(request.user).filter(username=professional).values_list("pk", flat=True).first()
        )
        if professional_id is None:
            errors.add("professional", "unknown", _("No user is called “%(name)s”.") % {"name": professional})
    errors.raise_if_any()
    today = timezone.localdate()
    rows = worklists.worklist(
        request.user, tab, today, facility_id=facility_id, professional_id=professional_id, contact_code=contact
    )
    items, pages = paginate(rows, page)
    built = worklists.build_rows(request.user, tab, items, today)
    pinned = worklists.pinned(request.user)
    worklists.log_worklist(actor(request), f"worklist {tab}", built, pinned)
    return {
        **pages,
        "results": [
            {
                "child": r.child.pk,
                "registry_number": r.child.registry_number,
                "name": r.child.full_name,
                "birth_date": r.child.birth_date,
                "contact": r.contact.code if r.contact else None,
                "state": r.state,
                "opens": r.opens,
                "closes": r.closes,
                "alerts": r.alerts,
                "phone": r.phone,
                "flags": [{"rule": rule, "label": label, "urgent": waiting} for rule, label, waiting in r.flags],
            }
            for r in built
        ],
        "urgent": [
            {
                "flag": p.flag.pk,
                "rule": p.flag.rule_id,
                "label": p.label,
                "child": p.flag.child_id,
                "pregnancy": p.flag.pregnancy_id,
                "name": p.subject_name,
                "raised_at": p.flag.raised_at,
            }
            for p in pinned
        ],
    }


def pregnancy_or_404(user: Any, pregnancy_id: int) -> Pregnancy:
    """The one rule of pages and API (:func:`crecer.registry.scope.get_pregnancy_or_404`)."""
    return scope.get_pregnancy_or_404(user, pregnancy_id)
