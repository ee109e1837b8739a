"""Demo costing: SYNTHETIC unit costs (in CLP) for every costed service of the catalogue, national coverage
targets for the targeted services, and a national yearly target for the welcome kit's indicator at the
horizon, so that the costing and a projection have something to show."""

from __future__ import annotations

from django.utils import timezone

from crecer.audit.trail import Actor
from crecer.costing import actions, compute
from crecer.costing.models import UnitCost
from crecer.costing.projections import DEFAULT_HORIZON
from crecer.monitoring import definitions
from crecer.monitoring.actions import save_target
from crecer.territories.models import Territory

#: SYNTHETIC amounts: (service, product, amount)
DEMO_PRICES = (
    ("welcome_kit", "set de implementos", "68500"),
    ("welcome_kit", "distribución", "4200"),
    ("parenting_programme", "", "38000"),
    ("home_visit", "", "96000"),
    ("stimulation_session", "", "52000"),
    ("childcare_enrolment", "", "2150000"),
)
#: SYNTHETIC national coverage targets of the targeted services (share of the eligible population)
DEMO_COVERAGE = {
    "parenting_programme": "35",
    "home_visit": "30",
    "stimulation_session": "20",
    "childcare_enrolment": "40",
}


def ensure_costing(actor: Actor) -> dict[str, object]:
    """Everything once (nothing when a unit cost exists); returns what was created."""
    if UnitCost.objects.exists():
        return {}
    costed = {s.code for s in compute.costed_services()}
    today = timezone.localdate()
    nation = Territory.objects.filter(parent__isnull=True).order_by("path").first()
    if nation is None:
        return {}
    prices = 0
    for service, product, amount in DEMO_PRICES:
        if service not in costed:
            continue
        actions.add_unit_cost(
            actor,
            {
                "service": service,
                "product": product,
                "amount": amount,
                "currency": "CLP",
                "price_year": str(today.year),
                "valid_from": f"{today.year - 1}-01-01",
                "note": "demo: synthetic",
            },
        )
        prices += 1
    coverage = 0
    for service, share in DEMO_COVERAGE.items():
        if service in costed:
            actions.set_coverage(
                actor, {"service": service, "territory": nation.code, "year": str(today.year), "coverage": share}
            )
            coverage += 1
    try:
        definitions.get("welcome_kit")
    except KeyError:
        pass
    else:
        save_target(
            actor,
            {
                "indicator": "welcome_kit",
                "territory": nation,
                "period": str(DEFAULT_HORIZON),
                "baseline": 80.0,
                "target": 95.0,
            },
        )
    total = compute.costing(None, nation, today.year, today).total
    return {"prices": prices, "coverage": coverage, "total": f"{total:,.2f}".replace(",", " "), "year": today.year}
