"""Costing on a small hand-built country: cost = unit cost × eligible × coverage, a region's total is the sum
of its municipalities', projection of future births, executed deliveries, rights and audited writes; and
the projection of an indicator from frozen snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from crecer.audit.models import Action, AuditEvent
from crecer.costing import actions, compute
from crecer.costing.models import CoverageTarget, UnitCost
from crecer.lib import projections as trends
from crecer.monitoring.actions import save_target
from crecer.territories.models import Territory
from crecer.tracking.actions import record_delivery
from crecer.validation import InputErrors
from tests.conftest import SYSTEM
from tests.test_results import frozen

TODAY = dt.date(2026, 6, 15)
KIT = Decimal("46000.50")  # kit 45000.50 + transport 1000.00


@pytest.fixture
def small(cast: dict[str, Any], make_child: Any) -> dict[str, Any]:
    """Alta: 3 born in 2025 and one in 2022; Baja: 2 born in 2025; Austral: 1 born in 2025 (SYNTHETIC)."""
    born = {
        "CL01001": ["2025-03-10", "2025-07-01", "2025-11-20", "2022-05-05"],
        "CL01002": ["2025-01-02", "2025-12-31"],
        "CL02001": ["2025-06-30"],
    }
    kids = {}
    for territory, dates in born.items():
        for i, day in enumerate(dates):
            kids[(territory, i)] = make_child(given_names=f"Niña {i}", birth_date=day, territory_code=territory)
    for product, amount, valid_from in (
        ("kit", "45000.50", "2025-01-01"),
        ("transporte", "1000", "2025-01-01"),
        ("kit", "50000", "2026-01-01"),  # a later version: not in force in 2025
    ):
        actions.add_unit_cost(
            SYSTEM,
            {
                "service": "welcome_kit",
                "product": product,
                "amount": amount,
                "currency": "CLP",
                "price_year": "2025",
                "valid_from": valid_from,
            },
        )
    actions.set_coverage(SYSTEM, {"service": "welcome_kit", "territory": "CL01", "year": "2025", "coverage": "90"})
    actions.set_coverage(SYSTEM, {"service": "welcome_kit", "territory": "CL01002", "year": "2025", "coverage": "75"})
    return kids


def _line(result: compute.Costing, service: str) -> compute.Line:
    return next(line for line in result.lines if line.service.code == service)


def test_cost_is_unit_cost_times_eligible_times_coverage(small: dict[str, Any]) -> None:
    t = {x.code: x for x in Territory.objects.all()}
    alta = _line(compute.costing(None, t["CL01001"], 2025, TODAY), "welcome_kit")
    assert (alta.unit_cost, alta.eligible, alta.coverage) == (KIT, 3, Decimal("0.9000"))
    assert alta.cost == Decimal("124201.35") == (KIT * 3 * Decimal("0.9")).quantize(Decimal("0.01"))
    baja = _line(compute.costing(None, t["CL01002"], 2025, TODAY), "welcome_kit")
    assert (baja.eligible, baja.coverage, baja.cost) == (2, Decimal("0.7500"), Decimal("69000.75"))
    # no target anywhere above Austral: a universal service is planned for everyone
    austral = _line(compute.costing(None, t["CL02001"], 2025, TODAY), "welcome_kit")
    assert (austral.eligible, austral.coverage, austral.cost) == (1, Decimal("1.0000"), KIT)
    # children under five: the 2022 child too; a targeted service with no target covers nobody, no price costs nothing
    stimulation = _line(compute.costing(None, t["CL01001"], 2025, TODAY), "stimulation_session")
    assert (stimulation.eligible, stimulation.unit_cost, stimulation.coverage, stimulation.cost) == (
        4,
        None,
        Decimal("0.0000"),
        Decimal("0.00"),
    )
    # the later price holds in 2026
    assert compute.prices(2026)["welcome_kit"].amount == Decimal("51000.00")


def test_a_region_totals_the_sum_of_its_municipalities(
    small: dict[str, Any], cast: dict[str, Any], api_client: Any
) -> None:
    client = api_client(cast["national"])

    def get(territory: str) -> dict[str, Any]:
        response = client.get("/api/v1/costing", {"year": 2025, "territory": territory})
        assert response.status_code == 200, response.content
        return response.json()

    region = get("CL01")
    municipalities = [get("CL01001"), get("CL01002")]
    assert Decimal(region["total"]) == sum(Decimal(m["total"]) for m in municipalities) == Decimal("193202.10")
    kit = next(line for line in region["lines"] if line["service"] == "welcome_kit")
    assert kit == {
        "service": "welcome_kit",
        "unit_cost": "46000.50",
        "eligible": 5,
        "coverage": "0.8400",  # (3 × 0.90 + 2 × 0.75) / 5
        "cost": "193202.10",
        "served": 0,
        "executed": "0.00",
    }
    nation = get("CL")
    assert Decimal(nation["total"]) == Decimal(region["total"]) + Decimal(get("CL02")["total"])
    assert set(nation) >= {"lines", "total", "currency"} and nation["currency"] == "CLP"


def test_future_years_project_births_at_the_last_twelve_months_rate(small: dict[str, Any]) -> None:
    alta = Territory.objects.get(code="CL01001")
    # births June 2025 – May 2026 in Alta: July and November 2025, so 2/12 a month; 2027 is all projected
    result = compute.costings(None, alta, [2026, 2027], TODAY)
    assert _line(result[2027], "welcome_kit").eligible == 2
    # 2026: no birth registered January–May, June–December projected: 7 × 2/12 = 1.17 → 1
    assert _line(result[2026], "welcome_kit").eligible == 1
    # pregnancies: one a birth of the year, the same count
    assert _line(result[2027], "home_visit").eligible == 2


def test_executed_counts_the_children_served(small: dict[str, Any]) -> None:
    child = small[("CL01001", 0)]
    record_delivery(SYSTEM, "welcome_kit", dt.date(2025, 3, 20), child=child)
    record_delivery(SYSTEM, "welcome_kit", dt.date(2025, 4, 1), child=child)  # the same child: served once
    line = _line(compute.costing(None, Territory.objects.get(code="CL01"), 2025, TODAY), "welcome_kit")
    assert (line.served, line.executed) == (1, KIT)


def test_rights_and_scope(small: dict[str, Any], cast: dict[str, Any], api_client: Any) -> None:
    coordinator = api_client(cast["coordinator_alta"])
    assert coordinator.get("/api/v1/costing", {"year": 2025}).json()["territory"] == "CL01001"
    assert coordinator.get("/api/v1/costing", {"year": 2025, "territory": "CL01"}).status_code == 404
    assert (
        api_client(cast["regional_norte"]).get("/api/v1/costing", {"year": 2025, "territory": "CL02001"}).status_code
        == 404
    )
    assert api_client(cast["nurse_alta"]).get("/api/v1/costing", {"year": 2025}).status_code == 404
    assert api_client(cast["national"]).get("/api/v1/costing", {"year": 1800}).json()["errors"]["year"]
    # the auditor counts the same population as the manager (figures, not records)
    audited = api_client(cast["auditor"]).get("/api/v1/costing", {"year": 2025}).json()
    managed = api_client(cast["national"]).get("/api/v1/costing", {"year": 2025}).json()
    assert audited["total"] == managed["total"] == "239202.60"


def test_writes_are_checked_and_audited(small: dict[str, Any], cast: dict[str, Any]) -> None:
    from crecer.audit.trail import Actor

    regional = Actor(cast["regional_norte"])
    with pytest.raises(PermissionDenied, match=r"nacional|national"):
        actions.add_unit_cost(
            regional,
            {
                "service": "welcome_kit",
                "amount": "1",
                "currency": "CLP",
                "price_year": "2025",
                "valid_from": "2025-02-01",
            },
        )
    national = Actor(cast["national"])
    with pytest.raises(InputErrors) as bad:
        actions.add_unit_cost(
            national, {"service": "nope", "amount": "-1", "currency": "USD", "price_year": "x", "valid_from": "ayer"}
        )
    assert set(bad.value.errors) == {"service", "amount", "currency", "price_year", "valid_from"}
    cost = actions.add_unit_cost(
        national,
        {
            "service": "stimulation_session",
            "amount": "12500.5",
            "currency": "CLP",
            "price_year": "2025",
            "valid_from": "2025-01-01",
        },
    )
    assert AuditEvent.objects.filter(entity="costing.unitcost", entity_id=cost.pk, action=Action.CREATE).exists()
    with pytest.raises(InputErrors) as other:
        actions.set_coverage(
            regional, {"service": "welcome_kit", "territory": "CL02001", "year": "2025", "coverage": "50"}
        )
    assert "territory" in other.value.errors
    with pytest.raises(PermissionDenied):
        actions.set_coverage(
            Actor(cast["coordinator_alta"]),
            {"service": "welcome_kit", "territory": "CL01001", "year": "2025", "coverage": "50"},
        )
    target, state = actions.set_coverage(
        regional, {"service": "welcome_kit", "territory": "CL01", "year": "2025", "coverage": "80,5"}
    )
    assert (state, target.coverage) == ("updated", Decimal("0.8050"))
    assert AuditEvent.objects.filter(
        entity="costing.coveragetarget", entity_id=target.pk, action=Action.UPDATE
    ).exists()
    assert CoverageTarget.objects.count() == 2 and UnitCost.objects.count() == 4


def test_projection_from_frozen_snapshots(cast: dict[str, Any], api_client: Any) -> None:
    values = {"2021": 40.0, "2022": 52.0, "2023": 61.0, "2024": 72.0}
    for year, value in values.items():
        frozen(year, {("welcome_kit", "CL01001"): value})
    frozen("2024", {("welcome_kit", "CL01001"): 70.0})  # a later revision replaces the figure
    frozen("2024-03", {("welcome_kit", "CL01001"): 10.0})  # a month: not the indicator's kind of period... see below
    save_target(
        SYSTEM,
        {
            "indicator": "welcome_kit",
            "territory": Territory.objects.get(code="CL01001"),
            "period": "2030",
            "baseline": 40,
            "target": 95,
        },
    )
    client = api_client(cast["coordinator_alta"])
    body = client.get("/api/v1/projections", {"indicator": "welcome_kit", "horizon": 2030, "method": "logistic"}).json()
    from crecer.monitoring import definitions

    kind = definitions.get("welcome_kit").period
    assert kind == "month"  # the indicator is monthly: only the monthly snapshot counts
    assert body["observed"] == [{"period": "2024-03", "value": 10.0}]
    assert body["points"][-1]["year"] == 2030 and body["points"][-1]["low"] == body["points"][-1]["high"]
    yearly = "low_birth_weight"  # a yearly indicator
    for year, value in values.items():
        frozen(year, {(yearly, "CL01001"): value / 10})
    frozen("2024", {(yearly, "CL01001"): 7.0})
    body = client.get("/api/v1/projections", {"indicator": yearly, "horizon": 2030, "method": "linear"}).json()
    assert body["method"] == "linear"
    assert body["observed"] == [
        {"period": y, "value": v} for y, v in [("2021", 4.0), ("2022", 5.2), ("2023", 6.1), ("2024", 7.0)]
    ]
    fitted = trends.fit([2021.5, 2022.5, 2023.5, 2024.5], [0.04, 0.052, 0.061, 0.07], trends.LINEAR, share=True)
    expected = trends.project(fitted, [2030])[0]
    last = body["points"][-1]
    assert last["year"] == 2030
    assert last["value"] == pytest.approx(expected.value * 100, abs=1e-3)
    assert last["low"] < last["value"] < last["high"]
    assert [p["year"] for p in body["points"]] == list(range(2024, 2031))
    assert client.get("/api/v1/projections", {"indicator": yearly, "territory": "CL02001"}).status_code == 404
    assert client.get("/api/v1/projections", {"indicator": "nope"}).json()["errors"]["indicator"]
