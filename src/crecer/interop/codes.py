"""The code systems, value sets and identifier systems of Crecer's FHIR mapping, and a checker.

Every coding the export writes comes from here, and :func:`check_resource` verifies that each
``{"system", "code"}`` pair in a resource (codings and quantities alike), and each coded primitive
element we fill (``gender``, ``status``, ``intent`` …), is one we know. The FHIR models of
``fhir.resources`` check structure and data types but not terminology; this is the other half.

Crecer's own systems live under :data:`BASE`. ASSUMPTION: a deployment that publishes its own
NamingSystem and CodeSystem resources replaces :data:`BASE` with its canonical address (both the
export and the import read it from here, so they stay in step).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

BASE = "https://crecer.example/fhir"

# --- standard systems ---------------------------------------------------------------------------

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_PRIORITY = "http://hl7.org/fhir/flag-priority-code"

# --- extensions ---------------------------------------------------------------------------------

FATHERS_FAMILY = "http://hl7.org/fhir/StructureDefinition/humanname-fathers-family"
MOTHERS_FAMILY = "http://hl7.org/fhir/StructureDefinition/humanname-mothers-family"
FLAG_PRIORITY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/flag-priority"
TERRITORY_EXTENSION = f"{BASE}/StructureDefinition/territory"

# --- Crecer's identifier systems ----------------------------------------------------------------

REGISTRY_NUMBER = f"{BASE}/sid/registry-number"
EXTERNAL_ID = f"{BASE}/sid/external-id"
FACILITY = f"{BASE}/sid/facility"
ORGANISATION = f"{BASE}/sid/organisation"

#: Identity documents: (system, v2-0203 identifier type). Chile's RUN uses the civil registry's
#: system as HL7 Chile's core guide does; the others have no published system we know of.
DOCUMENT_SYSTEMS: dict[str, tuple[str, str]] = {
    "CL-RUN": ("http://regcivil.cl/Validacion/RUN", "NI"),
    "PE-DNI": (f"{BASE}/sid/document/pe-dni", "NI"),
    "SV-DUI": (f"{BASE}/sid/document/sv-dui", "NI"),
    "BIRTH-REG": (f"{BASE}/sid/document/birth-registration", "BCT"),
    "PASSPORT": (f"{BASE}/sid/document/passport", "PPN"),
}
DOCUMENT_TYPES_BY_SYSTEM = {system: doc_type for doc_type, (system, _t) in DOCUMENT_SYSTEMS.items()}

# --- Crecer's code systems ----------------------------------------------------------------------

ENCOUNTER_KIND = f"{BASE}/CodeSystem/encounter-kind"
SCHEDULED_CONTACT = f"{BASE}/CodeSystem/scheduled-contact"
GROWTH_ZSCORE = f"{BASE}/CodeSystem/who-growth-zscore"
OBSERVATION = f"{BASE}/CodeSystem/observation"
INSTRUMENT = f"{BASE}/CodeSystem/screening-instrument"
SCREENING_RESULT = f"{BASE}/CodeSystem/screening-result"
SERVICE = f"{BASE}/CodeSystem/service"
REFERRAL_STATE = f"{BASE}/CodeSystem/referral-state"
RISK_RULE = f"{BASE}/CodeSystem/risk-rule"
RISK_CATEGORY = f"{BASE}/CodeSystem/risk-category"


@dataclass(frozen=True)
class Measure:
    """A growth or birth measurement: its LOINC code, display, UCUM unit and Crecer's field."""

    key: str
    loinc: str
    display: str
    unit: str
    field: str
    category: str = "vital-signs"


# The vital-signs profile's codes (body weight, height, length, head circumference, BMI) plus
# mid-upper-arm circumference and haemoglobin, and the two facts recorded at birth.
WEIGHT = Measure("weight", "29463-7", "Body weight", "kg", "weight_kg")
HEIGHT = Measure("height", "8302-2", "Body height", "cm", "length_cm")
LENGTH = Measure("length", "8306-3", "Body height --lying", "cm", "length_cm")
HEAD = Measure("head", "9843-4", "Head Occipital-frontal circumference", "cm", "head_cm")
BMI = Measure("bmi", "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "")
MUAC = Measure("muac", "56072-2", "Circumference Mid upper arm", "cm", "muac_cm")
HAEMOGLOBIN = Measure(
    "haemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood", "g/L", "haemoglobin_g_l", "laboratory"
)
BIRTH_WEIGHT = Measure("birth_weight", "8339-4", "Birth weight Measured", "g", "birth_weight_g")
GESTATIONAL_AGE = Measure("gestational_age", "76516-4", "Gestational age--at birth", "wk", "gestational_weeks", "exam")

GROWTH_MEASURES = (WEIGHT, HEIGHT, LENGTH, HEAD, BMI, MUAC, HAEMOGLOBIN)
BIRTH_MEASURES = (BIRTH_WEIGHT, GESTATIONAL_AGE)
MEASURES_BY_LOINC = {m.loinc: m for m in (*GROWTH_MEASURES, *BIRTH_MEASURES)}

#: Bilateral pitting oedema (changes how WHO computes weight z-scores): Crecer's own code.
OEDEMA_CODE = "bilateral-oedema"

#: WHO growth z-scores (component codes on the growth observations): indicator -> display.
ZSCORES: dict[str, str] = {
    "wfa": "Weight-for-age z-score (WHO)",
    "lhfa": "Length/height-for-age z-score (WHO)",
    "wflh": "Weight-for-length/height z-score (WHO)",
    "bmi": "BMI-for-age z-score (WHO)",
    "hcfa": "Head circumference-for-age z-score (WHO)",
    "acfa": "Arm circumference-for-age z-score (WHO)",
}
#: Which observation carries which z-score as a component.
ZSCORES_BY_MEASURE: dict[str, tuple[str, ...]] = {
    "weight": ("wfa", "wflh"),
    "height": ("lhfa",),
    "length": ("lhfa",),
    "bmi": ("bmi",),
    "head": ("hcfa",),
    "muac": ("acfa",),
}
ZSCORE_UNIT = "{Z-score}"
SCORE_UNIT = "{score}"

UCUM_UNITS: dict[str, str] = {
    "kg": "kg",
    "g": "g",
    "cm": "cm",
    "kg/m2": "kg/m2",
    "g/L": "g/L",
    "g/dL": "g/dL",
    "wk": "wk",
    ZSCORE_UNIT: "z-score",
    SCORE_UNIT: "score",
}

# --- mappings of Crecer's values ----------------------------------------------------------------

GENDER = {"F": "female", "M": "male"}
SEX_BY_GENDER = {"female": "F", "male": "M"}

#: Caregiver relationship -> v3-RoleCode (and back).
RELATIONSHIP_ROLE = {"mother": "MTH", "father": "FTH", "guardian": "GUARD", "other": "FAMMEMB"}
ROLE_RELATIONSHIP = {code: rel for rel, code in RELATIONSHIP_ROLE.items()}

#: Encounter kind -> v3-ActCode encounter class.
ENCOUNTER_CLASS = {"home_visit": "HH"}
DEFAULT_ENCOUNTER_CLASS = "AMB"

#: Referral state -> ServiceRequest.status (the request, seen from the sender).
SERVICE_REQUEST_STATUS = {
    "draft": "draft",
    "sent": "active",
    "accepted": "active",
    "in_progress": "active",
    "completed": "completed",
    "not_completed": "revoked",
    "rejected": "revoked",
    "cancelled": "revoked",
    "expired": "revoked",
}
#: Referral state -> Task.status (the work, seen from the receiver). ``closed`` depends on how the
#: referral ended: see :func:`task_status`.
TASK_STATUS = {
    "draft": "draft",
    "sent": "requested",
    "accepted": "accepted",
    "rejected": "rejected",
    "in_progress": "in-progress",
    "completed": "completed",
    "not_completed": "failed",
    "cancelled": "cancelled",
    "expired": "failed",
}
#: Referral priority -> ServiceRequest.priority.
REQUEST_PRIORITY = {"routine": "routine", "priority": "urgent", "urgent": "asap"}
#: Risk severity -> flag-priority code.
FLAG_PRIORITY_CODES = {"low": "PL", "medium": "PM", "high": "PH"}
#: Crecer risk category -> flag-category (social risks have no HL7 equivalent: only Crecer's code).
FLAG_CATEGORIES = {"biomedical": "clinical", "psychological": "behavioral", "protection": "safety"}
#: Screening classification -> v3 interpretation (normal or abnormal).
INTERPRETATION_OF = {
    "normal": "N",
    "negative": "N",
    "on_track": "N",
    "risk": "A",
    "delay": "A",
    "altered": "A",
    "positive": "A",
    "not_on_track": "A",
}


def task_status(state: str, *, counter_referral: bool, rejected: bool) -> str:
    """Task.status for a referral state. A closed referral keeps the status of how it ended:
    completed (with a counter-referral), rejected, or failed (not completed, or expired)."""
    if state != "closed":
        return TASK_STATUS[state]
    if counter_referral:
        return "completed"
    return "rejected" if rejected else "failed"


def service_request_status(state: str, *, counter_referral: bool) -> str:
    if state != "closed":
        return SERVICE_REQUEST_STATUS[state]
    return "completed" if counter_referral else "revoked"


# --- the known codes ----------------------------------------------------------------------------

_STATIC: dict[str, dict[str, str]] = {
    LOINC: {m.loinc: m.display for m in MEASURES_BY_LOINC.values()},
    UCUM: UCUM_UNITS,
    OBSERVATION_CATEGORY: {
        "vital-signs": "Vital Signs",
        "laboratory": "Laboratory",
        "survey": "Survey",
        "exam": "Exam",
    },
    ROLE_CODE: {"MTH": "mother", "FTH": "father", "GUARD": "guardian", "FAMMEMB": "family member"},
    IDENTIFIER_TYPE: {
        "MR": "Medical record number",
        "NI": "National unique individual identifier",
        "PPN": "Passport number",
        "BCT": "Birth Certificate",
    },
    ACT_CODE: {"AMB": "ambulatory", "HH": "home health"},
    INTERPRETATION: {"N": "Normal", "A": "Abnormal"},
    FLAG_CATEGORY: {"clinical": "Clinical", "behavioral": "Behavioral", "safety": "Safety"},
    FLAG_PRIORITY: {"PL": "Low priority", "PM": "Medium priority", "PH": "High priority"},
    GROWTH_ZSCORE: ZSCORES,
    OBSERVATION: {OEDEMA_CODE: "Bilateral pitting oedema"},
}


def display(system: str, code: str) -> str:
    """The display of a code of a fixed (non-profile) system, "" when unknown."""
    return _STATIC.get(system, {}).get(code, "")


#: Coded primitive elements we fill, by resource type and element: the allowed values (FHIR R4).
PRIMITIVE_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Bundle", "type"): frozenset(
        {"document", "message", "transaction", "transaction-response", "batch", "batch-response"}
        | {"history", "searchset", "collection"}
    ),
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("RelatedPerson", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("Encounter", "status"): frozenset(
        {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled"}
        | {"entered-in-error", "unknown"}
    ),
    ("Observation", "status"): frozenset(
        {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
    ),
    ("ServiceRequest", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("ServiceRequest", "intent"): frozenset(
        {"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order"}
        | {"instance-order", "option"}
    ),
    ("ServiceRequest", "priority"): frozenset({"routine", "urgent", "asap", "stat"}),
    ("Task", "status"): frozenset(
        {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress"}
        | {"on-hold", "failed", "completed", "entered-in-error"}
    ),
    ("Task", "intent"): frozenset(
        {"unknown", "proposal", "plan", "order", "original-order", "reflex-order", "filler-order"}
        | {"instance-order", "option"}
    ),
    ("Flag", "status"): frozenset({"active", "inactive", "entered-in-error"}),
}


@cache
def _profile_codes(profile_id: str) -> dict[str, frozenset[str]]:
    from crecer.lib import screening
    from crecer.lib.profiles import load

    profile = load(profile_id)
    return {
        SCHEDULED_CONTACT: frozenset(c.code for c in (*profile.child_schedule, *profile.prenatal_schedule)),
        INSTRUMENT: frozenset(screening.INSTRUMENTS),
        SCREENING_RESULT: frozenset(screening.CLASSIFICATIONS),
        SERVICE: frozenset(s.code for s in profile.services),
        RISK_RULE: frozenset(r.id for r in profile.rules),
        RISK_CATEGORY: frozenset(r.flag.category for r in profile.rules),
    }


def known_codes() -> dict[str, frozenset[str]]:
    """Every system Crecer writes, with its codes (the profile's catalogues included)."""
    from django.conf import settings

    from crecer.referrals.models import State
    from crecer.tracking.models import EncounterKind

    codes = {system: frozenset(values) for system, values in _STATIC.items()}
    codes[ENCOUNTER_KIND] = frozenset(EncounterKind.values)
    codes[REFERRAL_STATE] = frozenset(State.values)
    codes.update(_profile_codes(settings.CRECER_PROFILE))
    return codes


def _codings(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict with both ``system`` and ``code`` (Coding, Quantity) below ``value``, with its path."""
    if isinstance(value, Mapping):
        if "system" in value and "code" in value:
            yield path, dict(value)
        for key, item in value.items():
            yield from _codings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _codings(item, f"{path}[{i}]")


def _all_known(value: Any, known: Mapping[str, frozenset[str]]) -> bool:
    """The fast path of :func:`check_resource` (no paths built): is every coding known?"""
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            values = known.get(value["system"])
            if values is None or value["code"] not in values:
                return False
        return all(_all_known(item, known) for item in value.values() if isinstance(item, dict | list))
    if isinstance(value, list):
        return all(_all_known(item, known) for item in value if isinstance(item, dict | list))
    return True


def check_resource(resource: Mapping[str, Any], known: Mapping[str, frozenset[str]] | None = None) -> list[str]:
    """Problems with the terminology of one resource: unknown system, unknown code, or a coded
    primitive element outside its value set. Empty when every code is known."""
    known = known if known is not None else known_codes()
    rtype = str(resource.get("resourceType", ""))
    problems: list[str] = []
    if not _all_known(resource, known):
        for path, coding in _codings(resource, ""):
            system, code = coding.get("system"), coding.get("code")
            if system not in known:
                problems.append(f"{rtype}.{path}: unknown system {system!r}")
            elif code not in known[str(system)]:
                problems.append(f"{rtype}.{path}: unknown code {code!r} in {system}")
    for (of_type, element), allowed in PRIMITIVE_CODES.items():
        if of_type == rtype and element in resource and resource[element] not in allowed:
            problems.append(f"{rtype}.{element}: {resource[element]!r} is not in its value set")
    return problems
