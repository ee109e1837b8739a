"""Gathering what a tranche is evaluated on: the latest snapshot revision of each period its conditions
read, and the frozen figures there. The arithmetic is in :mod:`crecer.lib.results`.

Nothing here reads live data: a figure absent from the snapshot is "no value" (compliance 0, shown as
such), and a period with no snapshot refuses the evaluation, naming the period."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer.lib import results as money
from crecer.monitoring import definitions, quality
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.validation import Collector


@dataclass(frozen=True)
class ConditionSpec:
    """A condition as the evaluation needs it (from an agreement's tranche or an incentive programme)."""

    indicator: str
    territory_id: int
    territory_code: str
    rule: str
    periods: tuple[str, ...]
    baseline: Fraction
    target: Fraction
    weight: Fraction
    params: dict[str, Any]


def profile_rules() -> dict[str, money.ProfileRule]:
    """The active profile's own condition rules (``results.toml``), by code."""
    from crecer import conf

    return {rule.code: rule for rule in conf.profile().condition_rules}


def rule_known(code: str) -> bool:
    return code in money.RULES or code in profile_rules()


def reads_months(code: str) -> bool:
    """Whether the rule reads a list of months (``months_met``, a profile rule with ``reads = "months"``)
    rather than one period."""
    if code == "months_met":
        return True
    rule = profile_rules().get(code)
    return rule is not None and rule.reads == "months"


def needs_points(code: str) -> bool:
    """Whether the rule needs the condition's required points (``improvement``, a profile rule reading them)."""
    if code == "improvement":
        return True
    rule = profile_rules().get(code)
    return rule is not None and rule.needs_points


def rule_label(code: str, language: str) -> str:
    """A profile rule's name in ``language`` ('' for the built-in ones, labelled by the pages)."""
    rule = profile_rules().get(code)
    return rule.name(language) if rule else ""


def direction(code: str) -> str:
    try:
        return definitions.get(code).direction
    except KeyError:
        try:
            return quality.get(code).direction
        except KeyError:
            return "higher"


def indicator_known(code: str) -> bool:
    return any(i.code == code for i in (*definitions.indicators(), *quality.QUALITY))


def latest_snapshots(periods: Iterable[str]) -> dict[str, Snapshot]:
    """The latest revision of each period that has a snapshot (one query)."""
    latest: dict[str, Snapshot] = {}
    for snapshot in Snapshot.objects.filter(period__in=set(periods)).order_by("period", "revision"):
        latest[snapshot.period] = snapshot  # the highest revision wins
    return latest


def require_snapshots(periods: Iterable[str], found: dict[str, Snapshot]) -> None:
    """Refuse, naming each period, when a period read by a condition has no frozen snapshot."""
    missing = sorted(set(periods) - set(found))
    if missing:
        errors = Collector()
        for period in missing:
            errors.add(
                "snapshots",
                "missing_snapshot",
                _("No frozen snapshot of the period %(period)s: take one before evaluating.") % {"period": period},
            )
        errors.raise_if_any()


Figures = dict[tuple[int, str, int], tuple[float | None, int]]


def read_figures(snapshots: dict[str, Snapshot], specs: Sequence[ConditionSpec]) -> Figures:
    """{(snapshot id, indicator, territory id): (value, definition version)} for the conditions (one query)."""
    if not specs:
        return {}
    rows = SnapshotValue.objects.filter(
        snapshot_id__in=[s.pk for s in snapshots.values()],
        indicator__in={c.indicator for c in specs},
        territory_id__in={c.territory_id for c in specs},
        group="",
    ).values_list("snapshot_id", "indicator", "territory_id", "value", "version")
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


@dataclass(frozen=True)
class Computed:
    result: money.TrancheResult
    #: one JSON-ready entry per condition, for the evaluation's record and its report
    entries: list[dict[str, Any]]
    snapshots: dict[str, int]
    definitions: dict[str, dict[str, int]]


def compute(
    amount: int,
    payment_rule: str,
    floor: Any,
    specs: Sequence[ConditionSpec],
    snapshots: dict[str, Snapshot],
    figures: Figures,
) -> Computed:
    conditions = []
    used: dict[str, int] = {}
    versions: dict[str, dict[str, int]] = {}
    for spec in specs:
        values: dict[str, Fraction | None] = {}
        for period in spec.periods:
            snapshot = snapshots[period]
            used[period] = snapshot.pk
            figure = figures.get((snapshot.pk, spec.indicator, spec.territory_id))
            values[period] = money.exact(figure[0]) if figure else None
            version = figure[1] if figure else snapshot.definitions.get(spec.indicator)
            if version is not None:
                versions.setdefault(period, {})[spec.indicator] = int(version)
        conditions.append(
            money.Condition(
                indicator=spec.indicator,
                territory=spec.territory_code,
                rule=spec.rule,
                baseline=spec.baseline,
                target=spec.target,
                weight=spec.weight,
                direction=direction(spec.indicator),
                values=values,
                params=spec.params,
            )
        )
    try:
        result = money.evaluate(amount, payment_rule, conditions, floor=floor, rules=profile_rules())
    except money.ResultsError as exc:
        if exc.rule is None:
            raise
        errors = Collector()
        errors.add(
            "conditions",
            "rule_failed",
            _("The rule “%(rule)s” of the country profile could not be computed on these figures.")
            % {"rule": rule_label(exc.rule, get_language() or "es")},
        )
        errors.raise_if_any()
        raise
    entries = []
    for spec, (condition, outcome) in zip(specs, result.conditions, strict=True):
        value = condition.value
        entries.append(
            {
                "indicator": spec.indicator,
                "territory": spec.territory_code,
                "territory_id": spec.territory_id,
                "rule": spec.rule,
                "direction": condition.direction,
                "periods": list(spec.periods),
                "values": {p: _number(v) for p, v in condition.values.items()},
                "value": _number(value),
                "baseline": _number(spec.baseline),
                "target": _number(spec.target),
                "weight": _number(spec.weight),
                "params": spec.params,
                "compliance": money.decimal_text(outcome.compliance),
                "compliance_exact": str(outcome.compliance),
                "detail": {k: (_number(v) if isinstance(v, Fraction) else v) for k, v in outcome.detail.items()},
                "snapshots": {p: snapshots[p].pk for p in spec.periods},
            }
        )
    return Computed(result, entries, used, versions)


def _number(value: Fraction | None) -> float | None:
    return None if value is None else float(value)
