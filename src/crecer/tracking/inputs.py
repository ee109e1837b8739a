"""Validation of encounter, measurement, screening and delivery input (API, pages and files alike)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer import conf
from crecer.lib import profiles
from crecer.lib import schedule as schedule_lib
from crecer.lib import screening as screening_lib
from crecer.registry.inputs import check_name, parse_date, parse_int
from crecer.tracking.models import EncounterKind
from crecer.validation import Collector

# Typed values and their default impossible bounds (the country profile's ``[measurements.bounds]`` may
# change them): outside them the number is a typing error, not a child, and is refused.
RANGES: dict[str, tuple[float, float]] = dict(profiles.MEASUREMENT_BOUNDS)
MEASUREMENT_FIELDS = (*RANGES, "position", "oedema")
#: the measured value each WHO indicator is computed from (where its doubt is shown)
INDICATOR_FIELDS = {
    "wfa": "weight_kg",
    "wflh": "weight_kg",
    "bmi": "weight_kg",
    "lhfa": "length_cm",
    "hcfa": "head_cm",
    "acfa": "muac_cm",
}
CONFIRM = "confirm_reason"


def parse_float(value: Any, name: str, errors: Collector, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(str(value).strip().replace(",", ".")) if not isinstance(value, int | float) else float(value)
    except ValueError:
        errors.add(name, "invalid_number", _("“%(value)s” is not a number.") % {"value": value})
        return None
    if not low <= number <= high:
        errors.add(
            name,
            "out_of_range",
            _("%(value)s cannot be right: enter a value from %(low)s to %(high)s.")
            % {"value": _number(number), "low": _number(low), "high": _number(high)},
        )
        return None
    return number


def _number(value: float) -> str:
    """A number as people of the active language write it (1,9 in Spanish)."""
    return f"{value:g}".replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))


def parse_bool(value: Any, name: str, errors: Collector) -> bool:
    if value in (None, "", False, 0):
        return False
    if value in (True, 1):
        return True
    text = str(value).strip().lower()
    if text in {"y", "yes", "s", "si", "sí", "true", "1"}:
        return True
    if text in {"n", "no", "false", "0"}:
        return False
    errors.add(name, "invalid_choice", _("Answer yes or no, not “%(value)s”.") % {"value": value})
    return False


def clean_measurement(raw: Mapping[str, Any], errors: Collector, prefix: str = "measurement.") -> dict[str, Any]:
    """Typed measurement values; at least one of them must be given."""
    values: dict[str, Any] = {}
    bounds = conf.profile().measurement_checks.bounds
    for name in RANGES:
        low, high = bounds[name]
        values[name] = parse_float(raw.get(name), prefix + name, errors, low, high)
    position = str(raw.get("position") or "").strip().lower()
    if position not in ("", "l", "h"):
        errors.add(prefix + "position", "invalid_choice", _("Position is l (lying) or h (standing)."))
        position = ""
    values["position"] = position
    values["oedema"] = parse_bool(raw.get("oedema"), prefix + "oedema", errors)
    if all(values[name] is None for name in RANGES) and not values["oedema"]:
        errors.add(prefix.rstrip(".") or "measurement", "empty", _("Give at least one measurement."))
    return values


def confirm_reason(raw: Any) -> str:
    """The reason given to confirm a doubtful value (``confirm_reason`` of a measurement or screening)."""
    return str((raw.get(CONFIRM) if isinstance(raw, Mapping) else "") or "").strip()[:300]


def indicator_name(code: str) -> str:
    """A WHO indicator in plain words."""
    return {
        "wfa": _("Weight for age"),
        "wflh": _("Weight for length/height"),
        "bmi": _("Body mass index for age"),
        "lhfa": _("Length/height for age"),
        "hcfa": _("Head circumference for age"),
        "acfa": _("Arm circumference for age"),
    }[code]


def check_growth(computed: Mapping[str, Any], reason: str, errors: Collector, prefix: str = "measurement.") -> str:
    """Apply the profile's rule to the indicators WHO flags as implausible in ``computed`` (the z-score
    fields of :func:`crecer.tracking.growth.compute`): refused, or accepted only with a ``reason``. Errors
    name the measured value the indicator comes from. Returns the reason to store ("" when nothing needed
    confirming)."""
    flagged = list(computed.get("implausible") or [])
    if not flagged:
        return ""
    policy = conf.profile().measurement_checks.who_implausible
    if policy == "confirm" and reason:
        return reason
    by_field: dict[str, list[str]] = {}
    for code in flagged:
        z = computed.get(f"z_{code}")
        by_field.setdefault(INDICATOR_FIELDS[code], []).append(
            f"{indicator_name(code)} (z {_number(round(z, 1))})" if z is not None else indicator_name(code)
        )
    for field, names in by_field.items():
        if policy == "refuse":
            errors.add(
                prefix + field,
                "implausible",
                _("This value is not possible for the child's age and sex by WHO's limits: %(what)s. Measure again.")
                % {"what": ", ".join(names)},
            )
        else:
            errors.add(
                prefix + field,
                "needs_confirmation",
                _(
                    "This value is very unlikely for the child's age and sex (WHO flags it: %(what)s). Measure "
                    "again; if it is right, confirm it and say why."
                )
                % {"what": ", ".join(names)},
            )
    return ""


def age_words(days: int) -> str:
    """An age in plain words: days under two months, then months, then years and months."""
    if days < 60:
        return _("%(n)s days") % {"n": days}
    months = screening_lib.completed_months(days)
    if months < 24:
        return _("%(n)s months") % {"n": months}
    return _("%(y)s years %(m)s months") % {"y": months // 12, "m": months % 12}


def instrument_band(instrument: screening_lib.Instrument) -> tuple[int, int | None]:
    """The age band the country applies an instrument in (its profile's, else the instrument's own)."""
    band = conf.profile().checks(instrument.code).age_days
    if band is not None:
        return band
    return instrument.min_age_days or 0, instrument.max_age_days


def check_instrument_age(
    instrument: screening_lib.Instrument, age_days: int | None, reason: str, errors: Collector, field: str
) -> str:
    """An instrument applied outside the country's age band for it: refused, or accepted with a reason, as
    the profile says (outside the instrument's own band it cannot be scored: always refused). Returns the
    reason to store ("" when nothing needed confirming)."""
    if instrument.subject != screening_lib.CHILD or age_days is None:
        return ""
    low, high = instrument_band(instrument)
    own_low, own_high = instrument.min_age_days or 0, instrument.max_age_days
    if low <= age_days and (high is None or age_days <= high):
        return ""
    name = instrument_name(instrument.code)
    words = {
        "instrument": name,
        "low": age_words(low),
        "high": age_words(high) if high is not None else "—",
        "age": age_words(age_days),
    }
    inside_own = own_low <= age_days and (own_high is None or age_days <= own_high)
    if inside_own and conf.profile().checks(instrument.code).outside_age == "confirm":
        if reason:
            return reason
        errors.add(
            field,
            "needs_confirmation",
            _(
                "%(instrument)s is applied from %(low)s to %(high)s of age and the child is %(age)s. If it was "
                "applied anyway, confirm it and say why."
            )
            % words,
        )
        return ""
    errors.add(
        field,
        "outside_age",
        _("%(instrument)s is applied from %(low)s to %(high)s of age; the child is %(age)s. It cannot be recorded.")
        % words,
    )
    return ""


def check_scale(
    instrument: screening_lib.Instrument, score: float | None, reason: str, errors: Collector, prefix: str
) -> str:
    """A score outside the scale the profile gives the instrument: refused, or accepted with a reason.
    Returns the reason to store ("" when nothing needed confirming)."""
    checks = conf.profile().checks(instrument.code)
    if checks.scale is None or score is None:
        return ""
    low, high = checks.scale
    if low <= score <= high:
        return ""
    field = prefix + (f"inputs.{checks.score_field}" if checks.score_field else "instrument")
    words = {"score": _number(score), "low": _number(low), "high": _number(high)}
    if checks.outside_scale == "confirm":
        if reason:
            return reason
        errors.add(
            field,
            "needs_confirmation",
            _(
                "%(score)s is outside the usual scale (%(low)s to %(high)s). Check it; if it is right, confirm it "
                "and say why."
            )
            % words,
        )
    else:
        errors.add(field, "out_of_scale", _("%(score)s is outside the scale (%(low)s to %(high)s).") % words)
    return ""


def instrument_name(code: str) -> str:
    """The plain name of an instrument in the user's language (never its code)."""
    return conf.profile().checks(code).name(get_language() or "es") or str(screening_lib.get(code).name)


def clean_encounter_header(
    raw: Mapping[str, Any],
    errors: Collector,
    *,
    for_pregnancy: bool,
    origin: dt.date | None,
    today: dt.date,
) -> dict[str, Any]:
    """Kind, date and scheduled contact of an encounter (the subject is resolved by the caller).

    ``origin`` is the child's birth date or the pregnancy's LMP: the encounter cannot precede it.
    """
    values: dict[str, Any] = {}
    kind = str(raw.get("kind") or (EncounterKind.PRENATAL if for_pregnancy else EncounterKind.CHECK_UP))
    if kind not in EncounterKind.values:
        errors.add("kind", "invalid_choice", _("Unknown kind of encounter."))
    elif (kind == EncounterKind.PRENATAL) != for_pregnancy:
        errors.add("kind", "wrong_subject", _("Prenatal contacts are for pregnancies; other kinds are for children."))
    values["kind"] = kind
    date = parse_date(raw.get("date"), "date", errors)
    if date is None and "date" not in errors.errors:
        errors.add("date", "required", _("The date is required."))
    if date is not None:
        if date > today:
            errors.add("date", "future", _("The date cannot be in the future."))
        elif origin is not None and date < origin:
            errors.add(
                "date",
                "before_origin",
                _("The date is before the pregnancy began.") if for_pregnancy else _("The date is before the birth."),
            )
    values["date"] = date
    contact_code = str(raw.get("contact_code") or "").strip()
    schedule = conf.profile().prenatal_schedule if for_pregnancy else conf.profile().child_schedule
    if contact_code and contact_code not in {c.code for c in schedule}:
        errors.add(
            "contact_code", "unknown", _("“%(code)s” is not a contact of the schedule.") % {"code": contact_code}
        )
    values["contact_code"] = contact_code
    return values


# --- scheduled contacts -------------------------------------------------------------------------------------

#: kinds of encounter that fulfil a scheduled contact; a home visit or another contact fulfils none
SCHEDULED_KINDS = frozenset({EncounterKind.CHECK_UP, EncounterKind.PRENATAL, EncounterKind.NUTRITION})


def assign_contact(kind: str, for_pregnancy: bool, age_days: int | None, done: set[str]) -> str:
    """The scheduled contact an encounter recorded without one fulfils: for a check-up, prenatal or
    nutrition visit, the contact due at its age, else the earliest overdue one not yet done; "" otherwise."""
    if kind not in SCHEDULED_KINDS or age_days is None:
        return ""
    schedule = conf.profile().prenatal_schedule if for_pregnancy else conf.profile().child_schedule
    contact = schedule_lib.assign(schedule, age_days, done)
    return contact.code if contact else ""


# --- service deliveries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFields:
    """The names a delivery's values have where they come from (errors name the field the user typed)."""

    service: str = "service"
    date: str = "date"
    child: str = "child"
    caregiver: str = "caregiver"
    facility: str = "facility_code"


#: the names of the API and the pages
DELIVERY_FIELDS = DeliveryFields()


def clean_delivery(
    raw: Mapping[str, Any],
    errors: Collector,
    *,
    has_child: bool,
    has_caregiver: bool,
    today: dt.date,
    fields: DeliveryFields = DELIVERY_FIELDS,
) -> dict[str, Any]:
    """A service delivered outside an encounter: the service of the catalogue, to the subject it is given to
    (a child or a caregiver), on a date that is not in the future. ``raw`` has ``service_code``, ``date`` and
    ``detail``; the caller resolved the child and the caregiver."""
    code = str(raw.get("service_code") or "").strip()
    service = next((s for s in conf.profile().services if s.code == code), None)
    if service is None:
        errors.add(fields.service, "unknown", _("“%(code)s” is not a service of the catalogue.") % {"code": code})
    elif service.subject == "child" and not has_child:
        errors.add(fields.child, "required", _("This service is given to a child."))
    elif service.subject == "caregiver" and not has_caregiver:
        errors.add(fields.caregiver, "required", _("This service is given to a caregiver."))
    date = parse_date(raw.get("date"), fields.date, errors)
    if date is None and fields.date not in errors.errors:
        errors.add(fields.date, "required", _("The date is required."))
    if date is not None and date > today:
        errors.add(fields.date, "future", _("The date cannot be in the future."))
    return {"service": service, "date": date, "detail": str(raw.get("detail") or "")[:300]}


# --- parenting groups -----------------------------------------------------------------------------------------


def clean_group(raw: Mapping[str, Any], errors: Collector) -> dict[str, Any]:
    """A group programme: code and name, a group service of the catalogue, its start and the number of
    sessions planned (within the service's range). The facility is resolved by the caller."""
    code = str(raw.get("code") or "").strip()
    name = str(raw.get("name") or "").strip()
    if not code:
        errors.add("code", "required", _("Give the group a code."))
    elif "/" in code:
        # a group is named by its code in addresses (the API's and the pages')
        errors.add("code", "invalid", _("The code cannot contain “/”."))
    elif code.lower() == "new":
        # /groups/new/ is the page that creates a group
        errors.add("code", "reserved", _("This code is reserved; choose another."))
    check_name(raw.get("name"), "name", errors)
    check_name(raw.get("facilitator"), "facilitator", errors)
    if not name and "name" not in errors.errors:
        errors.add("name", "required", _("Give the group a name."))
    service_code = str(raw.get("service_code") or "").strip()
    service = next((s for s in conf.profile().services if s.code == service_code), None)
    if service is None or service.delivery != "group":
        errors.add("service_code", "not_a_group", _("This service is not a group programme."))
    start = parse_date(raw.get("start_date"), "start_date", errors)
    if start is None and "start_date" not in errors.errors:
        errors.add("start_date", "required", _("Give the date of the first session."))
    low, high = (service.sessions_min or 1, service.sessions_max or 52) if service is not None else (1, 52)
    planned = parse_int(raw.get("planned_sessions"), "planned_sessions", errors, low, high)
    if planned is None and "planned_sessions" not in errors.errors:
        errors.add("planned_sessions", "required", _("Give the number of sessions."))
    return {
        "code": code,
        "name": name[:200],
        "service": service,
        "start_date": start,
        "planned_sessions": planned,
        "facilitator_name": str(raw.get("facilitator") or "").strip()[:150],
    }


def session_date(start: dt.date, number: int) -> dt.date:
    """The day session ``number`` of a weekly group that began on ``start`` is held, unless recorded
    otherwise: session n is held ``start + 7·(n − 1)`` days."""
    return start + dt.timedelta(days=7 * (number - 1))


def completion_date(attended: Sequence[dt.date], minimum: int) -> dt.date | None:
    """The day a member completes the programme: the day of the ``minimum``-th session attended, in the
    order they were held (None until then)."""
    held = sorted(attended)
    return held[minimum - 1] if minimum >= 1 and len(held) >= minimum else None
