"""Crecer's records as FHIR R4 resources (validated with the R4B models of ``fhir.resources``).

One child at a time (``GET /api/v1/children/{id}/fhir``: a ``collection`` Bundle) or in bulk
(``crecer export fhir``: bulk-data style NDJSON, one file per resource type). Both load a batch of
children's records in a handful of queries (:func:`load_batch`) and map them with the same
:class:`Mapper`, which leaves out every record of a data category the reader may not see.

The mapping, resource by resource, is described in ``docs/fhir.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from fhir.resources.R4B import get_fhir_model_class

from crecer import conf
from crecer.access.categories import category_of
from crecer.access.models import DataCategory
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.interop import codes
from crecer.lib.growth.compute import AGE_LENGTH_TO_HEIGHT_DAYS
from crecer.lib.names import full_name
from crecer.referrals.models import State
from crecer.registry import scope
from crecer.registry.models import AccessGrant, Caregiver, CaregiverLink, Child
from crecer.registry.reads import log_reads
from crecer.territories.models import Territory
from crecer.tracking.models import Encounter, EncounterKind, Measurement, Screening

#: Resource types of the bulk export, in file order.
RESOURCE_TYPES = ("Patient", "RelatedPerson", "Encounter", "Observation", "ServiceRequest", "Task", "Flag")
ALL_CATEGORIES = frozenset(DataCategory.values)
BATCH_SIZE = 500


class ExportError(RuntimeError):
    """A resource failed its own validation: a bug in the mapping, never the user's input."""


def _cc(system: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text:
        concept["text"] = text
    return concept


def _coding(system: str, code: str, display: str = "") -> dict[str, Any]:
    return _cc(system, code, display)["coding"][0]


def _quantity(value: float, unit_code: str) -> dict[str, Any]:
    return {"value": value, "unit": codes.UCUM_UNITS[unit_code], "system": codes.UCUM, "code": unit_code}


def _ref(resource_type: str, pk: Any, display: str = "") -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"{resource_type}/{pk}"}
    if display:
        ref["display"] = display
    return ref


def _logical(system: str, value: str, display: str = "") -> dict[str, Any]:
    """A reference by identifier (facilities and organisations are not exported as resources)."""
    ref: dict[str, Any] = {"identifier": {"system": system, "value": value}}
    if display:
        ref["display"] = display
    return ref


def _instant(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def document_system(doc_type: str) -> tuple[str, str]:
    """(identifier system, v2-0203 type) of an identity document type."""
    return codes.DOCUMENT_SYSTEMS.get(doc_type, (f"{codes.BASE}/sid/document/{doc_type.lower()}", "NI"))


def identifiers(person: Child | Caregiver) -> list[dict[str, Any]]:
    found = [
        {
            "use": "official",
            "type": _cc(codes.IDENTIFIER_TYPE, "MR", "Medical record number"),
            "system": codes.REGISTRY_NUMBER,
            "value": person.registry_number,
        }
    ]
    if person.national_id:
        system, type_code = document_system(person.national_id_type)
        found.append(
            {
                "use": "official",
                "type": _cc(codes.IDENTIFIER_TYPE, type_code, codes.display(codes.IDENTIFIER_TYPE, type_code)),
                "system": system,
                "value": person.national_id,
            }
        )
    if person.external_id:
        found.append({"use": "secondary", "system": codes.EXTERNAL_ID, "value": person.external_id})
    return found


def human_name(given: str, paternal: str, maternal: str) -> dict[str, Any] | None:
    """Both surnames in ``family`` (as written together), each also in its standard extension."""
    if not (given or paternal or maternal):
        return None
    name: dict[str, Any] = {"use": "official", "text": full_name(given, paternal, maternal)}
    family = " ".join(part for part in (paternal, maternal) if part)
    if family:
        name["family"] = family
        parts = []
        if paternal:
            parts.append({"url": codes.FATHERS_FAMILY, "valueString": paternal})
        if maternal:
            parts.append({"url": codes.MOTHERS_FAMILY, "valueString": maternal})
        name["_family"] = {"extension": parts}
    if given.split():
        name["given"] = given.split()
    return name


def territory_address(territory: Territory) -> dict[str, Any]:
    return {
        "extension": [{"url": codes.TERRITORY_EXTENSION, "valueCode": territory.code}],
        "text": territory.name,
        "country": conf.profile().country,
    }


@dataclass
class Batch:
    """The records of a batch of children, by child id."""

    links: dict[int, list[CaregiverLink]] = field(default_factory=lambda: defaultdict(list))
    encounters: dict[int, list[Encounter]] = field(default_factory=lambda: defaultdict(list))
    measurements: dict[int, list[Measurement]] = field(default_factory=lambda: defaultdict(list))
    screenings: dict[int, list[Screening]] = field(default_factory=lambda: defaultdict(list))
    referrals: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))
    flags: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))


def load_batch(child_ids: list[int], user: Any = None) -> Batch:
    """Everything exported about these children, in one query per kind of record."""
    from crecer.referrals.models import Referral
    from crecer.risks.models import RiskFlag

    batch = Batch()
    links = CaregiverLink.unscoped.filter(child_id__in=child_ids, caregiver__voided_at__isnull=True)
    for link in links.select_related("caregiver__territory").order_by("child_id", "pk"):
        batch.links[link.child_id].append(link)
    encounters = Encounter.unscoped.filter(child_id__in=child_ids, voided_at__isnull=True).select_related("facility")
    for e in encounters.order_by("child_id", "date", "pk"):
        batch.encounters[e.child_id].append(e)  # type: ignore[index]
    measurements = Measurement.unscoped.filter(
        child_id__in=child_ids, is_current=True, encounter__voided_at__isnull=True
    )
    for m in measurements.order_by("child_id", "measured_on", "pk"):
        batch.measurements[m.child_id].append(m)
    screenings = Screening.unscoped.filter(child_id__in=child_ids, is_current=True).filter(
        Q(encounter__isnull=True) | Q(encounter__voided_at__isnull=True)
    )
    for s in screenings.order_by("child_id", "applied_on", "pk"):
        batch.screenings[s.child_id].append(s)  # type: ignore[index]
    # the referrals the user may see (the one scoped query; the system sees all)
    from crecer.referrals import scope as referral_scope

    referral_rows = Referral.unscoped.all() if user is None else referral_scope.visible(user)
    referrals = referral_rows.filter(child_id__in=child_ids).select_related("service", "organisation")
    for r in referrals.order_by("child_id", "created_at", "pk"):
        batch.referrals[r.child_id].append(r)  # type: ignore[index]
    for f in RiskFlag.unscoped.filter(child_id__in=child_ids).order_by("child_id", "raised_at", "pk"):
        batch.flags[f.child_id].append(f)  # type: ignore[index]
    return batch


class Mapper:
    """Maps one child's records to FHIR resources, keeping only the categories given."""

    def __init__(self, language: str | None = None) -> None:
        profile = conf.profile()
        self.language = language or get_language() or "es"
        self.service_names = {s.code: s.name(self.language) for s in profile.services}
        self.rules = {r.id: r for r in profile.rules}
        self.contacts = {c.code: c.name(self.language) for c in (*profile.child_schedule, *profile.prenatal_schedule)}
        # Labels translated once (in the active language), not per resource.
        self.kinds = {kind: str(label) for kind, label in EncounterKind.choices}
        self.states = {state: str(label) for state, label in State.choices}

    # --- people --------------------------------------------------------------------------------

    def patient(self, child: Child) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Patient",
            "id": str(child.pk),
            "identifier": identifiers(child),
            "active": True,
        }
        name = human_name(child.given_names, child.paternal_surname, child.maternal_surname)
        if name:
            resource["name"] = [name]
        resource["gender"] = codes.GENDER.get(child.sex, "unknown")
        if child.birth_date:
            resource["birthDate"] = child.birth_date.isoformat()
        resource["address"] = [territory_address(child.territory)]
        if child.facility_id and child.facility is not None:
            resource["managingOrganization"] = _logical(codes.FACILITY, child.facility.code, child.facility.name)
        return resource

    def related_person(self, link: CaregiverLink) -> dict[str, Any]:
        caregiver = link.caregiver
        role = codes.RELATIONSHIP_ROLE.get(link.relationship, "FAMMEMB")
        resource: dict[str, Any] = {
            "resourceType": "RelatedPerson",
            "id": str(link.pk),
            "identifier": identifiers(caregiver),
            "active": True,
            "patient": _ref("Patient", link.child_id),
            "relationship": [_cc(codes.ROLE_CODE, role, codes.display(codes.ROLE_CODE, role))],
        }
        name = human_name(caregiver.given_names, caregiver.paternal_surname, caregiver.maternal_surname)
        if name:
            resource["name"] = [name]
        if caregiver.phone:
            resource["telecom"] = [{"system": "phone", "value": caregiver.phone}]
        resource["gender"] = codes.GENDER.get(caregiver.sex, "unknown")
        if caregiver.birth_date:
            resource["birthDate"] = caregiver.birth_date.isoformat()
        resource["address"] = [territory_address(caregiver.territory)]
        return resource

    # --- the trajectory ------------------------------------------------------------------------

    def encounter(self, e: Encounter) -> dict[str, Any]:
        type_codings = [_coding(codes.ENCOUNTER_KIND, e.kind, self.kinds.get(e.kind, e.kind))]
        if e.contact_code:
            type_codings.append(_coding(codes.SCHEDULED_CONTACT, e.contact_code, self.contacts.get(e.contact_code, "")))
        klass = codes.ENCOUNTER_CLASS.get(e.kind, codes.DEFAULT_ENCOUNTER_CLASS)
        resource: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": str(e.pk),
            "status": "finished",
            "class": _coding(codes.ACT_CODE, klass, codes.display(codes.ACT_CODE, klass)),
            "type": [{"coding": type_codings, "text": self.kinds.get(e.kind, e.kind)}],
            "subject": _ref("Patient", e.child_id),
            "period": {"start": e.date.isoformat(), "end": e.date.isoformat()},
        }
        if e.external_id:
            resource["identifier"] = [{"use": "secondary", "system": codes.EXTERNAL_ID, "value": e.external_id}]
        if e.facility_id and e.facility is not None:
            resource["serviceProvider"] = _logical(codes.FACILITY, e.facility.code, e.facility.name)
        return resource

    def _observation(
        self,
        oid: str,
        measure: codes.Measure,
        child_id: int,
        when: dt.date | None,
        encounter_id: int | None,
        status: str = "final",
    ) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": oid,
            "status": status,
            "category": [
                _cc(
                    codes.OBSERVATION_CATEGORY,
                    measure.category,
                    codes.display(codes.OBSERVATION_CATEGORY, measure.category),
                )
            ],
            "code": _cc(codes.LOINC, measure.loinc, measure.display, measure.display),
            "subject": _ref("Patient", child_id),
        }
        if measure is codes.LENGTH:
            # The vital-signs profile's body height code, with the more precise lying length first.
            resource["code"]["coding"].append(_coding(codes.LOINC, codes.HEIGHT.loinc, codes.HEIGHT.display))
        if encounter_id is not None:
            resource["encounter"] = _ref("Encounter", encounter_id)
        if when is not None:
            resource["effectiveDateTime"] = when.isoformat()
        return resource

    def growth(self, m: Measurement, encounter_ids: set[int]) -> list[dict[str, Any]]:
        """One Observation per measured quantity; WHO z-scores as components (codes.ZSCORES)."""
        status = "corrected" if m.supersedes_id else "final"
        encounter_id = m.encounter_id if m.encounter_id in encounter_ids else None
        lying = m.position == "l" or (m.position == "" and m.age_days < AGE_LENGTH_TO_HEIGHT_DAYS)
        values: list[tuple[codes.Measure, float | None]] = [
            (codes.WEIGHT, m.weight_kg),
            (codes.LENGTH if lying else codes.HEIGHT, m.length_cm),
            (codes.HEAD, m.head_cm),
            (codes.MUAC, m.muac_cm),
            (codes.HAEMOGLOBIN, m.haemoglobin_g_l),
        ]
        if m.weight_kg and m.length_cm:
            values.append((codes.BMI, round(m.weight_kg / (m.length_cm / 100) ** 2, 2)))
        found = []
        for measure, value in values:
            if value is None:
                continue
            obs = self._observation(f"m{m.pk}-{measure.key}", measure, m.child_id, m.measured_on, encounter_id, status)
            obs["valueQuantity"] = _quantity(value, measure.unit)
            components = []
            for indicator in codes.ZSCORES_BY_MEASURE.get(measure.key, ()):
                z = getattr(m, f"z_{indicator}")
                if z is not None:
                    components.append(
                        {
                            "code": _cc(codes.GROWTH_ZSCORE, indicator, codes.ZSCORES[indicator]),
                            "valueQuantity": _quantity(z, codes.ZSCORE_UNIT),
                        }
                    )
            if components:
                obs["component"] = components
            found.append(obs)
        if m.oedema:
            obs = {
                "resourceType": "Observation",
                "id": f"m{m.pk}-oedema",
                "status": status,
                "category": [_cc(codes.OBSERVATION_CATEGORY, "exam", "Exam")],
                "code": _cc(
                    codes.OBSERVATION, codes.OEDEMA_CODE, "Bilateral pitting oedema", "Bilateral pitting oedema"
                ),
                "subject": _ref("Patient", m.child_id),
                "effectiveDateTime": m.measured_on.isoformat(),
                "valueBoolean": True,
            }
            if encounter_id is not None:
                obs["encounter"] = _ref("Encounter", encounter_id)
            found.append(obs)
        return found

    def birth(self, child: Child) -> list[dict[str, Any]]:
        found = []
        for measure, value in (
            (codes.BIRTH_WEIGHT, child.birth_weight_g),
            (codes.GESTATIONAL_AGE, child.gestational_weeks),
        ):
            if value is None:
                continue
            obs = self._observation(
                f"c{child.pk}-{measure.key.replace('_', '-')}", measure, child.pk, child.birth_date, None
            )
            obs["valueQuantity"] = _quantity(value, measure.unit)
            found.append(obs)
        return found

    def screening(self, s: Screening, encounter_ids: set[int], link_of: dict[int, int]) -> dict[str, Any]:
        from crecer.lib import screening as screening_lib

        name = (
            screening_lib.INSTRUMENTS[s.instrument].name if s.instrument in screening_lib.INSTRUMENTS else s.instrument
        )
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"s{s.pk}",
            "status": "corrected" if s.supersedes_id else "final",
            "category": [_cc(codes.OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": _cc(codes.INSTRUMENT, s.instrument, name, name),
            "subject": _ref("Patient", s.child_id),
            "effectiveDateTime": s.applied_on.isoformat(),
            "method": {"text": f"{s.instrument} {s.instrument_version}"},
        }
        if s.caregiver_id is not None and s.caregiver_id in link_of:
            resource["focus"] = [_ref("RelatedPerson", link_of[s.caregiver_id])]
        if s.encounter_id in encounter_ids:
            resource["encounter"] = _ref("Encounter", s.encounter_id)
        result = _coding(codes.SCREENING_RESULT, s.classification, s.classification)
        if s.score is not None:
            resource["valueQuantity"] = _quantity(s.score, codes.SCORE_UNIT)
        else:
            resource["valueCodeableConcept"] = {"coding": [result]}
        interpretation = [result]
        if s.classification in codes.INTERPRETATION_OF:
            normal = codes.INTERPRETATION_OF[s.classification]
            interpretation.insert(0, _coding(codes.INTERPRETATION, normal, codes.display(codes.INTERPRETATION, normal)))
        resource["interpretation"] = [{"coding": interpretation}]
        return resource

    def referral(self, r: Any, flag_ids: set[int]) -> list[dict[str, Any]]:
        """A ServiceRequest (what was asked) and a Task (its progress through the state machine)."""
        service = _cc(codes.SERVICE, r.service.code, self.service_names.get(r.service.code, r.service.code))
        performer = _logical(codes.ORGANISATION, r.organisation.code, r.organisation.name)
        priority = codes.REQUEST_PRIORITY.get(r.priority, "routine")
        has_counter = bool(r.counter_referral)
        request: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "id": str(r.pk),
            "status": codes.service_request_status(r.state, counter_referral=has_counter),
            "intent": "order",
            "priority": priority,
            "code": service,
            "subject": _ref("Patient", r.child_id),
            "authoredOn": _instant(r.sent_at or r.created_at),
            "performer": [performer],
        }
        if r.reason:
            request["reasonCode"] = [{"text": r.reason}]
        if r.flag_id is not None and r.flag_id in flag_ids:
            request["reasonReference"] = [_ref("Flag", r.flag_id)]
        times = [t for t in (r.created_at, r.sent_at, r.accepted_at, r.started_at, r.finished_at, r.closed_at) if t]
        task: dict[str, Any] = {
            "resourceType": "Task",
            "id": str(r.pk),
            "basedOn": [_ref("ServiceRequest", r.pk)],
            "status": codes.task_status(r.state, counter_referral=has_counter, rejected=bool(r.rejection_reason)),
            "businessStatus": _cc(codes.REFERRAL_STATE, r.state, self.states.get(r.state, r.state)),
            "intent": "order",
            "priority": priority,
            "code": service,
            "focus": _ref("ServiceRequest", r.pk),
            "for": _ref("Patient", r.child_id),
            "authoredOn": _instant(r.created_at),
            "lastModified": _instant(max(times)),
            "owner": performer,
        }
        if r.rejection_reason:
            task["statusReason"] = {"text": r.rejection_reason}
        if r.started_at or r.finished_at:
            task["executionPeriod"] = {
                k: v for k, v in (("start", _instant(r.started_at)), ("end", _instant(r.finished_at))) if v
            }
        due = r.attention_due or r.acceptance_due
        if due:
            task["restriction"] = {"period": {"end": _instant(due)}}
        if r.counter_referral and r.counter_referral.get("outcome"):
            task["output"] = [
                {"type": {"text": "counter-referral outcome"}, "valueString": str(r.counter_referral["outcome"])}
            ]
        return [request, task]

    def flag(self, f: Any) -> dict[str, Any]:
        rule = self.rules.get(f.rule_id)
        label = rule.flag.label(self.language) if rule else f.rule_id
        category = [_coding(codes.RISK_CATEGORY, f.category, f.category)]
        if f.category in codes.FLAG_CATEGORIES:
            hl7 = codes.FLAG_CATEGORIES[f.category]
            category.insert(0, _coding(codes.FLAG_CATEGORY, hl7, codes.display(codes.FLAG_CATEGORY, hl7)))
        resource: dict[str, Any] = {
            "resourceType": "Flag",
            "id": str(f.pk),
            "status": "active" if f.status == "open" else "inactive",
            "category": [{"coding": category}],
            "code": _cc(codes.RISK_RULE, f.rule_id, label, label),
            "subject": _ref("Patient", f.child_id),
            "period": {k: v for k, v in (("start", _instant(f.raised_at)), ("end", _instant(f.resolved_at))) if v},
        }
        if f.severity in codes.FLAG_PRIORITY_CODES:
            priority = codes.FLAG_PRIORITY_CODES[f.severity]
            resource["extension"] = [
                {
                    "url": codes.FLAG_PRIORITY_EXTENSION,
                    "valueCodeableConcept": _cc(
                        codes.FLAG_PRIORITY, priority, codes.display(codes.FLAG_PRIORITY, priority)
                    ),
                }
            ]
        return resource

    # --- one child -----------------------------------------------------------------------------

    def child(self, child: Child, batch: Batch, categories: frozenset[str]) -> list[dict[str, Any]]:
        """Every resource about ``child`` in the categories given (identity is always included)."""
        pk = child.pk
        resources = [self.patient(child)]
        links = batch.links.get(pk, [])
        resources += [self.related_person(link) for link in links]
        health = DataCategory.HEALTH in categories
        encounters = batch.encounters.get(pk, []) if health else []
        encounter_ids = {e.pk for e in encounters}
        resources += [self.encounter(e) for e in encounters]
        if health:
            resources += self.birth(child)
            for m in batch.measurements.get(pk, []):
                resources += self.growth(m, encounter_ids)
        link_of = {link.caregiver_id: link.pk for link in links}
        resources += [
            self.screening(s, encounter_ids, link_of)
            for s in batch.screenings.get(pk, [])
            if category_of(s) in categories
        ]
        flags = [f for f in batch.flags.get(pk, []) if category_of(f) in categories]
        flag_ids = {f.pk for f in flags}
        for r in batch.referrals.get(pk, []):
            if category_of(r) in categories:
                resources += self.referral(r, flag_ids)
        resources += [self.flag(f) for f in flags]
        return resources


# --- validation ------------------------------------------------------------------------------


def validate(resource: dict[str, Any], known: dict[str, frozenset[str]] | None = None) -> None:
    """Raise :class:`ExportError` unless the resource validates against its R4B model and every
    code in it is known (:func:`codes.check_resource`)."""
    from pydantic import ValidationError

    rtype = resource.get("resourceType", "")
    try:
        get_fhir_model_class(rtype).model_validate(resource)
    except (ValidationError, KeyError, ValueError) as exc:
        raise ExportError(f"{rtype}/{resource.get('id')} does not validate: {exc}") from exc
    problems = codes.check_resource(resource, known)
    if problems:
        raise ExportError(f"{rtype}/{resource.get('id')}: " + "; ".join(problems))


def child_bundle(user: Any, child: Child, base_url: str) -> dict[str, Any]:
    """A ``collection`` Bundle with what ``user`` may see of ``child``, validated."""
    from fhir.resources.R4B.bundle import Bundle

    categories = scope.categories(user, child)
    resources = Mapper().child(child, load_batch([child.pk], user), categories)
    known = codes.known_codes()
    for resource in resources:
        problems = codes.check_resource(resource, known)
        if problems:
            raise ExportError("; ".join(problems))
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": _instant(timezone.now()),
        "entry": [
            {"fullUrl": f"{base_url.rstrip('/')}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }
    Bundle.model_validate(bundle)
    return bundle


# --- bulk export -----------------------------------------------------------------------------


def categories_of(user: Any, children: list[Child]) -> dict[int, frozenset[str]]:
    """:func:`crecer.registry.scope.categories` for a batch of children, in two queries."""
    if user is None:
        return {c.pk: ALL_CATEGORIES for c in children}
    ids = [c.pk for c in children]
    result: dict[int, frozenset[str]] = {}
    mine = user.data_categories()
    for pk in scope.territorial_children(user).filter(pk__in=ids).values_list("pk", flat=True):
        result[pk] = mine
    rest = [pk for pk in ids if pk not in result]
    if rest and user.is_active and user.organisation_id is not None:
        shared: dict[int, set[str]] = {}
        grants = AccessGrant.objects.active().filter(organisation_id=user.organisation_id, child_id__in=rest)
        for child_id, categories in grants.values_list("child_id", "categories"):
            shared.setdefault(child_id, {DataCategory.IDENTITY}).update(categories)
        result.update({pk: frozenset(c) for pk, c in shared.items()})
    return result


def children_in(user: Any, territory: Territory) -> Any:
    """The children of a territory subtree: all of them for the system, the user's scope otherwise."""
    base = Child.unscoped.filter(voided_at__isnull=True) if user is None else scope.children(user)
    return base.filter(territory__path__startswith=territory.path)


def iterate_batches(queryset: Any, size: int) -> Iterator[list[Child]]:
    """Keyset pagination by primary key: each batch is one indexed query, whatever the table size."""
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).select_related("territory", "facility").order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


@dataclass
class BulkResult:
    children: int
    counts: dict[str, int]
    seconds: float
    files: list[Path]


def export_ndjson(
    actor: Actor,
    out_dir: Path,
    territory: Territory,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> BulkResult:
    """Write ``<Type>.ndjson`` files (bulk-data style) for every child of ``territory`` that
    ``actor`` may see (the system sees all), each line one validated resource, plus a manifest.

    Streams: one batch of children at a time; memory does not grow with the territory. Each batch's
    children are logged as read (one READ event each) once written."""
    started = time.perf_counter()
    user = actor.user
    out_dir.mkdir(parents=True, exist_ok=True)
    queryset = children_in(user, territory)
    total = queryset.count()
    counts = dict.fromkeys(RESOURCE_TYPES, 0)
    paths = {t: out_dir / f"{t}.ndjson" for t in RESOURCE_TYPES}
    mapper = Mapper()
    known = codes.known_codes()
    done = 0
    complete = False
    try:
        handles = {t: paths[t].open("w", encoding="utf-8", newline="\n") for t in RESOURCE_TYPES}
        try:
            for children in iterate_batches(queryset, batch_size):
                batch = load_batch([c.pk for c in children], user)
                categories = categories_of(user, children)
                for child in children:
                    for resource in mapper.child(child, batch, categories.get(child.pk, frozenset())):
                        validate(resource, known)
                        rtype = resource["resourceType"]
                        handles[rtype].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
                        handles[rtype].write("\n")
                        counts[rtype] += 1
                # The batch is in the files: its children were read by whoever exports.
                log_reads(actor, f"FHIR NDJSON {territory.code}", [c.pk for c in children])
                done += len(children)
                if progress is not None:
                    progress(done, total)
        finally:
            for handle in handles.values():
                handle.close()
        _write_manifest(out_dir, territory, counts)
        complete = True
    finally:
        with transaction.atomic():
            record(
                actor,
                Action.EXPORT,
                entity="interop.fhir",
                note=f"FHIR NDJSON {territory.code}",
                after={
                    "format": "fhir-ndjson",
                    "territory": territory.code,
                    "children": done,
                    "resources": counts,
                    "complete": complete,
                },
            )
    return BulkResult(done, counts, time.perf_counter() - started, [paths[t] for t in RESOURCE_TYPES])


def _write_manifest(out_dir: Path, territory: Territory, counts: dict[str, int]) -> None:
    """A manifest shaped like the FHIR Bulk Data export's (file URLs are local file names)."""
    manifest = {
        "transactionTime": _instant(timezone.now()),
        "request": f"crecer export fhir --territory {territory.code}",
        "requiresAccessToken": False,
        "output": [{"type": t, "url": f"{t}.ndjson", "count": counts[t]} for t in RESOURCE_TYPES],
        "error": [],
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
