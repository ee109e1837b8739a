"""Importers for encounters, measurements, screenings, deliveries and parenting groups.

Same rules as :func:`crecer.tracking.actions.record_encounter` (the header, measurement and screening
validators are shared), applied to a whole batch: lookups prefetched, z-scores computed in one
vectorised call, rows written with bulk inserts, one audit event per created record.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, record_many, snapshot
from crecer.imports.bulk import BulkInsert
from crecer.imports.framework import (
    LARGE_BATCH,
    ImportResult,
    Row,
    batch_note,
    error,
    register,
    repeated_message,
)
from crecer.lib import schedule as schedule_lib
from crecer.lib import screening as screening_lib
from crecer.registry.importers import out_of_scope
from crecer.registry.inputs import parse_date
from crecer.registry.models import Caregiver, CaregiverLink, Child, Pregnancy, Relationship
from crecer.territories.models import Facility
from crecer.tracking import growth
from crecer.tracking.actions import score_screening
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
from crecer.validation import Collector, InputErrors

PREGNANCY_DAYS = 280


class _Keyed:
    key = "external_id"
    insert: BulkInsert
    batch_size = LARGE_BATCH

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.facilities = dict(Facility.objects.values_list("code", "id"))

    def key_of(self, line: int, row: Row, result: ImportResult) -> str | None:
        key = (row.get(self.key) or "").strip()
        if not key:
            result.reject(line, row, error(self.key, "required", _("This column is required.")))
            return None
        if key in self.seen:
            result.reject(line, row, error(self.key, "repeated", repeated_message(self.seen[key])))
            return None
        self.seen[key] = line
        return key

    def facility(self, row: Row, errors: Collector) -> int | None:
        code = (row.get("facility_code") or "").strip()
        if not code:
            return None
        if code not in self.facilities:
            errors.add("facility_code", "unknown", _("No facility has the code “%(code)s”.") % {"code": code})
        return self.facilities.get(code)

    def store(self, creates: list[dict[str, Any]], actor: Actor, result: ImportResult) -> None:
        """Insert the new records of one batch, note whom they touch and audit each creation."""
        ids = self.insert.write_keyed(creates, "external_id")
        result.touched_children.update(c["child_id"] for c in creates if c["child_id"])
        result.touched_pregnancies.update(c["pregnancy_id"] for c in creates if c.get("pregnancy_id"))
        record_many(
            actor,
            Action.CREATE,
            self.insert.model._meta.label_lower,
            ((ids[c["external_id"]], c["child_id"], None, None) for c in creates),
            note=batch_note(result),
        )
        result.created += len(creates)


def _children(keys: set[str]) -> dict[str, tuple[int, dt.date | None, str, str]]:
    """external_id -> (id, birth_date, sex, territory path)."""
    return {
        str(e): (i, b, s, p)
        for e, i, b, s, p in Child.unscoped.filter(external_id__in=keys, voided_at__isnull=True).values_list(
            "external_id", "id", "birth_date", "sex", "territory__path"
        )
    }


def _pregnancies(keys: set[str]) -> dict[str, tuple[int, dt.date, int, str]]:
    """external_id -> (id, origin = LMP or EDD − 280 days, mother id, mother's territory path)."""
    return {
        str(e): (i, lmp or edd - dt.timedelta(days=PREGNANCY_DAYS), m, p)
        for e, i, lmp, edd, m, p in Pregnancy.unscoped.filter(external_id__in=keys).values_list(
            "external_id", "id", "lmp_date", "edd_date", "mother_id", "mother__territory__path"
        )
    }


class EncounterImporter(_Keyed):
    kind = "encounters"
    columns = (
        "external_id",
        "child_external_id",
        "pregnancy_external_id",
        "kind",
        "contact_code",
        "date",
        "facility_code",
        "professional",
    )
    required = ("external_id", "child_external_id", "pregnancy_external_id", "date")
    fields = ("kind", "contact_code", "date", "facility_id", "professional_name")

    def __init__(self) -> None:
        super().__init__()
        self.insert = BulkInsert(Encounter)
        self.child_schedule = conf.profile().child_schedule
        self.prenatal_schedule = conf.profile().prenatal_schedule

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        today = timezone.localdate()
        children = _children({r.get("child_external_id", "").strip() for _, r in rows} - {""})
        pregnancies = _pregnancies({r.get("pregnancy_external_id", "").strip() for _, r in rows} - {""})
        existing = {
            e.external_id: e
            for e in Encounter.unscoped.filter(external_id__in=[r.get("external_id", "").strip() for _, r in rows])
        }
        done: set[tuple[str, int, str]] = set()
        for child_id, code in (
            Encounter.unscoped.filter(child_id__in=[c[0] for c in children.values()], voided_at__isnull=True)
            .exclude(contact_code="")
            .values_list("child_id", "contact_code")
        ):
            done.add(("c", child_id, code))
        for pregnancy_id, code in (
            Encounter.unscoped.filter(pregnancy_id__in=[p[0] for p in pregnancies.values()], voided_at__isnull=True)
            .exclude(contact_code="")
            .values_list("pregnancy_id", "contact_code")
        ):
            done.add(("p", pregnancy_id, code))
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            errors = Collector()
            child_key, pregnancy_key = (
                row.get("child_external_id", "").strip(),
                row.get("pregnancy_external_id", "").strip(),
            )
            if bool(child_key) == bool(pregnancy_key):
                errors.add(
                    "child_external_id", "one_subject", _("Give the child or the pregnancy, not both or neither.")
                )
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            if child_key and child_key not in children:
                errors.add(
                    "child_external_id", "unknown", _("No child has the external id “%(id)s”.") % {"id": child_key}
                )
            if pregnancy_key and pregnancy_key not in pregnancies:
                errors.add(
                    "pregnancy_external_id",
                    "unknown",
                    _("No pregnancy has the external id “%(id)s”.") % {"id": pregnancy_key},
                )
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            if child_key:
                subject_id, origin, _sex, path = children[child_key]
                tag, schedule = "c", self.child_schedule
                if origin is None:
                    errors.add(
                        "child_external_id",
                        "unborn",
                        _("Record prenatal contacts on the pregnancy until the child is born."),
                    )
            else:
                subject_id, origin, _mother, path = pregnancies[pregnancy_key]
                tag, schedule = "p", self.prenatal_schedule
            values = clean_encounter_header(row, errors, for_pregnancy=tag == "p", origin=origin, today=today)
            facility_id = self.facility(row, errors)
            current = existing.get(key)
            code = values["contact_code"]
            if code and (tag, subject_id, code) in done and (current is None or current.contact_code != code):
                errors.add("contact_code", "done", _("This scheduled contact was already recorded."))
            if not code and current is not None and current.date == values["date"]:
                code = current.contact_code  # the contact assigned when it was first imported
            elif not code and values["date"] and origin:
                taken = {c for t, s, c in done if t == tag and s == subject_id}
                if current is not None:
                    taken.discard(current.contact_code)  # its own contact may be assigned again
                contact = schedule_lib.assign(schedule, (values["date"] - origin).days, taken)
                code = contact.code if contact else ""
            refused = out_of_scope(actor, path)
            if errors.errors or refused:
                result.reject(line, row, refused or InputErrors(errors.errors).as_dict())
                continue
            if code:
                done.add((tag, subject_id, code))
            record_values = {
                "kind": values["kind"],
                "contact_code": code,
                "date": values["date"],
                "facility_id": facility_id,
                "professional_name": (row.get("professional") or "").strip()[:150],
            }
            if current is not None:
                if _update(actor, current, record_values, self.fields, current.child_id):
                    result.updated += 1
                else:
                    result.unchanged += 1
                continue
            gestational = (values["date"] - origin).days // 7 if tag == "p" and origin else None
            creates.append(
                {
                    "external_id": key,
                    "child_id": subject_id if tag == "c" else None,
                    "pregnancy_id": subject_id if tag == "p" else None,
                    "gestational_weeks": gestational,
                    "recorded_by_id": actor.user.pk if actor.user else None,
                    **record_values,
                }
            )
        self.store(creates, actor, result)


def _update(actor: Actor, current: Any, values: dict[str, Any], fields: tuple[str, ...], child_id: int | None) -> bool:
    changed = [f for f in fields if getattr(current, f) != values[f]]
    if not changed:
        return False
    before = snapshot(current, changed)
    for f in changed:
        setattr(current, f, values[f])
    current.save()
    record(actor, Action.UPDATE, current, child_id=child_id, before=before, after={f: values[f] for f in changed})
    return True


def _encounters(keys: set[str]) -> dict[str, tuple[int, int | None, int | None, dt.date, dt.date | None, str, str]]:
    """external_id -> (encounter id, child id, pregnancy id, date, origin, child sex, territory path)."""
    found: dict[str, tuple[int, int | None, int | None, dt.date, dt.date | None, str, str]] = {}
    for e, i, c, p, date, birth, sex, cpath, lmp, edd, mpath in Encounter.unscoped.filter(
        external_id__in=keys
    ).values_list(
        "external_id",
        "id",
        "child_id",
        "pregnancy_id",
        "date",
        "child__birth_date",
        "child__sex",
        "child__territory__path",
        "pregnancy__lmp_date",
        "pregnancy__edd_date",
        "pregnancy__mother__territory__path",
    ):
        origin = birth if c else (lmp or (edd - dt.timedelta(days=PREGNANCY_DAYS) if edd else None))
        found[str(e)] = (i, c, p, date, origin, sex or "", cpath or mpath or "")
    return found


class MeasurementImporter:
    """One measurement set per encounter; a changed row on re-import becomes a correction."""

    kind = "measurements"
    columns = (
        "encounter_external_id",
        "weight_kg",
        "length_cm",
        "position",
        "head_cm",
        "muac_cm",
        "oedema",
        "haemoglobin_g_l",
    )
    required = ("encounter_external_id",)
    batch_size = LARGE_BATCH

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.insert = BulkInsert(Measurement)

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        encounters = _encounters({r.get("encounter_external_id", "").strip() for _, r in rows})
        current = {
            m.encounter_id: m
            for m in Measurement.unscoped.filter(encounter_id__in=[e[0] for e in encounters.values()], is_current=True)
        }
        pending: list[tuple[dict[str, Any], tuple[Any, ...], Measurement | None]] = []
        for line, row in rows:
            key = row.get("encounter_external_id", "").strip()
            if key in self.seen:
                result.reject(line, row, error("encounter_external_id", "repeated", repeated_message(self.seen[key])))
                continue
            self.seen[key] = line
            encounter = encounters.get(key)
            errors = Collector()
            if encounter is None:
                errors.add(
                    "encounter_external_id", "unknown", _("No encounter has the external id “%(id)s”.") % {"id": key}
                )
            elif encounter[1] is None:
                errors.add("encounter_external_id", "wrong_subject", _("Growth measurements are for children."))
            values = clean_measurement(row, errors, prefix="")
            refused = out_of_scope(actor, encounter[6]) if encounter else None
            if errors.errors or refused:
                result.reject(line, row, refused or InputErrors(errors.errors).as_dict())
                continue
            assert encounter is not None
            old = current.get(encounter[0])
            if old is not None and all(getattr(old, f) == values[f] for f in MEASUREMENT_FIELDS):
                result.unchanged += 1
                continue
            pending.append((values, encounter, old))
        computed = growth.compute_many([(e[5], (e[3] - e[4]).days if e[4] else 0, v) for v, e, _old in pending])
        creates: list[dict[str, Any]] = []
        for (values, encounter, old), fields in zip(pending, computed, strict=True):
            assert encounter[4] is not None  # a child's encounter: the birth date is known
            row_values = {
                "encounter_id": encounter[0],
                "child_id": encounter[1],
                "measured_on": encounter[3],
                "age_days": (encounter[3] - encounter[4]).days,
                "recorded_by_id": actor.user.pk if actor.user else None,
                **{f: values[f] for f in MEASUREMENT_FIELDS},
                **fields,
            }
            if old is not None:
                # A changed value on re-import is a correction: the old row stays, superseded.
                Measurement.unscoped.filter(pk=old.pk).update(is_current=False)
                new = Measurement.unscoped.create(supersedes=old, correction_reason=_("re-import"), **row_values)
                record(actor, Action.CREATE, new, child_id=encounter[1], note=batch_note(result))
                result.updated += 1
            else:
                creates.append(row_values)
        self.insert.write(creates)
        result.touched_children.update(e[1] for _v, e, _o in pending if e[1])
        if creates:
            ids = dict(
                Measurement.unscoped.filter(
                    encounter_id__in=[c["encounter_id"] for c in creates], is_current=True
                ).values_list("encounter_id", "pk")
            )
            record_many(
                actor,
                Action.CREATE,
                "tracking.measurement",
                ((ids[c["encounter_id"]], c["child_id"], None, None) for c in creates),
                note=batch_note(result),
            )
        result.created += len(creates)


class ScreeningImporter(_Keyed):
    kind = "screenings"
    columns = ("external_id", "encounter_external_id", "instrument", "inputs")
    required = columns

    def __init__(self) -> None:
        super().__init__()
        self.insert = BulkInsert(Screening)

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        encounters = _encounters({r.get("encounter_external_id", "").strip() for _, r in rows})
        existing = set(
            Screening.unscoped.filter(external_id__in=[r.get("external_id", "").strip() for _, r in rows]).values_list(
                "external_id", flat=True
            )
        )
        child_ids = {e[1] for e in encounters.values() if e[1]}
        mothers = dict(
            CaregiverLink.unscoped.filter(child_id__in=child_ids, relationship=Relationship.MOTHER).values_list(
                "child_id", "caregiver_id"
            )
        )
        pregnancy_mothers = dict(
            Pregnancy.unscoped.filter(pk__in={e[2] for e in encounters.values() if e[2]}).values_list("pk", "mother_id")
        )
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            if key in existing:
                result.unchanged += 1  # a screening is corrected through the application, not by re-import
                continue
            errors = Collector()
            encounter = encounters.get(row.get("encounter_external_id", "").strip())
            if encounter is None:
                errors.add(
                    "encounter_external_id",
                    "unknown",
                    _("No encounter has the external id “%(id)s”.") % {"id": row.get("encounter_external_id", "")},
                )
            try:
                inputs = json.loads(row.get("inputs") or "{}")
            except json.JSONDecodeError:
                inputs = None
                errors.add("inputs", "invalid_json", _("The answers must be a JSON object."))
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            assert encounter is not None
            age_days = (encounter[3] - encounter[4]).days if encounter[4] else None
            outcome = score_screening(
                {"instrument": row.get("instrument", "").strip(), "inputs": inputs},
                age_days=age_days,
                errors=errors,
                prefix="",
            )
            refused = out_of_scope(actor, encounter[6])
            if outcome is None or refused:
                result.reject(line, row, refused or InputErrors(errors.errors).as_dict())
                continue
            instrument, scored = outcome
            caregiver = None
            if instrument.subject == screening_lib.CAREGIVER:
                if encounter[2] is not None:
                    caregiver = pregnancy_mothers.get(encounter[2])
                elif encounter[1] is not None:
                    caregiver = mothers.get(encounter[1])
            creates.append(
                {
                    "external_id": key,
                    "encounter_id": encounter[0],
                    "child_id": encounter[1],
                    "pregnancy_id": encounter[2],
                    "caregiver_id": caregiver,
                    "instrument": instrument.code,
                    "instrument_version": scored.version,
                    "applied_on": encounter[3],
                    "age_days": age_days,
                    "inputs": inputs,
                    "score": scored.score,
                    "subscores": scored.subscores,
                    "classification": scored.classification,
                    "sub_classifications": scored.sub_classifications,
                    "urgent": scored.urgent,
                    "details": scored.details,
                    "data_category": instrument.category,
                    "is_current": True,
                    "recorded_by_id": actor.user.pk if actor.user else None,
                }
            )
        self.store(creates, actor, result)


class DeliveryImporter(_Keyed):
    kind = "deliveries"
    columns = (
        "external_id",
        "service_code",
        "child_external_id",
        "caregiver_external_id",
        "date",
        "facility_code",
        "encounter_external_id",
        "detail",
    )
    required = ("external_id", "service_code", "date")

    def __init__(self) -> None:
        super().__init__()
        self.insert = BulkInsert(Delivery)
        self.services = {s.code: s for s in conf.profile().services}

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        today = timezone.localdate()
        children = _children({r.get("child_external_id", "").strip() for _, r in rows} - {""})
        caregivers = {
            e: (i, p)
            for e, i, p in Caregiver.unscoped.filter(
                external_id__in={r.get("caregiver_external_id", "").strip() for _, r in rows} - {""}
            ).values_list("external_id", "id", "territory__path")
        }
        encounters = dict(
            Encounter.unscoped.filter(
                external_id__in={r.get("encounter_external_id", "").strip() for _, r in rows} - {""}
            ).values_list("external_id", "id")
        )
        existing = set(
            Delivery.unscoped.filter(external_id__in=[r.get("external_id", "").strip() for _, r in rows]).values_list(
                "external_id", flat=True
            )
        )
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            if key in existing:
                result.unchanged += 1
                continue
            errors = Collector()
            service = self.services.get(row.get("service_code", "").strip())
            if service is None:
                errors.add(
                    "service_code",
                    "unknown",
                    _("“%(code)s” is not a service of the catalogue.") % {"code": row.get("service_code", "")},
                )
            child = children.get(row.get("child_external_id", "").strip())
            caregiver = caregivers.get(row.get("caregiver_external_id", "").strip())
            if service is not None and service.subject == "child" and child is None:
                errors.add("child_external_id", "required", _("This service is given to a child."))
            if service is not None and service.subject == "caregiver" and caregiver is None:
                errors.add("caregiver_external_id", "required", _("This service is given to a caregiver."))
            date = parse_date(row.get("date"), "date", errors)
            if date is not None and date > today:
                errors.add("date", "future", _("The date cannot be in the future."))
            facility_id = self.facility(row, errors)
            encounter_key = row.get("encounter_external_id", "").strip()
            if encounter_key and encounter_key not in encounters:
                errors.add(
                    "encounter_external_id",
                    "unknown",
                    _("No encounter has the external id “%(id)s”.") % {"id": encounter_key},
                )
            path = child[3] if child else (caregiver[1] if caregiver else None)
            refused = out_of_scope(actor, path)
            if errors.errors or refused:
                result.reject(line, row, refused or InputErrors(errors.errors).as_dict())
                continue
            assert service is not None
            creates.append(
                {
                    "external_id": key,
                    "service_code": service.code,
                    "child_id": child[0] if child and service.subject == "child" else None,
                    "caregiver_id": caregiver[0] if caregiver and service.subject == "caregiver" else None,
                    "delivered_on": date,
                    "facility_id": facility_id,
                    "encounter_id": encounters.get(encounter_key),
                    "detail": (row.get("detail") or "")[:300],
                    "recorded_by_id": actor.user.pk if actor.user else None,
                }
            )
        self.store(creates, actor, result)


class GroupImporter(_Keyed):
    kind = "groups"
    key = "code"
    columns = ("code", "name", "service_code", "facility_code", "start_date", "planned_sessions", "facilitator")
    required = ("code", "name", "service_code", "facility_code", "start_date", "planned_sessions")

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        from crecer.registry.inputs import parse_int

        existing = set(
            ParentingGroup.unscoped.filter(code__in=[r.get("code", "").strip() for _, r in rows]).values_list(
                "code", flat=True
            )
        )
        services = {s.code: s for s in conf.profile().services if s.delivery == "group"}
        paths = dict(Facility.objects.values_list("id", "territory__path"))
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            if key in existing:
                result.unchanged += 1
                continue
            errors = Collector()
            service = services.get(row.get("service_code", "").strip())
            if service is None:
                errors.add("service_code", "not_a_group", _("This service is not a group programme."))
            facility_id = self.facility(row, errors)
            if facility_id is None and "facility_code" not in errors.errors:
                errors.add("facility_code", "required", _("This column is required."))
            start = parse_date(row.get("start_date"), "start_date", errors)
            low, high = (service.sessions_min or 1, service.sessions_max or 52) if service else (1, 52)
            planned = parse_int(row.get("planned_sessions"), "planned_sessions", errors, low, high)
            refused = out_of_scope(actor, paths.get(facility_id)) if facility_id else None
            if errors.errors or refused:
                result.reject(line, row, refused or InputErrors(errors.errors).as_dict())
                continue
            assert service is not None and facility_id is not None and start is not None and planned is not None
            group = ParentingGroup.unscoped.create(
                code=key,
                name=(row.get("name") or "").strip()[:200],
                service_code=service.code,
                facility_id=facility_id,
                start_date=start,
                planned_sessions=planned,
                facilitator_name=(row.get("facilitator") or "").strip()[:150],
            )
            record(actor, Action.CREATE, group, note=batch_note(result))
            result.created += 1


class GroupMemberImporter:
    """Members of a group and the sessions they attended (session n is held start + 7·(n−1) days)."""

    kind = "group_members"
    columns = ("group_code", "caregiver_external_id", "child_external_id", "attended")
    required = ("group_code", "caregiver_external_id", "attended")
    batch_size = LARGE_BATCH

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        today = timezone.localdate()
        groups = {
            g.code: g
            for g in ParentingGroup.unscoped.filter(code__in={r.get("group_code", "").strip() for _, r in rows})
        }
        caregivers = dict(
            Caregiver.unscoped.filter(
                external_id__in={r.get("caregiver_external_id", "").strip() for _, r in rows}
            ).values_list("external_id", "id")
        )
        children = dict(
            Child.unscoped.filter(
                external_id__in={r.get("child_external_id", "").strip() for _, r in rows} - {""}
            ).values_list("external_id", "id")
        )
        members = {(m.group_id, m.caregiver_id): m for m in GroupMember.unscoped.filter(group__in=groups.values())}
        sessions = {(s.group_id, s.number): s for s in GroupSession.unscoped.filter(group__in=groups.values())}
        for line, row in rows:
            errors = Collector()
            group = groups.get(row.get("group_code", "").strip())
            caregiver_id = caregivers.get(row.get("caregiver_external_id", "").strip())
            child_key = row.get("child_external_id", "").strip()
            if group is None:
                errors.add(
                    "group_code",
                    "unknown",
                    _("No group has the code “%(code)s”.") % {"code": row.get("group_code", "")},
                )
            if caregiver_id is None:
                errors.add(
                    "caregiver_external_id",
                    "unknown",
                    _("No caregiver has the external id “%(id)s”.") % {"id": row.get("caregiver_external_id", "")},
                )
            if child_key and child_key not in children:
                errors.add(
                    "child_external_id", "unknown", _("No child has the external id “%(id)s”.") % {"id": child_key}
                )
            numbers: list[int] = []
            for part in (row.get("attended") or "").replace(",", ";").split(";"):
                part = part.strip()
                if not part:
                    continue
                if not part.isdigit() or group is None or not 1 <= int(part) <= group.planned_sessions:
                    errors.add(
                        "attended", "invalid", _("“%(value)s” is not a session of this group.") % {"value": part}
                    )
                    break
                numbers.append(int(part))
            if group is not None and any(group.start_date + dt.timedelta(days=7 * (n - 1)) > today for n in numbers):
                errors.add("attended", "future", _("A session listed has not been held yet."))
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            assert group is not None and caregiver_id is not None
            member = members.get((group.pk, caregiver_id))
            if member is not None and member.sessions_attended == len(set(numbers)):
                result.unchanged += 1
                continue
            if member is None:
                member = GroupMember.unscoped.create(
                    group=group, caregiver_id=caregiver_id, child_id=children.get(child_key)
                )
                members[(group.pk, caregiver_id)] = member
                result.created += 1
            else:
                result.updated += 1
            for n in sorted(set(numbers)):
                session = sessions.get((group.pk, n))
                if session is None:
                    session = GroupSession.unscoped.create(
                        group=group, number=n, held_on=group.start_date + dt.timedelta(days=7 * (n - 1))
                    )
                    sessions[(group.pk, n)] = session
                session.attendees.add(member)
            minimum = conf.profile().service(group.service_code).completion_min_sessions or group.planned_sessions
            attended = sorted(set(numbers))
            member.sessions_attended = len(attended)
            if member.completed_on is None and len(attended) >= minimum:
                member.completed_on = group.start_date + dt.timedelta(days=7 * (attended[minimum - 1] - 1))
            member.save(update_fields=["sessions_attended", "completed_on"])
            record(
                actor,
                Action.CREATE,
                member,
                child_id=member.child_id,
                after={"attended": attended},
                note=batch_note(result),
            )


register("encounters")(EncounterImporter)
register("measurements")(MeasurementImporter)
register("screenings")(ScreeningImporter)
register("deliveries")(DeliveryImporter)
register("groups")(GroupImporter)
register("group_members")(GroupMemberImporter)
