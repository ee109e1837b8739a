"""Importers for encounters, measurements, screenings, deliveries and parenting groups.

The rules are those of :mod:`crecer.tracking.actions`: the same validation (``encounter_row``,
``clean_measurement``, ``score_screening``, ``clean_delivery``, ``clean_group``, ``attendance_errors``),
the same permission checks (``subject_refusal``: the territory and the data category of what is
recorded) and the same writers, which record the same audit events. An importer only batches: lookups
prefetched for the whole batch, z-scores computed in one vectorised call, rows written with bulk inserts.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access import categories, permissions
from crecer.access.models import DataCategory
from crecer.audit.trail import Actor, save_changes
from crecer.imports.framework import (
    LARGE_BATCH,
    ImportResult,
    Row,
    batch_note,
    error,
    register,
    repeated_message,
)
from crecer.lib import pregnancy as pregnancy_dating
from crecer.registry.importers import elsewhere, key_elsewhere, person_elsewhere, record_elsewhere, visible
from crecer.registry.models import Caregiver, Child, Pregnancy
from crecer.territories.models import Facility
from crecer.tracking import actions
from crecer.tracking.actions import Attendance, MeasurementIn, Subject
from crecer.tracking.inputs import MEASUREMENT_FIELDS, DeliveryFields, clean_delivery, clean_group, clean_measurement
from crecer.tracking.models import Delivery, Encounter, Measurement, ParentingGroup, Screening
from crecer.validation import Collector, InputErrors

#: why a measurement changed by a new import of its file was corrected (kept with the corrected row)
REIMPORT_REASON = "re-import"
#: the columns of a deliveries file, for errors that name the field
DELIVERY_COLUMNS = DeliveryFields(
    service="service_code",
    date="date",
    child="child_external_id",
    caregiver="caregiver_external_id",
    facility="facility_code",
)


def _rejected(result: ImportResult, line: int, row: Row, errors: Collector, refusal: Any = None) -> bool:
    """Reject the row if it has errors or a refusal; True when rejected."""
    if errors.errors:
        result.reject(line, row, InputErrors(errors.errors).as_dict())
        return True
    if refusal is not None:
        result.reject(line, row, refusal.as_errors())
        return True
    return False


class _Keyed:
    key = "external_id"
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


def _keys(rows: list[tuple[int, Row]], column: str) -> set[str]:
    return {(r.get(column) or "").strip() for _, r in rows} - {""}


def _children(keys: set[str], actor: Actor) -> dict[str, Subject]:
    """external_id -> the child as a subject of the trajectory; only children in the importing user's
    scope (another is an unknown external id: :func:`crecer.registry.importers.visible`)."""
    found = list(
        Child.unscoped.filter(external_id__in=keys, voided_at__isnull=True).values_list(
            "external_id", "id", "birth_date", "sex", "territory__path"
        )
    )
    seen = visible(actor, "child", [i for _e, i, *_ in found])
    found = [f for f in found if f[1] in seen]
    mothers = actions.mothers_of(i for _e, i, *_ in found)
    return {str(e): Subject(i, None, b, p, s, mothers.get(i)) for e, i, b, s, p in found}


def _pregnancies(keys: set[str], actor: Actor) -> dict[str, Subject]:
    """external_id -> the pregnancy as a subject (ages count from its origin, :mod:`crecer.lib.pregnancy`);
    only pregnancies in the importing user's scope."""
    found = list(
        Pregnancy.unscoped.filter(external_id__in=keys).values_list(
            "external_id", "id", "lmp_date", "edd_date", "mother_id", "mother__territory__path"
        )
    )
    seen = visible(actor, "pregnancy", [i for _e, i, *_ in found])
    return {
        str(e): Subject(None, i, pregnancy_dating.origin(lmp, edd), p, mother_id=m)
        for e, i, lmp, edd, m, p in found
        if i in seen
    }


def _subjects_seen(actor: Actor, subjects: list[tuple[int | None, int | None, int | None]]) -> list[bool]:
    """For each (child, pregnancy, caregiver) a record concerns, whether the importing user sees one of them."""
    children = visible(actor, "child", {c for c, _p, _g in subjects if c})
    pregnancies = visible(actor, "pregnancy", {p for _c, p, _g in subjects if p})
    caregivers = visible(actor, "caregiver", {g for _c, _p, g in subjects if g})
    return [c in children or p in pregnancies or g in caregivers for c, p, g in subjects]


def _caregivers(keys: set[str], actor: Actor) -> dict[str, tuple[int, str]]:
    """external_id -> (id, territory path) of caregivers in the importing user's scope."""
    found = list(Caregiver.unscoped.filter(external_id__in=keys).values_list("external_id", "id", "territory__path"))
    seen = visible(actor, "caregiver", [i for _e, i, _p in found])
    return {str(e): (i, p) for e, i, p in found if i in seen}


def _held(model: type[Screening] | type[Delivery], keys: set[str], actor: Actor) -> dict[str, tuple[int, bool]]:
    """external_id -> (id, whether the importing user sees its subject) of stored screenings or deliveries."""
    stored: Any = model.unscoped.filter(external_id__in=keys)
    if model is Screening:
        found = list(stored.values_list("external_id", "id", "child_id", "pregnancy_id", "caregiver_id"))
    else:
        found = [
            (e, i, c, None, g) for e, i, c, g in stored.values_list("external_id", "id", "child_id", "caregiver_id")
        ]
    seen = _subjects_seen(actor, [(c, p, g) for _e, _i, c, p, g in found])
    return {str(e): (i, ok) for (e, i, *_), ok in zip(found, seen, strict=True)}


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

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        today = timezone.localdate()
        children = _children(_keys(rows, "child_external_id"), actor)
        pregnancies = _pregnancies(_keys(rows, "pregnancy_external_id"), actor)
        existing = {
            e.external_id: e
            for e in Encounter.unscoped.filter(external_id__in=_keys(rows, "external_id")).select_related(
                "child__territory", "pregnancy__mother__territory"
            )
        }
        held = list(existing.values())
        seen_held = dict(
            zip(
                [e.external_id for e in held],
                _subjects_seen(actor, [(e.child_id, e.pregnancy_id, None) for e in held]),
                strict=True,
            )
        )
        done: dict[tuple[str, int], set[str]] = {}
        for child_id, code in (
            Encounter.unscoped.filter(child_id__in=[c.child_id for c in children.values()], voided_at__isnull=True)
            .exclude(contact_code="")
            .values_list("child_id", "contact_code")
        ):
            done.setdefault(("c", child_id), set()).add(code)
        for pregnancy_id, code in (
            Encounter.unscoped.filter(
                pregnancy_id__in=[p.pregnancy_id for p in pregnancies.values()], voided_at__isnull=True
            )
            .exclude(contact_code="")
            .values_list("pregnancy_id", "contact_code")
        ):
            done.setdefault(("p", pregnancy_id), set()).add(code)
        creates: list[dict[str, Any]] = []
        note = batch_note(result)
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            if key in existing and (
                problem := key_elsewhere(actor, "encounter", existing[key].pk, in_scope=seen_held[key])
            ):
                result.reject(line, row, problem)
                continue
            errors = Collector()
            child_key = row.get("child_external_id", "").strip()
            pregnancy_key = row.get("pregnancy_external_id", "").strip()
            if bool(child_key) == bool(pregnancy_key):
                errors.add(
                    "child_external_id", "one_subject", _("Give the child or the pregnancy, not both or neither.")
                )
            elif child_key and child_key not in children:
                errors.add(
                    "child_external_id", "unknown", _("No child has the external id “%(id)s”.") % {"id": child_key}
                )
            elif pregnancy_key and pregnancy_key not in pregnancies:
                errors.add(
                    "pregnancy_external_id",
                    "unknown",
                    _("No pregnancy has the external id “%(id)s”.") % {"id": pregnancy_key},
                )
            if _rejected(result, line, row, errors):
                continue
            subject = children[child_key] if child_key else pregnancies[pregnancy_key]
            tag = ("c", subject.child_id) if child_key else ("p", subject.pregnancy_id)
            subject_done = done.setdefault(tag, set())  # type: ignore[arg-type]
            current = existing.get(key)
            values = actions.encounter_row(
                actor, row, subject, subject_done, self.facilities, errors, today=today, current=current
            )
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            problem = None
            if current is not None:
                path = current.child.territory.path if current.child else current.pregnancy.mother.territory.path  # type: ignore[union-attr]
                problem = elsewhere(actor, path, "external_id", record_elsewhere())
            refusal = actions.subject_refusal(actor, subject.path, DataCategory.HEALTH)
            if problem or refusal:
                result.reject(line, row, problem or refusal.as_errors())  # type: ignore[union-attr]
                continue
            if values["contact_code"]:
                subject_done.add(values["contact_code"])
            if current is not None:
                if save_changes(
                    actor, current, values, actions.ENCOUNTER_UPDATABLE, child_id=current.child_id, note=note
                ):
                    result.updated += 1
                    self._touch(result, values)
                else:
                    result.unchanged += 1
                continue
            creates.append({"external_id": key, **values})
        actions.add_encounters(actor, creates, note=note)
        for values in creates:
            self._touch(result, values)
        result.created += len(creates)

    @staticmethod
    def _touch(result: ImportResult, values: dict[str, Any]) -> None:
        if values["child_id"]:
            result.touched_children.add(values["child_id"])
        if values["pregnancy_id"]:
            result.touched_pregnancies.add(values["pregnancy_id"])


class _EncounterRef:
    """An encounter a measurement or screening row names, with its subject."""

    def __init__(self, pk: int, date: dt.date, subject: Subject) -> None:
        self.pk, self.date, self.subject = pk, date, subject


def _encounters(keys: set[str], actor: Actor) -> dict[str, _EncounterRef]:
    """external_id -> the encounter, only those of children and pregnancies in the importing user's scope
    (another is an unknown external id)."""
    found = list(
        Encounter.unscoped.filter(external_id__in=keys).values_list(
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
            "pregnancy__mother_id",
            "pregnancy__mother__territory__path",
        )
    )
    seen = _subjects_seen(actor, [(c, p, None) for _e, _i, c, p, *_ in found])
    found = [f for f, ok in zip(found, seen, strict=True) if ok]
    mothers = actions.mothers_of(c for _e, _i, c, *_ in found if c)
    encounters = {}
    for e, i, c, p, date, birth, sex, cpath, lmp, edd, pmother, mpath in found:
        if c:
            subject = Subject(c, None, birth, cpath or "", sex or "", mothers.get(c))
        else:
            subject = Subject(None, p, pregnancy_dating.origin(lmp, edd), mpath or "", mother_id=pmother)
        encounters[str(e)] = _EncounterRef(i, date, subject)
    return encounters


class MeasurementImporter:
    """One measurement set per encounter; a changed row on re-import is a correction, as in the application."""

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
        "confirm_reason",
    )
    required = ("encounter_external_id",)
    batch_size = LARGE_BATCH

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        encounters = _encounters(_keys(rows, "encounter_external_id"), actor)
        current = {
            m.encounter_id: m
            for m in Measurement.unscoped.filter(encounter_id__in=[e.pk for e in encounters.values()], is_current=True)
        }
        note = batch_note(result)
        creates: list[MeasurementIn] = []
        corrections: list[tuple[int, Row, MeasurementIn]] = []
        pending: list[tuple[int, Row, MeasurementIn]] = []
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
            elif encounter.subject.child_id is None:
                errors.add("encounter_external_id", "wrong_subject", _("Growth measurements are for children."))
            values = clean_measurement(row, errors, prefix="")
            refusal = actions.subject_refusal(actor, encounter.subject.path, DataCategory.HEALTH) if encounter else None
            if _rejected(result, line, row, errors, refusal):
                continue
            assert encounter is not None and encounter.subject.child_id is not None
            old = current.get(encounter.pk)
            if old is not None and all(getattr(old, f) == values[f] for f in MEASUREMENT_FIELDS):
                result.unchanged += 1
                continue
            subject = encounter.subject
            item = MeasurementIn(
                encounter.pk,
                subject.child_id,  # type: ignore[arg-type]
                subject.sex,
                encounter.date,
                subject.age_days(encounter.date) or 0,
                values,
                supersedes=old,
                reason=REIMPORT_REASON if old is not None else "",
            )
            pending.append((line, row, item))
        # WHO's implausible flags, for the whole batch at once: refused, or needing a confirm_reason
        collectors = [Collector() for _p in pending]
        actions.check_measurements([item for *_, item in pending], [row for _l, row, _i in pending], collectors, "")
        for (line, row, item), errors in zip(pending, collectors, strict=True):
            if _rejected(result, line, row, errors):
                continue
            if item.supersedes is None:
                creates.append(item)
            else:
                corrections.append((line, row, item))
        actions.add_measurements(actor, creates, note=note)
        _new, lost = actions.supersede_measurements(actor, [item for *_, item in corrections], note=note)
        for line, row, item in corrections:
            if item in lost:
                result.reject(
                    line,
                    row,
                    error("encounter_external_id", "superseded", _("This measurement was corrected meanwhile.")),
                )
        result.created += len(creates)
        result.updated += len(corrections) - len(lost)
        result.touched_children.update(m.child_id for m in creates)
        result.touched_children.update(item.child_id for *_, item in corrections if item not in lost)


class ScreeningImporter(_Keyed):
    kind = "screenings"
    columns = ("external_id", "encounter_external_id", "instrument", "inputs", "confirm_reason")
    required = ("external_id", "encounter_external_id", "instrument", "inputs")

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        encounters = _encounters(_keys(rows, "encounter_external_id"), actor)
        existing = _held(Screening, _keys(rows, "external_id"), actor)
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            if key in existing:
                pk, in_scope = existing[key]
                if problem := key_elsewhere(actor, "screening", pk, in_scope=in_scope):
                    result.reject(line, row, problem)
                else:
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
            if _rejected(result, line, row, errors):
                continue
            assert encounter is not None
            outcome = actions.score_screening(
                {
                    "instrument": row.get("instrument", "").strip(),
                    "inputs": inputs,
                    "confirm_reason": row.get("confirm_reason", ""),
                },
                age_days=encounter.subject.age_days(encounter.date),
                errors=errors,
                prefix="",
            )
            if outcome is None:
                _rejected(result, line, row, errors)
                continue
            instrument, scored, confirmed = outcome
            refusal = actions.subject_refusal(actor, encounter.subject.path, categories.of_instrument(instrument.code))
            if _rejected(result, line, row, errors, refusal):
                continue
            row_values = actions.screening_row(
                actor,
                instrument,
                scored,
                inputs,
                encounter.subject,
                applied_on=encounter.date,
                encounter_id=encounter.pk,
                confirmation=confirmed,
            )
            creates.append({"external_id": key, **row_values})
        actions.add_screenings(actor, creates, note=batch_note(result))
        result.touched_children.update(c["child_id"] for c in creates if c["child_id"])
        result.touched_pregnancies.update(c["pregnancy_id"] for c in creates if c["pregnancy_id"])
        result.created += len(creates)


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

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        today = timezone.localdate()
        children = _children(_keys(rows, "child_external_id"), actor)
        caregivers = _caregivers(_keys(rows, "caregiver_external_id"), actor)
        encounters = {k: e.pk for k, e in _encounters(_keys(rows, "encounter_external_id"), actor).items()}
        existing = _held(Delivery, _keys(rows, "external_id"), actor)
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            if key in existing:
                pk, in_scope = existing[key]
                if problem := key_elsewhere(actor, "delivery", pk, in_scope=in_scope):
                    result.reject(line, row, problem)
                else:
                    result.unchanged += 1
                continue
            errors = Collector()
            child = children.get(row.get("child_external_id", "").strip())
            caregiver = caregivers.get(row.get("caregiver_external_id", "").strip())
            values = clean_delivery(
                row,
                errors,
                has_child=child is not None,
                has_caregiver=caregiver is not None,
                today=today,
                fields=DELIVERY_COLUMNS,
            )
            place = actions.facility_id(row.get("facility_code", ""), self.facilities, actor, errors)
            encounter_key = row.get("encounter_external_id", "").strip()
            if encounter_key and encounter_key not in encounters:
                errors.add(
                    "encounter_external_id",
                    "unknown",
                    _("No encounter has the external id “%(id)s”.") % {"id": encounter_key},
                )
            if _rejected(result, line, row, errors):
                continue
            service = values["service"]
            path = child.path if service.subject == "child" and child else caregiver[1] if caregiver else None
            named = "child_external_id" if service.subject == "child" else "caregiver_external_id"
            problem = elsewhere(actor, path, named, person_elsewhere())
            if problem:
                result.reject(line, row, problem)
                continue
            refusal = actions.subject_refusal(actor, path, categories.of_service(service.code))
            if _rejected(result, line, row, errors, refusal):
                continue
            creates.append(
                {
                    "external_id": key,
                    **actions.delivery_row(
                        actor,
                        service,
                        child_id=child.child_id if child else None,
                        caregiver_id=caregiver[0] if caregiver else None,
                        date=values["date"],
                        facility_id=place,
                        encounter_id=encounters.get(encounter_key),
                        detail=values["detail"],
                    ),
                }
            )
        actions.add_deliveries(actor, creates, note=batch_note(result))
        result.touched_children.update(c["child_id"] for c in creates if c["child_id"])
        result.created += len(creates)


class GroupImporter(_Keyed):
    kind = "groups"
    key = "code"
    columns = ("code", "name", "service_code", "facility_code", "start_date", "planned_sessions", "facilitator")
    required = ("code", "name", "service_code", "facility_code", "start_date", "planned_sessions")

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        # code -> the territory of the facility where the stored group meets
        existing = dict(
            ParentingGroup.unscoped.filter(code__in=_keys(rows, "code")).values_list(
                "code", "facility__territory__path"
            )
        )
        paths = dict(Facility.objects.values_list("id", "territory__path"))
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            key = self.key_of(line, row, result)
            if key is None:
                continue
            if key in existing:
                # a group meeting elsewhere is refused as a household of elsewhere is, never "unchanged"
                problem = elsewhere(actor, existing[key], "code", record_elsewhere())
                if problem:
                    result.reject(line, row, problem)
                else:
                    result.unchanged += 1
                continue
            errors = Collector()
            values = clean_group(row, errors)
            code = (row.get("facility_code") or "").strip()
            place = self.facilities.get(code)
            if not code:
                errors.add("facility_code", "required", _("This column is required."))
            elif place is None:
                errors.add("facility_code", "unknown", _("No facility has the code “%(code)s”.") % {"code": code})
            if _rejected(result, line, row, errors):
                continue
            assert place is not None
            refusal = actions.permissions.register_refusal(actor.user, paths.get(place), "facility_code")
            if _rejected(result, line, row, errors, refusal):
                continue
            creates.append(actions.group_row(actor, values, place))
        result.created += len(actions.add_groups(actor, creates, note=batch_note(result)))


class GroupMemberImporter:
    """Members of a group and the sessions they attended (a session not recorded yet is held on its
    planned day, :func:`crecer.tracking.inputs.session_date`)."""

    kind = "group_members"
    columns = ("group_code", "caregiver_external_id", "child_external_id", "attended")
    required = ("group_code", "caregiver_external_id", "attended")
    batch_size = LARGE_BATCH

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        today = timezone.localdate()
        # Only groups meeting in the user's territory (scope.groups): another one is answered as an unknown
        # code, so a file cannot probe which group codes exist elsewhere.
        groups = {
            g.code: g
            for g in ParentingGroup.unscoped.filter(code__in=_keys(rows, "group_code")).select_related(
                "facility__territory"
            )
            if actor.user is None or permissions.within(actor.user, g.facility.territory.path)
        }
        caregivers = _caregivers(_keys(rows, "caregiver_external_id"), actor)
        children = {e: (c.child_id, c.path) for e, c in _children(_keys(rows, "child_external_id"), actor).items()}
        accepted: list[tuple[int, Row, Attendance]] = []
        for line, row in rows:
            errors = Collector()
            group_key = row.get("group_code", "").strip()
            caregiver_key = row.get("caregiver_external_id", "").strip()
            if (group_key, caregiver_key) in self.seen:
                first = self.seen[(group_key, caregiver_key)]
                result.reject(line, row, error("caregiver_external_id", "repeated", repeated_message(first)))
                continue
            self.seen[(group_key, caregiver_key)] = line
            group = groups.get(group_key)
            caregiver = caregivers.get(caregiver_key)
            child_key = row.get("child_external_id", "").strip()
            if group is None:
                errors.add("group_code", "unknown", _("No group has the code “%(code)s”.") % {"code": group_key})
            if caregiver is None:
                errors.add(
                    "caregiver_external_id",
                    "unknown",
                    _("No caregiver has the external id “%(id)s”.") % {"id": caregiver_key},
                )
            if child_key and child_key not in children:
                errors.add(
                    "child_external_id", "unknown", _("No child has the external id “%(id)s”.") % {"id": child_key}
                )
            numbers: set[int] = set()
            for part in (row.get("attended") or "").replace(",", ";").split(";"):
                part = part.strip()
                if not part:
                    continue
                if not part.isdigit():
                    errors.add(
                        "attended", "invalid", _("“%(value)s” is not a session of this group.") % {"value": part}
                    )
                    break
                numbers.add(int(part))
            if group is not None and "attended" not in errors.errors:
                actions.attendance_errors(group, numbers, {}, today, errors)
            if _rejected(result, line, row, errors):
                continue
            assert group is not None and caregiver is not None
            problem = elsewhere(actor, caregiver[1], "caregiver_external_id", person_elsewhere()) or (
                elsewhere(actor, children[child_key][1], "child_external_id", person_elsewhere()) if child_key else None
            )
            if problem:
                result.reject(line, row, problem)
                continue
            refusal = actions.permissions.register_refusal(
                actor.user, group.facility.territory.path, "group_code"
            ) or actions.permissions.record_refusal(actor.user, categories.FIXED["tracking.groupmember"])
            if _rejected(result, line, row, errors, refusal):
                continue
            child_id = children[child_key][0] if child_key else None
            accepted.append((line, row, Attendance(group, caregiver[0], child_id, numbers)))
        statuses = actions.attend(actor, [a for *_, a in accepted], note=batch_note(result))
        for status in statuses:
            if status == "created":
                result.created += 1
            elif status == "updated":
                result.updated += 1
            else:
                result.unchanged += 1


register("encounters")(EncounterImporter)
register("measurements")(MeasurementImporter)
register("screenings")(ScreeningImporter)
register("deliveries")(DeliveryImporter)
register("groups")(GroupImporter)
register("group_members")(GroupMemberImporter)
