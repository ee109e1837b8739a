"""Planning arithmetic: composite indices made of indicators, and the prioritisation of territories.

Pure Python, exact (fractions): a figure of a snapshot enters as the decimal it prints as. The formulas,
with worked examples, are in ``docs/planning.md``.

A composite index (``planning.toml`` of the country profile) is a weighted mean of normalised indicator
values, times a scale (100). Each component is normalised to a share between 0 and 1 where 1 is best:

- ``bounds``: min-max over fixed bounds ``low``..``high`` (clamped to 0..1);
- ``territories``: min-max over the territories compared with it (the same level of the same snapshot);
- ``target``: the share of the way to a target from zero (``value / target``; for lower-is-better,
  ``target / value``; clamped to 0..1; a value of 0 is 1 when lower is better).

Direction ``lower`` turns the min-max ones around (``(high - value) / (high - low)``).
A component without a value (no figure in the snapshot) is left out and the weights of the others are
rescaled to add up to the same total; the result says which were missing. Without any, no value.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, TypeVar

NORMALISATIONS = ("bounds", "territories", "target")
DIRECTIONS = ("higher", "lower")
#: the parts of a territory's prioritisation score, in the order shown
PARTS = ("vulnerability", "children", "gaps", "services")


K = TypeVar("K", bound=Hashable)


class PlanningError(ValueError):
    """A planning definition that does not hold (names the file and field at fault)."""


@dataclass(frozen=True)
class Component:
    indicator: str
    weight: Fraction
    normalisation: str
    direction: str
    low: Fraction | None = None
    high: Fraction | None = None
    target: Fraction | None = None


@dataclass(frozen=True)
class Index:
    code: str
    name_es: str
    name_en: str
    components: tuple[Component, ...]
    scale: int = 100
    description_es: str = ""
    description_en: str = ""

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es

    def description(self, language: str) -> str:
        return self.description_en if language.startswith("en") else self.description_es


@dataclass(frozen=True)
class PriorityConfig:
    """How territories are prioritised: the index whose distance to its best value is the indicator gap,
    the indicator that measures vulnerability, and the default weights of the four parts."""

    index: str = ""
    vulnerability_indicator: str = ""
    weights: Mapping[str, Fraction] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanningConfig:
    version: str = ""
    indices: tuple[Index, ...] = ()
    priority: PriorityConfig = field(default_factory=PriorityConfig)

    def index(self, code: str) -> Index:
        for index in self.indices:
            if index.code == code:
                return index
        raise KeyError(code)


# --- reading planning.toml ----------------------------------------------------------------------------


def number(raw: Any, at: str) -> Fraction:
    """A number of the profile as an exact fraction (``"0.35"`` or 0.35 is 35/100)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise PlanningError(f"{at} must be a number")
    try:
        decimal = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise PlanningError(f"{at} must be a number, not '{raw}'") from None
    # finite and of a sensible size (1e999999 would be a number of a million digits)
    if not decimal.is_finite() or (decimal and not -12 <= decimal.adjusted() <= 12):
        raise PlanningError(f"{at} must be a number, not '{raw}'")
    return Fraction(decimal)


def _text(raw: Mapping[str, Any], key: str, at: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise PlanningError(f"{at}: missing text field '{key}'")
    return value


def parse_config(data: Mapping[str, Any], where: str, indicators: Mapping[str, str]) -> PlanningConfig:
    """Validate ``planning.toml``; ``indicators`` maps each indicator code of the profile to its direction."""
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise PlanningError(f"{where}: missing field 'version'")
    raw_indices = data.get("index", [])
    if not isinstance(raw_indices, list):
        raise PlanningError(f"{where}: 'index' must be a list of tables ([[index]])")
    indices: list[Index] = []
    for i, raw in enumerate(raw_indices):
        at = f"{where}: index[{i}]"
        if not isinstance(raw, dict):
            raise PlanningError(f"{at} must be a table")
        code = _text(raw, "code", at)
        at = f"{where}: index '{code}'"
        if any(index.code == code for index in indices):
            raise PlanningError(f"{at} is defined twice")
        scale = raw.get("scale", 100)
        if isinstance(scale, bool) or not isinstance(scale, int) or scale <= 0:
            raise PlanningError(f"{at}: 'scale' must be a positive whole number")
        raw_components = raw.get("component")
        if not isinstance(raw_components, list) or not raw_components:
            raise PlanningError(f"{at}: needs at least one [[index.component]]")
        components = []
        for j, rc in enumerate(raw_components):
            components.append(_component(rc, f"{at}: component[{j}]", indicators))
        seen = [c.indicator for c in components]
        if len(set(seen)) != len(seen):
            raise PlanningError(f"{at}: an indicator appears twice among the components")
        indices.append(
            Index(
                code=code,
                name_es=_text(raw, "name_es", at),
                name_en=_text(raw, "name_en", at),
                components=tuple(components),
                scale=scale,
                description_es=_text(raw, "description_es", at, ""),
                description_en=_text(raw, "description_en", at, ""),
            )
        )
    priority = _priority(data.get("priority", {}), f"{where}: [priority]", indicators, {i.code for i in indices})
    return PlanningConfig(version=version, indices=tuple(indices), priority=priority)


def _component(raw: Any, at: str, indicators: Mapping[str, str]) -> Component:
    if not isinstance(raw, dict):
        raise PlanningError(f"{at} must be a table")
    indicator = _text(raw, "indicator", at)
    if indicator not in indicators:
        raise PlanningError(f"{at}: indicator '{indicator}' is not in indicators.toml")
    weight = number(raw.get("weight"), f"{at}: 'weight'")
    if weight <= 0:
        raise PlanningError(f"{at}: 'weight' must be greater than 0")
    normalisation = raw.get("normalisation")
    if normalisation not in NORMALISATIONS:
        raise PlanningError(f"{at}: 'normalisation' must be one of {', '.join(NORMALISATIONS)}")
    direction = raw.get("direction", indicators[indicator])
    if direction not in DIRECTIONS:
        raise PlanningError(f"{at}: 'direction' must be 'higher' or 'lower'")
    low = high = target = None
    if normalisation == "bounds":
        low = number(raw.get("low"), f"{at}: 'low'")
        high = number(raw.get("high"), f"{at}: 'high'")
        if high <= low:
            raise PlanningError(f"{at}: 'high' must be greater than 'low'")
    elif normalisation == "target":
        target = number(raw.get("target"), f"{at}: 'target'")
        if target <= 0:
            raise PlanningError(f"{at}: 'target' must be greater than 0")
    return Component(indicator, weight, normalisation, direction, low, high, target)


def _priority(raw: Any, at: str, indicators: Mapping[str, str], indices: set[str]) -> PriorityConfig:
    if not isinstance(raw, dict):
        raise PlanningError(f"{at} must be a table")
    if not raw:
        return PriorityConfig()
    index = raw.get("index", "")
    if index and index not in indices:
        raise PlanningError(f"{at}: 'index' = '{index}' is not an index of this file")
    vulnerability = raw.get("vulnerability_indicator", "")
    if vulnerability and vulnerability not in indicators:
        raise PlanningError(f"{at}: 'vulnerability_indicator' = '{vulnerability}' is not in indicators.toml")
    weights = parse_weights(raw.get("weights", {}), f"{at}: weights")
    return PriorityConfig(index=index, vulnerability_indicator=vulnerability, weights=weights)


def parse_weights(raw: Any, at: str) -> dict[str, Fraction]:
    """The weights of the four parts (absent ones are 0); at least one above 0, none below."""
    if not isinstance(raw, dict):
        raise PlanningError(f"{at} must be a table")
    unknown = sorted(set(raw) - set(PARTS))
    if unknown:
        raise PlanningError(f"{at}: unknown part '{unknown[0]}' (known: {', '.join(PARTS)})")
    weights = {part: number(raw.get(part, 0), f"{at}: '{part}'") for part in PARTS}
    if any(w < 0 for w in weights.values()):
        raise PlanningError(f"{at}: a weight cannot be negative")
    if raw and sum(weights.values()) == 0:
        raise PlanningError(f"{at}: at least one weight must be greater than 0")
    return weights


# --- computing an index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentValue:
    indicator: str
    value: Fraction | None
    normalised: Fraction | None
    weight: Fraction
    #: the share of the total weight that counted (weight / sum of the weights of components with a value)
    effective_weight: Fraction
    contribution: Fraction | None


@dataclass(frozen=True)
class IndexValue:
    value: Fraction | None
    components: tuple[ComponentValue, ...]
    missing: tuple[str, ...]


def _clamp(x: Fraction) -> Fraction:
    return max(Fraction(0), min(Fraction(1), x))


def normalise(
    component: Component, value: Fraction, seen_low: Fraction | None = None, seen_high: Fraction | None = None
) -> Fraction:
    """``value`` as a share between 0 and 1, 1 being best (``seen_*``: the range of the territories compared,
    for the ``territories`` normalisation; when they are all equal every one is 1)."""
    if component.normalisation == "target":
        assert component.target is not None
        if component.direction == "higher":
            return _clamp(value / component.target)
        return Fraction(1) if value <= 0 else _clamp(component.target / value)
    if component.normalisation == "bounds":
        low, high = component.low, component.high
    else:
        low, high = seen_low, seen_high
    assert low is not None and high is not None
    if high == low:
        return Fraction(1)
    share = (value - low) / (high - low) if component.direction == "higher" else (high - value) / (high - low)
    return _clamp(share)


def compute(
    index: Index,
    values: Mapping[K, Mapping[str, Fraction | None]],
    peers: Mapping[K, Hashable] | None = None,
) -> dict[K, IndexValue]:
    """The index of every territory of ``values`` ({territory: {indicator: value}}). ``peers`` puts each
    territory in a comparison group (its level): the ``territories`` normalisation runs over its group."""
    group_of: Mapping[K, Hashable] = peers or {}
    ranges: dict[tuple[Hashable, str], tuple[Fraction, Fraction]] = {}
    for component in index.components:
        if component.normalisation != "territories":
            continue
        for key, figures in values.items():
            v = figures.get(component.indicator)
            if v is None:
                continue
            slot = (group_of.get(key), component.indicator)
            low, high = ranges.get(slot, (v, v))
            ranges[slot] = (min(low, v), max(high, v))
    out: dict[K, IndexValue] = {}
    for key, figures in values.items():
        present = [c for c in index.components if figures.get(c.indicator) is not None]
        total = sum((c.weight for c in present), Fraction(0))
        parts = []
        result = Fraction(0)
        for component in index.components:
            v = figures.get(component.indicator)
            if v is None:
                parts.append(ComponentValue(component.indicator, None, None, component.weight, Fraction(0), None))
                continue
            low_high = ranges.get((group_of.get(key), component.indicator), (None, None))
            n = normalise(component, v, *low_high)
            share = component.weight / total
            contribution = share * n * index.scale
            result += contribution
            parts.append(ComponentValue(component.indicator, v, n, component.weight, share, contribution))
        missing = tuple(c.indicator for c in index.components if figures.get(c.indicator) is None)
        out[key] = IndexValue(result if present else None, tuple(parts), missing)
    return out


# --- prioritising territories -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """What is known of a territory: ``vulnerability`` a share where higher is more vulnerable (None: no
    figure), ``children`` under six in the registry, ``gap`` the distance to the index's best (0..1, None: no
    figure), ``services`` facilities and providers in it."""

    key: Hashable
    vulnerability: Fraction | None
    children: int
    gap: Fraction | None
    services: int


@dataclass(frozen=True)
class Part:
    raw: Fraction | None
    normalised: Fraction
    weight: Fraction
    contribution: Fraction


@dataclass(frozen=True)
class Priority:
    key: Hashable
    rank: int
    score: Fraction
    parts: Mapping[str, Part]


def _raws(c: Candidate) -> dict[str, Fraction | None]:
    # Services enter per 1,000 children: a big municipality with one health centre is not well served.
    density = Fraction(c.services * 1000, c.children) if c.children else None
    return {
        "vulnerability": c.vulnerability,
        "children": Fraction(c.children),
        "gaps": c.gap,
        "services": density,
    }


def prioritise(candidates: Sequence[Candidate], weights: Mapping[str, Fraction]) -> list[Priority]:
    """Rank ``candidates``, most in need first: each part is min-max normalised over the candidates (more
    vulnerable, more children, bigger gap, fewer services per 1,000 children score higher; a part without a
    figure scores 0; all equal, 0), the score is the weighted mean of the parts times 100. Ties: more
    children first, then the order given."""
    total = sum((weights.get(p, Fraction(0)) for p in PARTS), Fraction(0))
    if total <= 0:
        raise PlanningError("weights: at least one weight must be greater than 0")
    raws = [_raws(c) for c in candidates]
    bounds: dict[str, tuple[Fraction, Fraction] | None] = {}
    for part in PARTS:
        seen = [v for r in raws if (v := r[part]) is not None]
        bounds[part] = (min(seen), max(seen)) if seen else None
    scored = []
    for order, (candidate, raw) in enumerate(zip(candidates, raws, strict=True)):
        parts = {}
        score = Fraction(0)
        for part in PARTS:
            value = raw[part]
            limits = bounds[part]
            if value is None or limits is None or limits[0] == limits[1]:
                n = Fraction(0)
            elif part == "services":  # fewer is needier
                n = (limits[1] - value) / (limits[1] - limits[0])
            else:
                n = (value - limits[0]) / (limits[1] - limits[0])
            weight = weights.get(part, Fraction(0))
            contribution = weight / total * n * 100
            score += contribution
            parts[part] = Part(value, n, weight, contribution)
        scored.append((score, candidate.children, order, candidate, parts))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    return [Priority(s[3].key, rank, s[0], s[4]) for rank, s in enumerate(scored, start=1)]


def propose(ranked: Iterable[Priority], count: int, taken: Iterable[Hashable] = ()) -> list[Hashable]:
    """The ``count`` best-ranked territories not already ``taken`` (by another phase)."""
    skip = set(taken)
    return [p.key for p in ranked if p.key not in skip][: max(count, 0)]


def decimal_text(value: Fraction | None, places: int = 2) -> str:
    """A fraction shown with ``places`` decimals, rounded half up ('' for none)."""
    if value is None:
        return ""
    quantum = Decimal(1).scaleb(-places)
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, rounding=ROUND_HALF_UP))
