"""Indicator definitions: versioned data in the country profile (``indicators.toml``), validated on load."""

from __future__ import annotations

import inspect
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from django.utils.translation import gettext_lazy as _

from crecer import conf
from crecer.lib.profiles import AXES, Profile, ProfileError
from crecer.lib.profiles import load as load_profile
from crecer.monitoring.facts import FACTS, POPULATIONS, VALUES

AXIS_LABELS = {
    "health_nutrition": _("Health and nutrition"),
    "education_care": _("Education and care"),
    "protective_environments": _("Protective environments"),
    "protection_of_rights": _("Protection of rights"),
    "management": _("Management"),
}
UNITS = ("percent", "per_1000", "count", "median_days")
PERIOD_KINDS = ("month", "quarter", "year")
DIRECTIONS = ("higher", "lower")
#: disaggregations every population has, computed by the engine
COMMON_DISAGGREGATIONS = ("territory",)


@dataclass(frozen=True)
class Step:
    fact: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Indicator:
    code: str
    version: int
    name_es: str
    name_en: str
    axis: str
    population: str
    unit: str
    period: str
    direction: str
    source: str
    denominator: tuple[Step, ...]
    numerator: tuple[Step, ...]
    value: str
    disaggregations: tuple[str, ...]

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es

    @property
    def key(self) -> str:
        return f"{self.code}@{self.version}"


def _steps(raw: Any, population: str, at: str) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        raise ProfileError(f"{at} must be a list of facts")
    steps = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or "fact" not in item:
            raise ProfileError(f"{at}[{i}] needs 'fact'")
        name = item["fact"]
        function = FACTS.get((population, name))
        if function is None:
            known = sorted(f for p, f in FACTS if p == population)
            raise ProfileError(f"{at}[{i}]: unknown fact '{name}' for {population} (known: {', '.join(known)})")
        params = {k: v for k, v in item.items() if k != "fact"}
        signature = inspect.signature(function)
        try:
            signature.bind(None, **params)
        except TypeError as exc:
            raise ProfileError(f"{at}[{i}] ('{name}'): {exc}") from exc
        steps.append(Step(name, params))
    return tuple(steps)


def parse(data: dict[str, Any], where: str) -> tuple[Indicator, ...]:
    if not isinstance(data.get("version"), str):
        raise ProfileError(f"{where}: missing field 'version'")
    indicators, seen = [], set()
    for i, raw in enumerate(data.get("indicator", [])):
        at = f"{where}: indicator[{i}]"
        code = raw.get("code")
        if not isinstance(code, str) or not code:
            raise ProfileError(f"{at}: 'code' is required")
        at = f"{where}: indicator '{code}'"
        if code in seen:
            raise ProfileError(f"{at} repeats")
        seen.add(code)
        for field, allowed in (
            ("axis", AXES),
            ("unit", UNITS),
            ("period", PERIOD_KINDS),
            ("direction", DIRECTIONS),
            ("population", tuple(POPULATIONS)),
        ):
            if raw.get(field) not in allowed:
                raise ProfileError(f"{at}: '{field}' must be one of {', '.join(allowed)}")
        if not isinstance(raw.get("version"), int) or raw["version"] < 1:
            raise ProfileError(f"{at}: 'version' must be a whole number from 1")
        population = raw["population"]
        denominator = _steps(raw.get("denominator"), population, f"{at} denominator")
        numerator = _steps(raw.get("numerator", []), population, f"{at} numerator")
        value = raw.get("value", "")
        if raw["unit"] == "median_days":
            if (population, value) not in VALUES:
                raise ProfileError(f"{at}: a median needs a 'value' known for {population}")
        elif not numerator:
            raise ProfileError(f"{at}: 'numerator' is required")
        allowed_dis = (
            set(COMMON_DISAGGREGATIONS)
            | set(POPULATIONS[population].disaggregations)
            | ({"age_band"} if population == "child" else set())
        )
        dis = tuple(raw.get("disaggregations", []))
        if set(dis) - allowed_dis:
            raise ProfileError(
                f"{at}: disaggregations {sorted(set(dis) - allowed_dis)} are not available for {population}"
            )
        for field in ("name_es", "name_en", "source"):
            if not isinstance(raw.get(field), str) or not raw[field]:
                raise ProfileError(f"{at}: '{field}' is required")
        indicators.append(
            Indicator(
                code=code,
                version=raw["version"],
                name_es=raw["name_es"],
                name_en=raw["name_en"],
                axis=raw["axis"],
                population=population,
                unit=raw["unit"],
                period=raw["period"],
                direction=raw["direction"],
                source=raw["source"],
                denominator=denominator,
                numerator=numerator,
                value=value,
                disaggregations=dis,
            )
        )
    return tuple(indicators)


def check_references(indicators: tuple[Indicator, ...], profile: Profile, where: str) -> None:
    """Instruments, services and scheduled contacts named in the facts must exist in the profile."""
    services = {s.code for s in profile.services}
    contacts = {c.code for c in profile.child_schedule}
    for indicator in indicators:
        for step in (*indicator.denominator, *indicator.numerator):
            at = f"{where}: indicator '{indicator.code}' fact '{step.fact}'"
            named = list(step.params.get("instruments", [])) + (
                [step.params["instrument"]] if "instrument" in step.params else []
            )
            for instrument in named:
                if instrument not in profile.instruments:
                    raise ProfileError(f"{at}: instrument '{instrument}' is not in instruments.toml")
            if "service" in step.params and step.params["service"] not in services:
                raise ProfileError(f"{at}: service '{step.params['service']}' is not in services.toml")
            if "contact" in step.params and step.params["contact"] not in contacts:
                raise ProfileError(f"{at}: contact '{step.params['contact']}' is not in schedule.toml")


@cache
def _load(profile_id: str) -> tuple[Indicator, ...]:
    path = resources.files("crecer.profiles") / profile_id / "indicators.toml"
    where = f"profiles/{profile_id}/indicators.toml"
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{where}: {exc}") from exc
    parsed = parse(data, where)
    check_references(parsed, load_profile(profile_id), where)
    return parsed


def indicators(profile_id: str | None = None) -> tuple[Indicator, ...]:
    """The active profile's indicators (validated once, then cached)."""
    return _load(profile_id or conf.profile().id)


def get(code: str) -> Indicator:
    for indicator in indicators():
        if indicator.code == code:
            return indicator
    raise KeyError(code)
