"""Validation of encounter, measurement, screening and delivery input (API, pages and files alike)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from crecer import conf
from crecer.registry.inputs import parse_date
from crecer.tracking.models import EncounterKind
from crecer.validation import Collector

# Plausible ranges for typed values: outside them the number is a typing error, not a child.
RANGES: dict[str, tuple[float, float]] = {
    "weight_kg": (0.3, 150.0),
    "length_cm": (20.0, 200.0),
    "head_cm": (15.0, 65.0),
    "muac_cm": (5.0, 45.0),
    "haemoglobin_g_l": (30.0, 250.0),
}
MEASUREMENT_FIELDS = (*RANGES, "position", "oedema")


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
            _("%(value)s is outside the plausible range %(low)s–%(high)s.")
            % {"value": number, "low": low, "high": high},
        )
        return None
    return number


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
    for name, (low, high) in RANGES.items():
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
