"""Performance incentives (a budget shared by results) and recognition awards (scores, ranks, levels), both
computed from frozen snapshots and frozen as versions.

The child population of a territory is read from the snapshot too: the denominator of
:data:`POPULATION_INDICATOR` (every registered child at the end of the period), so a distribution or an
award result is reproducible from the snapshots alone."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.lib import results as money
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.results import evaluation
from crecer.results.actions import _period, check_manage, clean_cents, clean_conditions
from crecer.results.models import AwardEdition, AwardResult, Distribution, IncentiveProgramme
from crecer.territories.models import Territory
from crecer.validation import Collector

#: the snapshot figure whose denominator is a territory's child population (every registered child)
POPULATION_INDICATOR = "dq_mother_pending"


def _territories(raw: Mapping[str, Any], errors: Collector) -> list[Territory]:
    """``territory_codes`` (a list), or every municipality under ``region_code``."""
    from crecer.results.actions import _municipality_level

    if raw.get("region_code"):
        region = Territory.objects.filter(code=str(raw["region_code"])).first()
        if region is None:
            errors.add("region_code", "unknown", _("Unknown territory."))
            return []
        return list(
            Territory.objects.filter(path__startswith=region.path, level=_municipality_level()).order_by("code")
        )
    codes = [str(c) for c in raw.get("territory_codes") or []]
    found = {t.code: t for t in Territory.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        errors.add("territory_codes", "unknown", _("Unknown territories: %(codes)s.") % {"codes": ", ".join(unknown)})
    if not codes:
        errors.add("territory_codes", "required", _("Name the eligible territories."))
    return [found[c] for c in codes if c in found]


def _stored_conditions(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "indicator": c["indicator"],
            "rule": c["rule"],
            "period": c["period"],
            "params": c["params"],
            "baseline": str(c["baseline"]),
            "target": str(c["target"]),
            "weight": str(c["weight"]),
        }
        for c in conditions
    ]


def _specs(conditions: list[dict[str, Any]], territory: Territory) -> list[evaluation.ConditionSpec]:
    return [
        evaluation.ConditionSpec(
            indicator=c["indicator"],
            territory_id=territory.pk,
            territory_code=territory.code,
            rule=c["rule"],
            periods=tuple(c["params"]["months"]) if evaluation.reads_months(c["rule"]) else (c["period"],),
            baseline=Fraction(Decimal(c["baseline"])),
            target=Fraction(Decimal(c["target"])),
            weight=Fraction(Decimal(c["weight"])),
            params=c["params"],
        )
        for c in conditions
    ]


def create_programme(actor: Actor, raw: Mapping[str, Any]) -> IncentiveProgramme:
    errors = Collector()
    code = str(raw.get("code") or "").strip()
    if not code:
        errors.add("code", "required", _("This field is required."))
    elif IncentiveProgramme.objects.filter(code=code).exists():
        errors.add("code", "taken", _("Another programme has this code."))
    period = _period(raw.get("period"), "period", errors)
    budget = clean_cents(raw.get("budget"), "budget", errors)
    territories = _territories(raw, errors)
    conditions = clean_conditions(raw.get("conditions"), None, errors, "conditions", with_territory=False)
    errors.raise_if_any()
    assert budget is not None
    for t in territories:
        check_manage(actor.user, t)
    with transaction.atomic():
        programme = IncentiveProgramme.objects.create(
            code=code,
            name=str(raw.get("name") or code)[:200],
            period=period,
            budget_cents=budget,
            currency=str(raw.get("currency") or "CLP").upper()[:3],
            by_population=bool(raw.get("by_population")),
            conditions=_stored_conditions(conditions),
            created_by=actor.user,
        )
        programme.territories.set(territories)
        record(
            actor,
            Action.CREATE,
            programme,
            after={"code": code, "budget_cents": budget, "territories": [t.code for t in territories]},
        )
    return programme


def _population(snapshot: Snapshot | None, territory_ids: list[int]) -> dict[int, int]:
    if snapshot is None:
        return {}
    rows = SnapshotValue.objects.filter(
        snapshot=snapshot, indicator=POPULATION_INDICATOR, group="", territory_id__in=territory_ids
    ).values_list("territory_id", "denominator")
    return {t: int(d) for t, d in rows}


def distribute(actor: Actor, programme: IncentiveProgramme) -> Distribution:
    """A new version of the programme's distribution: each territory's weighted compliance on the latest
    snapshots (× its child population when the programme says so), the budget split by largest remainder."""
    territories = list(programme.territories.order_by("code"))
    for t in territories:
        check_manage(actor.user, t)
    specs = {t.pk: _specs(programme.conditions, t) for t in territories}
    periods = {p for ss in specs.values() for s in ss for p in s.periods}
    if programme.by_population:
        periods.add(programme.period)
    found = evaluation.latest_snapshots(periods)
    evaluation.require_snapshots(periods, found)
    figures = evaluation.read_figures(found, [s for ss in specs.values() for s in ss])
    population = (
        _population(found.get(programme.period), [t.pk for t in territories]) if programme.by_population else {}
    )
    rows: list[dict[str, Any]] = []
    weights: dict[str, Fraction] = {}
    used: dict[str, int] = {}
    versions: dict[str, dict[str, int]] = {}
    for t in territories:
        computed = evaluation.compute(0, "proportional", None, specs[t.pk], found, figures)
        used.update(computed.snapshots)
        for period, v in computed.definitions.items():
            versions.setdefault(period, {}).update(v)
        wc = computed.result.weighted_compliance
        weight = wc * population.get(t.pk, 0) if programme.by_population else wc
        weights[t.code] = weight
        rows.append(
            {
                "territory": t.pk,
                "code": t.code,
                "name": t.name,
                "weighted_compliance": money.decimal_text(wc),
                "weighted_compliance_exact": str(wc),
                "population": population.get(t.pk) if programme.by_population else None,
                "weight": str(weight),
                "conditions": computed.entries,
            }
        )
    if programme.by_population and programme.period in found:
        used[programme.period] = found[programme.period].pk
    amounts = money.split(programme.budget_cents, weights)
    for row in rows:
        row["amount_cents"] = amounts[row["code"]]
    with transaction.atomic():
        IncentiveProgramme.objects.select_for_update().filter(pk=programme.pk).first()
        last = Distribution.objects.filter(programme=programme).aggregate(m=Max("version"))["m"] or 0
        item = Distribution.objects.create(
            programme=programme,
            version=last + 1,
            snapshots=used,
            definitions=versions,
            rows=rows,
            created_by=actor.user,
        )
        record(
            actor,
            Action.CREATE,
            item,
            after={
                "programme": programme.code,
                "version": item.version,
                "snapshots": used,
                "total": sum(amounts.values()),
            },
        )
    return item


# --- awards ---------------------------------------------------------------------------------------------

DEFAULT_LEVELS = [
    {"code": "gold", "name": "Oro", "min_score": 90},
    {"code": "silver", "name": "Plata", "min_score": 75},
    {"code": "bronze", "name": "Bronce", "min_score": 60},
]


def create_edition(actor: Actor, raw: Mapping[str, Any]) -> AwardEdition:
    errors = Collector()
    code = str(raw.get("code") or "").strip()
    if not code:
        errors.add("code", "required", _("This field is required."))
    elif AwardEdition.objects.filter(code=code).exists():
        errors.add("code", "taken", _("Another edition has this code."))
    period = _period(raw.get("period"), "period", errors)
    criteria = raw.get("criteria") or []
    if not isinstance(criteria, list) or not criteria:
        errors.add("criteria", "required", _("Give at least one criterion."))
        criteria = []
    for i, c in enumerate(criteria):
        if not evaluation.indicator_known(str(c.get("indicator"))):
            errors.add(
                f"criteria.{i}.indicator", "unknown", _("Unknown indicator “%(code)s”.") % {"code": c.get("indicator")}
            )
    for i, q in enumerate(raw.get("quality") or []):
        if not evaluation.indicator_known(str(q.get("indicator"))):
            errors.add(
                f"quality.{i}.indicator", "unknown", _("Unknown indicator “%(code)s”.") % {"code": q.get("indicator")}
            )
    categories = raw.get("categories") or [{"code": "all", "name": "Todas", "min_children": 0, "max_children": None}]
    errors.raise_if_any()
    if actor.user is not None:  # an edition covers the whole country
        check_manage(actor.user, Territory.objects.get(depth=0))
    with transaction.atomic():
        edition = AwardEdition.objects.create(
            code=code,
            name=str(raw.get("name") or code)[:200],
            period=period,
            categories=categories,
            criteria=[
                {"indicator": c["indicator"], "threshold": str(c["threshold"]), "weight": str(c.get("weight", 1))}
                for c in criteria
            ],
            quality=[{"indicator": q["indicator"], "max": str(q["max"])} for q in raw.get("quality") or []],
            levels=raw.get("levels") or DEFAULT_LEVELS,
            created_by=actor.user,
        )
        record(actor, Action.CREATE, edition, after={"code": code, "period": period})
    return edition


def _category(categories: list[dict[str, Any]], children: int) -> dict[str, Any] | None:
    for c in categories:
        low = c.get("min_children") or 0
        high = c.get("max_children")
        if children >= low and (high is None or children <= high):
            return c
    return None


def compute_awards(actor: Actor, edition: AwardEdition, scope: Territory | None = None) -> AwardResult:
    """Score every municipality (under ``scope``, the whole country by default) on the latest snapshot of
    the edition's period: not eligible when a data-quality figure exceeds its maximum (or is missing);
    score = 100 × Σ weight of the criteria met / Σ weight; ranked within its category; level by score."""
    from crecer.results.actions import _municipality_level

    root = scope or Territory.objects.get(depth=0)
    if actor.user is not None:
        check_manage(actor.user, root)
    found = evaluation.latest_snapshots([edition.period])
    evaluation.require_snapshots([edition.period], found)
    snap = found[edition.period]
    municipalities = list(
        Territory.objects.filter(path__startswith=root.path, level=_municipality_level()).order_by("code")
    )
    codes = {c["indicator"] for c in edition.criteria} | {q["indicator"] for q in edition.quality}
    values = {
        (i, t): v
        for i, t, v in SnapshotValue.objects.filter(
            snapshot=snap, group="", indicator__in=codes, territory_id__in=[m.pk for m in municipalities]
        ).values_list("indicator", "territory_id", "value")
    }
    population = _population(snap, [m.pk for m in municipalities])
    levels = [money.Level(lv["code"], Fraction(Decimal(str(lv["min_score"])))) for lv in edition.levels]
    rows: list[dict[str, Any]] = []
    for m in municipalities:
        children = population.get(m.pk, 0)
        category = _category(edition.categories, children)
        failed = []
        for q in edition.quality:
            v = values.get((q["indicator"], m.pk))
            if v is None or money.exact(v) > Fraction(Decimal(q["max"])):  # type: ignore[operator]
                failed.append(q["indicator"])
        total = Fraction(0)
        met_weight = Fraction(0)
        met = []
        for c in edition.criteria:
            weight = Fraction(Decimal(c["weight"]))
            total += weight
            v = values.get((c["indicator"], m.pk))
            better = evaluation.direction(c["indicator"])
            threshold = Fraction(Decimal(c["threshold"]))
            value = money.exact(v)
            if value is not None and (value >= threshold if better == "higher" else value <= threshold):
                met_weight += weight
                met.append(c["indicator"])
        score = 100 * met_weight / total if total else Fraction(0)
        eligible = not failed and category is not None
        rows.append(
            {
                "territory": m.pk,
                "code": m.code,
                "name": m.name,
                "children": children,
                "category": category["code"] if category else "",
                "category_name": category["name"] if category else "",
                "eligible": eligible,
                "quality_failed": failed,
                "criteria_met": met,
                "score": money.decimal_text(score, 2),
                "score_exact": str(score),
                "rank": None,
                "level": money.level_for(score, levels) if eligible else "",
            }
        )
    for code in {r["category"] for r in rows}:
        ranks = money.rank(
            {r["code"]: Fraction(r["score_exact"]) if r["eligible"] else None for r in rows if r["category"] == code}
        )
        for r in rows:
            if r["category"] == code and r["code"] in ranks:
                r["rank"] = ranks[r["code"]]
    with transaction.atomic():
        AwardEdition.objects.select_for_update().filter(pk=edition.pk).first()
        last = AwardResult.objects.filter(edition=edition).aggregate(m=Max("version"))["m"] or 0
        item = AwardResult.objects.create(
            edition=edition,
            version=last + 1,
            snapshots={edition.period: snap.pk},
            definitions={edition.period: {c: snap.definitions.get(c) for c in sorted(codes)}},
            rows=rows,
            created_by=actor.user,
        )
        record(
            actor, Action.CREATE, item, after={"edition": edition.code, "version": item.version, "snapshot": snap.pk}
        )
    return item
