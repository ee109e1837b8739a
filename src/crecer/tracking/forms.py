"""The fields of the check-up and prenatal-contact pages, and how posted values become the input of
:func:`crecer.tracking.actions.record_encounter` (validation itself stays in the action)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crecer import conf
from crecer.lib.screening.ecdi import ECDI2030_ITEMS, MICS_ECDI_ITEMS
from crecer.lib.screening.epsa import ITEMS as EPSA_ITEMS


@dataclass(frozen=True)
class Field:
    name: str  # the posted name, also the key in the instrument's inputs
    label: Any
    kind: str  # number, check, select, text
    choices: tuple[tuple[str, Any], ...] = ()
    min: float | None = None
    max: float | None = None
    step: str = "any"


_MEASUREMENTS = (
    ("weight_kg", _("Weight (kg)"), "number"),
    ("length_cm", _("Length/height (cm)"), "number"),
    ("position", _("Measured"), "select"),
    ("head_cm", _("Head circumference (cm)"), "number"),
    ("muac_cm", _("Arm circumference (cm)"), "number"),
    ("haemoglobin_g_l", _("Haemoglobin (g/L)"), "number"),
    ("oedema", _("Bilateral oedema"), "check"),
)
POSITIONS = (("", _("as usual for the age")), ("l", _("lying")), ("h", _("standing")))


def measurement_fields() -> tuple[Field, ...]:
    """The measurement fields, with the profile's impossible bounds as the browser's limits."""
    bounds = conf.profile().measurement_checks.bounds
    return tuple(
        Field(name, label, kind, POSITIONS if kind == "select" else (), *bounds.get(name, (None, None)))
        for name, label, kind in _MEASUREMENTS
    )


#: the measurement fields' labels by name (for messages that name what was saved)
MEASUREMENT_LABELS = {name: label for name, label, _kind in _MEASUREMENTS}
#: kept for callers that list the fields without the profile's bounds
MEASUREMENT_FIELDS = tuple(Field(name, label, kind) for name, label, kind in _MEASUREMENTS)


def instrument_fields(code: str, language: str | None = None) -> tuple[Field, ...]:
    """The form fields of an instrument, as its country profile asks them (``[instrument.<code>]`` of
    ``instruments.toml``: names are its input keys, texts in the user's language)."""
    language = language or get_language() or "es"
    return tuple(
        Field(
            f.name,
            f.text(language),
            f.kind,
            tuple((c, c) for c in f.choices),
            f.min,
            f.max,
            "any" if f.step is None else f"{f.step:g}",
        )
        for f in conf.profile().checks(code).fields
    )


def instrument_inputs(code: str, data: QueryDict, prefix: str) -> dict[str, Any]:
    """Posted values of one instrument's fields → the instrument's ``inputs``."""

    def value(name: str) -> str:
        return data.get(f"{prefix}{name}", "").strip()

    def checked(name: str) -> bool:
        return data.get(f"{prefix}{name}") in ("on", "1", "true")

    if code == "eedp":
        return {"cd": value("cd")} if value("cd") else {}
    if code == "tepsi":
        return {name: value(name) for name in ("t_total", "t_coordination", "t_language", "t_motor") if value(name)}
    if code == "pauta_breve":
        return {"items": [checked(f"items.{i}") for i in range(1, 5)]}
    if code == "epds":
        return {"items": [value(f"items.{i}") or None for i in range(1, 11)]}
    if code == "mics_ecdi":
        return {"items": {key: checked(f"items.{key}") for key in MICS_ECDI_ITEMS}}
    if code == "ecdi2030":
        return {"items": {key: checked(f"items.{key}") for key in ECDI2030_ITEMS}}
    if code == "epsa":
        return {key: (value(key) if key == "other" else checked(key)) for key in EPSA_ITEMS}
    return {}


def numbers(inputs: dict[str, Any]) -> dict[str, Any]:
    """Typed numbers where the form gave text (the instruments expect numbers)."""
    out: dict[str, Any] = {}
    for key, v in inputs.items():
        if isinstance(v, str) and v:
            try:
                out[key] = float(v.replace(",", ".")) if "." in v or "," in v else int(v)
            except ValueError:
                out[key] = v
        elif isinstance(v, list):
            out[key] = [int(x) if isinstance(x, str) and x.isdigit() else x for x in v]
        else:
            out[key] = v
    return out


def inputs_as_data(code: str, inputs: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """Stored answers of an instrument as the form's posted values (what the correction form starts from);
    the inverse of :func:`instrument_inputs`."""
    data: dict[str, str] = {}

    def put(name: str, value: Any) -> None:
        if isinstance(value, bool):
            data[prefix + name] = "on" if value else ""
        elif value is not None:
            data[prefix + name] = f"{value:g}" if isinstance(value, float) else str(value)

    for key, value in (inputs or {}).items():
        if key == "items" and isinstance(value, list):
            for i, item in enumerate(value, start=1):
                put(f"items.{i}", item)
        elif key == "items" and isinstance(value, Mapping):
            for item_key, item in value.items():
                put(f"items.{item_key}", item)
        else:
            put(key, value)
    return data


def encounter_input(data: QueryDict, instruments: list[str], services: list[str]) -> dict[str, Any]:
    """The posted check-up form as the input of ``record_encounter``."""
    raw: dict[str, Any] = {
        "date": data.get("date", ""),
        "contact_code": data.get("contact_code", ""),
        "kind": data.get("kind", "") or None,
    }
    measurement: dict[str, Any] = {f.name: data.get(f"m.{f.name}", "") for f in MEASUREMENT_FIELDS if f.kind != "check"}
    measurement["oedema"] = data.get("m.oedema") == "on"
    if any(v not in ("", False) for v in measurement.values()):
        raw["measurement"] = measurement
        if data.get("m.confirm_reason", "").strip():
            measurement["confirm_reason"] = data.get("m.confirm_reason", "").strip()
    raw["screenings"] = []
    for code in instruments:
        if data.get(f"use.{code}") == "on":
            item = {"instrument": code, "inputs": numbers(instrument_inputs(code, data, f"s.{code}."))}
            if data.get(f"s.{code}.confirm_reason", "").strip():
                item["confirm_reason"] = data.get(f"s.{code}.confirm_reason", "").strip()
            raw["screenings"].append(item)
    raw["deliveries"] = [code for code in services if data.get(f"d.{code}") == "on"]
    return {k: v for k, v in raw.items() if v is not None}


# --- errors beside their field --------------------------------------------------------------------------

_SCREENING_KEY = re.compile(r"screenings\[(\d+)\]\.?(.*)")


def form_errors(errors: Mapping[str, Any], screened: list[str]) -> dict[str, list[dict[str, str]]]:
    """The action's errors (named as in the API: ``measurement.weight_kg``, ``screenings[0].inputs.cd``)
    by the posted name of the form's field they belong to (``m.weight_kg``, ``s.eedp.cd``; an error about
    a whole instrument goes to its ``use.<code>`` box). ``screened`` are the instrument codes in the order
    they were posted."""
    out: dict[str, list[dict[str, str]]] = {}
    for key, items in errors.items():
        name = key
        if key.startswith("measurement."):
            name = "m." + key.removeprefix("measurement.")
        elif key == "measurement":
            name = "m"
        elif match := _SCREENING_KEY.fullmatch(key):
            index, rest = int(match[1]), match[2]
            code = screened[index] if index < len(screened) else ""
            name = f"s.{code}.{rest.removeprefix('inputs.')}" if rest.startswith("inputs.") else f"use.{code}"
        elif key.startswith("deliveries"):
            name = "d"
        out.setdefault(name, []).extend(items)
    return out


def bind(field: Field, prefix: str, data: Any, errors: Mapping[str, list[dict[str, str]]]) -> dict[str, Any]:
    """A field ready for the template: its posted name and id, the value posted back, its errors."""
    name = prefix + field.name
    value = data.get(name, "") if data else ""
    return {
        "field": field,
        "name": name,
        "id": name.replace(".", "-"),
        "value": value,
        "checked": value in ("on", "1", "true"),
        "errors": errors.get(name, []),
    }


def needs_confirmation(errors: Mapping[str, list[dict[str, str]]], prefix: str) -> bool:
    """Whether an error of the fields under ``prefix`` asks for a confirmation with a reason."""
    return any(
        e.get("code") == "needs_confirmation"
        for name, items in errors.items()
        if name.startswith(prefix)
        for e in items
    )


def error_list(errors: Mapping[str, list[dict[str, str]]], labels: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """The summary above a form: each error with the label of its field (never the field's code)."""
    return [(labels.get(name, ""), e["message"]) for name, items in errors.items() for e in items]
