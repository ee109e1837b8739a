"""The demo's costing on the shared synthetic country: unit costs and coverage targets once, a planned cost
for the country that is the sum of its regions', and a projection of the welcome kit's indicator."""

from __future__ import annotations

from decimal import Decimal

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.costing import compute, projections
from crecer.costing.demo import ensure_costing
from crecer.costing.models import CoverageTarget, UnitCost
from crecer.monitoring import definitions
from crecer.territories.models import Territory
from tests.test_monitoring import synthetic  # noqa: F401  (the shared synthetic country)


def test_demo_costing(synthetic, today):  # noqa: F811
    made = ensure_costing(Actor(synthetic["national"], Channel.SYSTEM))
    assert made["prices"] == UnitCost.objects.count() == 6 and made["coverage"] == CoverageTarget.objects.count() == 4
    nation = Territory.objects.get(parent__isnull=True)
    country = compute.costing(synthetic["national"], nation, today.year, today)
    assert country.total > 0 and all(line.unit_cost is not None for line in country.lines)
    kit = next(line for line in country.lines if line.service.code == "welcome_kit")
    assert kit.unit_cost == Decimal("72700") and kit.coverage == Decimal("1.0000")
    regions = [
        compute.costing(synthetic["national"], r, today.year, today).total
        for r in Territory.objects.filter(parent=nation)
    ]
    assert sum(regions) == country.total
    projection = projections.project(definitions.get("welcome_kit"), nation, 2030)
    assert projection.targets and projection.targets[-1][:2] == (2030, 95.0)
    assert ensure_costing(Actor(synthetic["national"], Channel.SYSTEM)) == {}  # once
