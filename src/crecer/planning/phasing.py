"""What a phasing plan is computed from: the territories of its level with the parts of their priority
(vulnerability and indicator gaps from the period's frozen snapshot, children from the registry, services
from the facilities and organisations), and the coverage and rollout of its phases by cohort.

Every answer here is figures only (counts per territory): no person's data leaves, so nothing is logged as
read. The arithmetic of the score is :func:`crecer.lib.planning.prioritise`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from crecer import conf
from crecer.lib import planning
from crecer.lib.results import exact
from crecer.monitoring import definitions
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.planning import indices
from crecer.planning.models import Phase, Plan
from crecer.registry.models import Child, Pregnancy
from crecer.results.evaluation import latest_snapshots
from crecer.territories.models import Facility, Organisation, Territory

#: children are counted up to this age (early childhood: under six)
CHILD_YEARS = 6


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def weights_of(plan: Plan) -> dict[str, Fraction]:
    """The plan's weights (the profile's default where the plan sets none)."""
    if plan.weights:
        return planning.parse_weights(plan.weights, "weights")
    return dict(conf.profile().planning.priority.weights) or {p: Fraction(1) for p in planning.PARTS}


def candidates_of(plan: Plan) -> list[Territory]:
    """The territories of the plan's level in its territory, by name."""
    return list(Territory.objects.filter(path__startswith=plan.territory.path, level=plan.level).order_by("name"))


def _sum_by_prefix(counts: Iterable[tuple[str, int]], territories: Sequence[Territory]) -> dict[int, int]:
    """Counts per territory path added up to each of ``territories`` (its subtree)."""
    out = dict.fromkeys((t.pk for t in territories), 0)
    by_path = {t.path: t.pk for t in territories}
    for path, n in counts:
        for prefix, pk in by_path.items():
            if path.startswith(prefix):
                out[pk] += n
    return out


def children_counts(territories: Sequence[Territory], today: dt.date | None = None) -> dict[int, int]:
    """Children under six living in each territory's subtree (one grouped query)."""
    today = today or timezone.localdate()
    rows = (
        Child.unscoped.filter(
            voided_at__isnull=True, birth_date__gt=years_before(today, CHILD_YEARS), birth_date__lte=today
        )
        .filter(_within(territories, "territory__path", summed=True))
        .values_list("territory__path")
        .annotate(n=Count("pk"))
    )
    return _sum_by_prefix(rows, territories)


def service_counts(territories: Sequence[Territory]) -> dict[int, int]:
    """Facilities and organisations (providers) in each territory's subtree."""
    rows: list[tuple[str, int]] = []
    for model in (Facility, Organisation):
        rows += list(
            model.objects.filter(_within(territories, "territory__path", summed=True))
            .values_list("territory__path")
            .annotate(n=Count("pk"))
        )
    return _sum_by_prefix(rows, territories)


def _within(territories: Sequence[Territory], field: str, *, summed: bool = False) -> Q:
    """Rows in any of ``territories``' subtrees: one prefix each, or, for many when the caller adds the rows
    up per territory (``summed``), the prefix they share."""
    if summed and len(territories) > 20:
        common: list[str] = []
        for segments in zip(*(t.path.strip("/").split("/") for t in territories), strict=False):
            if len(set(segments)) != 1:
                break
            common.append(segments[0])
        return Q(**{f"{field}__startswith": "".join(f"{segment}/" for segment in common)})
    q = Q(pk__in=[])
    for t in territories:
        q |= Q(**{f"{field}__startswith": t.path})
    return q


def vulnerability(snapshot: Snapshot | None, territories: Sequence[Territory]) -> dict[int, Fraction | None]:
    """The profile's vulnerability indicator as a share where higher is more vulnerable: its value / 100,
    turned around (1 - value / 100) when higher is better for it."""
    code = conf.profile().planning.priority.vulnerability_indicator
    out: dict[int, Fraction | None] = dict.fromkeys((t.pk for t in territories), None)
    if not code or snapshot is None:
        return out
    try:
        better_higher = definitions.get(code).direction == "higher"
    except KeyError:
        better_higher = False
    rows = SnapshotValue.objects.filter(
        snapshot=snapshot, indicator=code, group="", territory_id__in=list(out)
    ).values_list("territory_id", "value")
    for territory_id, value in rows:
        share = exact(value)
        if share is not None:
            share = share / 100
            out[territory_id] = 1 - share if better_higher else share
    return out


def gaps(snapshot: Snapshot | None, territories: Sequence[Territory]) -> dict[int, Fraction | None]:
    """Distance of each territory's composite index to its best: (scale - index) / scale."""
    code = conf.profile().planning.priority.index
    if not code or snapshot is None:
        return dict.fromkeys((t.pk for t in territories), None)
    index = conf.profile().planning.index(code)
    computed = indices.compute(index, snapshot, territories)
    return {pk: None if v.value is None else (index.scale - v.value) / index.scale for pk, v in computed.values.items()}


@dataclass(frozen=True)
class Ranked:
    territory: Territory
    priority: planning.Priority
    phase: int | None


def priorities(plan: Plan) -> tuple[Snapshot | None, list[Ranked]]:
    """Every territory of the plan's level ranked by priority, with the phase it is in (if any)."""
    territories = candidates_of(plan)
    snapshot = latest_snapshots([plan.period]).get(plan.period)
    vulnerable = vulnerability(snapshot, territories)
    gap = gaps(snapshot, territories)
    children = children_counts(territories)
    services = service_counts(territories)
    candidates = [
        planning.Candidate(t.pk, vulnerable[t.pk], children[t.pk], gap[t.pk], services[t.pk]) for t in territories
    ]
    ranked = planning.prioritise(candidates, weights_of(plan))
    by_pk = {t.pk: t for t in territories}
    phase_of = {
        territory_id: number
        for territory_id, number in Phase.territories.through.objects.filter(phase__plan=plan).values_list(
            "territory_id", "phase__number"
        )
    }
    return snapshot, [Ranked(by_pk[int(p.key)], p, phase_of.get(int(p.key))) for p in ranked]  # type: ignore[call-overload]


def proposal_for(plan: Plan, phase: Phase, count: int) -> list[Territory]:
    """The ``count`` territories of highest priority that no other phase of the plan holds."""
    _, ranked = priorities(plan)
    taken = {r.territory.pk for r in ranked if r.phase is not None and r.phase != phase.number}
    keys = planning.propose([r.priority for r in ranked], count, taken)
    by_pk = {r.territory.pk: r.territory for r in ranked}
    return [by_pk[k] for k in keys]  # type: ignore[index]


def ranked_payload(r: Ranked) -> dict[str, Any]:
    return {
        "rank": r.priority.rank,
        "territory": r.territory.code,
        "territory_name": r.territory.name,
        "score": indices.number(r.priority.score),
        "score_exact": str(r.priority.score),
        "phase": r.phase,
        "parts": {
            part: {
                "raw": indices.number(p.raw, 4),
                "normalised": indices.number(p.normalised, 4),
                "weight": float(p.weight),
                "contribution": indices.number(p.contribution),
            }
            for part, p in r.priority.parts.items()
        },
    }


# --- coverage and rollout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseCoverage:
    phase: Phase
    territories: int
    children: int
    #: children of the phase's territories born on or after the phase began
    cohort: int
    #: share of the plan's children living in the territories of this phase and the phases before it
    cumulative_share: Fraction | None


def coverage(plan: Plan, root: Territory, today: dt.date | None = None) -> tuple[int, list[PhaseCoverage]]:
    """The children under six of the plan (of ``root``, the part of it the user sees), and per phase its
    territories, children and birth cohort."""
    today = today or timezone.localdate()
    total = sum(children_counts([root], today).values())
    out = []
    running = 0
    for phase in plan.phases.order_by("number").prefetch_related("territories"):
        places = [t for t in phase.territories.all() if root.contains(t)]
        children = sum(children_counts(places, today).values()) if places else 0
        cohort = (
            Child.unscoped.filter(voided_at__isnull=True, birth_date__gte=phase.starts, birth_date__lte=today)
            .filter(_within(places, "territory__path"))
            .count()
            if places
            else 0
        )
        running += children
        out.append(PhaseCoverage(phase, len(places), children, cohort, Fraction(running, total) if total else None))
    return total, out


#: the cohorts of the rollout: (key, label) with the birth-date window of each for a year (see rollout)
COHORTS = ("pregnancies", "births", "under_1", "age_1_2", "age_2_4")


def rollout(phase: Phase, root: Territory) -> list[dict[str, Any]]:
    """Per year of the phase, the cohorts its territories hold as the registry stands: pregnancies
    expected to end that year, children born that year, and on 1 July of that year those under one, one
    to two and two to four. Years still to come count only the children already registered."""
    places = [t for t in phase.territories.all() if root.contains(t)]
    years = list(range(phase.starts.year, phase.ends.year + 1))
    counts: dict[int, dict[str, int]] = {y: dict.fromkeys(COHORTS, 0) for y in years}
    if not places or not years:
        return [{"year": y, **counts[y]} for y in years]
    births: dict[dt.date, int] = defaultdict(int)
    first = dt.date(years[0] - 4, 7, 1)
    for born, n in (
        Child.unscoped.filter(voided_at__isnull=True, birth_date__gt=first, birth_date__lte=dt.date(years[-1], 12, 31))
        .filter(_within(places, "territory__path"))
        .values_list("birth_date")
        .annotate(n=Count("pk"))
    ):
        births[born] += n
    for born, n in births.items():
        for y in years:
            mid = dt.date(y, 7, 1)
            if born.year == y:
                counts[y]["births"] += n
            if years_before(mid, 1) < born <= mid:
                counts[y]["under_1"] += n
            elif years_before(mid, 2) < born <= years_before(mid, 1):
                counts[y]["age_1_2"] += n
            elif years_before(mid, 4) < born <= years_before(mid, 2):
                counts[y]["age_2_4"] += n
    for edd, n in (
        Pregnancy.unscoped.filter(edd_date__year__in=years)
        .filter(_within(places, "mother__territory__path"))
        .values_list("edd_date__year")
        .annotate(n=Count("pk"))
    ):
        counts[edd]["pregnancies"] += n
    return [{"year": y, **counts[y]} for y in years]
