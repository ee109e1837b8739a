"""The costing of a territory and year: unit costs in force × eligible population × coverage target, per
service and territory, summed up the tree; and what was executed (children served × unit cost).

Set-based: one grouped query counts the children of the user's scope by territory, one packed count per
span of birth months the years and services need (the counted population,
:func:`crecer.registry.scope.counted_children`), another the children served by service and territory;
every year and service is then worked out from those counts. The arithmetic is in
:mod:`crecer.lib.costing`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q

from crecer import conf
from crecer.costing.models import CoverageTarget, UnitCost
from crecer.lib import costing as arithmetic
from crecer.lib.profiles import Service
from crecer.registry import scope
from crecer.territories.models import Territory

#: the day of the year whose unit costs are in force for the year
PRICE_DAY = (7, 1)


def costed_services() -> list[Service]:
    """The catalogue's services that say who is eligible (``eligible`` in ``services.toml``)."""
    return [s for s in conf.profile().services if s.eligible]


@dataclass(frozen=True)
class Price:
    amount: Decimal
    currency: str
    price_year: int
    products: tuple[tuple[str, Decimal], ...]


def prices(year: int, services: Iterable[str] | None = None) -> dict[str, Price]:
    """Each service's unit cost in force on 1 July of ``year``: the sum of the latest version of each of
    its products valid from that day or before (one query)."""
    day = dt.date(year, *PRICE_DAY)
    rows = UnitCost.objects.filter(valid_from__lte=day).order_by("service", "product", "valid_from")
    if services is not None:
        rows = rows.filter(service__in=list(services))
    latest: dict[tuple[str, str], UnitCost] = {}
    for row in rows:
        latest[(row.service, row.product)] = row  # the latest version wins
    out: dict[str, Price] = {}
    for (service, product), row in sorted(latest.items()):
        before = out.get(service)
        products = (*(before.products if before else ()), (product, row.amount))
        out[service] = Price(
            (before.amount if before else Decimal(0)) + row.amount,
            row.currency,
            max(row.price_year, before.price_year if before else 0),
            products,
        )
    return out


class Coverage:
    """Coverage targets, inherited down the tree: a territory's own for the year, else the latest earlier
    year's; else its parent's, and so up; else 1 for a universal service and 0 for a targeted one."""

    def __init__(self, services: Sequence[Service], paths: dict[str, int]) -> None:
        self.universal = {s.code: s.universal for s in services}
        self.paths = paths
        self.targets: dict[tuple[str, int], list[tuple[int, Decimal]]] = defaultdict(list)
        for t in CoverageTarget.objects.filter(service__in=list(self.universal)).order_by("year"):
            self.targets[(t.service, t.territory_id)].append((t.year, t.coverage))

    def of(self, service: str, path: str, year: int) -> Decimal:
        parts = path.rstrip("/").split("/")
        for depth in range(len(parts), 0, -1):
            territory_id = self.paths.get("/".join(parts[:depth]) + "/")
            found = [c for y, c in self.targets.get((service, territory_id or 0), []) if y <= year]
            if found:
                return found[-1]
        return Decimal(1) if self.universal.get(service) else Decimal(0)


@dataclass
class Line:
    service: Service
    price: Price | None
    eligible: int = 0
    covered: Decimal = Decimal(0)  # Σ eligible × coverage (for the effective coverage)
    cost: Decimal = Decimal("0.00")
    served: int = 0
    executed: Decimal = Decimal("0.00")

    @property
    def unit_cost(self) -> Decimal | None:
        return self.price.amount if self.price else None

    @property
    def coverage(self) -> Decimal | None:
        return arithmetic.share(self.covered, Decimal(self.eligible))


@dataclass
class Costing:
    territory: Territory
    year: int
    lines: list[Line]
    currency: str
    #: cost of each territory holding children (before summing up the tree)
    by_territory: dict[int, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((line.cost for line in self.lines), Decimal("0.00"))

    @property
    def executed(self) -> Decimal:
        return sum((line.executed for line in self.lines), Decimal("0.00"))


def _subtree(territory: Territory) -> Any:
    """The ids of the territory and those below it, as a subquery (the children's index on territory and
    birth date serves a small territory)."""
    return Territory.objects.filter(path__startswith=territory.path).values("id")


def birth_counts(
    user: Any, territory: Territory, spans: Sequence[tuple[int, int]]
) -> dict[int, dict[tuple[int, int], int]]:
    """{territory id: {span: children born in it}} of the counted children living in ``territory`` and
    below, for each span of birth months: one grouped query, a packed ``COUNT … FILTER`` (``SUM(CASE …)``)
    per span over a range of the indexed birth date, grouped by territory."""
    if not spans:
        return {}
    columns = {}
    for i, span in enumerate(spans):
        start, end = arithmetic.month_dates(*span)
        columns[f"s{i}"] = Count("id", filter=Q(birth_date__gte=start, birth_date__lte=end))
    first, _ = arithmetic.month_dates(min(s[0] for s in spans), min(s[0] for s in spans))
    _, last = arithmetic.month_dates(max(s[1] for s in spans), max(s[1] for s in spans))
    rows: Any = (
        scope.counted_children(user)
        .filter(territory_id__in=_subtree(territory), birth_date__gte=first, birth_date__lte=last)
        .values("territory_id")
        .annotate(**columns)
        .order_by()
    )
    return {row["territory_id"]: {span: row[f"s{i}"] for i, span in enumerate(spans)} for row in rows}


def served(user: Any, territory: Territory, year: int, services: Iterable[str]) -> dict[tuple[str, int], int]:
    """{(service, territory id): children who received it in ``year``}: one grouped query from the counted
    children, joined to their deliveries of the year (the deliveries' index on service and date)."""
    rows = (
        scope.counted_children(user)
        .filter(
            territory_id__in=_subtree(territory),
            deliveries__voided_at__isnull=True,
            deliveries__service_code__in=list(services),
            deliveries__delivered_on__gte=dt.date(year, 1, 1),
            deliveries__delivered_on__lte=dt.date(year, 12, 31),
        )
        .values_list("deliveries__service_code", "territory_id")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    return {(s, t): n for s, t, n in rows}


def costings(user: Any, territory: Territory, years: Sequence[int], today: dt.date) -> dict[int, Costing]:
    """The costing of ``territory`` for each of ``years`` (the counting queries run once)."""
    services = costed_services()
    reference = arithmetic.month_index(today.year, today.month)
    windows = {(year, s.code): arithmetic.window(year, s.age_months) for year in years for s in services}
    registered = {key: arithmetic.registered_span(span, reference) for key, span in windows.items()}
    rate_span = arithmetic.rate_span(reference)
    spans = sorted({rate_span, *(span for span in registered.values() if span is not None)})
    counts = birth_counts(user, territory, spans)
    paths = dict(Territory.objects.filter(path__startswith=territory.path).values_list("path", "pk"))
    # the ancestors too: their targets hold below them
    paths.update({a.path: a.pk for a in territory.ancestors()})
    path_of = {pk: path for path, pk in paths.items()}
    coverage = Coverage(services, paths)
    rates = {t: Fraction(cells[rate_span], 12) for t, cells in counts.items()}
    out = {}
    for year in years:
        price = prices(year, [s.code for s in services])
        lines = [Line(s, price.get(s.code)) for s in services]
        executed = served(user, territory, year, [s.code for s in services]) if year <= today.year else {}
        by_territory: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for line in lines:
            span = windows[(year, line.service.code)]
            observed = registered[(year, line.service.code)]
            unit = line.unit_cost
            for territory_id, cells in counts.items():
                known = cells[observed] if observed is not None else 0
                people = arithmetic.whole_people(arithmetic.eligible(known, span, reference, rates[territory_id]))
                if not people:
                    continue
                share = coverage.of(line.service.code, path_of[territory_id], year)
                line.eligible += people
                line.covered += people * share
                if unit is not None:
                    cost = arithmetic.cost(unit, people, share)
                    line.cost += cost
                    by_territory[territory_id] += cost
            line.served = sum(n for (s, _t), n in executed.items() if s == line.service.code)
            if unit is not None:
                line.executed = (unit * line.served).quantize(arithmetic.CENT)
        currencies = {p.currency for p in price.values()}
        out[year] = Costing(territory, year, lines, ", ".join(sorted(currencies)), dict(by_territory))
    return out


def costing(user: Any, territory: Territory, year: int, today: dt.date) -> Costing:
    return costings(user, territory, [year], today)[year]


def roll_up(costing: Costing, below: Sequence[Territory]) -> list[tuple[Territory, Decimal]]:
    """The cost of each territory of ``below`` (those directly under the costed one): the sum of the costs
    of the territories in it."""
    paths = dict(Territory.objects.filter(pk__in=list(costing.by_territory)).values_list("pk", "path"))
    out = []
    for t in below:
        out.append(
            (
                t,
                sum(
                    (c for pk, c in costing.by_territory.items() if paths[pk].startswith(t.path)),
                    Decimal("0.00"),
                ),
            )
        )
    return out
