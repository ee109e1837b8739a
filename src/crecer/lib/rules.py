"""Risk rules as versioned data, written in CEL (Google's Common Expression Language).

A rule says *when* (a CEL condition over the facts of a child or a pregnancy) and *what*: raise a risk
flag (category, axis, severity, data category) and optionally recommend a referral to a service with
a priority and a deadline. A rule marked ``urgent = true`` makes its result act at once (notifications,
a banner, the top of every worklist until someone records the action taken). CEL is a safe, non-Turing-complete, side-effect-free language: a rule can
read the facts it is given and nothing else (no Python ``eval`` anywhere).

Each rule carries example cases (facts → expected outcome) that ``crecer profile test`` runs, and a
rule that does not compile, reads an unknown fact, names an unknown service or category, or has no
examples fails when the profile loads, with the rule id and the reason.

The facts are plain data (see :data:`FACTS`); missing values are ``null``. Conditions must guard
optional facts (``screenings.eedp != null && …``): an evaluation error makes the rule not fire and is
reported (:class:`RuleError`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

#: Top-level facts per subject. Each is a map; see ``docs/rules.md`` for every key.
FACTS: dict[str, tuple[str, ...]] = {
    "child": ("child", "growth", "screenings", "mother", "household", "schedule", "services", "params"),
    "pregnancy": ("pregnancy", "mother", "household", "schedule", "params"),
}
CATEGORIES = ("biomedical", "psychological", "social", "protection")
SEVERITIES = ("low", "medium", "high")
PRIORITIES = ("routine", "priority", "urgent")
AXES = ("health_nutrition", "education_care", "protective_environments", "protection_of_rights")
DATA_CATEGORIES = ("health", "development", "social", "violence", "abuse", "mental_health", "child_protection")
#: CEL's standard functions a condition may call (operators such as ``_&&_`` are always allowed).
FUNCTIONS = frozenset(
    {
        "size",
        "has",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "int",
        "uint",
        "double",
        "string",
        "bool",
        "exists",
        "all",
        "exists_one",
        "map",
        "filter",
        "min",
        "max",
    }
)


class RuleDefinitionError(ValueError):
    """A rule that cannot be loaded; the message names the rule id and the reason."""


class RuleError(RuntimeError):
    """A rule whose condition failed to evaluate on some facts (it does not fire)."""

    def __init__(self, rule_id: str, message: str) -> None:
        super().__init__(f"rule {rule_id}: {message}")
        self.rule_id = rule_id


@dataclass(frozen=True)
class Flag:
    category: str
    axis: str
    severity: str
    data_category: str
    label_es: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_en if language.startswith("en") else self.label_es


@dataclass(frozen=True)
class Recommendation:
    service: str
    priority: str
    deadline_days: int


@dataclass(frozen=True)
class Example:
    name: str
    facts: Mapping[str, Any]
    expect: bool


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    subject: str
    description_es: str
    description_en: str
    when: str
    flag: Flag
    referral: Recommendation | None
    params: Mapping[str, Any]
    examples: tuple[Example, ...]
    program: Any = field(repr=False, compare=False)
    #: the result acts at once: the health centre and the coordinator are notified, and the flag stays on
    #: top of every worklist until someone records the action taken (``urgent = true`` in the profile)
    urgent: bool = False

    @property
    def key(self) -> str:
        """``id@version``, as flags record it."""
        return f"{self.id}@{self.version}"

    def description(self, language: str) -> str:
        return self.description_en if language.startswith("en") else self.description_es

    @cached_property
    def _reads(self) -> tuple[tuple[str, str | None], ...]:
        """The facts the condition reads: (root, field) pairs, field None when the whole root is read
        (``'eedp' in screenings``, ``size(services)``). Identifiers are found in the expression with
        string literals removed, so a literal never hides or adds a reference."""
        code = _STRING.sub('""', self.when)
        roots = set(FACTS[self.subject]) - {"params"}
        reads: set[tuple[str, str | None]] = set()
        for match in _REFERENCE.finditer(code):
            root, name = match.group(1), match.group(2)
            if root in roots and (match.start() == 0 or code[match.start() - 1] != "."):
                reads.add((root, name))
        whole = {root for root, name in reads if name is None}
        return tuple(sorted((r for r in reads if r[0] not in whole or r[1] is None), key=lambda r: (r[0], r[1] or "")))

    @cached_property
    def _roots(self) -> frozenset[str]:
        return frozenset(root for root, _ in self._reads)

    def cache_key(self, facts: Mapping[str, Any]) -> tuple[Any, ...]:
        """What the condition's result depends on: equal keys give equal results, so a batch evaluates
        each distinct key once (many children share their relevant facts)."""
        return tuple(
            _freeze(facts.get(root) if name is None else (facts.get(root) or {}).get(name))
            for root, name in self._reads
        )

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Evaluate the condition on ``facts`` (``params`` are the rule's own); RuleError on failure."""
        # Only the roots the condition reads: converting the others into CEL values costs time for nothing.
        context = {root: facts[root] for root in self._roots if root in facts}
        context["params"] = dict(self.params)
        try:
            result = self.program.execute(context)
        except Exception as exc:  # the CEL runtime raises TypeError/RuntimeError/ValueError
            raise RuleError(self.id, str(exc).splitlines()[0]) from exc
        if not isinstance(result, bool):
            raise RuleError(self.id, f"the condition gave {type(result).__name__}, not true/false")
        return result


_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_REFERENCE = re.compile(r"\b([A-Za-z_]\w*)\b(?:\s*\.\s*([A-Za-z_]\w*))?")


def _freeze(value: Any) -> Any:
    """A hashable copy of a fact value (dicts and lists become sorted tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _text(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RuleDefinitionError(f"{where}: '{name}' is required text")
    return value


def _choice(raw: Mapping[str, Any], name: str, choices: Sequence[str], where: str) -> str:
    value = raw.get(name)
    if value not in choices:
        raise RuleDefinitionError(f"{where}: '{name}' must be one of {', '.join(choices)} (got {value!r})")
    return str(value)


def _merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: an example gives only the facts it cares about, on top of :func:`empty_facts`."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def empty_facts(subject: str) -> dict[str, Any]:
    """The shape of the facts with every value unknown (what a subject with no data looks like)."""
    if subject == "child":
        return {
            "child": {
                "age_days": None,
                "sex": None,
                "has_document": False,
                "birth_weight_g": None,
                "gestational_weeks": None,
            },
            "growth": {
                "stunting": None,
                "underweight": None,
                "wasting": None,
                "overweight": None,
                "anaemia": None,
                "haemoglobin_g_l": None,
                "muac_cm": None,
                "oedema": None,
            },
            "screenings": {},
            "mother": {"age_years": None, "schooling_years": None},
            "household": {"vulnerability_percentile": None},
            "schedule": {"overdue": 0, "missed": 0},
            "services": {},
        }
    return {
        "pregnancy": {"weeks": None, "first_visit_week": None, "epsa": None, "outcome": "ongoing"},
        "mother": {"age_years": None, "schooling_years": None},
        "household": {"vulnerability_percentile": None},
        "schedule": {"overdue": 0, "missed": 0},
    }


def compile_expression(
    expression: str,
    variables: Iterable[str],
    at: str,
    *,
    what: str = "expression",
    noun: str = "variables",
    known: str = "known:",
) -> Any:
    """Compile a CEL ``expression`` that may read only ``variables`` and call only :data:`FUNCTIONS`.

    The one place CEL is compiled (risk rules here, the profile's condition rules in
    :mod:`crecer.lib.results`): a syntax error, an unknown function or an unknown variable raises
    :class:`RuleDefinitionError` prefixed with ``at`` (the file and the rule)."""
    import cel  # here, not at module level: importing it costs ~0.2 s (its CLI), paid by every command

    names = tuple(variables)
    try:
        program = cel.compile(expression)
    except Exception as exc:
        raise RuleDefinitionError(f"{at}: the {what} does not compile: {str(exc).splitlines()[0]}") from exc
    functions = {f for f in program.functions() if not f.startswith(("_", "@", "!"))}
    if functions - FUNCTIONS:
        raise RuleDefinitionError(f"{at}: the {what} calls unknown functions {sorted(functions - FUNCTIONS)}")
    # a macro's own variable (``list.all(v, v > 0)``) is no reference to the context
    bound = {m.group(1) for m in _MACRO_VARIABLE.finditer(_STRING.sub('""', expression))}
    unknown = set(program.variables()) - set(names) - bound
    if unknown:
        raise RuleDefinitionError(
            f"{at}: the {what} reads unknown {noun} {sorted(unknown)} ({known} {', '.join(names)})"
        )
    return program


def parse_rule(raw: Mapping[str, Any], where: str, services: Iterable[str]) -> Rule:
    """Validate and compile one rule (``where`` locates it for messages)."""
    if not isinstance(raw, Mapping):
        raise RuleDefinitionError(f"{where}: a rule must be a table")
    rule_id = _text(raw, "id", where)
    at = f"{where} (rule '{rule_id}')"
    version = raw.get("version")
    if not isinstance(version, int) or version < 1:
        raise RuleDefinitionError(f"{at}: 'version' must be a whole number from 1")
    subject = _choice(raw, "subject", tuple(FACTS), at)
    when = _text(raw, "when", at)
    program = compile_expression(
        when, FACTS[subject], at, what="condition", noun="facts", known=f"a {subject} rule can read"
    )
    flag_raw = raw.get("flag")
    if not isinstance(flag_raw, Mapping):
        raise RuleDefinitionError(f"{at}: 'flag' is required")
    flag = Flag(
        category=_choice(flag_raw, "category", CATEGORIES, at + " flag"),
        axis=_choice(flag_raw, "axis", AXES, at + " flag"),
        severity=_choice(flag_raw, "severity", SEVERITIES, at + " flag"),
        data_category=_choice(flag_raw, "data_category", DATA_CATEGORIES, at + " flag"),
        label_es=_text(flag_raw, "label_es", at + " flag"),
        label_en=_text(flag_raw, "label_en", at + " flag"),
    )
    referral = None
    if "referral" in raw:
        ref = raw["referral"]
        if not isinstance(ref, Mapping):
            raise RuleDefinitionError(f"{at}: 'referral' must be a table")
        service = ref.get("service")
        if service not in set(services):
            raise RuleDefinitionError(f"{at}: referral to unknown service {service!r}")
        days = ref.get("deadline_days")
        if not isinstance(days, int) or days < 0:
            raise RuleDefinitionError(f"{at}: referral 'deadline_days' must be a whole number >= 0")
        referral = Recommendation(str(service), _choice(ref, "priority", PRIORITIES, at + " referral"), days)
    urgent = raw.get("urgent", False)
    if not isinstance(urgent, bool):
        raise RuleDefinitionError(f"{at}: 'urgent' must be true or false")
    params = raw.get("params", {})
    if not isinstance(params, Mapping):
        raise RuleDefinitionError(f"{at}: 'params' must be a table")
    examples_raw = raw.get("examples")
    if not isinstance(examples_raw, list) or not examples_raw:
        raise RuleDefinitionError(f"{at}: every rule ships example cases ('examples')")
    examples = []
    for i, ex in enumerate(examples_raw):
        if (
            not isinstance(ex, Mapping)
            or not isinstance(ex.get("expect"), bool)
            or not isinstance(ex.get("facts", {}), Mapping)
        ):
            raise RuleDefinitionError(f"{at}: example {i + 1} needs 'facts' (a table) and 'expect' (true/false)")
        unknown_facts = set(ex.get("facts", {})) - set(FACTS[subject])
        if unknown_facts:
            raise RuleDefinitionError(f"{at}: example {i + 1} gives unknown facts {sorted(unknown_facts)}")
        examples.append(
            Example(
                str(ex.get("name", f"example {i + 1}")), _merge(empty_facts(subject), ex.get("facts", {})), ex["expect"]
            )
        )
    if not any(e.expect for e in examples) or all(e.expect for e in examples):
        raise RuleDefinitionError(f"{at}: the examples must include a case that fires and one that does not")
    return Rule(
        id=rule_id,
        version=version,
        subject=subject,
        description_es=_text(raw, "description_es", at),
        description_en=_text(raw, "description_en", at),
        when=when,
        flag=flag,
        referral=referral,
        params=dict(params),
        examples=tuple(examples),
        program=program,
        urgent=urgent,
    )


def parse_rules(items: Sequence[Any], where: str, services: Iterable[str]) -> tuple[Rule, ...]:
    services = list(services)
    rules = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        rule = parse_rule(raw, f"{where}: rule[{i}]", services)
        if rule.id in seen:
            raise RuleDefinitionError(f"{where}: rule id '{rule.id}' repeats")
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules)


@dataclass(frozen=True)
class ExampleFailure:
    rule: str
    example: str
    expected: bool
    got: bool | str


def run_examples(rules: Iterable[Rule]) -> tuple[int, list[ExampleFailure]]:
    """Run every rule's example cases: (cases run, failures)."""
    count, failures = 0, []
    for rule in rules:
        for example in rule.examples:
            count += 1
            try:
                got: bool | str = rule.matches(example.facts)
            except RuleError as exc:
                got = str(exc)
            if got != example.expect:
                failures.append(ExampleFailure(rule.key, example.name, example.expect, got))
    return count, failures
