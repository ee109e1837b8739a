"""Country profiles: versioned configuration shipped as data files inside the package.

A profile is a folder ``crecer/profiles/<id>/`` holding ``profile.toml`` (and, as the product
grows, the check-up schedule, instruments, rules and catalogues). It is validated on load; any
problem raises :class:`ProfileError` naming the file and the field, so a bad profile never starts.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from crecer.lib import documents
from crecer.lib.planning import PlanningConfig, PlanningError, parse_config
from crecer.lib.results import ProfileRule, ResultsError, parse_profile_rules
from crecer.lib.rules import Rule, RuleDefinitionError, parse_rules
from crecer.lib.schedule import Contact, build_contacts


class ProfileError(ValueError):
    """A country profile that does not load: names the file and field at fault."""


@dataclass(frozen=True)
class TerritoryLevel:
    key: str
    name_es: str
    name_en: str


AXES = ("health_nutrition", "education_care", "protective_environments", "protection_of_rights", "management")
SECTORS = (
    "health",
    "education",
    "social",
    "housing",
    "employment",
    "child_protection",
    "civil_registry",
    "childcare",
    "municipal",
)
DELIVERY_MODES = ("once", "visit", "session", "group", "enrolment")
DATA_CATEGORIES = (
    "identity",
    "health",
    "development",
    "social",
    "violence",
    "abuse",
    "mental_health",
    "child_protection",
)


@dataclass(frozen=True)
class Service:
    """An entry of the service catalogue."""

    code: str
    name_es: str
    name_en: str
    sector: str
    axis: str
    universal: bool
    subject: str
    delivery: str
    data_category: str
    eligibility_es: str = ""
    eligibility_en: str = ""
    acceptance_days: int | None = None
    attention_days: int | None = None
    sessions_min: int | None = None
    sessions_max: int | None = None
    completion_min_sessions: int | None = None
    #: who is counted as eligible when the service is costed: "children" (in the age band) or
    #: "pregnancies" (one a birth); "" for a service not costed (see docs/costing.md)
    eligible: str = ""
    #: the age band of eligible children, completed months [low, high] (both included)
    age_months: tuple[int, int] | None = None

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es


#: the populations a service's eligibility may count
ELIGIBLE_POPULATIONS = ("children", "pregnancies")
#: the oldest age band a service may count (months: under 18 years)
MAX_AGE_MONTHS = 215

#: what happens to a value a check finds doubtful: asked to be confirmed with a reason, or refused
CHECK_POLICIES = ("confirm", "refuse")
FIELD_KINDS = ("number", "check", "select", "text")
#: typed measurement values and their default impossible bounds (outside them the number is a typing error)
MEASUREMENT_BOUNDS: dict[str, tuple[float, float]] = {
    "weight_kg": (0.3, 150.0),
    "length_cm": (20.0, 200.0),
    "head_cm": (15.0, 65.0),
    "muac_cm": (5.0, 45.0),
    "haemoglobin_g_l": (30.0, 250.0),
}


@dataclass(frozen=True)
class InstrumentField:
    """One question (or value) of an instrument as the form shows it: ``name`` is its input key (items get
    their position or key, ``items.3``), the text in both languages, and the browser's limits."""

    name: str
    kind: str
    text_es: str
    text_en: str
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    step: float | None = None

    def text(self, language: str) -> str:
        return self.text_en if language.startswith("en") else self.text_es


@dataclass(frozen=True)
class InstrumentChecks:
    """How a country treats an instrument applied outside its age band, or a score outside its scale
    (``confirm``: recorded only with a reason; ``refuse``), and the question texts of its form."""

    outside_age: str = "refuse"
    #: the country's age band (days), inside the instrument's own; None: the instrument's
    age_days: tuple[int, int] | None = None
    scale: tuple[float, float] | None = None
    outside_scale: str = "refuse"
    #: the input the main score comes from (where a doubtful score's message is shown)
    score_field: str = ""
    fields: tuple[InstrumentField, ...] = ()
    name_es: str = ""
    name_en: str = ""

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es


@dataclass(frozen=True)
class MeasurementChecks:
    """Impossible bounds of typed measurements (always refused) and what WHO's implausible flags ask."""

    bounds: Mapping[str, tuple[float, float]] = dataclasses.field(default_factory=lambda: dict(MEASUREMENT_BOUNDS))
    who_implausible: str = "confirm"


CENTRE_TYPES = ("public_institute", "municipal", "employer", "private", "community")


@dataclass(frozen=True)
class Named:
    """A coded entry with a name in both languages (an institution, a document, an age group…)."""

    code: str
    name_es: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es


@dataclass(frozen=True)
class Fee(Named):
    amount: Decimal = Decimal(0)


@dataclass(frozen=True)
class Standard(Named):
    """An item of the inspection checklist: the institutions that check it, and whether it must be met."""

    institutions: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class CentreType:
    """Per type of childcare centre: the documents its application sends, the institutions whose approval
    it needs and the fees it pays."""

    code: str
    documents: tuple[str, ...]
    reviews: tuple[str, ...]
    fees: tuple[str, ...]


@dataclass(frozen=True)
class CentresConfig:
    """``centres.toml``: the licensing of childcare centres."""

    version: str
    permit_validity_months: int
    expiry_warning_days: int
    review_days: int
    employer_obligation_employees: int
    authority: Named
    age_groups: tuple[Named, ...]
    institutions: tuple[Named, ...]
    documents: tuple[Named, ...]
    fees: tuple[Fee, ...]
    types: Mapping[str, CentreType]
    standards: tuple[Standard, ...]

    def institution(self, code: str) -> Named:
        return next(i for i in self.institutions if i.code == code)

    def document(self, code: str) -> Named:
        return next(d for d in self.documents if d.code == code)

    def fee(self, code: str) -> Fee:
        return next(f for f in self.fees if f.code == code)

    def standards_of(self, institution: str) -> tuple[Standard, ...]:
        return tuple(s for s in self.standards if institution in s.institutions)


def _named_list(data: dict[str, Any], key: str, where: str) -> list[tuple[dict[str, Any], str, str]]:
    """The tables of ``key`` with their ``code`` (unique) and where they are."""
    out = []
    seen: set[str] = set()
    for i, raw in enumerate(_require(data, key, list, where)):
        at = f"{where}: {key}[{i}]"
        if not isinstance(raw, dict):
            raise ProfileError(f"{at} must be a table")
        code = _require(raw, "code", str, at)
        if code in seen:
            raise ProfileError(f"{at}: code '{code}' repeats")
        seen.add(code)
        _require(raw, "name_es", str, at)
        _require(raw, "name_en", str, at)
        out.append((raw, code, at))
    return out


def parse_centres(data: dict[str, Any], where: str) -> CentresConfig:
    """Validate ``centres.toml``: every reference (a type's documents, reviews and fees, a standard's
    institutions) names an entry of the file, every centre type is configured once."""
    numbers = {}
    for field in ("permit_validity_months", "expiry_warning_days", "review_days", "employer_obligation_employees"):
        value = _require(data, field, int, where)
        if value < 1:
            raise ProfileError(f"{where}: '{field}' must be a whole number >= 1")
        numbers[field] = value
    age_groups = tuple(Named(c, r["name_es"], r["name_en"]) for r, c, _ in _named_list(data, "age_group", where))
    institutions = tuple(Named(c, r["name_es"], r["name_en"]) for r, c, _ in _named_list(data, "institution", where))
    docs = tuple(Named(c, r["name_es"], r["name_en"]) for r, c, _ in _named_list(data, "document", where))
    fees = []
    for raw, code, at in _named_list(data, "fee", where):
        try:
            amount = Decimal(_require(raw, "amount", str, at))
        except InvalidOperation:
            raise ProfileError(f"{at} ('{code}'): 'amount' must be a decimal number, e.g. \"25.00\"") from None
        if amount < 0:
            raise ProfileError(f"{at} ('{code}'): 'amount' must not be negative")
        fees.append(Fee(code, raw["name_es"], raw["name_en"], amount))
    known = {
        "documents": {d.code for d in docs},
        "reviews": {i.code for i in institutions},
        "fees": {f.code for f in fees},
    }
    types: dict[str, CentreType] = {}
    for i, raw in enumerate(_require(data, "centre_type", list, where)):
        at = f"{where}: centre_type[{i}]"
        code = _require(raw, "code", str, at)
        if code not in CENTRE_TYPES:
            raise ProfileError(f"{at}: 'code' must be one of {', '.join(CENTRE_TYPES)}")
        if code in types:
            raise ProfileError(f"{at}: centre type '{code}' repeats")
        lists = {}
        for field, codes in known.items():
            values = _require(raw, field, list, at)
            for value in values:
                if value not in codes:
                    raise ProfileError(f"{at} ('{code}'): '{field}' names unknown '{value}'")
            lists[field] = tuple(values)
        if not lists["reviews"]:
            raise ProfileError(f"{at} ('{code}'): 'reviews' needs at least one institution")
        types[code] = CentreType(code, lists["documents"], lists["reviews"], lists["fees"])
    missing = set(CENTRE_TYPES) - set(types)
    if missing:
        raise ProfileError(f"{where}: centre types without configuration: {', '.join(sorted(missing))}")
    standards = []
    for raw, code, at in _named_list(data, "standard", where):
        names = tuple(_require(raw, "institutions", list, at))
        for name in names:
            if name not in known["reviews"]:
                raise ProfileError(f"{at} ('{code}'): 'institutions' names unknown '{name}'")
        standards.append(
            Standard(code, raw["name_es"], raw["name_en"], names, bool(_require(raw, "required", bool, at)))
        )
    return CentresConfig(
        version=_require(data, "version", str, where),
        authority=Named(
            "authority", _require(data, "authority_es", str, where), _require(data, "authority_en", str, where)
        ),
        age_groups=age_groups,
        institutions=institutions,
        documents=docs,
        fees=tuple(fees),
        types=types,
        standards=tuple(standards),
        **numbers,
    )


@dataclass(frozen=True)
class Profile:
    id: str
    version: str
    name: str
    country: str
    registry_prefix: str
    default_document: str
    documents: tuple[str, ...]
    child_document: str
    territory_levels: tuple[TerritoryLevel, ...]
    schedule_version: str = ""
    child_schedule: tuple[Contact, ...] = ()
    prenatal_schedule: tuple[Contact, ...] = ()
    services: tuple[Service, ...] = ()
    rules: tuple[Rule, ...] = ()
    instruments: tuple[str, ...] = ()
    screening_params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    instrument_checks: Mapping[str, InstrumentChecks] = dataclasses.field(default_factory=dict)
    measurement_checks: MeasurementChecks = dataclasses.field(default_factory=MeasurementChecks)
    #: the licensing of childcare centres (``centres.toml``), None where the country has not configured it
    centres: CentresConfig | None = None
    #: the profile's own condition rules for money on results (``results.toml``), beside the built-in ones
    condition_rules: tuple[ProfileRule, ...] = ()
    #: composite indices and the prioritisation of territories (``planning.toml``; empty where absent)
    planning: PlanningConfig = dataclasses.field(default_factory=PlanningConfig)

    def checks(self, instrument: str) -> InstrumentChecks:
        """The checks and question texts of ``instrument`` (defaults when the profile says nothing)."""
        return self.instrument_checks.get(instrument) or InstrumentChecks()

    def service(self, code: str) -> Service:
        for service in self.services:
            if service.code == code:
                return service
        raise KeyError(code)

    @property
    def level_keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.territory_levels)

    def level(self, key: str) -> TerritoryLevel:
        for level in self.territory_levels:
            if level.key == key:
                return level
        raise KeyError(key)

    def depth_of(self, key: str) -> int:
        """0 for the root level, 1 for the next, …; ValueError for an unknown level key."""
        return self.level_keys.index(key)


def parse_schedule(data: dict[str, Any], where: str) -> tuple[str, tuple[Contact, ...], tuple[Contact, ...]]:
    """Validate ``schedule.toml``: (version, child contacts, prenatal contacts with weeks turned into days)."""
    version = _require(data, "version", str, where)
    parsed: dict[str, tuple[Contact, ...]] = {}
    # Prenatal windows are whole weeks of gestation: week w runs from day 7w to day 7w + 6.
    for section, start_key, end_key, scale, extra in (
        ("child", "start", "end", 1, 0),
        ("prenatal", "start_week", "end_week", 7, 6),
    ):
        raw_items = data.get(section, [])
        if not isinstance(raw_items, list):
            raise ProfileError(f"{where}: '{section}' must be a list of tables")
        items = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_items):
            at = f"{where}: {section}[{i}]"
            if not isinstance(raw, dict):
                raise ProfileError(f"{at} must be a table")
            code = _require(raw, "code", str, at)
            if code in seen:
                raise ProfileError(f"{at}: code '{code}' repeats")
            seen.add(code)
            start, end = _require(raw, start_key, int, at), _require(raw, end_key, int, at)
            if not 0 <= start <= end:
                raise ProfileError(f"{at} ('{code}'): needs 0 <= {start_key} <= {end_key}")
            for field in ("screenings", "deliveries"):
                if not isinstance(raw.get(field, []), list):
                    raise ProfileError(f"{at} ('{code}'): '{field}' must be a list")
            items.append(
                {
                    "code": code,
                    "name_es": _require(raw, "name_es", str, at),
                    "name_en": _require(raw, "name_en", str, at),
                    "start": start * scale,
                    "end": end * scale + extra,
                    **({"late_until": _require(raw, "late_until", int, at) * scale} if "late_until" in raw else {}),
                    "kind": raw.get("kind", "prenatal" if section == "prenatal" else "check_up"),
                    "screenings": raw.get("screenings", []),
                    "deliveries": raw.get("deliveries", []),
                }
            )
        parsed[section] = build_contacts(items)
    return version, parsed["child"], parsed["prenatal"]


def parse_services(data: dict[str, Any], where: str) -> tuple[Service, ...]:
    """Validate ``services.toml`` (the service catalogue)."""
    _require(data, "version", str, where)
    services = []
    seen: set[str] = set()
    for i, raw in enumerate(_require(data, "service", list, where)):
        at = f"{where}: service[{i}]"
        if not isinstance(raw, dict):
            raise ProfileError(f"{at} must be a table")
        code = _require(raw, "code", str, at)
        if code in seen:
            raise ProfileError(f"{at}: code '{code}' repeats")
        seen.add(code)
        for field, allowed in (
            ("sector", SECTORS),
            ("axis", AXES),
            ("subject", ("child", "caregiver")),
            ("delivery", DELIVERY_MODES),
            ("data_category", DATA_CATEGORIES),
        ):
            if _require(raw, field, str, at) not in allowed:
                raise ProfileError(f"{at} ('{code}'): '{field}' must be one of {', '.join(allowed)}")
        optional_ints = ("acceptance_days", "attention_days", "sessions_min", "sessions_max", "completion_min_sessions")
        for field in optional_ints:
            if field in raw and (not isinstance(raw[field], int) or raw[field] < 0):
                raise ProfileError(f"{at} ('{code}'): '{field}' must be a whole number >= 0")
        if raw["delivery"] == "group" and "completion_min_sessions" not in raw:
            raise ProfileError(f"{at} ('{code}'): a group programme needs 'completion_min_sessions'")
        services.append(
            Service(
                code=code,
                name_es=_require(raw, "name_es", str, at),
                name_en=_require(raw, "name_en", str, at),
                sector=raw["sector"],
                axis=raw["axis"],
                universal=_require(raw, "universal", bool, at),
                subject=raw["subject"],
                delivery=raw["delivery"],
                data_category=raw["data_category"],
                eligibility_es=raw.get("eligibility_es", ""),
                eligibility_en=raw.get("eligibility_en", ""),
                **_eligible(raw, f"{at} ('{code}')"),
                **{f: raw[f] for f in optional_ints if f in raw},
            )
        )
    return tuple(services)


def _eligible(raw: dict[str, Any], at: str) -> dict[str, Any]:
    """A service's costed eligibility: ``eligible`` ("children" with ``age_months = [low, high]``, or
    "pregnancies" without an age band); nothing when the service is not costed."""
    if "eligible" not in raw:
        if "age_months" in raw:
            raise ProfileError(f"{at}: 'age_months' needs 'eligible = \"children\"'")
        return {}
    population = raw["eligible"]
    if population not in ELIGIBLE_POPULATIONS:
        raise ProfileError(f"{at}: 'eligible' must be one of {', '.join(ELIGIBLE_POPULATIONS)}")
    if population == "pregnancies":
        if "age_months" in raw:
            raise ProfileError(f"{at}: pregnancies have no 'age_months'")
        return {"eligible": population}
    band = raw.get("age_months")
    if (
        not isinstance(band, list)
        or len(band) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in band)
        or not 0 <= band[0] <= band[1] <= MAX_AGE_MONTHS
    ):
        raise ProfileError(f"{at}: 'age_months' must be [low, high] whole months, 0 <= low <= high <= {MAX_AGE_MONTHS}")
    return {"eligible": population, "age_months": (band[0], band[1])}


def _policy(raw: dict[str, Any], field: str, at: str) -> str:
    value = raw.get(field, "refuse")
    if value not in CHECK_POLICIES:
        raise ProfileError(f"{at}: '{field}' must be one of {', '.join(CHECK_POLICIES)}")
    return str(value)


def _bounds(value: Any, at: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or value[0] > value[1]
    ):
        raise ProfileError(f"{at} must be [low, high] with low <= high")
    return float(value[0]), float(value[1])


def parse_instrument_checks(data: dict[str, Any], where: str, codes: tuple[str, ...]) -> dict[str, InstrumentChecks]:
    """Validate the ``[instrument.<code>]`` tables of ``instruments.toml``: checks and question texts."""
    from crecer.lib import screening

    tables = data.get("instrument", {})
    if not isinstance(tables, dict):
        raise ProfileError(f"{where}: 'instrument' must be a table of tables")
    out = {}
    for code, raw in tables.items():
        at = f"{where}: instrument.{code}"
        if code not in codes:
            raise ProfileError(f"{at}: '{code}' is not in 'instruments'")
        if not isinstance(raw, dict):
            raise ProfileError(f"{at} must be a table")
        unknown = set(raw) - {
            "name_es",
            "name_en",
            "outside_age",
            "age_days",
            "scale",
            "outside_scale",
            "score_field",
            "field",
        }
        if unknown:
            raise ProfileError(f"{at}: unknown field(s) {', '.join(sorted(unknown))}")
        fields = []
        seen: set[str] = set()
        for i, item in enumerate(raw.get("field", [])):
            fat = f"{at}.field[{i}]"
            if not isinstance(item, dict):
                raise ProfileError(f"{fat} must be a table")
            name = _require(item, "name", str, fat)
            if name in seen:
                raise ProfileError(f"{fat}: name '{name}' repeats")
            seen.add(name)
            kind = item.get("kind", "check")
            if kind not in FIELD_KINDS:
                raise ProfileError(f"{fat}: 'kind' must be one of {', '.join(FIELD_KINDS)}")
            limits = {}
            for limit in ("min", "max", "step"):
                if limit in item:
                    if not isinstance(item[limit], int | float) or isinstance(item[limit], bool):
                        raise ProfileError(f"{fat}: '{limit}' must be a number")
                    limits[limit] = float(item[limit])
            fields.append(
                InstrumentField(
                    name=name,
                    kind=kind,
                    text_es=_require(item, "text_es", str, fat),
                    text_en=_require(item, "text_en", str, fat),
                    choices=tuple(str(c) for c in item.get("choices", [])),
                    **limits,
                )
            )
        band = None
        if "age_days" in raw:
            low, high = _bounds(raw["age_days"], f"{at}: 'age_days'")
            instrument = screening.get(code)
            if low < (instrument.min_age_days or 0) or (
                instrument.max_age_days is not None and high > instrument.max_age_days
            ):
                raise ProfileError(f"{at}: 'age_days' must lie inside the instrument's own age band")
            band = (int(low), int(high))
        out[code] = InstrumentChecks(
            outside_age=_policy(raw, "outside_age", at),
            age_days=band,
            scale=_bounds(raw["scale"], f"{at}: 'scale'") if "scale" in raw else None,
            outside_scale=_policy(raw, "outside_scale", at),
            score_field=str(raw.get("score_field", "")),
            fields=tuple(fields),
            name_es=str(raw.get("name_es", "")),
            name_en=str(raw.get("name_en", "")),
        )
    return out


def parse_measurement_checks(data: Any, where: str) -> MeasurementChecks:
    """Validate the ``[measurements]`` table of ``profile.toml``."""
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: 'measurements' must be a table")
    bounds = dict(MEASUREMENT_BOUNDS)
    raw_bounds = data.get("bounds", {})
    if not isinstance(raw_bounds, dict):
        raise ProfileError(f"{where}: 'measurements.bounds' must be a table")
    for name, value in raw_bounds.items():
        if name not in MEASUREMENT_BOUNDS:
            raise ProfileError(f"{where}: measurements.bounds: unknown measurement '{name}'")
        bounds[name] = _bounds(value, f"{where}: measurements.bounds.{name}")
    return MeasurementChecks(bounds=bounds, who_implausible=_policy(data, "who_implausible", f"{where}: measurements"))


def parse_instruments(data: dict[str, Any], where: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Validate ``instruments.toml``: the instruments used and their parameters."""
    from crecer.lib import screening

    _require(data, "version", str, where)
    codes = tuple(_require(data, "instruments", list, where))
    for code in codes:
        if code not in screening.INSTRUMENTS:
            raise ProfileError(
                f"{where}: unknown instrument '{code}' (known: {', '.join(sorted(screening.INSTRUMENTS))})"
            )
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ProfileError(f"{where}: 'params' must be a table")
    used_prefixes = tuple(f"{c}_" for c in codes)
    for name in params:
        if not name.startswith(used_prefixes):
            raise ProfileError(f"{where}: parameter '{name}' belongs to no instrument in use")
    for code in codes:
        try:
            screening.get(code).resolve_params(params)
        except screening.ScreeningInputError as exc:
            raise ProfileError(f"{where}: {exc}") from exc
    return codes, dict(params)


def available() -> list[str]:
    root = resources.files("crecer.profiles")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "profile.toml").is_file())


def _require(data: dict[str, Any], field: str, kind: type, where: str) -> Any:
    if field not in data:
        raise ProfileError(f"{where}: missing field '{field}'")
    value = data[field]
    if not isinstance(value, kind):
        raise ProfileError(f"{where}: field '{field}' must be {kind.__name__}, not {type(value).__name__}")
    return value


def parse(data: dict[str, Any], where: str) -> Profile:
    """Validate the parsed TOML of a profile and build the :class:`Profile`."""
    levels_raw = _require(data, "territory_levels", list, where)
    if len(levels_raw) < 2:
        raise ProfileError(f"{where}: 'territory_levels' needs a root and at least one level below it")
    levels = []
    for i, raw in enumerate(levels_raw):
        at = f"{where}: territory_levels[{i}]"
        if not isinstance(raw, dict):
            raise ProfileError(f"{at} must be a table")
        levels.append(
            TerritoryLevel(
                _require(raw, "key", str, at), _require(raw, "name_es", str, at), _require(raw, "name_en", str, at)
            )
        )
    keys = [level.key for level in levels]
    if len(set(keys)) != len(keys):
        raise ProfileError(f"{where}: territory level keys repeat: {keys}")
    docs = tuple(_require(data, "documents", list, where))
    known = set(documents.known_types())
    for doc in docs:
        if doc not in known:
            raise ProfileError(f"{where}: document type '{doc}' has no validator (known: {sorted(known)})")
    default_document = _require(data, "default_document", str, where)
    child_document = data.get("child_document", default_document)
    for field, value in (("default_document", default_document), ("child_document", child_document)):
        if value not in docs:
            raise ProfileError(f"{where}: '{field}' = '{value}' is not among 'documents'")
    return Profile(
        id=_require(data, "id", str, where),
        version=_require(data, "version", str, where),
        name=_require(data, "name", str, where),
        country=_require(data, "country", str, where),
        registry_prefix=_require(data, "registry_prefix", str, where),
        default_document=default_document,
        documents=docs,
        child_document=child_document,
        territory_levels=tuple(levels),
        measurement_checks=parse_measurement_checks(data.get("measurements", {}), where),
    )


@cache
def load(profile_id: str) -> Profile:
    """Load and validate the shipped profile ``profile_id`` (cached: profiles are immutable)."""
    if profile_id not in available():
        raise ProfileError(f"unknown profile '{profile_id}' (available: {', '.join(available())})")
    where = f"profiles/{profile_id}/profile.toml"
    profile = parse(_read_toml(resources.files("crecer.profiles") / profile_id / "profile.toml", where), where)
    if profile.id != profile_id:
        raise ProfileError(f"{where}: 'id' is '{profile.id}' but the folder is '{profile_id}'")
    folder = resources.files("crecer.profiles") / profile_id
    schedule_file = folder / "schedule.toml"
    if schedule_file.is_file():
        version, child, prenatal = parse_schedule(
            _read_toml(schedule_file, f"profiles/{profile_id}/schedule.toml"), f"profiles/{profile_id}/schedule.toml"
        )
        profile = replace(profile, schedule_version=version, child_schedule=child, prenatal_schedule=prenatal)
    services_file = folder / "services.toml"
    if services_file.is_file():
        where = f"profiles/{profile_id}/services.toml"
        profile = replace(profile, services=parse_services(_read_toml(services_file, where), where))
    instruments_file = folder / "instruments.toml"
    if instruments_file.is_file():
        where = f"profiles/{profile_id}/instruments.toml"
        data = _read_toml(instruments_file, where)
        codes, params = parse_instruments(data, where)
        checks = parse_instrument_checks(data, where, codes)
        profile = replace(profile, instruments=codes, screening_params=params, instrument_checks=checks)
    rules_file = folder / "rules.toml"
    if rules_file.is_file():
        where = f"profiles/{profile_id}/rules.toml"
        data = _read_toml(rules_file, where)
        _require(data, "version", str, where)
        try:
            rules = parse_rules(_require(data, "rule", list, where), where, [s.code for s in profile.services])
        except RuleDefinitionError as exc:
            raise ProfileError(str(exc)) from exc
        profile = replace(profile, rules=rules)
    centres_file = folder / "centres.toml"
    if centres_file.is_file():
        where = f"profiles/{profile_id}/centres.toml"
        profile = replace(profile, centres=parse_centres(_read_toml(centres_file, where), where))
    results_file = folder / "results.toml"
    if results_file.is_file():
        where = f"profiles/{profile_id}/results.toml"
        profile = replace(profile, condition_rules=parse_results(_read_toml(results_file, where), where))
    planning_file = folder / "planning.toml"
    if planning_file.is_file():
        where = f"profiles/{profile_id}/planning.toml"
        indicators_where = f"profiles/{profile_id}/indicators.toml"
        indicators_file = folder / "indicators.toml"
        known = _read_toml(indicators_file, indicators_where) if indicators_file.is_file() else {}
        profile = replace(profile, planning=parse_planning(_read_toml(planning_file, where), where, known))
    _check_references(profile)
    return profile


def parse_results(data: dict[str, Any], where: str) -> tuple[ProfileRule, ...]:
    """Validate ``results.toml``: the profile's own condition rules (see :func:`crecer.lib.results.parse_profile_rules`)."""
    _require(data, "version", str, where)
    try:
        return parse_profile_rules(data, where)
    except ResultsError as exc:
        raise ProfileError(str(exc)) from exc


def parse_planning(data: dict[str, Any], where: str, indicators: dict[str, Any]) -> PlanningConfig:
    """Validate ``planning.toml`` against the profile's ``indicators.toml`` (its parsed TOML): every component
    names an indicator of it, whose direction is the component's unless it says otherwise."""
    known = {
        str(raw.get("code")): str(raw.get("direction", "higher"))
        for raw in indicators.get("indicator", [])
        if isinstance(raw, dict) and raw.get("code")
    }
    try:
        return parse_config(data, where, known)
    except PlanningError as exc:
        raise ProfileError(str(exc)) from exc


def _check_references(profile: Profile) -> None:
    """Names used across files must exist (a schedule delivering an unknown service fails on load)."""
    codes = {s.code for s in profile.services}
    for contact in (*profile.child_schedule, *profile.prenatal_schedule):
        for service in contact.deliveries:
            if service not in codes:
                raise ProfileError(
                    f"profiles/{profile.id}/schedule.toml: contact '{contact.code}' delivers unknown service '{service}'"
                )
        for instrument in contact.screenings:
            if instrument not in profile.instruments:
                raise ProfileError(
                    f"profiles/{profile.id}/schedule.toml: contact '{contact.code}' screens with '{instrument}', "
                    "which is not in instruments.toml"
                )


def _read_toml(path: Any, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{where}: {exc}") from exc
