"""Writes to the child's trajectory: encounters with their measurements, screenings and deliveries,
corrections, and parenting groups. Validated, permission-checked and audited in one transaction.

Pages and the API record one encounter at a time; importers (:mod:`crecer.tracking.importers`) validate
a whole batch with the same functions (:mod:`crecer.tracking.inputs`, :func:`encounter_row`,
:func:`score_screening`, …), ask the same permission checks (:func:`subject_refusal`) and call the same
writers with many records at once (:func:`add_encounters`, :func:`add_measurements`,
:func:`supersede_measurements`, :func:`add_screenings`, :func:`add_deliveries`, :func:`add_groups`,
:func:`attend`), which record the same audit events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import categories, permissions
from crecer.access.models import DataCategory
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, record_created, record_many
from crecer.core import bulk
from crecer.core.signals import facts_changed
from crecer.lib import pregnancy as pregnancy_dating
from crecer.lib import screening as screening_lib
from crecer.registry import actions as registry_actions
from crecer.registry.models import Caregiver, CaregiverLink, Child, Pregnancy, Relationship
from crecer.territories.models import Facility
from crecer.tracking import growth
from crecer.tracking.inputs import (
    DELIVERY_FIELDS,
    MEASUREMENT_FIELDS,
    DeliveryFields,
    assign_contact,
    check_growth,
    check_instrument_age,
    check_scale,
    clean_delivery,
    clean_encounter_header,
    clean_group,
    clean_measurement,
    completion_date,
    confirm_reason,
    session_date,
)
from crecer.tracking.models import (
    Delivery,
    Encounter,
    GroupMember,
    GroupSession,
    Measurement,
    ParentingGroup,
    Screening,
)
from crecer.tracking.screening_messages import translated
from crecer.validation import Collector, FieldError, InputErrors

# --- the subject of a record: a child or a pregnancy ------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What the trajectory's rules need to know of the child or pregnancy a record is about."""

    child_id: int | None
    pregnancy_id: int | None
    #: the day ages count from: the birth date, or the pregnancy's origin (LMP)
    origin: dt.date | None
    #: where the subject lives (the child's territory, the mother's for a pregnancy)
    path: str
    sex: str = ""
    #: the caregiver a caregiver's instrument or service concerns (the mother)
    mother_id: int | None = None

    @property
    def is_pregnancy(self) -> bool:
        return self.pregnancy_id is not None

    def age_days(self, on: dt.date | None) -> int | None:
        return (on - self.origin).days if on is not None and self.origin is not None else None


def child_subject(child: Child) -> Subject:
    return Subject(
        child.pk, None, child.birth_date, child.territory.path, child.sex, mothers_of([child.pk]).get(child.pk)
    )


def pregnancy_subject(pregnancy: Pregnancy) -> Subject:
    return Subject(None, pregnancy.pk, pregnancy.origin, pregnancy.mother.territory.path, mother_id=pregnancy.mother_id)


def mothers_of(child_ids: Iterable[int]) -> dict[int, int]:
    """``{child id: mother's caregiver id}``."""
    return dict(
        CaregiverLink.unscoped.filter(child_id__in=list(child_ids), relationship=Relationship.MOTHER).values_list(
            "child_id", "caregiver_id"
        )
    )


def subject_refusal(actor: Actor, path: str | None, category: str) -> permissions.Refusal | None:
    """Why ``actor`` may not record data of ``category`` about a subject living in ``path`` (None: may)."""
    return permissions.register_refusal(actor.user, path) or permissions.record_refusal(actor.user, category)


def _check(actor: Actor, path: str | None, category: str) -> None:
    refusal = subject_refusal(actor, path, category)
    if refusal is not None:
        refusal.raise_()


def facility_id(
    code: str, facilities: dict[str, int], actor: Actor, errors: Collector, name: str = "facility_code"
) -> int | None:
    """The facility a record names by code; none named: the recording user's own facility, if any."""
    code = (code or "").strip()
    if not code:
        return actor.user.facility_id if actor.user is not None else None
    if code not in facilities:
        errors.add(name, "unknown", _("No facility has the code “%(code)s”.") % {"code": code})
    return facilities.get(code)


def _facilities(code: str) -> dict[str, int]:
    return dict(Facility.objects.filter(code=code.strip()).values_list("code", "id")) if code.strip() else {}


def _recorder(actor: Actor) -> int | None:
    return actor.user.pk if actor.user is not None else None


# --- encounters -------------------------------------------------------------------------------------------


def done_contacts(child: Child | None = None, pregnancy: Pregnancy | None = None) -> set[str]:
    encounters = Encounter.unscoped.filter(voided_at__isnull=True).exclude(contact_code="")
    encounters = encounters.filter(child=child) if child is not None else encounters.filter(pregnancy=pregnancy)
    return set(encounters.values_list("contact_code", flat=True))


def encounter_row(
    actor: Actor,
    raw: dict[str, Any],
    subject: Subject,
    done: set[str],
    facilities: dict[str, int],
    errors: Collector,
    *,
    today: dt.date,
    current: Encounter | None = None,
) -> dict[str, Any]:
    """The stored values of an encounter (check-up or prenatal contact) about ``subject``, whose contacts
    ``done`` are already fulfilled; problems go to ``errors``.

    ``raw`` has kind, date, facility_code, contact_code and professional (a name, as another system writes
    it). Without a contact code a scheduled visit fulfils the contact due at its age (or the earliest
    overdue one); an encounter imported again (``current``) on the same day keeps the contact it was
    given. Without a facility code it took place at the recording user's facility; without a named
    professional, the recording user attended it if they work at a facility."""
    if subject.child_id is not None and subject.origin is None:
        errors.add("child", "unborn", _("Record prenatal contacts on the pregnancy until the child is born."))
        return {}
    values = clean_encounter_header(raw, errors, for_pregnancy=subject.is_pregnancy, origin=subject.origin, today=today)
    place = facility_id(str(raw.get("facility_code") or ""), facilities, actor, errors)
    age = subject.age_days(values["date"])
    code = values["contact_code"]
    own = current.contact_code if current is not None else ""
    if code and code in done and code != own:
        errors.add("contact_code", "done", _("This scheduled contact was already recorded."))
    if not code and current is not None and current.date == values["date"]:
        code = own  # the contact assigned when it was first recorded
    elif not code:
        code = assign_contact(values["kind"], subject.is_pregnancy, age, done - {own})
    named = str(raw.get("professional") or "").strip()[:150]
    user = actor.user
    return {
        "child_id": subject.child_id,
        "pregnancy_id": subject.pregnancy_id,
        "kind": values["kind"],
        "contact_code": code,
        "date": values["date"],
        "facility_id": place,
        "professional_id": user.pk if user is not None and user.facility_id and not named else None,
        "professional_name": named,
        "gestational_weeks": pregnancy_dating.gestational_week(subject.origin, values["date"])
        if subject.is_pregnancy
        else None,
        "recorded_by_id": _recorder(actor),
    }


#: the columns of an encounter that a new import of the same encounter may change
ENCOUNTER_UPDATABLE = ("kind", "contact_code", "date", "facility_id", "professional_name")


def add_encounters(actor: Actor, rows: Sequence[dict[str, Any]], note: str = "") -> list[int]:
    """Store encounters (``encounter_row`` values, plus ``external_id`` when imported), one event each."""
    ids = bulk.insert(Encounter, [{"external_id": None, **r} for r in rows], key="external_id")
    record_created(actor, "tracking.encounter", ((pk, r["child_id"]) for pk, r in zip(ids, rows, strict=True)), note)
    return ids


# --- measurements ---------------------------------------------------------------------------------------------


@dataclass
class MeasurementIn:
    """A measurement to store: validated values, taken at an encounter of a child."""

    encounter_id: int
    child_id: int
    sex: str
    measured_on: dt.date
    age_days: int
    values: dict[str, Any]
    supersedes: Measurement | None = None
    reason: str = ""
    #: why doubtful values were recorded anyway ("" when none was)
    confirmation: str = ""
    #: the z-score fields, when the checks already computed them
    computed: dict[str, Any] | None = None


def check_measurements(
    items: Sequence[MeasurementIn], raws: Sequence[Any], collectors: Sequence[Collector], prefix: str
) -> None:
    """Apply the profile's rule on WHO's implausible flags to measurements (one vectorised computation):
    each item's ``computed`` and ``confirmation`` are set; problems go to its collector. ``raws`` hold the
    ``confirm_reason`` each item was given."""
    computed = growth.compute_many([(m.sex, m.age_days, m.values) for m in items])
    for item, raw, fields, errors in zip(items, raws, computed, collectors, strict=True):
        item.computed = fields
        item.confirmation = check_growth(fields, confirm_reason(raw), errors, prefix)


def measurement_rows(actor: Actor, items: Sequence[MeasurementIn]) -> list[dict[str, Any]]:
    """The stored rows of measurements, with their WHO z-scores and classification (one vectorised call)."""
    missing = [m for m in items if m.computed is None]
    fresh = iter(growth.compute_many([(m.sex, m.age_days, m.values) for m in missing]))
    computed = [m.computed if m.computed is not None else next(fresh) for m in items]
    return [
        {
            "encounter_id": m.encounter_id,
            "child_id": m.child_id,
            "measured_on": m.measured_on,
            "age_days": m.age_days,
            "supersedes_id": m.supersedes.pk if m.supersedes is not None else None,
            "correction_reason": m.reason,
            "confirmation_reason": m.confirmation,
            "is_current": True,
            "recorded_by_id": _recorder(actor),
            **{f: m.values[f] for f in MEASUREMENT_FIELDS},
            **fields,
        }
        for m, fields in zip(items, computed, strict=True)
    ]


def add_measurements(actor: Actor, items: Sequence[MeasurementIn], note: str = "") -> list[int]:
    """Store measurements (at most one current per encounter), one audit event each; ids in order."""
    if not items:
        return []
    rows = measurement_rows(actor, items)
    bulk.BulkInsert(Measurement).write(rows)
    ids = dict(
        Measurement.unscoped.filter(encounter_id__in=[m.encounter_id for m in items], is_current=True).values_list(
            "encounter_id", "pk"
        )
    )
    new = [ids[m.encounter_id] for m in items]
    record_created(actor, "tracking.measurement", ((pk, m.child_id) for pk, m in zip(new, items, strict=True)), note)
    return new


def supersede_measurements(
    actor: Actor, items: Sequence[MeasurementIn], note: str = ""
) -> tuple[list[int], list[MeasurementIn]]:
    """Corrections: each item's new values replace the current measurement it ``supersedes``, which stays,
    marked as superseded (compare-and-set: of two corrections of the same value, one wins). Returns the new
    ids and the items that lost the race (their measurement was corrected meanwhile)."""
    won, lost = [], []
    for item in items:
        assert item.supersedes is not None
        if Measurement.unscoped.filter(pk=item.supersedes.pk, is_current=True).update(is_current=False):
            won.append(item)
        else:
            lost.append(item)
    record_many(
        actor,
        Action.UPDATE,
        "tracking.measurement",
        ((m.supersedes.pk, m.child_id, {"is_current": True}, {"is_current": False}) for m in won),  # type: ignore[union-attr]
        note=note or "; ".join(sorted({m.reason for m in won})),
    )
    return add_measurements(actor, won, note), lost


def _superseded() -> str:
    return _("This measurement was already corrected; correct the latest one.")


def correct_measurement(
    actor: Actor, measurement: Measurement, changes: dict[str, Any], reason: str, confirm: str = ""
) -> Measurement:
    """Replace a measurement by a corrected one; the old row stays, marked as superseded. A corrected value
    WHO flags as implausible needs ``confirm`` (the reason it is right) as the profile says."""
    errors = Collector()
    if not measurement.is_current:
        errors.add("measurement", "superseded", _superseded())
    if not reason.strip():
        errors.add("reason", "required", _("Say why the measurement is corrected."))
    unknown = set(changes) - set(MEASUREMENT_FIELDS)
    for name in sorted(unknown):
        errors.add(name, "unknown_field", _("This field does not exist."))
    errors.raise_if_any()
    merged = {name: getattr(measurement, name) for name in MEASUREMENT_FIELDS} | changes
    values = clean_measurement(merged, errors, prefix="")
    errors.raise_if_any()
    child = measurement.child
    _check(actor, child.territory.path, DataCategory.HEALTH)
    item = MeasurementIn(
        measurement.encounter_id,
        child.pk,
        child.sex,
        measurement.measured_on,
        measurement.age_days,
        values,
        supersedes=measurement,
        reason=reason.strip()[:300],
    )
    check_measurements([item], [{"confirm_reason": confirm}], [errors], prefix="")
    errors.raise_if_any()
    with transaction.atomic():
        new, lost = supersede_measurements(actor, [item])
        if lost:
            errors.add("measurement", "superseded", _superseded())
            errors.raise_if_any()
        facts_changed(actor, child_ids=[child.pk])
    return Measurement.unscoped.get(pk=new[0])


# --- screenings ---------------------------------------------------------------------------------------------


def score_screening(
    raw: dict[str, Any], *, age_days: int | None, errors: Collector, prefix: str
) -> tuple[screening_lib.Instrument, screening_lib.Result, str] | None:
    """Score one screening input ``{"instrument": code, "inputs": {...}, "confirm_reason": ""}`` with the
    profile's parameters and checks: applied outside the country's age band, or scored outside the scale,
    it is refused or needs ``confirm_reason``, as the profile says. Returns the instrument, the result and
    the confirmation reason to store ("" when nothing was doubtful)."""
    code = str(raw.get("instrument") or "")
    profile = conf.profile()
    if code not in profile.instruments:
        errors.add(
            prefix + "instrument",
            "unknown",
            _("“%(code)s” is not an instrument used here (%(codes)s).")
            % {"code": code, "codes": ", ".join(profile.instruments)},
        )
        return None
    instrument = screening_lib.get(code)
    inputs = raw.get("inputs")
    if not isinstance(inputs, dict):
        errors.add(prefix + "inputs", "required", _("The answers of the instrument are required."))
        return None
    reason = confirm_reason(raw)
    before = len(errors.errors)
    confirmed = check_instrument_age(instrument, age_days, reason, errors, prefix + "instrument")
    if len(errors.errors) > before:
        return None
    try:
        result = instrument.score(
            inputs, age_days if instrument.subject == screening_lib.CHILD else None, profile.screening_params
        )
    except screening_lib.ScreeningInputError as exc:
        errors.add(f"{prefix}inputs.{exc.field}", exc.code, translated(exc.code, exc.params))
        return None
    confirmed = check_scale(instrument, result.score, reason, errors, prefix) or confirmed
    if len(errors.errors) > before:
        return None
    return instrument, result, confirmed


def screening_row(
    actor: Actor,
    instrument: screening_lib.Instrument,
    result: screening_lib.Result,
    inputs: dict[str, Any],
    subject: Subject,
    *,
    applied_on: dt.date,
    encounter_id: int | None,
    confirmation: str = "",
) -> dict[str, Any]:
    """The stored row of a scored screening; a caregiver's instrument (the mother's EPDS) is about the
    subject's mother."""
    return {
        "encounter_id": encounter_id,
        "child_id": subject.child_id,
        "pregnancy_id": subject.pregnancy_id,
        "caregiver_id": subject.mother_id if instrument.subject == screening_lib.CAREGIVER else None,
        "instrument": instrument.code,
        "instrument_version": result.version,
        "applied_on": applied_on,
        "age_days": subject.age_days(applied_on),
        "inputs": inputs,
        "score": result.score,
        "subscores": result.subscores,
        "classification": result.classification,
        "sub_classifications": result.sub_classifications,
        "urgent": result.urgent,
        "details": result.details,
        "data_category": categories.of_instrument(instrument.code),
        "is_current": True,
        "supersedes_id": None,
        "correction_reason": "",
        "confirmation_reason": confirmation,
        "recorded_by_id": _recorder(actor),
    }


def add_screenings(actor: Actor, rows: Sequence[dict[str, Any]], note: str = "") -> list[int]:
    """Store scored screenings (``screening_row`` values, plus ``external_id`` when imported)."""
    ids = bulk.insert(Screening, [{"external_id": None, **r} for r in rows], key="external_id")
    record_created(actor, "tracking.screening", ((pk, r["child_id"]) for pk, r in zip(ids, rows, strict=True)), note)
    return ids


def correct_screening(
    actor: Actor, screening: Screening, inputs: dict[str, Any], reason: str, confirm: str = ""
) -> Screening:
    """Re-score a screening with corrected answers; the old result stays, marked as superseded. A doubtful
    result (outside the scale) needs ``confirm`` as the profile says; the age is the one it was applied at,
    so an application confirmed outside the age band keeps that confirmation."""
    errors = Collector()
    if not screening.is_current:
        errors.add("screening", "superseded", _("This screening was already corrected; correct the latest one."))
    if not reason.strip():
        errors.add("reason", "required", _("Say why the screening is corrected."))
    errors.raise_if_any()
    outcome = score_screening(
        {"instrument": screening.instrument, "inputs": inputs, "confirm_reason": confirm},
        age_days=screening.age_days,
        errors=errors,
        prefix="",
    )
    errors.raise_if_any()
    assert outcome is not None
    instrument, result, confirmed = outcome
    subject = (
        child_subject(screening.child) if screening.child is not None else pregnancy_subject(screening.pregnancy)  # type: ignore[arg-type]
    )
    _check(actor, subject.path, categories.of_instrument(instrument.code))
    with transaction.atomic():
        if not Screening.unscoped.filter(pk=screening.pk, is_current=True).update(is_current=False):
            errors.add("screening", "superseded", _("This screening was already corrected; correct the latest one."))
            errors.raise_if_any()
        record(
            actor,
            Action.UPDATE,
            screening,
            child_id=screening.child_id,
            before={"is_current": True},
            after={"is_current": False},
            note=reason,
        )
        row = screening_row(
            actor,
            instrument,
            result,
            inputs,
            subject,
            applied_on=screening.applied_on,
            encounter_id=screening.encounter_id,
            confirmation=confirmed,
        )
        row.update(age_days=screening.age_days, caregiver_id=screening.caregiver_id)
        row.update(supersedes_id=screening.pk, correction_reason=reason.strip()[:300])
        (pk,) = add_screenings(actor, [row], note=reason)
        facts_changed(actor, child_ids=[screening.child_id or 0], pregnancy_ids=[screening.pregnancy_id or 0])
    return Screening.unscoped.get(pk=pk)


# --- deliveries -------------------------------------------------------------------------------------------------


def delivery_row(
    actor: Actor,
    service: Any,
    *,
    child_id: int | None,
    caregiver_id: int | None,
    date: dt.date,
    facility_id: int | None,
    encounter_id: int | None = None,
    detail: str = "",
) -> dict[str, Any]:
    """The stored row of a service given: to the child, or to the caregiver for a caregiver's service."""
    return {
        "service_code": service.code,
        "child_id": child_id if service.subject == "child" else None,
        "caregiver_id": caregiver_id if service.subject == "caregiver" else None,
        "delivered_on": date,
        "facility_id": facility_id,
        "encounter_id": encounter_id,
        "detail": detail[:300],
        "recorded_by_id": _recorder(actor),
    }


def add_deliveries(actor: Actor, rows: Sequence[dict[str, Any]], note: str = "") -> list[int]:
    """Store deliveries (``delivery_row`` values, plus ``external_id`` when imported), one event each."""
    ids = bulk.insert(Delivery, [{"external_id": None, **r} for r in rows], key="external_id")
    record_created(actor, "tracking.delivery", ((pk, r["child_id"]) for pk, r in zip(ids, rows, strict=True)), note)
    return ids


def record_delivery(
    actor: Actor,
    service_code: str,
    delivered_on: Any,
    *,
    child: Child | None = None,
    caregiver: Caregiver | None = None,
    facility_code: str = "",
    detail: str = "",
    fields: DeliveryFields = DELIVERY_FIELDS,
) -> Delivery:
    """Record a service given outside an encounter (a kit, a home visit, a stimulation session, an enrolment)."""
    errors = Collector()
    values = clean_delivery(
        {"service_code": service_code, "date": delivered_on, "detail": detail},
        errors,
        has_child=child is not None,
        has_caregiver=caregiver is not None,
        today=timezone.localdate(),
        fields=fields,
    )
    place = facility_id(facility_code, _facilities(facility_code), actor, errors, fields.facility)
    errors.raise_if_any()
    service = values["service"]
    recipient_path = (child if service.subject == "child" else caregiver).territory.path  # type: ignore[union-attr]
    _check(actor, recipient_path, categories.of_service(service.code))
    row = delivery_row(
        actor,
        service,
        child_id=child.pk if child is not None else None,
        caregiver_id=caregiver.pk if caregiver is not None else None,
        date=values["date"],
        facility_id=place,
        detail=values["detail"],
    )
    with transaction.atomic():
        (pk,) = add_deliveries(actor, [row])
        facts_changed(actor, child_ids=[row["child_id"] or 0])
    return Delivery.unscoped.get(pk=pk)


#: the service of the kit a newborn's family receives at birth (the profile's catalogue names it)
WELCOME_KIT = "welcome_kit"


def record_newborn(
    actor: Actor,
    pregnancy: Pregnancy,
    raw: dict[str, Any],
    *,
    child: Child | None = None,
    welcome_kit: bool = False,
    facility_code: str = "",
) -> Child:
    """The birth of a pregnancy (:func:`crecer.registry.actions.register_birth`: the newborn registered and
    linked to the mother and the pregnancy, with birth weight and gestational weeks) and, when
    ``welcome_kit``, the newborn welcome kit delivered on the birth date; all or nothing."""
    with transaction.atomic():
        born = registry_actions.register_birth(actor, pregnancy, raw, child=child)
        if welcome_kit:
            assert born.birth_date is not None
            record_delivery(
                actor,
                WELCOME_KIT,
                born.birth_date.isoformat(),
                child=born,
                facility_code=facility_code,
                fields=DeliveryFields(service="welcome_kit", date="birth_date", facility="facility_code"),
            )
    return born


# --- a pregnancy and its first prenatal visit -----------------------------------------------------------------


def register_pregnancy_with_first_visit(
    actor: Actor, raw: dict[str, Any], visit: dict[str, Any], *, mother: Caregiver | None = None
) -> Pregnancy:
    """Register a pregnancy (:func:`crecer.registry.actions.create_pregnancy`) and record its first prenatal
    visit (:func:`record_encounter`: ``visit`` holds date, facility_code and optionally ``screenings`` such
    as the EPsA), all or nothing: the pages' entry flow and ``POST /pregnancies`` with ``first_visit``.

    The visit's date is the pregnancy's first visit date (and its facility the pregnancy's, unless ``raw``
    names one). Problems with the pregnancy are reported under its fields; problems with the visit under
    ``first_visit.<field>`` (the visit's date is required)."""
    raw = dict(raw)
    visit = dict(visit)
    if visit.get("date") and not raw.get("first_visit_date"):
        raw["first_visit_date"] = visit["date"]
    if not visit.get("date") and raw.get("first_visit_date"):
        visit["date"] = raw["first_visit_date"]
    if visit.get("facility_code") and not raw.get("facility_code"):
        raw["facility_code"] = visit["facility_code"]
    errors: dict[str, list[FieldError]] = {}
    with transaction.atomic():
        pregnancy = None
        try:
            pregnancy = registry_actions.create_pregnancy(actor, raw, mother=mother)
        except InputErrors as exc:
            errors.update(exc.errors)
        if not visit.get("date"):
            errors.setdefault("first_visit.date", []).append(FieldError("required", _("Give the date of this visit.")))
        if errors or pregnancy is None:
            raise InputErrors(errors)
        try:
            record_encounter(actor, visit, pregnancy=pregnancy)
        except InputErrors as exc:
            raise InputErrors({f"first_visit.{k}": v for k, v in exc.errors.items()}) from exc
    pregnancy.refresh_from_db()
    return pregnancy


# --- a whole encounter ------------------------------------------------------------------------------------------


def record_encounter(
    actor: Actor,
    raw: dict[str, Any],
    *,
    child: Child | None = None,
    pregnancy: Pregnancy | None = None,
) -> Encounter:
    """Record a check-up (child) or prenatal contact (pregnancy) with what was measured, screened and
    delivered in it. ``raw`` holds kind, date, facility_code, contact_code (assigned from the schedule
    when empty), professional, and optionally ``measurement`` (dict), ``screenings`` (list of
    ``{"instrument", "inputs"}``) and ``deliveries`` (list of service codes)."""
    if (child is None) == (pregnancy is None):
        raise ValueError("an encounter is about a child or a pregnancy")
    today = timezone.localdate()
    errors = Collector()
    subject = child_subject(child) if child is not None else pregnancy_subject(pregnancy)  # type: ignore[arg-type]
    done = done_contacts(child, pregnancy)
    code = str(raw.get("facility_code") or "")
    row = encounter_row(actor, raw, subject, done, _facilities(code), errors, today=today)
    if not row:  # no encounter can be recorded for this subject yet
        errors.raise_if_any()
    age_days = subject.age_days(row["date"])

    measurement = None
    if raw.get("measurement"):
        if subject.is_pregnancy:
            errors.add("measurement", "wrong_subject", _("Growth measurements are for children."))
        elif isinstance(raw["measurement"], dict):
            before = len(errors.errors)
            values = clean_measurement(raw["measurement"], errors)
            if len(errors.errors) == before and child is not None and row["date"] is not None:
                measurement = MeasurementIn(0, child.pk, child.sex, row["date"], age_days or 0, values)
                check_measurements([measurement], [raw["measurement"]], [errors], prefix="measurement.")
        else:
            errors.add("measurement", "invalid_type", _("The measurement must be a set of named values."))

    scored = []
    for i, item in enumerate(raw.get("screenings") or []):
        outcome = score_screening(
            item if isinstance(item, dict) else {}, age_days=age_days, errors=errors, prefix=f"screenings[{i}]."
        )
        if outcome is not None:
            scored.append((outcome, item.get("inputs")))

    services = []
    for i, service_code in enumerate(raw.get("deliveries") or []):
        try:
            services.append(conf.profile().service(str(service_code)))
        except KeyError:
            errors.add(
                f"deliveries[{i}]",
                "unknown",
                _("“%(code)s” is not a service of the catalogue.") % {"code": service_code},
            )
    errors.raise_if_any()

    _check(actor, subject.path, DataCategory.HEALTH)
    for (instrument, _result, _confirmed), _inputs in scored:
        _check(actor, subject.path, categories.of_instrument(instrument.code))
    for service in services:
        _check(actor, subject.path, categories.of_service(service.code))

    try:
        with transaction.atomic():
            (encounter_id,) = add_encounters(actor, [row])
            if measurement is not None:
                measurement.encounter_id = encounter_id
                add_measurements(actor, [measurement])
            add_screenings(
                actor,
                [
                    screening_row(
                        actor,
                        instrument,
                        result,
                        inputs,
                        subject,
                        applied_on=row["date"],
                        encounter_id=encounter_id,
                        confirmation=confirmed,
                    )
                    for (instrument, result, confirmed), inputs in scored
                ],
            )
            add_deliveries(
                actor,
                [
                    delivery_row(
                        actor,
                        service,
                        child_id=subject.child_id,
                        caregiver_id=subject.mother_id,
                        date=row["date"],
                        facility_id=row["facility_id"],
                        encounter_id=encounter_id,
                    )
                    for service in services
                ],
            )
            facts_changed(actor, child_ids=[subject.child_id or 0], pregnancy_ids=[subject.pregnancy_id or 0])
    except IntegrityError as exc:
        errors.add("contact_code", "done", _("This scheduled contact was already recorded."))
        raise InputErrors(errors.errors) from exc
    return Encounter.unscoped.get(pk=encounter_id)


# --- parenting groups -------------------------------------------------------------------------------------------


def group_row(actor: Actor, values: dict[str, Any], facility: int) -> dict[str, Any]:
    """The stored row of a group; without a named facilitator, the recording user leads it if they work at
    a facility."""
    user = actor.user
    leads = user is not None and bool(user.facility_id) and not values["facilitator_name"]
    return {
        "code": values["code"],
        "name": values["name"],
        "service_code": values["service"].code,
        "facility_id": facility,
        "start_date": values["start_date"],
        "planned_sessions": values["planned_sessions"],
        "facilitator_id": user.pk if leads and user is not None else None,
        "facilitator_name": values["facilitator_name"] or (user.get_full_name() if leads and user is not None else ""),
    }


def add_groups(actor: Actor, rows: Sequence[dict[str, Any]], note: str = "") -> list[int]:
    ids = bulk.insert(ParentingGroup, list(rows), key="code")
    record_created(actor, "tracking.parentinggroup", ((pk, None) for pk in ids), note)
    return ids


def create_group(
    actor: Actor,
    *,
    code: str,
    name: str,
    facility: Facility,
    start_date: dt.date | str | None,
    planned_sessions: int | str | None,
    service_code: str = "parenting_programme",
    facilitator_name: str = "",
) -> ParentingGroup:
    """A group programme meeting at ``facility`` (dates and numbers as typed are validated like a row of the
    ``groups`` import)."""
    errors = Collector()
    values = clean_group(
        {
            "code": code,
            "name": name,
            "service_code": service_code,
            "start_date": start_date,
            "planned_sessions": planned_sessions,
            "facilitator": facilitator_name,
        },
        errors,
    )
    errors.raise_if_any()
    permissions.check_register(actor.user, facility.territory.path, "facility_code")
    try:
        with transaction.atomic():
            (pk,) = add_groups(actor, [group_row(actor, values, facility.pk)])
    except IntegrityError as exc:
        raise InputErrors({"code": [FieldError("duplicate", _("A group with this code exists."))]}) from exc
    return ParentingGroup.unscoped.get(pk=pk)


@dataclass
class Attendance:
    """A member's attendance to record: the sessions (by number) they attended, added to what they had."""

    group: ParentingGroup
    caregiver_id: int
    child_id: int | None
    sessions: set[int] = field(default_factory=set)
    #: the day of a session held now (recorded by a page), by number; others are held on their planned day
    held_on: dict[int, dt.date] = field(default_factory=dict)


def attendance_errors(
    group: ParentingGroup,
    numbers: Iterable[int],
    held: dict[int, dt.date],
    today: dt.date,
    errors: Collector,
    name: str = "attended",
) -> None:
    """Sessions must be sessions of the group, held by today (a session not recorded yet is held on its
    planned day, :func:`~crecer.tracking.inputs.session_date`)."""
    for n in sorted(set(numbers)):
        if not 1 <= n <= group.planned_sessions:
            errors.add(name, "out_of_range", _("The group has %(n)s sessions.") % {"n": group.planned_sessions})
            return
        if held.get(n, session_date(group.start_date, n)) > today:
            errors.add(name, "future", _("A session listed has not been held yet."))
            return


def attend(actor: Actor, attendances: Sequence[Attendance], note: str = "") -> list[str]:
    """Record attendance: members enrolled when new, sessions created on their day when not recorded yet,
    each member's sessions attended and completion (the day of the ``completion_min_sessions``-th session
    attended) recomputed from the sessions they attended. Audited: a CREATE for each new member and
    session, an UPDATE with the before and after for each member whose attendance changed.
    Returns, for each attendance, ``created`` (a new member), ``updated`` or ``unchanged``."""
    if not attendances:
        return []
    groups = {a.group.pk: a.group for a in attendances}
    members = {(m.group_id, m.caregiver_id): m for m in GroupMember.unscoped.filter(group_id__in=groups)}
    new_members: list[dict[str, Any]] = [
        {"group_id": a.group.pk, "caregiver_id": a.caregiver_id, "child_id": a.child_id}
        for a in attendances
        if (a.group.pk, a.caregiver_id) not in members
    ]
    enrolled = {(r["group_id"], r["caregiver_id"]) for r in new_members}
    if new_members:
        bulk.BulkInsert(GroupMember).write(new_members)
        created = {
            (m.group_id, m.caregiver_id): m
            for m in GroupMember.unscoped.filter(
                group_id__in={r["group_id"] for r in new_members},
                caregiver_id__in={r["caregiver_id"] for r in new_members},
            )
        }
        fresh = [created[(r["group_id"], r["caregiver_id"])] for r in new_members]
        members.update({(m.group_id, m.caregiver_id): m for m in fresh})
        record_created(actor, "tracking.groupmember", ((m.pk, m.child_id) for m in fresh), note)
    sessions = {(s.group_id, s.number): s for s in GroupSession.unscoped.filter(group_id__in=groups)}
    planned: dict[tuple[int, int], dt.date] = {}
    for a in attendances:
        for n in a.sessions:
            if (a.group.pk, n) not in sessions:
                planned.setdefault((a.group.pk, n), a.held_on.get(n, session_date(a.group.start_date, n)))
    for (group_id, number), held_on in sorted(planned.items()):
        sessions[(group_id, number)] = GroupSession.unscoped.create(group_id=group_id, number=number, held_on=held_on)
    record_created(actor, "tracking.groupsession", ((sessions[key].pk, None) for key in sorted(planned)), note)
    through = GroupSession.attendees.through
    attended: dict[int, set[int]] = {}
    for session_id, member_id in through.objects.filter(
        groupmember_id__in=[m.pk for m in members.values()]
    ).values_list("groupsession_id", "groupmember_id"):
        attended.setdefault(member_id, set()).add(session_id)
    statuses = []
    new_links = []
    events = []
    by_id = {s.pk: s for s in sessions.values()}
    for a in attendances:
        member = members[(a.group.pk, a.caregiver_id)]
        had = attended.setdefault(member.pk, set())
        wanted = {sessions[(a.group.pk, n)].pk for n in a.sessions}
        added = wanted - had
        new_links += [through(groupsession_id=s, groupmember_id=member.pk) for s in sorted(added)]
        had |= added
        minimum = completion_minimum(a.group)
        held = [by_id[s].held_on for s in had]
        count = len(had)
        completed = member.completed_on or completion_date(held, minimum)
        status = "created" if (a.group.pk, a.caregiver_id) in enrolled else "updated"
        if count == member.sessions_attended and completed == member.completed_on and not added:
            statuses.append("created" if status == "created" else "unchanged")
            continue
        before = {
            "sessions_attended": member.sessions_attended,
            "completed_on": member.completed_on,
            "attended": sorted(by_id[s].number for s in had - added),
        }
        GroupMember.unscoped.filter(pk=member.pk).update(sessions_attended=count, completed_on=completed)
        member.sessions_attended, member.completed_on = count, completed
        after = {
            "sessions_attended": count,
            "completed_on": completed,
            "attended": sorted(by_id[s].number for s in had),
        }
        events.append((member.pk, member.child_id, before, after))
        statuses.append(status)
    through.objects.bulk_create(new_links)
    record_many(actor, Action.UPDATE, "tracking.groupmember", events, note=note)
    return statuses


def completion_minimum(group: ParentingGroup) -> int:
    """The sessions a member must attend to complete the group's programme: the service's
    ``completion_min_sessions``, else every session planned."""
    service = conf.profile().service(group.service_code)
    return service.completion_min_sessions or group.planned_sessions


def _group_check(actor: Actor, group: ParentingGroup, caregiver_path: str) -> None:
    permissions.check_register(actor.user, group.facility.territory.path, "group")
    permissions.check_register(actor.user, caregiver_path, "caregiver")
    permissions.check_record(actor.user, categories.FIXED["tracking.groupmember"])


def record_attendance(
    actor: Actor, group: ParentingGroup, caregiver: Caregiver, sessions: Iterable[int], child: Child | None = None
) -> GroupMember:
    """A caregiver attended these sessions of a group (enrolled if new; no sessions: only enrolled): the twin
    of an attendance row of the ``group_members`` import."""
    errors = Collector()
    numbers = set(sessions)
    attendance_errors(group, numbers, {}, timezone.localdate(), errors)
    errors.raise_if_any()
    _group_check(actor, group, caregiver.territory.path)
    with transaction.atomic():
        attend(actor, [Attendance(group, caregiver.pk, child.pk if child else None, numbers)])
    return GroupMember.unscoped.get(group=group, caregiver=caregiver)


def record_session(
    actor: Actor, group: ParentingGroup, number: int, held_on: dt.date, attendees: list[GroupMember]
) -> GroupSession:
    """A session held, with who attended; members who reach the programme's minimum complete it."""
    errors = Collector()
    if held_on > timezone.localdate():
        errors.add("held_on", "future", _("The date cannot be in the future."))
    attendance_errors(group, [number], {number: held_on}, timezone.localdate(), errors, "number")
    if any(m.group_id != group.pk for m in attendees):
        errors.add("attendees", "other_group", _("Someone listed is not a member of this group."))
    errors.raise_if_any()
    permissions.check_register(actor.user, group.facility.territory.path, "group")
    if GroupSession.unscoped.filter(group=group, number=number).exists():
        raise InputErrors({"number": [FieldError("duplicate", _("This session was already recorded."))]})
    try:
        with transaction.atomic():
            attend(
                actor,
                [Attendance(group, m.caregiver_id, m.child_id, {number}, {number: held_on}) for m in attendees] or [],
            )
            if not attendees:  # a session nobody attended is still a session held
                session = GroupSession.unscoped.create(group=group, number=number, held_on=held_on)
                record_created(actor, "tracking.groupsession", [(session.pk, None)])
    except IntegrityError as exc:
        raise InputErrors({"number": [FieldError("duplicate", _("This session was already recorded."))]}) from exc
    return GroupSession.unscoped.get(group=group, number=number)


def add_session_attendees(
    actor: Actor, group: ParentingGroup, number: int, attendees: list[GroupMember]
) -> GroupSession:
    """Members who attended a session already recorded, added to those listed (nobody is removed); members
    who reach the programme's minimum complete it. A session not recorded yet is recorded with
    :func:`record_session`."""
    errors = Collector()
    session = GroupSession.unscoped.filter(group=group, number=number).first()
    if session is None:
        errors.add("number", "not_held", _("This session has not been recorded yet."))
    if any(m.group_id != group.pk for m in attendees):
        errors.add("attendees", "other_group", _("Someone listed is not a member of this group."))
    errors.raise_if_any()
    permissions.check_register(actor.user, group.facility.territory.path, "group")
    permissions.check_record(actor.user, categories.FIXED["tracking.groupmember"])
    with transaction.atomic():
        attend(actor, [Attendance(group, m.caregiver_id, m.child_id, {number}) for m in attendees])
    return GroupSession.unscoped.get(group=group, number=number)
