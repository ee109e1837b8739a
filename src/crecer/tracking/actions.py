"""Writes to the child's trajectory: encounters with their measurements, screenings and deliveries,
corrections, and parenting groups. Validated, permission-checked and audited in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access.models import DataCategory
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, snapshot
from crecer.lib import schedule as schedule_lib
from crecer.lib import screening as screening_lib
from crecer.registry.actions import check_may_register
from crecer.registry.inputs import parse_date
from crecer.registry.models import Caregiver, CaregiverLink, Child, Pregnancy, Relationship
from crecer.risks import engine as risk_engine
from crecer.territories.models import Facility
from crecer.tracking import growth
from crecer.tracking.inputs import MEASUREMENT_FIELDS, clean_encounter_header, clean_measurement
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


def _check_category(actor: Actor, category: str) -> None:
    """Nobody records data of a category they may not read."""
    if actor.user is not None and category not in actor.user.data_categories():
        raise PermissionDenied(_("You may not record data of this category."))


def _facility(raw: dict[str, Any], actor: Actor, errors: Collector) -> Facility | None:
    code = str(raw.get("facility_code") or "").strip()
    if not code:
        return actor.user.facility if actor.user is not None and actor.user.facility_id else None
    facility = Facility.objects.filter(code=code).first()
    if facility is None:
        errors.add("facility_code", "unknown", _("No facility has the code “%(code)s”.") % {"code": code})
    return facility


def _recipient_caregiver(subject: str, child: Child | None, pregnancy: Pregnancy | None) -> Caregiver | None:
    if subject != "caregiver":
        return None
    if child is not None:
        return _mother_of(child)
    return pregnancy.mother if pregnancy is not None else None


def done_contacts(child: Child | None = None, pregnancy: Pregnancy | None = None) -> set[str]:
    encounters = Encounter.unscoped.filter(voided_at__isnull=True).exclude(contact_code="")
    encounters = encounters.filter(child=child) if child is not None else encounters.filter(pregnancy=pregnancy)
    return set(encounters.values_list("contact_code", flat=True))


def _mother_of(child: Child) -> Caregiver | None:
    link = (
        CaregiverLink.unscoped.filter(child=child, relationship=Relationship.MOTHER).select_related("caregiver").first()
    )
    return link.caregiver if link else None


def score_screening(
    raw: dict[str, Any], *, age_days: int | None, errors: Collector, prefix: str
) -> tuple[screening_lib.Instrument, screening_lib.Result] | None:
    """Score one screening input ``{"instrument": code, "inputs": {...}}`` with the profile's parameters."""
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
    try:
        result = instrument.score(
            inputs, age_days if instrument.subject == screening_lib.CHILD else None, profile.screening_params
        )
    except screening_lib.ScreeningInputError as exc:
        errors.add(f"{prefix}inputs.{exc.field}", exc.code, translated(exc.code, exc.params))
        return None
    return instrument, result


def _screening_row(
    actor: Actor,
    instrument: screening_lib.Instrument,
    result: screening_lib.Result,
    inputs: dict[str, Any],
    *,
    applied_on: dt.date,
    age_days: int | None,
    encounter: Encounter | None,
    child: Child | None,
    pregnancy: Pregnancy | None,
) -> Screening:
    caregiver = None
    if instrument.subject == screening_lib.CAREGIVER:
        caregiver = pregnancy.mother if pregnancy is not None else (_mother_of(child) if child else None)
    return Screening(
        encounter=encounter,
        child=child,
        caregiver=caregiver,
        pregnancy=pregnancy,
        instrument=instrument.code,
        instrument_version=result.version,
        applied_on=applied_on,
        age_days=age_days,
        inputs=inputs,
        score=result.score,
        subscores=result.subscores,
        classification=result.classification,
        sub_classifications=result.sub_classifications,
        urgent=result.urgent,
        details=result.details,
        data_category=instrument.category,
        recorded_by=actor.user,
    )


def record_encounter(
    actor: Actor,
    raw: dict[str, Any],
    *,
    child: Child | None = None,
    pregnancy: Pregnancy | None = None,
) -> Encounter:
    """Record a check-up (child) or prenatal contact (pregnancy) with what was measured, screened and
    delivered in it. ``raw`` holds kind, date, facility_code, contact_code (assigned from the schedule
    when empty), gestational_weeks, and optionally ``measurement`` (dict), ``screenings`` (list of
    ``{"instrument", "inputs"}``) and ``deliveries`` (list of service codes)."""
    if (child is None) == (pregnancy is None):
        raise ValueError("an encounter is about a child or a pregnancy")
    today = timezone.localdate()
    errors = Collector()
    if child is not None:
        origin = child.birth_date
    else:
        assert pregnancy is not None
        origin = pregnancy.origin
    if child is not None and child.birth_date is None:
        errors.add("child", "unborn", _("Record prenatal contacts on the pregnancy until the child is born."))
        errors.raise_if_any()
    values = clean_encounter_header(raw, errors, for_pregnancy=pregnancy is not None, origin=origin, today=today)
    facility = _facility(raw, actor, errors)
    age_days = (values["date"] - origin).days if values["date"] and origin else None

    schedule = conf.profile().prenatal_schedule if pregnancy is not None else conf.profile().child_schedule
    done = done_contacts(child, pregnancy)
    if values["contact_code"] and values["contact_code"] in done:
        errors.add("contact_code", "done", _("This scheduled contact was already recorded."))
    if not values["contact_code"] and age_days is not None and values["kind"] in ("check_up", "prenatal", "nutrition"):
        contact = schedule_lib.assign(schedule, age_days, done)
        values["contact_code"] = contact.code if contact else ""

    measurement_values = None
    if raw.get("measurement"):
        if pregnancy is not None:
            errors.add("measurement", "wrong_subject", _("Growth measurements are for children."))
        else:
            measurement_values = clean_measurement(raw["measurement"], errors)

    scored = []
    for i, item in enumerate(raw.get("screenings") or []):
        outcome = score_screening(
            item if isinstance(item, dict) else {},
            age_days=age_days,
            errors=errors,
            prefix=f"screenings[{i}].",
        )
        if outcome is not None:
            scored.append((outcome, item.get("inputs")))

    services = []
    for i, code in enumerate(raw.get("deliveries") or []):
        try:
            service = conf.profile().service(str(code))
        except KeyError:
            errors.add(
                f"deliveries[{i}]", "unknown", _("“%(code)s” is not a service of the catalogue.") % {"code": code}
            )
            continue
        services.append(service)
    errors.raise_if_any()

    subject_path = child.territory.path if child is not None else pregnancy.mother.territory.path  # type: ignore[union-attr]
    check_may_register(actor, subject_path)
    _check_category(actor, DataCategory.HEALTH)
    for (instrument, _result), _inputs in scored:
        _check_category(actor, instrument.category)

    try:
        with transaction.atomic():
            encounter = Encounter.unscoped.create(
                child=child,
                pregnancy=pregnancy,
                kind=values["kind"],
                contact_code=values["contact_code"],
                date=values["date"],
                facility=facility,
                professional=actor.user,
                gestational_weeks=(age_days // 7) if pregnancy is not None and age_days is not None else None,
                recorded_by=actor.user,
            )
            child_id = child.pk if child is not None else None
            record(actor, Action.CREATE, encounter, child_id=child_id, after=snapshot(encounter))
            if measurement_values is not None and child is not None:
                _save_measurement(actor, encounter, child, measurement_values, age_days or 0)
            for (instrument, result), inputs in scored:
                row = _screening_row(
                    actor,
                    instrument,
                    result,
                    inputs,
                    applied_on=values["date"],
                    age_days=age_days,
                    encounter=encounter,
                    child=child,
                    pregnancy=pregnancy,
                )
                row.save()
                record(actor, Action.CREATE, row, child_id=child_id, after=_screening_summary(row))
            for service in services:
                delivery = Delivery.unscoped.create(
                    service_code=service.code,
                    child=child if service.subject == "child" else None,
                    caregiver=_recipient_caregiver(service.subject, child, pregnancy),
                    delivered_on=values["date"],
                    facility=facility,
                    encounter=encounter,
                    recorded_by=actor.user,
                )
                record(actor, Action.CREATE, delivery, child_id=child_id, after=snapshot(delivery))
            # The facts changed: the risk rules run in the same transaction.
            risk_engine.evaluate(actor, children=[child] if child else [], pregnancies=[pregnancy] if pregnancy else [])
    except IntegrityError as exc:
        errors.add("contact_code", "done", _("This scheduled contact was already recorded."))
        raise InputErrors(errors.errors) from exc
    return encounter


def _screening_summary(row: Screening) -> dict[str, Any]:
    return {
        "instrument": row.instrument,
        "score": row.score,
        "classification": row.classification,
        "urgent": row.urgent,
        "category": row.data_category,
    }


def _save_measurement(
    actor: Actor,
    encounter: Encounter,
    child: Child,
    values: dict[str, Any],
    age_days: int,
    supersedes: Measurement | None = None,
    reason: str = "",
) -> Measurement:
    computed = growth.compute(child.sex, age_days, values)
    measurement = Measurement.unscoped.create(
        encounter=encounter,
        child=child,
        measured_on=encounter.date,
        age_days=age_days,
        supersedes=supersedes,
        correction_reason=reason,
        recorded_by=actor.user,
        **{k: values[k] for k in MEASUREMENT_FIELDS},
        **computed,
    )
    record(actor, Action.CREATE, measurement, child_id=child.pk, after=snapshot(measurement))
    return measurement


def correct_measurement(actor: Actor, measurement: Measurement, changes: dict[str, Any], reason: str) -> Measurement:
    """Replace a measurement by a corrected one; the old row stays, marked as superseded."""
    errors = Collector()
    if not measurement.is_current:
        errors.add("measurement", "superseded", _("This measurement was already corrected; correct the latest one."))
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
    check_may_register(actor, child.territory.path)
    _check_category(actor, DataCategory.HEALTH)
    with transaction.atomic():
        # Compare-and-set: two people correcting the same value at once cannot both win.
        if not Measurement.unscoped.filter(pk=measurement.pk, is_current=True).update(is_current=False):
            errors.add(
                "measurement", "superseded", _("This measurement was already corrected; correct the latest one.")
            )
            errors.raise_if_any()
        record(
            actor,
            Action.UPDATE,
            measurement,
            child_id=child.pk,
            before={"is_current": True},
            after={"is_current": False},
            note=reason,
        )
        new = _save_measurement(
            actor, measurement.encounter, child, values, measurement.age_days, measurement, reason.strip()
        )
        risk_engine.evaluate(actor, children=[child])
        return new


def correct_screening(actor: Actor, screening: Screening, inputs: dict[str, Any], reason: str) -> Screening:
    """Re-score a screening with corrected answers; the old result stays, marked as superseded."""
    errors = Collector()
    if not screening.is_current:
        errors.add("screening", "superseded", _("This screening was already corrected; correct the latest one."))
    if not reason.strip():
        errors.add("reason", "required", _("Say why the screening is corrected."))
    errors.raise_if_any()
    outcome = score_screening(
        {"instrument": screening.instrument, "inputs": inputs},
        age_days=screening.age_days,
        errors=errors,
        prefix="",
    )
    errors.raise_if_any()
    assert outcome is not None
    instrument, result = outcome
    path = screening.child.territory.path if screening.child else screening.pregnancy.mother.territory.path  # type: ignore[union-attr]
    check_may_register(actor, path)
    _check_category(actor, instrument.category)
    with transaction.atomic():
        if not Screening.unscoped.filter(pk=screening.pk, is_current=True).update(is_current=False):
            errors.add("screening", "superseded", _("This screening was already corrected; correct the latest one."))
            errors.raise_if_any()
        child_id = screening.child_id
        record(
            actor,
            Action.UPDATE,
            screening,
            child_id=child_id,
            before={"is_current": True},
            after={"is_current": False},
            note=reason,
        )
        row = _screening_row(
            actor,
            instrument,
            result,
            inputs,
            applied_on=screening.applied_on,
            age_days=screening.age_days,
            encounter=screening.encounter,
            child=screening.child,
            pregnancy=screening.pregnancy,
        )
        row.supersedes = screening
        row.correction_reason = reason.strip()
        row.save()
        record(actor, Action.CREATE, row, child_id=child_id, after=_screening_summary(row), note=reason)
        risk_engine.evaluate(
            actor,
            children=[screening.child] if screening.child else [],
            pregnancies=[screening.pregnancy] if screening.pregnancy else [],
        )
    return row


def record_delivery(
    actor: Actor,
    service_code: str,
    delivered_on: Any,
    *,
    child: Child | None = None,
    caregiver: Caregiver | None = None,
    facility_code: str = "",
    detail: str = "",
) -> Delivery:
    """Record a service given outside an encounter (a kit, a home visit, a stimulation session, an enrolment)."""
    errors = Collector()
    try:
        service = conf.profile().service(service_code)
    except KeyError:
        errors.add("service", "unknown", _("“%(code)s” is not a service of the catalogue.") % {"code": service_code})
        errors.raise_if_any()
        raise
    if service.subject == "child" and child is None:
        errors.add("child", "required", _("This service is given to a child."))
    if service.subject == "caregiver" and caregiver is None:
        errors.add("caregiver", "required", _("This service is given to a caregiver."))
    date = parse_date(delivered_on, "delivered_on", errors)
    if date is None and "delivered_on" not in errors.errors:
        errors.add("delivered_on", "required", _("The date is required."))
    if date is not None and date > timezone.localdate():
        errors.add("delivered_on", "future", _("The date cannot be in the future."))
    facility = _facility({"facility_code": facility_code}, actor, errors)
    errors.raise_if_any()
    assert date is not None
    subject_path = child.territory.path if child is not None else caregiver.territory.path  # type: ignore[union-attr]
    check_may_register(actor, subject_path)
    _check_category(actor, service.data_category)
    with transaction.atomic():
        delivery = Delivery.unscoped.create(
            service_code=service.code,
            child=child,
            caregiver=caregiver,
            delivered_on=date,
            facility=facility,
            detail=detail[:300],
            recorded_by=actor.user,
        )
        record(actor, Action.CREATE, delivery, child_id=child.pk if child else None, after=snapshot(delivery))
        if child is not None:
            risk_engine.evaluate(actor, children=[child])
    return delivery


# --- parenting groups -------------------------------------------------------------------------------


def create_group(
    actor: Actor,
    *,
    code: str,
    name: str,
    facility: Facility,
    start_date: dt.date,
    planned_sessions: int,
    service_code: str = "parenting_programme",
    facilitator_name: str = "",
) -> ParentingGroup:
    errors = Collector()
    try:
        service = conf.profile().service(service_code)
    except KeyError:
        errors.add("service", "unknown", _("“%(code)s” is not a service of the catalogue.") % {"code": service_code})
        errors.raise_if_any()
        raise
    if service.delivery != "group":
        errors.add("service", "not_a_group", _("This service is not a group programme."))
    low, high = service.sessions_min or 1, service.sessions_max or 52
    if not low <= planned_sessions <= high:
        errors.add(
            "planned_sessions",
            "out_of_range",
            _("%(value)s is outside the accepted range %(low)s–%(high)s.")
            % {"value": planned_sessions, "low": low, "high": high},
        )
    if not code.strip() or not name.strip():
        errors.add("code", "required", _("The code and the name are required."))
    errors.raise_if_any()
    check_may_register(actor, facility.territory.path)
    try:
        with transaction.atomic():
            group = ParentingGroup.unscoped.create(
                code=code.strip(),
                name=name.strip(),
                facility=facility,
                start_date=start_date,
                planned_sessions=planned_sessions,
                service_code=service.code,
                facilitator=actor.user,
                facilitator_name=facilitator_name or (actor.user.get_full_name() if actor.user else ""),
            )
            record(actor, Action.CREATE, group, after=snapshot(group))
    except IntegrityError as exc:
        raise InputErrors({"code": [FieldError("duplicate", _("A group with this code exists."))]}) from exc
    return group


def enrol(actor: Actor, group: ParentingGroup, caregiver: Caregiver, child: Child | None = None) -> GroupMember:
    check_may_register(actor, caregiver.territory.path)
    try:
        with transaction.atomic():
            member = GroupMember.unscoped.create(group=group, caregiver=caregiver, child=child)
            record(actor, Action.CREATE, member, child_id=child.pk if child else None, after=snapshot(member))
    except IntegrityError as exc:
        raise InputErrors(
            {"caregiver": [FieldError("duplicate", _("This caregiver is already in the group."))]}
        ) from exc
    return member


def record_session(
    actor: Actor, group: ParentingGroup, number: int, held_on: dt.date, attendees: list[GroupMember]
) -> GroupSession:
    """A session held, with who attended; members who reach the programme's minimum complete it."""
    errors = Collector()
    if not 1 <= number <= group.planned_sessions:
        errors.add("number", "out_of_range", _("The group has %(n)s sessions.") % {"n": group.planned_sessions})
    if held_on > timezone.localdate():
        errors.add("held_on", "future", _("The date cannot be in the future."))
    if any(m.group_id != group.pk for m in attendees):
        errors.add("attendees", "other_group", _("Someone listed is not a member of this group."))
    errors.raise_if_any()
    check_may_register(actor, group.facility.territory.path)
    minimum = conf.profile().service(group.service_code).completion_min_sessions or group.planned_sessions
    try:
        with transaction.atomic():
            session = GroupSession.unscoped.create(group=group, number=number, held_on=held_on)
            session.attendees.set(attendees)
            for member in attendees:
                member.sessions_attended = member.sessions.count()
                if member.completed_on is None and member.sessions_attended >= minimum:
                    member.completed_on = held_on
                member.save(update_fields=["sessions_attended", "completed_on"])
            record(
                actor,
                Action.CREATE,
                session,
                after={"group": group.code, "number": number, "attendees": [m.pk for m in attendees]},
            )
    except IntegrityError as exc:
        raise InputErrors({"number": [FieldError("duplicate", _("This session was already recorded."))]}) from exc
    return session
