"""Validation of registry input, shared by the API, the web forms and the file imports.

Each ``clean_*`` function takes raw values (strings from a CSV cell or JSON values), returns the
cleaned values ready for the model, or raises :class:`InputErrors` with every problem found, each
naming its field with a stable code and a translated message. Lookups (territory codes, mothers'
documents, documents already in use) go through a :class:`Resolver` so an import can answer them
for a whole batch in a few queries while the API answers them one by one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crecer import conf
from crecer.lib import documents, names
from crecer.lib import pregnancy as pregnancy_dating
from crecer.validation import Collector

MIN_MOTHER_AGE_YEARS = 10
MAX_CHILD_AGE_YEARS = 18


@dataclass(frozen=True)
class TerritoryRef:
    id: int
    code: str
    path: str
    is_leaf_level: bool


@dataclass(frozen=True)
class PersonRef:
    id: int
    birth_date: dt.date | None
    sex: str


class Resolver(Protocol):
    def territory(self, code: str) -> TerritoryRef | None: ...
    def facility(self, code: str) -> int | None: ...
    def household(self, code: str, keep: int | None = None) -> int | None: ...
    def caregiver_by_document(self, number: str) -> PersonRef | None: ...
    def caregiver_by_external_id(self, external_id: str) -> PersonRef | None: ...
    def document_owner(self, kind: str, doc_type: str, number: str) -> int | None: ...
    def owner_visible(self, kind: str, owner: int, doc_type: str, field: str = "national_id") -> bool: ...
    def facility_path(self, code: str) -> str | None: ...
    @property
    def user(self) -> Any: ...


def document_in_use(
    kind: str, doc_type: str, number: str, resolver: Resolver, errors: Collector, current_id: int | None
) -> None:
    """A document held by another record: said beside the field; when that record is outside the user's
    scope, without any data of that person (:mod:`crecer.registry.existence`)."""
    from crecer.registry import existence

    owner = resolver.document_owner(kind, doc_type, number)
    if owner is None or owner == current_id:
        return
    if not resolver.owner_visible(kind, owner, doc_type):
        errors.add("national_id", existence.ELSEWHERE, existence.message(kind))
    elif kind == "child":
        errors.add("national_id", "duplicate", _("Another child is already registered with this document."))
    else:
        errors.add("national_id", "duplicate", _("Another caregiver is already registered with this document."))


def check_facility(
    raw: Mapping[str, Any], resolver: Resolver, territory: TerritoryRef | None, errors: Collector
) -> None:
    """A person's facility lies within their territory and the acting user's (the system may record any:
    country loads keep children enrolled across a border)."""
    from crecer.access import permissions

    code = _text(raw, "facility_code")
    path = resolver.facility_path(code) if code else None
    if path is None or resolver.user is None:
        return
    if (territory is not None and not path.startswith(territory.path)) or not permissions.within(resolver.user, path):
        errors.add(
            "facility_code",
            "out_of_scope",
            _("The facility “%(code)s” is not in the child's territory or in the one you work in.") % {"code": code},
        )


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    # Uncached: most cells of an import are codes and documents seen once.
    return names.tidy(value if isinstance(value, str) else str(value))


def parse_date(value: Any, name: str, errors: Collector) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(name, "invalid_date", _("“%(value)s” is not a date in the form YYYY-MM-DD.") % {"value": value})
        return None


def parse_int(value: Any, name: str, errors: Collector, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        errors.add(name, "invalid_number", _("“%(value)s” is not a whole number.") % {"value": value})
        return None
    if not low <= number <= high:
        errors.add(
            name,
            "out_of_range",
            _("%(value)s is outside the accepted range %(low)s–%(high)s.")
            % {"value": number, "low": low, "high": high},
        )
        return None
    return number


def document_reading(doc_type: str, number: str) -> str | None:
    """The canonical form of ``number`` as a document of ``doc_type``, or None when it is not one."""
    try:
        return documents.validate(doc_type, number)
    except (documents.InvalidDocument, KeyError):
        return None


def document_readings(number: str) -> list[tuple[str, str]]:
    """Every (type, canonical number) reading of ``number`` under the profile's document types
    (a mother's document is given without its type)."""
    return list(_readings(conf.profile().id, number.strip()))


@lru_cache(maxsize=65536)
def _readings(profile_id: str, number: str) -> tuple[tuple[str, str], ...]:
    readings = []
    for doc_type in conf.profile().documents:
        canonical = document_reading(doc_type, number)
        if canonical is not None:
            readings.append((doc_type, canonical))
    return tuple(readings)


def _document_message(code: str, doc_type: str) -> str:
    label = documents.get(doc_type).label if doc_type in documents.known_types() else doc_type
    example = documents.get(doc_type).example if doc_type in documents.known_types() else ""
    if code == documents.CHECK_DIGIT:
        return _("The check digit of this %(doc)s is wrong.") % {"doc": label}
    if code == documents.UNKNOWN_TYPE:
        return _("Unknown document type “%(type)s”.") % {"type": doc_type}
    return _("This is not a valid %(doc)s (example: %(example)s).") % {"doc": label, "example": example}


def clean_document(
    raw_type: str, raw_number: str, default_type: str, errors: Collector, field_name: str = "national_id"
) -> tuple[str, str | None]:
    """(document type, canonical number or None); problems go to ``errors``."""
    profile = conf.profile()
    doc_type = (raw_type or "").strip().upper() or default_type
    number = (raw_number or "").strip()
    if not number:
        return (doc_type if raw_type else ""), None
    if doc_type not in profile.documents:
        errors.add(
            f"{field_name}_type",
            "unknown_type",
            _("Document type “%(type)s” is not used here (use one of: %(types)s).")
            % {"type": doc_type, "types": ", ".join(profile.documents)},
        )
        return doc_type, None
    try:
        return doc_type, documents.validate(doc_type, number)
    except documents.InvalidDocument as exc:
        errors.add(field_name, exc.code, _document_message(exc.code, doc_type))
        return doc_type, None


_SEX_CODES = {"F": "F", "M": "M", "1": "M", "2": "F"}


def _sex(raw: Mapping[str, Any], errors: Collector, required: bool) -> str:
    value = _text(raw, "sex").upper()
    if not value:
        if required:
            errors.add("sex", "required", _("Sex is required (F or M)."))
        return ""
    if value not in _SEX_CODES:
        errors.add("sex", "invalid_choice", _("Sex must be F or M, not “%(value)s”.") % {"value": value})
        return ""
    return _SEX_CODES[value]


def check_name(value: Any, name: str, errors: Collector) -> None:
    """Refuse a name (of a person, a group, a facilitator...) holding characters that only hide or disguise
    text: control characters, NUL, bidirectional overrides, zero-width characters. The one home of this rule
    for every write path (API, pages, imports, FHIR), called before the name is tidied (tidying would turn
    some of them into spaces)."""
    if isinstance(value, str) and names.has_hidden_characters(value):
        errors.add(
            name,
            "hidden_characters",
            _(
                "This name has an invisible or control character (for example a zero-width space or a "
                "text-direction mark, often pasted with it). Type the name again."
            ),
        )


def name_text(raw: Mapping[str, Any], name: str, errors: Collector) -> str:
    """The name in ``raw[name]``, tidied, or "" with an error when it holds hidden characters."""
    check_name(raw.get(name), name, errors)
    return "" if name in errors.errors else _text(raw, name)


def _names(raw: Mapping[str, Any], errors: Collector, given_required: bool) -> dict[str, str]:
    fields = ("given_names", "paternal_surname", "maternal_surname")
    values = {f: name_text(raw, f, errors) for f in fields}
    if any(f in errors.errors for f in fields):
        return values
    if given_required and not values["given_names"]:
        errors.add("given_names", "required", _("Given names are required."))
    if not values["paternal_surname"]:
        errors.add("paternal_surname", "required", _("The paternal (first) surname is required."))
    for name, limit in (("given_names", 120), ("paternal_surname", 80), ("maternal_surname", 80)):
        if len(values[name]) > limit:
            errors.add(name, "too_long", _("At most %(limit)s characters.") % {"limit": limit})
    return values


def _territory(raw: Mapping[str, Any], resolver: Resolver, errors: Collector) -> TerritoryRef | None:
    code = _text(raw, "territory_code")
    if not code:
        errors.add("territory_code", "required", _("The territory code is required."))
        return None
    territory = resolver.territory(code)
    if territory is None:
        errors.add("territory_code", "unknown", _("No territory has the code “%(code)s”.") % {"code": code})
    return territory


#: messages of unknown references, translated only when needed
_UNKNOWN_REFERENCE = {
    "facility_code": gettext_lazy("No facility has the code “%(code)s”."),
    "household_code": gettext_lazy("No household has the code “%(code)s”."),
}


def _optional_code(raw: Mapping[str, Any], name: str, lookup: Any, errors: Collector) -> int | None:
    """The id of an optional reference given by code (None when absent; an error when unknown)."""
    code = _text(raw, name)
    if not code:
        return None
    ref = lookup(code)
    if ref is None:
        errors.add(name, "unknown", str(_UNKNOWN_REFERENCE[name]) % {"code": code})
    return ref


def _household(raw: Mapping[str, Any], resolver: Resolver, errors: Collector, current: int | None) -> int | None:
    """The household of ``household_code``: one in the user's scope, or the one the record already has (kept
    as it was, it is not checked again: a household linked by a country load, or moved since, must not
    block every other change of the record)."""
    return _optional_code(raw, "household_code", lambda code: resolver.household(code, keep=current), errors)


def clean_child(
    raw: Mapping[str, Any],
    resolver: Resolver,
    *,
    current_id: int | None = None,
    current_facility_id: int | None = None,
    current_household_id: int | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Validate a child's full record (for an update, pass the merged old+new values, its id, its facility
    and its household: a facility or household kept as it was is not checked again)."""
    today = today or timezone.localdate()
    errors = Collector()
    birth_date = parse_date(raw.get("birth_date"), "birth_date", errors)
    born = birth_date is not None or bool(raw.get("birth_date"))
    values: dict[str, Any] = _names(raw, errors, given_required=born)
    values["birth_date"] = birth_date
    if birth_date is not None:
        if birth_date > today:
            errors.add("birth_date", "future", _("The birth date cannot be in the future."))
        elif birth_date < add_years(today, -MAX_CHILD_AGE_YEARS):
            errors.add(
                "birth_date",
                "too_old",
                _("A child registered here must be under %(years)s years old.") % {"years": MAX_CHILD_AGE_YEARS},
            )
    values["sex"] = _sex(raw, errors, required=born)
    values["external_id"] = _text(raw, "external_id") or None

    profile = conf.profile()
    doc_type, number = clean_document(
        _text(raw, "national_id_type"), _text(raw, "national_id"), profile.child_document, errors
    )
    values["national_id_type"], values["national_id"] = doc_type, number
    if number is not None:
        document_in_use("child", doc_type, number, resolver, errors, current_id)

    territory = _territory(raw, resolver, errors)
    values["territory_id"] = territory.id if territory else None
    values["territory_path"] = territory.path if territory else None
    values["facility_id"] = _optional_code(raw, "facility_code", resolver.facility, errors)
    if values["facility_id"] is not None and values["facility_id"] != current_facility_id:
        check_facility(raw, resolver, territory, errors)
    values["household_id"] = _household(raw, resolver, errors, current_household_id)
    values["birth_weight_g"] = parse_int(raw.get("birth_weight_g"), "birth_weight_g", errors, 300, 7000)
    values["gestational_weeks"] = parse_int(raw.get("gestational_weeks"), "gestational_weeks", errors, 20, 45)

    mother_doc = _text(raw, "mother_national_id")
    values["mother_id"] = None
    # A mother not registered yet (a hospital's birth file before the mothers): the child is stored and
    # her document kept as a pending link, made as soon as a caregiver with that document is registered.
    values["mother_document"] = ""
    if mother_doc:
        mother = resolver.caregiver_by_document(mother_doc)
        if mother is not None:
            values["mother_id"] = mother.id
            check_mother(mother, birth_date, errors, "mother_national_id")
        elif document_readings(mother_doc):
            values["mother_document"] = mother_doc
        else:
            errors.add(
                "mother_national_id",
                "invalid",
                _("“%(number)s” is not a valid identity document of any type used here.") % {"number": mother_doc},
            )
    errors.raise_if_any()
    return values


def check_mother(mother: PersonRef, birth_date: dt.date | None, errors: Collector, name: str) -> None:
    if mother.sex and mother.sex != "F":
        errors.add(name, "not_female", _("The mother must be registered as female."))
    if birth_date is not None and mother.birth_date is not None:
        limit = add_years(mother.birth_date, MIN_MOTHER_AGE_YEARS)
        if birth_date < limit:
            errors.add(
                name,
                "mother_too_young",
                _("The mother would have been younger than %(years)s at the birth; check both birth dates.")
                % {"years": MIN_MOTHER_AGE_YEARS},
            )


def clean_caregiver(
    raw: Mapping[str, Any],
    resolver: Resolver,
    *,
    current_id: int | None = None,
    current_household_id: int | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    today = today or timezone.localdate()
    errors = Collector()
    values: dict[str, Any] = _names(raw, errors, given_required=True)
    birth_date = parse_date(raw.get("birth_date"), "birth_date", errors)
    if birth_date is not None and birth_date > today:
        errors.add("birth_date", "future", _("The birth date cannot be in the future."))
    values["birth_date"] = birth_date
    values["sex"] = _sex(raw, errors, required=True)
    values["external_id"] = _text(raw, "external_id") or None
    profile = conf.profile()
    doc_type, number = clean_document(
        _text(raw, "national_id_type"), _text(raw, "national_id"), profile.default_document, errors
    )
    values["national_id_type"], values["national_id"] = doc_type, number
    if number is not None:
        document_in_use("caregiver", doc_type, number, resolver, errors, current_id)
    territory = _territory(raw, resolver, errors)
    values["territory_id"] = territory.id if territory else None
    values["territory_path"] = territory.path if territory else None
    values["household_id"] = _household(raw, resolver, errors, current_household_id)
    values["schooling_years"] = parse_int(raw.get("schooling_years"), "schooling_years", errors, 0, 30)
    values["phone"] = clean_phone(_text(raw, "phone"), errors)
    errors.raise_if_any()
    return values


_PHONE = re.compile(r"\+?[0-9 ().\-]{6,30}")


def clean_phone(phone: str, errors: Collector) -> str:
    """A phone number as people write it: digits, with spaces, dots, dashes, parentheses and a leading +."""
    if phone and (not _PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 6):
        errors.add(
            "phone",
            "invalid",
            _("Write the phone number with its digits (spaces, dashes and a leading + are allowed)."),
        )
    return phone


def clean_household(raw: Mapping[str, Any], resolver: Resolver) -> dict[str, Any]:
    errors = Collector()
    code = _text(raw, "code")
    if not code:
        errors.add("code", "required", _("The household code is required."))
    territory = _territory(raw, resolver, errors)
    values = {
        "code": code,
        "territory_id": territory.id if territory else None,
        "territory_path": territory.path if territory else None,
        "address": _text(raw, "address")[:300],
        "vulnerability_percentile": parse_int(
            raw.get("vulnerability_percentile"), "vulnerability_percentile", errors, 1, 100
        ),
    }
    errors.raise_if_any()
    return values


def clean_pregnancy(
    raw: Mapping[str, Any], resolver: Resolver, *, today: dt.date | None = None, mother: PersonRef | None = None
) -> dict[str, Any]:
    """A pregnancy: mother, LMP and/or expected delivery date, first prenatal visit, outcome.

    The mother is named in ``raw`` by external id or document, or given as ``mother`` (a caregiver the
    caller already found, e.g. by id through the API; her problems are then reported under ``mother``)."""
    today = today or timezone.localdate()
    errors = Collector()
    values: dict[str, Any] = {"external_id": _text(raw, "external_id") or None}
    mother_ext, mother_doc = _text(raw, "mother_external_id"), _text(raw, "mother_national_id")
    named = "mother" if mother is not None else "mother_external_id"
    if mother is not None:
        pass  # found by the caller
    elif mother_ext:
        mother = resolver.caregiver_by_external_id(mother_ext)
        if mother is None:
            errors.add(
                "mother_external_id", "unknown", _("No caregiver has the external id “%(id)s”.") % {"id": mother_ext}
            )
    elif mother_doc:
        mother = resolver.caregiver_by_document(mother_doc)
        if mother is None:
            errors.add(
                "mother_national_id",
                "unknown",
                _("No registered caregiver has the document “%(number)s”; register the mother first.")
                % {"number": mother_doc},
            )
    else:
        errors.add("mother_external_id", "required", _("The mother is required."))
    values["mother_id"] = mother.id if mother else None

    lmp = parse_date(raw.get("lmp_date"), "lmp_date", errors)
    edd = parse_date(raw.get("edd_date"), "edd_date", errors)
    if lmp is None and edd is None and not errors.errors.get("lmp_date") and not errors.errors.get("edd_date"):
        errors.add("edd_date", "required", _("Give the last menstrual period or the expected delivery date."))
    if lmp is not None and lmp > today:
        errors.add("lmp_date", "future", _("The last menstrual period cannot be in the future."))
    if edd is None and lmp is not None:
        edd = pregnancy_dating.expected_delivery(lmp)
    values["lmp_date"], values["edd_date"] = lmp, edd
    conception = pregnancy_dating.origin(lmp, edd)

    first_visit = parse_date(raw.get("first_visit_date"), "first_visit_date", errors)
    week = parse_int(raw.get("first_visit_week"), "first_visit_week", errors, 0, 45)
    if first_visit is not None:
        if first_visit > today:
            errors.add("first_visit_date", "future", _("The first visit cannot be in the future."))
        if conception is not None and first_visit < conception:
            errors.add("first_visit_date", "before_pregnancy", _("The first visit is before the pregnancy began."))
        elif week is None and conception is not None:
            week = pregnancy_dating.gestational_week(conception, first_visit)
    values["first_visit_date"], values["first_visit_week"] = first_visit, week
    values["facility_id"] = _optional_code(raw, "facility_code", resolver.facility, errors)
    outcome = _text(raw, "outcome") or "ongoing"
    outcomes = ("ongoing", "live_birth", "stillbirth", "miscarriage")
    if outcome not in outcomes:
        errors.add(
            "outcome",
            "invalid_choice",
            _("The outcome must be one of: %(choices)s.") % {"choices": ", ".join(outcomes)},
        )
    outcome_date = parse_date(raw.get("outcome_date"), "outcome_date", errors)
    if outcome != "ongoing" and outcome_date is None and not errors.errors.get("outcome_date"):
        errors.add("outcome_date", "required", _("The outcome date is required once the pregnancy has ended."))
    if outcome_date is not None:
        if outcome_date > today:
            errors.add("outcome_date", "future", _("The outcome date cannot be in the future."))
        if conception is not None and outcome_date < conception:
            errors.add("outcome_date", "before_pregnancy", _("The outcome date is before the pregnancy began."))
    values["outcome"], values["outcome_date"] = outcome, outcome_date
    if mother is not None and mother.birth_date is not None and conception is not None:
        check_mother(mother, pregnancy_dating.expected_delivery(conception), errors, named)
    errors.raise_if_any()
    return values
