"""Money on results: the arithmetic of conditions, payments and distributions, exact and without Django.

Every figure that moves money is computed here and documented in ``docs/results.md``:

* a condition's compliance (a number from 0 to 1) by its rule (:data:`RULES`: ``at_period_end``,
  ``months_met``, ``improvement``; a profile declares more in its ``results.toml``, :class:`ProfileRule`,
  a CEL expression; code may also :func:`register_rule`), where the indicator's direction
  (``higher`` or ``lower``) decides what "better" means;
* the weighted compliance of a set of conditions, Σ weight × compliance / Σ weight;
* a tranche's amount by its payment rule (:data:`PAYMENT_RULES`: ``all_or_nothing``, ``proportional``,
  ``threshold``), in whole cents rounded half up;
* the split of a sum into parts in proportion to weights, summing exactly to the sum (largest remainder);
* award scores, levels and ranks.

Ratios are exact fractions (:class:`fractions.Fraction`); a figure read from a snapshot enters as the decimal
it prints as (``72.5`` is 725/10, never the binary float). Money is a whole number of cents, rounded once, at
the end, half up (:func:`cents`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

Number = int | float | str | Decimal | Fraction

ZERO = Fraction(0)
ONE = Fraction(1)


class ResultsError(ValueError):
    """A condition or payment that cannot be computed as written (unknown rule, missing parameter).
    ``rule``: the profile rule whose expression failed, when that is the cause."""

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule


def exact(value: Number | None) -> Fraction | None:
    """``value`` as an exact fraction; a float enters as the decimal it prints as (``0.1`` is 1/10)."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    if isinstance(value, (int, Decimal)):
        return Fraction(value)
    return Fraction(Decimal(str(value).strip()))


def clip(value: Fraction) -> Fraction:
    """``value`` clipped to [0, 1]."""
    return max(ZERO, min(ONE, value))


def cents(amount: Fraction | Decimal | int) -> int:
    """A non-negative amount of cents rounded half up to a whole cent (0.5 → 1, 2.5 → 3)."""
    value = Fraction(amount)
    if value < 0:
        raise ResultsError("an amount cannot be negative")
    # floor(x + 1/2) is half up for x ≥ 0, exactly (no decimal context can truncate it).
    return int((value + Fraction(1, 2)) // 1)


def decimal_text(value: Fraction, places: int = 4) -> str:
    """A fraction shown with ``places`` decimals, rounded half up (for people and JSON; money uses the exact value)."""
    quantum = Decimal(1).scaleb(-places)
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, rounding=ROUND_HALF_UP))


# --- conditions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One condition: an indicator's figure against a baseline and a target.

    ``values`` maps each period the rule reads (one for ``at_period_end`` and ``improvement``, the listed
    months for ``months_met``) to the figure found there (None: no figure for the territory)."""

    indicator: str
    territory: str
    rule: str
    baseline: Fraction
    target: Fraction
    weight: Fraction
    direction: str  # "higher" or "lower": which way is better
    values: Mapping[str, Fraction | None]
    params: Mapping[str, Any] = field(default_factory=dict)

    def better(self, a: Fraction, b: Fraction) -> Fraction:
        """How much ``a`` is better than ``b`` (negative: worse)."""
        return a - b if self.direction == "higher" else b - a

    def reaches(self, value: Fraction | None) -> bool:
        """Whether ``value`` reaches the target (at it or beyond it, in the better direction)."""
        return value is not None and self.better(value, self.target) >= 0

    @property
    def value(self) -> Fraction | None:
        """The single figure of a one-period rule (the last period's for rules reading several)."""
        if not self.values:
            return None
        return self.values[sorted(self.values)[-1]]


@dataclass(frozen=True)
class Compliance:
    compliance: Fraction
    #: what the rule saw, for the report (e.g. "5 of 6 months")
    detail: dict[str, Any]


Rule = Callable[[Condition], Compliance]


def at_period_end(c: Condition) -> Compliance:
    """1 if the period's value reaches the target, else (value − baseline) / (target − baseline) in [0, 1]."""
    value = c.value
    if value is None:
        return Compliance(ZERO, {"missing": True})
    if c.reaches(value):
        return Compliance(ONE, {})
    span = c.better(c.target, c.baseline)
    if span <= 0:  # the target is no better than the baseline and is not reached
        return Compliance(ZERO, {})
    return Compliance(clip(c.better(value, c.baseline) / span), {})


def months_met(c: Condition) -> Compliance:
    """min(1, months whose value reaches the target / k); ``k`` defaults to the number of months listed."""
    months = list(c.params.get("months") or sorted(c.values))
    if not months:
        raise ResultsError("months_met needs the months it reads")
    k = int(c.params.get("k") or len(months))
    if k < 1:
        raise ResultsError("months_met needs k ≥ 1")
    met = [m for m in months if c.reaches(c.values.get(m))]
    return Compliance(min(ONE, Fraction(len(met), k)), {"met": len(met), "k": k, "months": months, "met_months": met})


def improvement(c: Condition) -> Compliance:
    """1 if the value improved on the baseline by at least ``points``, else improvement / points in [0, 1]."""
    points = exact(c.params.get("points"))
    if points is None or points <= 0:
        raise ResultsError("improvement needs the required points (> 0)")
    value = c.value
    if value is None:
        return Compliance(ZERO, {"missing": True})
    gained = c.better(value, c.baseline)
    return Compliance(ONE if gained >= points else clip(gained / points), {"improvement": gained, "points": points})


RULES: dict[str, Rule] = {"at_period_end": at_period_end, "months_met": months_met, "improvement": improvement}


def register_rule(name: str, rule: Rule) -> None:
    """Add a condition rule (a country profile's own); its compliance must lie in [0, 1]."""
    RULES[name] = rule


# --- a profile's own condition rules (CEL) ----------------------------------------------------------------

#: What a profile's compliance expression may read (``docs/results.md``). Numbers are doubles, except the
#: counts ``months``, ``months_met`` and ``k`` (ints); "better" is already applied to ``gain``, ``gap``, ``span``.
VARIABLES: dict[str, str] = {
    "value": "the figure of the last period read (double)",
    "baseline": "the baseline (double)",
    "target": "the target (double)",
    "gain": "improvement on the baseline in the better direction: value − baseline, or baseline − value",
    "gap": "how far the value is beyond the target in the better direction (≥ 0: reached)",
    "span": "the target's distance from the baseline in the better direction",
    "reached": "whether the value reaches the target (bool)",
    "required_points": "the condition's points (double; 0 when none are given)",
    "monthly_values": "the figure of each month read, oldest first (list of double; null: no figure)",
    "monthly_reached": "whether each month read reaches the target (list of bool)",
    "months": "the number of months read (int)",
    "months_met": "the number of months whose value reaches the target (int)",
    "k": "the condition's k (int; the number of months when not given)",
}
#: the decimals a double compliance is rounded to before it becomes a fraction
PLACES = 12


def from_double(x: float) -> Fraction:
    """A double compliance as an exact fraction, deterministically: rounded to :data:`PLACES` decimals, then
    the simplest fraction with a denominator up to 10⁶ when it is within 10⁻¹² of that (so 0.8333333333333334
    is 5/6 and 0.6149999999999999 is 123/200), else the 12-decimal number itself."""
    rounded = Fraction(Decimal(repr(x)).quantize(Decimal(1).scaleb(-PLACES), rounding=ROUND_HALF_UP))
    simple = rounded.limit_denominator(10**6)
    return simple if abs(simple - rounded) <= Fraction(1, 10**PLACES) else rounded


def _double(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class ProfileRule:
    """A condition rule declared in a profile's ``results.toml``: its compliance is a CEL expression over
    :data:`VARIABLES`, clipped to [0, 1]. ``reads`` is ``period`` (one period, like ``at_period_end``) or
    ``months`` (the listed months and k, like ``months_met``). A condition whose last period has no figure
    complies 0, as with the built-in rules, without evaluating the expression."""

    code: str
    name_es: str
    name_en: str
    reads: str
    expression: str
    program: Any = field(repr=False, compare=False)

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es

    @property
    def needs_points(self) -> bool:
        return "required_points" in self.program.variables()

    def variables(self, c: Condition) -> dict[str, Any]:
        months = list(c.params.get("months") or sorted(c.values)) if self.reads == "months" else []
        value = c.value
        points = exact(c.params.get("points"))
        monthly = [c.values.get(m) for m in months]
        return {
            "value": _double(value),
            "baseline": float(c.baseline),
            "target": float(c.target),
            "gain": _double(None if value is None else c.better(value, c.baseline)),
            "gap": _double(None if value is None else c.better(value, c.target)),
            "span": float(c.better(c.target, c.baseline)),
            "reached": c.reaches(value),
            "required_points": float(points or 0),
            "monthly_values": [_double(v) for v in monthly],
            "monthly_reached": [c.reaches(v) for v in monthly],
            "months": len(months),
            "months_met": sum(1 for v in monthly if c.reaches(v)),
            "k": int(c.params.get("k") or len(months)),
        }

    def __call__(self, c: Condition) -> Compliance:
        if c.value is None:
            return Compliance(ZERO, {"missing": True})
        variables = self.variables(c)
        try:
            result = self.program.execute(variables)
        except Exception as exc:  # the CEL runtime raises TypeError/RuntimeError/ValueError
            raise ResultsError(f"rule {self.code!r}: {str(exc).splitlines()[0]}", self.code) from exc
        if isinstance(result, bool) or not isinstance(result, int | float):
            raise ResultsError(f"rule {self.code!r} gave {type(result).__name__}, not a number", self.code)
        if isinstance(result, float) and not math.isfinite(result):
            raise ResultsError(f"rule {self.code!r} gave {result}, not a finite number", self.code)
        raw = Fraction(result) if isinstance(result, int) else from_double(result)
        detail: dict[str, Any] = {"expression_result": raw}
        if self.reads == "months":
            detail.update(met=variables["months_met"], k=variables["k"], months=list(c.params.get("months") or []))
        return Compliance(clip(raw), detail)


def parse_profile_rules(data: Mapping[str, Any], where: str) -> tuple[ProfileRule, ...]:
    """Validate the ``[[condition_rule]]`` tables of a profile's ``results.toml``: code (not a built-in rule,
    not repeated), names, ``reads``, a compliance expression that compiles and reads only :data:`VARIABLES`,
    and example cases whose expected compliance the rule gives exactly. Raises :class:`ResultsError`
    naming the file and the rule."""
    from crecer.lib.rules import RuleDefinitionError, compile_expression

    items = data.get("condition_rule", [])
    if not isinstance(items, list):
        raise ResultsError(f"{where}: 'condition_rule' must be a list of tables ([[condition_rule]])")
    out: list[ProfileRule] = []
    for i, raw in enumerate(items):
        at = f"{where}: condition_rule[{i}]"
        if not isinstance(raw, Mapping):
            raise ResultsError(f"{at} must be a table")
        code = raw.get("code")
        if not isinstance(code, str) or not code.isidentifier() or len(code) > 30:
            raise ResultsError(f"{at}: 'code' is required: letters, digits and _ (at most 30)")
        at = f"{where} (condition rule '{code}')"
        if code in RULES or any(r.code == code for r in out):
            raise ResultsError(f"{at}: the code repeats a rule already defined")
        for name in ("name_es", "name_en", "compliance"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise ResultsError(f"{at}: '{name}' is required text")
        reads = raw.get("reads", "period")
        if reads not in ("period", "months"):
            raise ResultsError(f"{at}: 'reads' must be period or months (got {reads!r})")
        try:
            program = compile_expression(raw["compliance"], VARIABLES, at, what="compliance expression")
        except RuleDefinitionError as exc:
            raise ResultsError(str(exc)) from exc
        rule = ProfileRule(code, raw["name_es"], raw["name_en"], reads, raw["compliance"], program)
        examples = raw.get("examples")
        if not isinstance(examples, list) or not examples:
            raise ResultsError(f"{at}: every rule ships example cases ('examples')")
        for j, example in enumerate(examples):
            _check_example(rule, example, f"{at} example {j + 1}")
        out.append(rule)
    return tuple(out)


def _check_example(rule: ProfileRule, ex: Any, at: str) -> None:
    """An example: baseline, target, direction (default higher), values (oldest first; "none" for a period
    without a figure), points, k, and the compliance it must give exactly (``expect``, e.g. "0.625")."""
    if not isinstance(ex, Mapping) or "expect" not in ex or not isinstance(ex.get("values"), list) or not ex["values"]:
        raise ResultsError(f"{at}: needs 'values' (a list) and 'expect' (the compliance)")
    try:
        values = [None if v == "none" else exact(v) for v in ex["values"]]
        periods = [f"p{n:02d}" for n in range(1, len(values) + 1)]
        params: dict[str, Any] = {k: ex[k] for k in ("points", "k") if k in ex}
        if rule.reads == "months":
            params["months"] = periods
        condition = Condition(
            indicator="example",
            territory="",
            rule=rule.code,
            baseline=exact(ex.get("baseline", 0)) or ZERO,
            target=exact(ex.get("target", 0)) or ZERO,
            weight=ONE,
            direction=str(ex.get("direction", "higher")),
            values=dict(zip(periods, values, strict=True)),
            params=params,
        )
        expected = Fraction(ex["expect"].strip()) if isinstance(ex["expect"], str) else exact(ex["expect"])
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ResultsError(f"{at}: a figure is not a number ({exc})") from exc
    got = rule(condition).compliance
    if got != expected:
        raise ResultsError(f"{at}: expected compliance {ex['expect']}, the rule gives {decimal_text(got, 6)}")


def compliance(c: Condition, rules: Mapping[str, Rule] | None = None) -> Compliance:
    """``c``'s compliance by its rule: a built-in one or one of ``rules`` (a profile's)."""
    rule = RULES.get(c.rule) or (rules or {}).get(c.rule)
    if rule is None:
        raise ResultsError(f"unknown condition rule {c.rule!r}")
    result = rule(c)
    if not ZERO <= result.compliance <= ONE:
        raise ResultsError(f"rule {c.rule!r} gave a compliance outside [0, 1]")
    return result


def weighted(pairs: Sequence[tuple[Fraction, Fraction]]) -> Fraction:
    """Σ weight × compliance / Σ weight over ``(weight, compliance)`` pairs (0 when there is no weight)."""
    total = sum((w for w, _ in pairs), ZERO)
    if total <= 0:
        return ZERO
    return sum((w * c for w, c in pairs), ZERO) / total


# --- payments --------------------------------------------------------------------------------------------


def all_or_nothing(amount: int, compliances: Sequence[Fraction], weighted_compliance: Fraction, **_: Any) -> int:
    """The whole amount when every condition is fully met, else nothing."""
    return amount if compliances and all(c == ONE for c in compliances) else 0


def proportional(amount: int, compliances: Sequence[Fraction], weighted_compliance: Fraction, **_: Any) -> int:
    """amount × weighted compliance, rounded half up to the cent."""
    return cents(amount * weighted_compliance)


def threshold(
    amount: int, compliances: Sequence[Fraction], weighted_compliance: Fraction, floor: Number | None = None, **_: Any
) -> int:
    """Nothing below the floor; at or above it, amount × weighted compliance rounded half up."""
    bound = exact(floor)
    if bound is None:
        raise ResultsError("the threshold rule needs a floor")
    return 0 if weighted_compliance < bound else cents(amount * weighted_compliance)


PAYMENT_RULES: dict[str, Callable[..., int]] = {
    "all_or_nothing": all_or_nothing,
    "proportional": proportional,
    "threshold": threshold,
}


@dataclass(frozen=True)
class TrancheResult:
    conditions: list[tuple[Condition, Compliance]]
    weighted_compliance: Fraction
    amount: int


def evaluate(
    amount: int,
    payment_rule: str,
    conditions: Sequence[Condition],
    floor: Number | None = None,
    rules: Mapping[str, Rule] | None = None,
) -> TrancheResult:
    """A tranche: each condition's compliance, the weighted compliance and the amount to pay (cents).
    ``rules``: the profile's own condition rules, beside the built-in ones."""
    pay = PAYMENT_RULES.get(payment_rule)
    if pay is None:
        raise ResultsError(f"unknown payment rule {payment_rule!r}")
    results = [(c, compliance(c, rules)) for c in conditions]
    overall = weighted([(c.weight, r.compliance) for c, r in results])
    paid = pay(amount, [r.compliance for _, r in results], overall, floor=floor)
    return TrancheResult(results, overall, paid)


# --- splitting a sum -------------------------------------------------------------------------------------


def split(total: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """``total`` cents shared in proportion to ``weights``, in whole cents summing exactly to ``total``.

    Largest remainder: each key first gets the floor of its exact share; the cents left over go one each to
    the keys with the largest fractional parts, ties broken by key (so the split is reproducible). When every
    weight is 0 nobody gets anything (the result sums to 0)."""
    if total < 0 or any(w < 0 for w in weights.values()):
        raise ResultsError("totals and weights cannot be negative")
    whole = sum(weights.values(), ZERO)
    if whole == 0:
        return dict.fromkeys(weights, 0)
    shares = {k: total * w / whole for k, w in weights.items()}
    out = {k: int(s // 1) for k, s in shares.items()}
    left = total - sum(out.values())
    by_remainder = sorted(weights, key=lambda k: (-(shares[k] - out[k]), k))
    for key in by_remainder[:left]:
        out[key] += 1
    return out


def formula_amount(base_cents: int, per_child_cents: int, children: int) -> int:
    """An agreement's total from the formula base + per child × children of the registry."""
    return base_cents + per_child_cents * children


# --- awards ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    code: str
    min_score: Fraction


def level_for(score: Fraction, levels: Sequence[Level]) -> str:
    """The highest level whose minimum the score reaches ('' when none)."""
    for level in sorted(levels, key=lambda lv: lv.min_score, reverse=True):
        if score >= level.min_score:
            return level.code
    return ""


def rank(scores: Mapping[str, Fraction | None]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) by score, best first; ``None`` (not eligible) is not ranked."""
    ranked = sorted((k for k, s in scores.items() if s is not None), key=lambda k: (-scores[k], k))  # type: ignore[operator]
    out: dict[str, int] = {}
    for i, key in enumerate(ranked):
        previous = ranked[i - 1] if i else None
        out[key] = out[previous] if previous is not None and scores[previous] == scores[key] else i + 1
    return out
