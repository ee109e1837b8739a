"""The fields of the check-up and prenatal-contact pages, and how posted values become the input of
:func:`crecer.tracking.actions.record_encounter` (validation itself stays in the action)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from crecer.lib.screening.ecdi import ECDI2030_ITEMS, MICS_ECDI_ITEMS
from crecer.lib.screening.epsa import ITEMS as EPSA_ITEMS


@dataclass(frozen=True)
class Field:
    name: str  # the posted name, also the key in the instrument's inputs
    label: Any
    kind: str  # number, check, select, text
    choices: tuple[tuple[str, Any], ...] = ()


MEASUREMENT_FIELDS = (
    Field("weight_kg", _("Weight (kg)"), "number"),
    Field("length_cm", _("Length/height (cm)"), "number"),
    Field(
        "position", _("Measured"), "select", (("", _("as usual for the age")), ("l", _("lying")), ("h", _("standing")))
    ),
    Field("head_cm", _("Head circumference (cm)"), "number"),
    Field("muac_cm", _("Arm circumference (cm)"), "number"),
    Field("haemoglobin_g_l", _("Haemoglobin (g/L)"), "number"),
    Field("oedema", _("Bilateral oedema"), "check"),
)

MICS_LABELS = {
    "letters_10": _("Identifies or names at least ten letters of the alphabet"),
    "words_4": _("Reads at least four simple, popular words"),
    "numbers_1_10": _("Knows the name and recognises the symbol of all numbers from 1 to 10"),
    "small_object": _("Picks up a small object with two fingers"),
    "not_too_sick": _("Is not sometimes too sick to play"),
    "gets_along": _("Gets along well with other children"),
    "not_aggressive": _("Does not kick, bite or hit other children or adults"),
    "not_distracted": _("Does not get distracted easily"),
    "follows_directions": _("Follows simple directions on how to do something correctly"),
    "independent": _("When given something to do, does it independently"),
}
ECDI2030_LABELS = {
    "walks_uneven_surface": _("Walks on an uneven surface without falling"),
    "jumps_both_feet": _("Jumps up with both feet leaving the ground"),
    "dresses_self": _("Dresses without help"),
    "buttons": _("Fastens and unfastens buttons without help"),
    "says_10_words": _("Says ten or more words"),
    "sentences_3_words": _("Speaks using sentences of three or more words"),
    "sentences_5_words": _("Speaks using sentences of five or more words"),
    "uses_pronouns": _("Uses pronouns correctly"),
    "names_object": _("Names an object when it is pointed at"),
    "recognises_5_letters": _("Recognises at least five letters"),
    "writes_name": _("Writes own name"),
    "recognises_numbers_1_5": _("Recognises all numbers from 1 to 5"),
    "gives_3_objects": _("Gives three objects when asked"),
    "counts_10_objects": _("Counts ten objects"),
    "persists_in_activity": _("Keeps working on an activity until finished"),
    "asks_about_familiar_people": _("Asks about familiar people other than parents"),
    "offers_help": _("Offers to help someone who seems to need it"),
    "gets_along": _("Gets along well with other children"),
    "not_sad_daily": _("Does not seem very sad or depressed daily"),
    "not_aggressive_more": _("Does not kick, bite or hit more than other children"),
}
EPSA_LABELS = {
    "late_entry": _("Entry to prenatal care after 20 weeks"),
    "low_schooling": _("Schooling up to 6th grade"),
    "adolescent": _("17 years old or younger"),
    "rejection": _("Rejects the pregnancy"),
    "low_support": _("Insufficient social or family support"),
    "depressive_symptoms": _("Depressive symptoms"),
    "substance_use": _("Tobacco, alcohol, unprescribed tranquillisers or drugs"),
    "gender_violence": _("Gender violence"),
    "other": _("Other risk factor (describe)"),
}
EPDS_CHOICES = tuple((str(v), str(v)) for v in range(4))


def instrument_fields(code: str) -> tuple[Field, ...]:
    """The form fields of an instrument (names are its input keys; items get an index suffix)."""
    if code == "eedp":
        return (Field("cd", _("Development coefficient (0.00–1.50)"), "number"),)
    if code == "tepsi":
        return tuple(
            Field(name, label, "number")
            for name, label in (
                ("t_total", _("Total T-score")),
                ("t_coordination", _("Coordination T-score")),
                ("t_language", _("Language T-score")),
                ("t_motor", _("Motor T-score")),
            )
        )
    if code == "pauta_breve":
        return tuple(Field(f"items.{i}", _("Item %(n)s passed") % {"n": i}, "check") for i in range(1, 5))
    if code == "epds":
        return tuple(
            Field(f"items.{i}", _("Item %(n)s (0–3)") % {"n": i}, "select", EPDS_CHOICES) for i in range(1, 11)
        )
    if code == "mics_ecdi":
        return tuple(Field(f"items.{key}", MICS_LABELS[key], "check") for key in MICS_ECDI_ITEMS)
    if code == "ecdi2030":
        return tuple(Field(f"items.{key}", ECDI2030_LABELS[key], "check") for key in ECDI2030_ITEMS)
    if code == "epsa":
        return tuple(Field(key, EPSA_LABELS[key], "text" if key == "other" else "check") for key in EPSA_ITEMS)
    return ()


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


def _numbers(inputs: dict[str, Any]) -> dict[str, Any]:
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
    raw["screenings"] = []
    for code in instruments:
        if data.get(f"use.{code}") == "on":
            raw["screenings"].append(
                {"instrument": code, "inputs": _numbers(instrument_inputs(code, data, f"s.{code}."))}
            )
    raw["deliveries"] = [code for code in services if data.get(f"d.{code}") == "on"]
    return {k: v for k, v in raw.items() if v is not None}
