"""A FHIR Bundle from a sectoral system, mapped in through the registry's and tracking's actions.

Imported: Patient (a child), RelatedPerson (a caregiver linked to a child: MTH, FTH, GUARD,
FAMMEMB), Encounter (a check-up or contact) and Observation (growth measurements, bilateral
oedema, birth weight and gestational age at birth). Crecer's own risk Flags (and BMI observations)
are accepted and not stored: the rules (and the growth computation) derive them again. People are matched by identifier (Crecer's
registry number, the identity document, the external id) within the poster's scope before anything
is created. The whole Bundle is one transaction: any problem answers 422 with errors keyed like
``entry[3].resource.birthDate`` and nothing is written. ``docs/fhir.md`` has the details.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from crecer import conf
from crecer.audit import outlasting
from crecer.audit.trail import Actor
from crecer.interop import codes
from crecer.lib import documents
from crecer.registry import actions as registry_actions
from crecer.registry import scope
from crecer.registry.models import Caregiver, CaregiverLink, Child
from crecer.tracking import actions as tracking_actions
from crecer.tracking.models import Encounter, EncounterKind, Measurement
from crecer.validation import Collector, InputErrors

SUPPORTED = ("Patient", "RelatedPerson", "Encounter", "Observation")
#: Accepted but not stored: Crecer's own risk flags, which its rules raise again from the imported facts.
DERIVED = ("Flag",)
BUNDLE_TYPES = ("transaction", "batch", "collection")
MAX_ENTRIES = 5000
OBSERVATION_STATUSES = ("final", "amended", "corrected")
SKIPPED_ENCOUNTER_STATUSES = ("planned", "cancelled", "entered-in-error")

#: Accepted UCUM units per measurement unit, with the factor to Crecer's unit.
CONVERSIONS: dict[str, dict[str, float]] = {
    "kg": {"kg": 1.0, "g": 0.001},
    "g": {"g": 1.0, "kg": 1000.0},
    "cm": {"cm": 1.0, "mm": 0.1, "m": 100.0},
    "g/L": {"g/L": 1.0, "g/dL": 10.0},
    "wk": {"wk": 1.0},
    "kg/m2": {"kg/m2": 1.0},
}
MEASUREMENT_VALUE_FIELDS = ("weight_kg", "length_cm", "head_cm", "muac_cm", "haemoglobin_g_l")


@dataclass
class _Entry:
    index: int
    rtype: str
    resource: dict[str, Any]

    def path(self, element: str = "") -> str:
        return f"entry[{self.index}].resource" + (f".{element}" if element else "")


Where = dict[str, tuple[int, str]]


@dataclass
class _Person:
    """A Patient or RelatedPerson read into the registry's input form."""

    entry: _Entry
    raw: dict[str, Any] = field(default_factory=dict)
    where: Where = field(default_factory=dict)
    registry_numbers: list[str] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)


@dataclass
class _ChildRef:
    """A child referred to: a Patient entry of the Bundle, or a registered child by identifier."""

    entry: int | None = None
    identifier: tuple[str, str] | None = None

    @property
    def key(self) -> str:
        return f"entry:{self.entry}" if self.entry is not None else f"id:{self.identifier}"


@dataclass
class _Link:
    person: _Person
    child: _ChildRef
    relationship: str


@dataclass
class _Visit:
    """One encounter to record: from an Encounter entry, or grouping observations by child and day."""

    child: _ChildRef
    encounter: _Entry | None
    date: dt.date | None
    raw: dict[str, Any] = field(default_factory=dict)
    measurement: dict[str, Any] = field(default_factory=dict)
    where: Where = field(default_factory=dict)
    observations: list[_Entry] = field(default_factory=list)
    derived: list[_Entry] = field(default_factory=list)

    @property
    def anchor(self) -> _Entry:
        return self.encounter if self.encounter is not None else self.observations[0]


def _loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


class BundleImport:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.user = actor.user
        self.errors = Collector()
        self.entries: list[_Entry] = []
        self.by_reference: dict[str, _Entry] = {}
        self.patients: dict[int, _Person] = {}
        self.links: list[_Link] = []
        self.visits: list[_Visit] = []
        self.outcomes: dict[int, dict[str, Any]] = {}

    # --- reading the Bundle ------------------------------------------------------------------

    def read(self, body: Any) -> None:
        """Check the envelope and validate every resource against its R4B model."""
        errors = self.errors
        if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
            errors.add("resourceType", "not_a_bundle", _("This is not a FHIR Bundle."))
            errors.raise_if_any()
        if body.get("type") not in BUNDLE_TYPES:
            errors.add(
                "type", "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": ", ".join(BUNDLE_TYPES)}
            )
        raw_entries = body.get("entry")
        if not isinstance(raw_entries, list) or not raw_entries:
            errors.add("entry", "required", _("The Bundle has no entries."))
        elif len(raw_entries) > MAX_ENTRIES:
            errors.add("entry", "too_many", _("At most %(limit)s entries per Bundle.") % {"limit": MAX_ENTRIES})
        errors.raise_if_any()
        for i, item in enumerate(raw_entries):
            resource = item.get("resource") if isinstance(item, dict) else None
            if not isinstance(resource, dict):
                errors.add(f"entry[{i}].resource", "required", _("Each entry needs a resource."))
                continue
            rtype = str(resource.get("resourceType") or "")
            if rtype not in SUPPORTED and rtype not in DERIVED:
                errors.add(
                    f"entry[{i}].resource.resourceType",
                    "unsupported",
                    _("Crecer does not import %(type)s resources (it imports: %(types)s).")
                    % {"type": rtype or "?", "types": ", ".join(SUPPORTED)},
                )
                continue
            try:
                get_fhir_model_class(rtype).model_validate(resource)
            except ValidationError as exc:
                for problem in exc.errors():
                    errors.add(
                        f"entry[{i}].resource" + (f".{_loc(problem['loc'])}" if problem.get("loc") else ""),
                        "fhir_" + str(problem.get("type", "invalid")).replace("-", "_"),
                        _("Not valid FHIR: %(detail)s") % {"detail": problem.get("msg", "")},
                    )
                continue
            entry = _Entry(i, rtype, resource)
            self.entries.append(entry)
            keys = [item.get("fullUrl")] if item.get("fullUrl") else []
            if resource.get("id"):
                keys.append(f"{rtype}/{resource['id']}")
            for key in keys:
                if key in self.by_reference and self.by_reference[key] is not entry:
                    errors.add(
                        f"entry[{i}].fullUrl",
                        "duplicate",
                        _("Two entries have the same reference “%(reference)s”.") % {"reference": key},
                    )
                self.by_reference[key] = entry
        errors.raise_if_any()

    # --- planning (no writes) ----------------------------------------------------------------

    def plan(self) -> None:
        for entry in self.entries:
            if entry.rtype == "Patient":
                self.patients[entry.index] = self._patient(entry)
        for entry in self.entries:
            if entry.rtype == "RelatedPerson":
                self._related_person(entry)
        visits: dict[Any, _Visit] = {}
        for entry in self.entries:
            if entry.rtype == "Encounter":
                visit = self._encounter(entry)
                if visit is not None:
                    visits[("encounter", entry.index)] = visit
        for entry in self.entries:
            if entry.rtype == "Observation":
                self._observation(entry, visits)
            elif entry.rtype == "Flag":
                self._flag(entry)
        self.visits = list(visits.values())
        self.errors.raise_if_any()

    def _person(self, entry: _Entry, *, child: bool) -> _Person:
        resource, person = entry.resource, _Person(entry)
        names = resource.get("name") or []
        if names:
            n = next((i for i, name in enumerate(names) if name.get("use") == "official"), 0)
            name = names[n]
            person.raw["given_names"] = " ".join(name.get("given") or [])
            paternal = maternal = ""
            for extension in (name.get("_family") or {}).get("extension") or []:
                if extension.get("url") == codes.FATHERS_FAMILY:
                    paternal = extension.get("valueString") or ""
                elif extension.get("url") == codes.MOTHERS_FAMILY:
                    maternal = extension.get("valueString") or ""
            if not paternal and not maternal:
                paternal = name.get("family") or ""  # one family name, no parts: the first surname
            person.raw["paternal_surname"], person.raw["maternal_surname"] = paternal, maternal
            for f, element in (
                ("given_names", "given"),
                ("paternal_surname", "family"),
                ("maternal_surname", "family"),
            ):
                person.where[f] = (entry.index, f"name[{n}].{element}")
        else:
            for f in ("given_names", "paternal_surname", "maternal_surname"):
                person.where[f] = (entry.index, "name")
        gender = resource.get("gender")
        person.where["sex"] = (entry.index, "gender")
        if gender in codes.SEX_BY_GENDER:
            person.raw["sex"] = codes.SEX_BY_GENDER[gender]
        elif gender:
            self.errors.add(entry.path("gender"), "unsupported", _("Crecer records sex as female or male."))
        person.raw["birth_date"] = resource.get("birthDate") or ""
        person.where["birth_date"] = (entry.index, "birthDate")
        document_seen = False
        for k, identifier in enumerate(resource.get("identifier") or []):
            system, value = identifier.get("system"), str(identifier.get("value") or "").strip()
            if not value:
                continue
            if system == codes.REGISTRY_NUMBER:
                person.registry_numbers.append(value)
            elif system in codes.DOCUMENT_TYPES_BY_SYSTEM or str(system).startswith(f"{codes.BASE}/sid/document/"):
                doc_type = codes.DOCUMENT_TYPES_BY_SYSTEM.get(system) or str(system).rsplit("/", 1)[-1].upper()
                person.documents.append((doc_type, value))
                if not document_seen:  # a person keeps one document; the others only help matching
                    document_seen = True
                    person.raw["national_id_type"], person.raw["national_id"] = doc_type, value
                    person.where["national_id"] = person.where["national_id_type"] = (entry.index, f"identifier[{k}]")
            elif system == codes.EXTERNAL_ID and "external_id" not in person.raw:
                person.external_ids.append(value)
                person.raw["external_id"] = value
                person.where["external_id"] = (entry.index, f"identifier[{k}]")
        person.where["territory_code"] = (entry.index, "address")
        for a, address in enumerate(resource.get("address") or []):
            for extension in address.get("extension") or []:
                if extension.get("url") == codes.TERRITORY_EXTENSION and extension.get("valueCode"):
                    person.raw.setdefault("territory_code", extension["valueCode"])
                    person.where["territory_code"] = (entry.index, f"address[{a}]")
        if child:
            organisation = (resource.get("managingOrganization") or {}).get("identifier") or {}
            if organisation.get("system") == codes.FACILITY and organisation.get("value"):
                person.raw["facility_code"] = organisation["value"]
                person.where["facility_code"] = (entry.index, "managingOrganization")
        else:
            for t, telecom in enumerate(resource.get("telecom") or []):
                if telecom.get("system") == "phone" and telecom.get("value") and "phone" not in person.raw:
                    person.raw["phone"] = telecom["value"]
                    person.where["phone"] = (entry.index, f"telecom[{t}]")
        return person

    def _patient(self, entry: _Entry) -> _Person:
        person = self._person(entry, child=True)
        if not entry.resource.get("birthDate"):
            self.errors.add(entry.path("birthDate"), "required", _("The birth date is required."))
        territory = self.user.territory if self.user is not None else None
        leaf = len(conf.profile().territory_levels) - 1
        if "territory_code" not in person.raw and territory is not None and territory.depth == leaf:
            # The poster's own municipality, when the sender does not say where the child lives.
            person.raw["territory_code"] = territory.code
        return person

    def _child_ref(self, entry: _Entry, element: str) -> _ChildRef | None:
        value = entry.resource.get(element)
        if not isinstance(value, dict) or not (value.get("reference") or value.get("identifier")):
            self.errors.add(entry.path(element), "required", _("A reference to the child (a Patient) is required."))
            return None
        if value.get("reference"):
            target = self.by_reference.get(value["reference"])
            if target is None or target.rtype != "Patient":
                self.errors.add(
                    entry.path(f"{element}.reference"),
                    "unknown",
                    _("“%(reference)s” is not a %(type)s of this Bundle.")
                    % {"reference": value["reference"], "type": "Patient"},
                )
                return None
            return _ChildRef(entry=target.index)
        identifier = value["identifier"]
        return _ChildRef(identifier=(str(identifier.get("system") or ""), str(identifier.get("value") or "")))

    def _related_person(self, entry: _Entry) -> None:
        person = self._person(entry, child=False)
        child = self._child_ref(entry, "patient")
        relationship = ""
        for concept in entry.resource.get("relationship") or []:
            for coding in concept.get("coding") or []:
                if coding.get("system") == codes.ROLE_CODE and coding.get("code") in codes.ROLE_RELATIONSHIP:
                    relationship = relationship or codes.ROLE_RELATIONSHIP[coding["code"]]
        if not relationship:
            self.errors.add(
                entry.path("relationship"),
                "unsupported",
                _("The relationship must be coded in %(system)s as one of: %(codes)s.")
                % {"system": codes.ROLE_CODE, "codes": ", ".join(codes.ROLE_RELATIONSHIP)},
            )
        person.raw.setdefault("sex", {"mother": "F", "father": "M"}.get(relationship, ""))
        if child is not None and relationship:
            self.links.append(_Link(person, child, relationship))

    def _encounter(self, entry: _Entry) -> _Visit | None:
        resource = entry.resource
        child = self._child_ref(entry, "subject")
        if resource.get("status") in SKIPPED_ENCOUNTER_STATUSES:
            self.errors.add(entry.path("status"), "unsupported", _("Only encounters that took place are imported."))
        start = (resource.get("period") or {}).get("start")
        date = _date(start)
        if date is None:
            self.errors.add(entry.path("period.start"), "required", _("The date is required."))
        visit = _Visit(child or _ChildRef(), entry, date, raw={"kind": EncounterKind.CHECK_UP})
        visit.where["date"] = (entry.index, "period.start")
        for t, concept in enumerate(resource.get("type") or []):
            for coding in concept.get("coding") or []:
                if coding.get("system") == codes.ENCOUNTER_KIND:
                    visit.raw["kind"] = coding.get("code")
                    visit.where["kind"] = (entry.index, f"type[{t}]")
                elif coding.get("system") == codes.SCHEDULED_CONTACT:
                    visit.raw["contact_code"] = coding.get("code")
                    visit.where["contact_code"] = (entry.index, f"type[{t}]")
        provider = (resource.get("serviceProvider") or {}).get("identifier") or {}
        if provider.get("system") == codes.FACILITY and provider.get("value"):
            visit.raw["facility_code"] = provider["value"]
            visit.where["facility_code"] = (entry.index, "serviceProvider")
        return visit if child is not None else None

    def _measure(self, entry: _Entry) -> codes.Measure | str | None:
        """The growth or birth measure of an Observation, "oedema", or None (with an error)."""
        codings = (entry.resource.get("code") or {}).get("coding") or []
        found: list[codes.Measure | str] = []
        for coding in codings:
            if coding.get("system") == codes.LOINC and coding.get("code") in codes.MEASURES_BY_LOINC:
                found.append(codes.MEASURES_BY_LOINC[coding["code"]])
            elif coding.get("system") == codes.OBSERVATION and coding.get("code") == codes.OEDEMA_CODE:
                found.append("oedema")
        if found:
            # Body length (lying) comes with the profile's body height code too: the precise one wins.
            return codes.LENGTH if codes.LENGTH in found else found[0]
        shown = ", ".join(f"{c.get('system', '')}|{c.get('code', '')}" for c in codings) or "?"
        self.errors.add(
            entry.path("code"),
            "unsupported_code",
            _("“%(code)s” is not a measurement Crecer imports (LOINC %(codes)s).")
            % {"code": shown, "codes": ", ".join(codes.MEASURES_BY_LOINC)},
        )
        return None

    def _quantity(self, entry: _Entry, measure: codes.Measure) -> float | None:
        quantity = entry.resource.get("valueQuantity")
        if not isinstance(quantity, dict) or quantity.get("value") is None:
            self.errors.add(entry.path("valueQuantity.value"), "required", _("The value is required."))
            return None
        if quantity.get("system") not in (None, codes.UCUM):
            self.errors.add(
                entry.path("valueQuantity.system"),
                "invalid_system",
                _("The quantity must use UCUM units (%(system)s).") % {"system": codes.UCUM},
            )
            return None
        unit = quantity.get("code") or quantity.get("unit") or ""
        accepted = CONVERSIONS[measure.unit]
        if unit not in accepted:
            self.errors.add(
                entry.path("valueQuantity.code"),
                "invalid_unit",
                _("The unit “%(unit)s” does not fit this measurement (use %(units)s).")
                % {"unit": unit, "units": ", ".join(accepted)},
            )
            return None
        value = float(quantity["value"])
        # Converted values are rounded (7100 g * 0.001 is 7.1, not 7.1000000000000005).
        return value if accepted[unit] == 1.0 else round(value * accepted[unit], 6)

    def _observation(self, entry: _Entry, visits: dict[Any, _Visit]) -> None:
        resource = entry.resource
        if resource.get("status") not in OBSERVATION_STATUSES:
            self.errors.add(
                entry.path("status"), "unsupported", _("Only final, amended or corrected observations are imported.")
            )
        measure = self._measure(entry)
        child = self._child_ref(entry, "subject")
        if measure is None or child is None:
            return
        if isinstance(measure, codes.Measure) and measure in codes.BIRTH_MEASURES:
            value = self._quantity(entry, measure)
            if child.entry is None:  # a registered child: birth data are not changed
                self.outcomes[entry.index] = {"outcome": "unchanged"}
            elif value is not None:
                person = self.patients[child.entry]
                person.raw[measure.field] = round(value)
                person.where[measure.field] = (entry.index, "valueQuantity.value")
                self.outcomes[entry.index] = {"outcome": "applied", "patient_entry": child.entry}
            return
        date = _date(resource.get("effectiveDateTime"))
        if date is None:
            self.errors.add(entry.path("effectiveDateTime"), "required", _("The date is required."))
        visit = None
        reference = (resource.get("encounter") or {}).get("reference")
        if reference:
            target = self.by_reference.get(reference)
            if target is None or target.rtype != "Encounter":
                self.errors.add(
                    entry.path("encounter.reference"),
                    "unknown",
                    _("“%(reference)s” is not a %(type)s of this Bundle.")
                    % {"reference": reference, "type": "Encounter"},
                )
                return
            visit = visits.get(("encounter", target.index))
            if visit is None:
                return  # the encounter has its own errors
            if visit.child.key != child.key:
                self.errors.add(
                    entry.path("subject"),
                    "other_child",
                    _("The observation and its encounter are about different children."),
                )
                return
            if date is not None and visit.date is not None and date != visit.date:
                self.errors.add(
                    entry.path("effectiveDateTime"),
                    "date_mismatch",
                    _("The observation's date differs from its encounter's."),
                )
                return
        elif date is not None:
            visit = visits.setdefault(
                ("day", child.key, date), _Visit(child, None, date, raw={"kind": EncounterKind.CHECK_UP})
            )
            visit.where.setdefault("date", (entry.index, "effectiveDateTime"))
        if visit is None:
            return
        if measure == "oedema":
            if resource.get("valueBoolean") is None:
                self.errors.add(entry.path("valueBoolean"), "required", _("The value is required."))
                return
            name, value_path, value = "oedema", "valueBoolean", bool(resource["valueBoolean"])
        else:
            assert isinstance(measure, codes.Measure)
            number = self._quantity(entry, measure)
            if number is None:
                return
            if measure is codes.BMI:  # derived from weight and length: Crecer computes it
                visit.derived.append(entry)
                return
            name, value_path, value = measure.field, "valueQuantity.value", number
            if measure in (codes.LENGTH, codes.HEIGHT):
                visit.measurement["position"] = "l" if measure is codes.LENGTH else "h"
        if name in visit.measurement:
            self.errors.add(entry.path("code"), "duplicate", _("This measurement appears twice in the same encounter."))
            return
        visit.measurement[name] = value
        visit.where[f"measurement.{name}"] = (entry.index, value_path)
        visit.observations.append(entry)

    def _flag(self, entry: _Entry) -> None:
        """A risk flag of Crecer's own rules: checked, then left to the rules (outcome "derived")."""
        codings = (entry.resource.get("code") or {}).get("coding") or []
        if not codings or any(c.get("system") != codes.RISK_RULE for c in codings):
            self.errors.add(
                entry.path("code"),
                "unsupported_code",
                _("Only Crecer's own risk flags are accepted; its rules raise them again from the facts."),
            )
        if self._child_ref(entry, "subject") is not None:
            self.outcomes[entry.index] = {"outcome": "derived"}

    # --- writing (one transaction) -----------------------------------------------------------

    def _put(self, exc: InputErrors, where: Where, default: int) -> None:
        for name, problems in exc.errors.items():
            index, element = where.get(name, (default, ""))
            key = f"entry[{index}].resource" + (f".{element}" if element else "")
            for problem in problems:
                self.errors.add(key, problem.code, problem.message)

    def _children(self) -> QuerySet[Child]:
        return Child.unscoped.filter(voided_at__isnull=True) if self.user is None else scope.children(self.user)

    def _caregivers(self) -> QuerySet[Caregiver]:
        return Caregiver.unscoped.filter(voided_at__isnull=True) if self.user is None else scope.caregivers(self.user)

    def _match(self, queryset: QuerySet[Any], person: _Person) -> Any:
        """The one registered person (in scope) holding any of these identifiers; None if none."""
        condition = Q(pk__in=[])
        if person.registry_numbers:
            condition |= Q(registry_number__in=person.registry_numbers)
        for doc_type, value in person.documents:
            try:
                condition |= Q(national_id_type=doc_type, national_id=documents.validate(doc_type, value))
            except (documents.InvalidDocument, KeyError):
                continue  # reported by the registry's validation if the person is created
        if person.external_ids:
            condition |= Q(external_id__in=person.external_ids)
        found = list(queryset.filter(condition).distinct()[:2])
        if len(found) > 1:
            self.errors.add(
                person.entry.path("identifier"),
                "ambiguous",
                _("These identifiers belong to different registered people."),
            )
            return None
        return found[0] if found else None

    def _resolve(self, ref: _ChildRef, children: dict[int, Child], entry: _Entry, element: str) -> Child | None:
        if ref.entry is not None:
            return children.get(ref.entry)
        assert ref.identifier is not None
        system, value = ref.identifier
        person = _Person(entry)
        if system == codes.REGISTRY_NUMBER:
            person.registry_numbers.append(value)
        elif system == codes.EXTERNAL_ID:
            person.external_ids.append(value)
        elif system in codes.DOCUMENT_TYPES_BY_SYSTEM:
            person.documents.append((codes.DOCUMENT_TYPES_BY_SYSTEM[system], value))
        child = self._match(self._children(), person) if (system and value) else None
        if child is None:
            self.errors.add(
                entry.path(f"{element}.identifier"),
                "unknown",
                _("No child in your scope has this identifier."),
            )
        return child

    def write(self) -> None:
        children: dict[int, Child] = {}
        for index, person in self.patients.items():
            child = self._match(self._children(), person)
            if child is not None:
                children[index] = child
                self.outcomes[index] = {"outcome": "matched", "id": child.pk, "registry_number": child.registry_number}
                continue
            try:
                child = registry_actions.create_child(self.actor, person.raw)
            except InputErrors as exc:
                self._put(exc, person.where, index)
                continue
            children[index] = child
            self.outcomes[index] = {"outcome": "created", "id": child.pk, "registry_number": child.registry_number}
        for link in self.links:
            self._write_link(link, children)
        for visit in self.visits:
            self._write_visit(visit, children)

    def _write_link(self, link: _Link, children: dict[int, Child]) -> None:
        entry = link.person.entry
        child = self._resolve(link.child, children, entry, "patient")
        if child is None:
            return
        person = link.person
        caregiver = self._match(self._caregivers(), person)
        outcome = "matched"
        if caregiver is None:
            person.raw.setdefault("territory_code", child.territory.code)
            try:
                caregiver = registry_actions.create_caregiver(self.actor, person.raw)
            except InputErrors as exc:
                self._put(exc, person.where, entry.index)
                return
            outcome = "created"
        if not CaregiverLink.unscoped.filter(child=child, caregiver=caregiver).exists():
            try:
                registry_actions.link_caregiver(self.actor, child, caregiver, link.relationship, reason=None)
            except InputErrors as exc:
                self._put(exc, {"relationship": (entry.index, "relationship")}, entry.index)
                return
            outcome = "created" if outcome == "created" else "linked"
        self.outcomes[entry.index] = {
            "outcome": outcome,
            "id": caregiver.pk,
            "registry_number": caregiver.registry_number,
            "child": child.pk,
        }

    def _existing_visit(self, child: Child, visit: _Visit) -> Encounter | None:
        """On a registered child, the same encounter already recorded (re-posting is harmless)."""
        if visit.date is None:  # reported while planning
            return None
        encounters = Encounter.unscoped.filter(child=child, date=visit.date, voided_at__isnull=True)
        if not visit.measurement:
            return encounters.filter(kind=visit.raw.get("kind"), measurements__isnull=True).first()
        for m in Measurement.unscoped.filter(child=child, measured_on=visit.date, is_current=True).select_related(
            "encounter"
        ):
            same = all(
                _same(getattr(m, f), visit.measurement.get(f)) for f in MEASUREMENT_VALUE_FIELDS
            ) and m.oedema == bool(visit.measurement.get("oedema"))
            if same and m.encounter.voided_at is None:
                return m.encounter
        return None

    def _write_visit(self, visit: _Visit, children: dict[int, Child]) -> None:
        anchor = visit.anchor
        child = self._resolve(visit.child, children, anchor, "subject")
        if child is None:
            return
        created = visit.child.entry is not None and self.outcomes.get(visit.child.entry, {}).get("outcome") == "created"
        encounter = None if created else self._existing_visit(child, visit)
        outcome = "matched"
        if encounter is None:
            raw = {**visit.raw, "date": visit.date.isoformat() if visit.date else ""}
            if visit.measurement:
                raw["measurement"] = visit.measurement
            try:
                encounter = tracking_actions.record_encounter(self.actor, raw, child=child)
            except InputErrors as exc:
                self._put(exc, visit.where, anchor.index)
                return
            except PermissionDenied as exc:
                self.errors.add(anchor.path(), "forbidden", str(exc))
                return
            outcome = "created"
        measurement = encounter.measurements.filter(is_current=True).first() if visit.measurement else None
        if visit.encounter is not None:
            self.outcomes[visit.encounter.index] = {"outcome": outcome, "id": encounter.pk}
        for entry in visit.observations:
            self.outcomes[entry.index] = {
                "outcome": outcome,
                "id": measurement.pk if measurement else None,
                "encounter": encounter.pk,
            }
        for entry in visit.derived:
            self.outcomes[entry.index] = {"outcome": "derived", "encounter": encounter.pk}

    def summary(self) -> dict[str, Any]:
        entries = []
        for entry in self.entries:
            outcome = dict(self.outcomes.get(entry.index, {"outcome": "unchanged"}))
            if outcome.get("outcome") == "applied":
                patient = self.outcomes.get(outcome.pop("patient_entry"), {})
                outcome = {"outcome": patient.get("outcome", "unchanged"), "patient": patient.get("id")}
            entries.append({"index": entry.index, "resourceType": entry.rtype, **outcome})
        return {
            "created": sum(1 for e in entries if e["outcome"] == "created"),
            "matched": sum(1 for e in entries if e["outcome"] in ("matched", "linked")),
            "entries": entries,
        }


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)


def import_bundle(actor: Actor, body: Any) -> dict[str, Any]:
    """Map a Bundle in; all or nothing. Raises :class:`InputErrors` (422) with entry-keyed errors."""
    job = BundleImport(actor)
    job.read(body)
    job.plan()
    # An existence answer given while writing keeps its audit event and count if the Bundle is undone.
    with outlasting.block(), transaction.atomic():
        job.write()
        # Every entry was tried (so every problem is reported); any problem undoes them all.
        job.errors.raise_if_any()
    return job.summary()
