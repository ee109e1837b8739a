"""Pages of planning: the costing (coverage targets set on the page, audited), unit costs, a projection with
its chart and yearly target, the Excel downloads, the menu entry and who may open what."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from crecer.audit.models import Action, AuditEvent
from crecer.costing.models import CoverageTarget, UnitCost
from crecer.monitoring.models import Target
from tests.test_results import frozen


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_regional_manager_sets_a_coverage_target_on_the_costing_page(cast: dict[str, Any], make_child: Any) -> None:
    year = timezone.localdate().year
    make_child(birth_date=f"{year - 1}-05-05", territory_code="CL01001")
    client = _client(cast["regional_norte"])
    page = client.get("/costing/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Comuna Alta" in text and "Comuna Baja" in text  # the territories below
    assert "CL01001" not in text.replace("territory=CL01001", "")  # codes only in links
    bad = client.post(f"/costing/?year={year}", {"service": "welcome_kit", "year": str(year), "coverage": "120"})
    assert bad.status_code == 200 and CoverageTarget.objects.count() == 0
    assert 'class="error"' in bad.content.decode()
    done = client.post(f"/costing/?year={year}", {"service": "welcome_kit", "year": str(year), "coverage": "60"})
    assert done.status_code == 302
    target = CoverageTarget.objects.get()
    assert (target.territory.code, target.coverage) == ("CL01", Decimal("0.6000"))
    assert AuditEvent.objects.filter(entity="costing.coveragetarget", action=Action.CREATE).count() == 1
    sheet = client.get(f"/costing/?year={year}&format=xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Servicio" and any(r and r[0] == "Total" for r in rows)
    assert AuditEvent.objects.filter(action=Action.EXPORT, entity="costing.download").exists()


def test_who_opens_what(cast: dict[str, Any]) -> None:
    coordinator = _client(cast["coordinator_alta"])
    page = coordinator.get("/costing/")
    assert page.status_code == 200 and 'href="/costing/"' in page.content.decode()
    assert 'name="coverage"' not in page.content.decode()  # reads only
    assert coordinator.get("/costing/?territory=CL01").status_code == 404
    assert (
        coordinator.post("/costing/", {"service": "welcome_kit", "year": "2030", "coverage": "50"}).status_code == 403
    )
    nurse = _client(cast["nurse_alta"])
    assert nurse.get("/costing/").status_code == 404
    assert 'href="/costing/"' not in nurse.get("/").content.decode()  # no menu entry
    assert _client(cast["auditor"]).get("/projections/").status_code == 200


def test_unit_costs_are_added_by_the_national_manager_only(cast: dict[str, Any]) -> None:
    body = {
        "service": "welcome_kit",
        "product": "",
        "amount": "45000,50",
        "currency": "clp",
        "price_year": "2025",
        "valid_from": "2025-01-01",
    }
    regional = _client(cast["regional_norte"])
    assert 'name="amount"' not in regional.get("/costing/unit-costs/").content.decode()
    assert regional.post("/costing/unit-costs/", body).status_code == 403
    national = _client(cast["national"])
    assert national.post("/costing/unit-costs/", body).status_code == 302
    cost = UnitCost.objects.get()
    assert (cost.amount, cost.currency) == (Decimal("45000.50"), "CLP")
    assert "45000,50" in national.get("/costing/unit-costs/").content.decode()  # Spanish decimal comma
    again = national.post("/costing/unit-costs/", body)
    assert again.status_code == 200 and UnitCost.objects.count() == 1  # same date: refused beside the field


def test_projection_page_draws_the_trend_and_saves_a_yearly_target(cast: dict[str, Any]) -> None:
    for year, value in {"2021": 4.0, "2022": 5.2, "2023": 6.1, "2024": 7.0}.items():
        frozen(year, {("low_birth_weight", "CL01"): value})
    client = _client(cast["regional_norte"])
    page = client.get("/projections/?indicator=low_birth_weight&horizon=2030")
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text and "<polygon" in text  # the band
    assert text.count("<circle") == 4 and ">2030<" in text
    saved = client.post("/projections/?indicator=low_birth_weight&horizon=2030", {"period": "2030", "target": "5"})
    assert saved.status_code == 302
    target = Target.objects.get(indicator="low_birth_weight", period="2030")
    assert (target.territory.code, target.baseline, target.target) == ("CL01", 7.0, 5.0)
    shown = client.get("/projections/?indicator=low_birth_weight&horizon=2030").content.decode()
    assert "<path" in shown  # the target's cross
    bad = client.post("/projections/?indicator=low_birth_weight", {"period": "2030-Q1", "target": "x"})
    assert bad.status_code == 200 and bad.content.decode().count('class="error"') >= 2
    sheet = client.get("/projections/?indicator=low_birth_weight&format=xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:5]] == ["2021", "2022", "2023", "2024"]
