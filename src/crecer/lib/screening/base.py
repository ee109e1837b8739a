"""The screening framework: results, instruments, input errors and the validation helpers.

Everything an instrument module needs and nothing instrument-specific. Inputs are plain Python
values (what a form or an import row gives after parsing): numbers, booleans, lists and mappings.
Nothing here is converted from text; the Django layer parses, this layer validates and scores.

Field names in errors are dotted paths into the inputs, with 1-based positions for list items
(``"items.10"`` is the tenth EPDS item) and the key for mapping entries (``"passed.12"`` is the
12-month EEDP group).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "ALTERED",
    "CAREGIVER",
    "CHILD",
    "CLASSIFICATIONS",
    "DAYS_PER_MONTH",
    "DELAY",
    "DEVELOPMENT",
    "MENTAL_HEALTH",
    "MESSAGES",
    "NEGATIVE",
    "NORMAL",
    "NOT_ON_TRACK",
    "ON_TRACK",
    "POSITIVE",
    "RISK",
    "InputSpec",
    "Instrument",
    "Result",
    "ScreeningInputError",
    "completed_months",
    "month_start_days",
]

# --- vocabulary -----------------------------------------------------------------------------

#: whom the instrument is about
CHILD = "child"
CAREGIVER = "caregiver"

#: data categories (the codes of crecer.access' categories: who may see the result)
DEVELOPMENT = "development"
MENTAL_HEALTH = "mental_health"

#: classification codes (stable: stored, counted in reports and translated by the Django layer)
NORMAL = "normal"
RISK = "risk"
DELAY = "delay"
ALTERED = "altered"
POSITIVE = "positive"
NEGATIVE = "negative"
ON_TRACK = "on_track"
NOT_ON_TRACK = "not_on_track"
CLASSIFICATIONS = frozenset({NORMAL, RISK, DELAY, ALTERED, POSITIVE, NEGATIVE, ON_TRACK, NOT_ON_TRACK})

#: 365.25 / 12, the constant the growth library (and WHO) use between days and months
DAYS_PER_MONTH = 30.4375


def month_start_days(months: int) -> int:
    """The age in days at which a child completes ``months`` months: ``floor(30.4375 * months)``.

    24 months -> 730, 36 -> 1095, 60 -> 1826. Every age band of this package is written with this
    rule, so bands expressed in months and in days agree (see ``docs/screening.md``).
    """
    return math.floor(DAYS_PER_MONTH * months)


def completed_months(age_days: int) -> int:
    """Completed months of age: the largest ``m`` with ``month_start_days(m) <= age_days``."""
    months = int(age_days / DAYS_PER_MONTH)
    while month_start_days(months + 1) <= age_days:
        months += 1
    return months


# --- errors ---------------------------------------------------------------------------------

#: Default English messages keyed by error code. Named %-placeholders are filled from
#: ``ScreeningInputError.params``; the Django layer translates the template and formats it.
MESSAGES: dict[str, str] = {
    "required": "This answer is required.",
    "invalid_type": "Expected %(expected)s.",
    "not_a_number": "Enter a number.",
    "not_an_integer": "Enter a whole number.",
    "not_a_boolean": "Answer yes or no.",
    "out_of_range": "Enter a value from %(min)s to %(max)s.",
    "wrong_count": "Expected %(expected)s answers, got %(count)s.",
    "too_many_missing": "%(missing)s answers are missing; at most %(max)s may be missing.",
    "unknown_field": "Unknown input %(name)s.",
    "invalid_choice": "Choose one of: %(choices)s.",
    "ambiguous_input": "Give either %(first)s or %(second)s, not both.",
    "inconsistent_total": "The total (%(total)s) is not the sum of the parts (%(sum)s).",
    "unknown_age_group": "%(group)s is not an age group of this instrument (%(groups)s).",
    "invalid_age": "Enter the age as a whole number of days, 0 or more.",
    "age_required": "The child's age is needed to score this instrument.",
    "age_out_of_band": "This instrument applies from %(min_days)s to %(max_days)s days of age; the age given is %(age_days)s days.",
    "unknown_instrument": "Unknown screening instrument %(instrument)s.",
    "unknown_param": "Unknown parameter %(name)s.",
    "invalid_param": "Invalid value for parameter %(name)s.",
}


class ScreeningInputError(ValueError):
    """Inputs (or parameters) an instrument cannot score.

    ``field`` is the dotted path of the offending input, ``code`` a key of :data:`MESSAGES`,
    ``message`` its English template and ``params`` the values for its placeholders (the shape of
    Django's ``ValidationError``, so the caller can translate by code).
    """

    def __init__(self, field: str, code: str, **params: Any) -> None:
        self.field = field
        self.code = code
        self.params = params
        self.message = MESSAGES[code]
        super().__init__(f"{field}: {self.message % params}")

    @property
    def text(self) -> str:
        """The English message with its placeholders filled."""
        return self.message % self.params


# --- results and instruments ----------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The outcome of scoring one application of an instrument.

    ``score`` is the instrument's main score (development coefficient, total T-score, EPDS total,
    items passed, milestones achieved...); ``subscores`` and ``sub_classifications`` hold the parts
    (subtests, areas, domains); ``classification`` is one of :data:`CLASSIFICATIONS`; ``urgent``
    asks for same-day action (EPDS self-harm item); ``details`` carries what is useful to show or
    audit (cut-offs used, mental age, missing answers...), JSON-serialisable.
    """

    instrument: str
    version: str
    score: float | None
    classification: str
    subscores: dict[str, float] = field(default_factory=dict)
    sub_classifications: dict[str, str] = field(default_factory=dict)
    urgent: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-serialisable) of the result."""
        return asdict(self)


@dataclass(frozen=True)
class InputSpec:
    """One input of an instrument, for forms and documentation."""

    name: str
    kind: str  # "number", "integer", "boolean list", "mapping", "choice"...
    required: bool
    help: str


Scorer = Callable[[Mapping[str, Any], int | None, Mapping[str, Any]], Result]
ParamCheck = Callable[[dict[str, Any]], None]  # validates the merged parameters, may normalise them in place


@dataclass(frozen=True)
class Instrument:
    """A screening instrument: what it applies to, what it takes, its parameters and its scorer.

    ``min_age_days``/``max_age_days`` bound the child's age (inclusive; ``None``: no band, e.g. the
    EPDS, whose subject is the caregiver). ``age_required`` says the scorer cannot work without the
    age; when it is given anyway it must fall in the band. ``defaults`` are the parameters (cut-offs)
    used unless the caller's profile overrides them; ``assumptions`` names those whose default is
    an ASSUMPTION rather than the manual's figure (``docs/screening.md`` gives each source).
    """

    code: str
    version: str
    name: str
    subject: str
    category: str
    min_age_days: int | None
    max_age_days: int | None
    age_required: bool
    inputs: tuple[InputSpec, ...]
    defaults: Mapping[str, Any]
    assumptions: frozenset[str]
    source: str
    scorer: Scorer = field(repr=False, compare=False)
    param_check: ParamCheck | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @property
    def param_prefix(self) -> str:
        return f"{self.code}_"

    def resolve_params(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults overridden by ``params``.

        ``params`` may hold the parameters of several instruments (a country profile's whole
        set): keys of other instruments are ignored, while an unknown key with this instrument's
        prefix (a typo such as ``eedp_normal_mn``) is refused.
        """
        merged = dict(self.defaults)
        for name, value in (params or {}).items():
            if name in self.defaults:
                _check_param_type(name, value, self.defaults[name])
                merged[name] = value
            elif name.startswith(self.param_prefix):
                raise ScreeningInputError(name, "unknown_param", name=name)
        if self.param_check is not None:
            self.param_check(merged)
        return merged

    def check_age(self, age_days: Any) -> int | None:
        """Validate the age (``None`` allowed unless required); returns it as an int."""
        if age_days is None:
            if self.age_required:
                raise ScreeningInputError("age_days", "age_required")
            return None
        if isinstance(age_days, bool) or not isinstance(age_days, int) or age_days < 0:
            raise ScreeningInputError("age_days", "invalid_age")
        low = 0 if self.min_age_days is None else self.min_age_days
        if (self.min_age_days is not None and age_days < self.min_age_days) or (
            self.max_age_days is not None and age_days > self.max_age_days
        ):
            raise ScreeningInputError(
                "age_days", "age_out_of_band", min_days=low, max_days=self.max_age_days, age_days=age_days
            )
        return age_days

    def score(
        self, inputs: Mapping[str, Any], age_days: int | None = None, params: Mapping[str, Any] | None = None
    ) -> Result:
        """Validate ``inputs`` and the age, then score and classify with the resolved parameters."""
        resolved = self.resolve_params(params)
        age = self.check_age(age_days)
        if not isinstance(inputs, Mapping):
            raise ScreeningInputError("inputs", "invalid_type", expected="a mapping of answers")
        allowed = {spec.name for spec in self.inputs}
        for name in inputs:
            if name not in allowed:
                raise ScreeningInputError(str(name), "unknown_field", name=name)
        return self.scorer(inputs, age, resolved)


def _check_param_type(name: str, value: Any, default: Any) -> None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int | float):
        ok = is_number(value)
    else:
        ok = True  # structured parameters are checked by the instrument's param_check
    if not ok:
        raise ScreeningInputError(name, "invalid_param", name=name)


# --- validation helpers for the instrument modules ------------------------------------------


def is_number(value: Any) -> bool:
    """A finite int or float (booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def require(inputs: Mapping[str, Any], name: str) -> Any:
    value = inputs.get(name)
    if value is None:
        raise ScreeningInputError(name, "required")
    return value


def number(value: Any, name: str, low: float, high: float) -> float:
    """A finite number in ``[low, high]``."""
    if value is None:
        raise ScreeningInputError(name, "required")
    if not is_number(value):
        raise ScreeningInputError(name, "not_a_number")
    if not low <= value <= high:
        raise ScreeningInputError(name, "out_of_range", min=low, max=high)
    return float(value)


def integer(value: Any, name: str, low: int, high: int) -> int:
    """A whole number in ``[low, high]`` (an integral float such as 3.0 is accepted)."""
    if value is None:
        raise ScreeningInputError(name, "required")
    if not is_number(value):
        raise ScreeningInputError(name, "not_an_integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ScreeningInputError(name, "not_an_integer")
        value = int(value)
    if not low <= value <= high:
        raise ScreeningInputError(name, "out_of_range", min=low, max=high)
    return int(value)


def boolean(value: Any, name: str, *, allow_missing: bool = False) -> bool | None:
    """``True``/``False`` (also 1/0); ``None`` only when ``allow_missing``."""
    if value is None:
        if allow_missing:
            return None
        raise ScreeningInputError(name, "required")
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ScreeningInputError(name, "not_a_boolean")


def sequence(value: Any, name: str, length: int) -> list[Any]:
    """A list or tuple of exactly ``length`` elements."""
    if value is None:
        raise ScreeningInputError(name, "required")
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ScreeningInputError(name, "invalid_type", expected=f"a list of {length} answers")
    if len(value) != length:
        raise ScreeningInputError(name, "wrong_count", expected=length, count=len(value))
    return list(value)


def mapping(value: Any, name: str) -> Mapping[Any, Any]:
    if value is None:
        raise ScreeningInputError(name, "required")
    if not isinstance(value, Mapping):
        raise ScreeningInputError(name, "invalid_type", expected="a mapping")
    return value


def keyed_booleans(value: Any, name: str, keys: Sequence[str]) -> list[bool | None]:
    """Yes/no answers (``None`` = missing) given as a list in ``keys`` order or a mapping by key.

    A mapping must name every key (a missing answer is an explicit ``None``), so that a forgotten
    item is an error rather than a silent "missing".
    """
    if isinstance(value, Mapping):
        for key in value:
            if key not in keys:
                raise ScreeningInputError(f"{name}.{key}", "unknown_field", name=key)
        for key in keys:
            if key not in value:
                raise ScreeningInputError(f"{name}.{key}", "required")
        return [boolean(value[key], f"{name}.{key}", allow_missing=True) for key in keys]
    items = sequence(value, name, len(keys))
    return [boolean(item, f"{name}.{i}", allow_missing=True) for i, item in enumerate(items, start=1)]


def check_order(params: Mapping[str, Any], higher: str, lower: str) -> None:
    """Refuse parameters where the ``lower`` cut-off exceeds the ``higher`` one."""
    if params[lower] > params[higher]:
        raise ScreeningInputError(lower, "invalid_param", name=lower)


def classify_three(value: float, normal_min: float, risk_min: float) -> str:
    """normal if ``value >= normal_min``, risk if ``value >= risk_min``, otherwise delay."""
    if value >= normal_min:
        return NORMAL
    if value >= risk_min:
        return RISK
    return DELAY
