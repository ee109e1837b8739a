"""A condition using the profile's own rule (results.toml of profile "cl"): API and pages, on frozen snapshots."""

from __future__ import annotations

from typing import Any

from django.test import Client

from crecer.lib import results as money
from crecer.results import evaluation
from crecer.results.models import Agreement, Evaluation
from tests.test_results import MONTHS, agreement_body, frozen, monthly

RULE = "last_month_and_improves"


def body_with(condition: dict[str, Any]) -> dict[str, Any]:
    body = agreement_body()
    body["tranches"][0]["conditions"][0] = condition
    return body


def mine(**changes: Any) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "indicator": "check_ups_up_to_date_0_11m",
        "rule": RULE,
        "months": MONTHS,
        "points": "9",
        "baseline": 60,
        "target": 80,
        "weight": 2,
    }
    condition.update(changes)
    return {k: v for k, v in condition.items() if v is not None}


def test_a_tranche_whose_condition_uses_the_profile_rule_is_evaluated_on_frozen_snapshots(api_client, cast):
    client = api_client(cast["national"])
    created = client.post("/api/v1/agreements", body_with(mine()), content_type="application/json")
    assert created.status_code == 201, created.content
    agreement = created.json()["id"]
    assert client.post(f"/api/v1/agreements/{agreement}/sign").status_code == 200
    months = monthly([82, 79, 85, 80, 90, 66])
    frozen("2025", {("low_birth_weight", "CL01001"): 8.0, ("welcome_kit", "CL01001"): 72.0})
    response = client.post(f"/api/v1/agreements/{agreement}/tranches/1/evaluate")
    assert response.status_code == 201, response.content
    data = response.json()
    first, second = data["conditions"]
    # June 66 < 80 → no half for the target; gain 66 − 60 = 6 of 9 points → ½ × 6/9 = 1/3 (exact, not 0.333…)
    assert (first["rule"], first["compliance_exact"], first["value"]) == (RULE, "1/3", 66.0)
    assert first["detail"]["met"] == 4 and first["detail"]["k"] == 6
    # low birth weight 8 % from 10 % towards 6 % → ½; weights 2 and 1 → (2 × 1/3 + ½) / 3 = 7/18
    assert second["compliance_exact"] == "1/2"
    assert data["weighted_compliance_exact"] == "7/18"
    # tranche 1: 400 000 000 cents × 7/18 = 155 555 555.55… → 155 555 556
    assert data["amount_cents"] == 155_555_556
    # every month was read from its own snapshot
    assert set(data["snapshots_by_period"]) == {*MONTHS, "2025"}
    assert {data["snapshots_by_period"][m] for m in MONTHS} == {s.pk for s in months}

    # the tranche's page names the rule in the reader's words
    page = Client()
    page.force_login(cast["national"])
    html = page.get(f"/agreements/{agreement}/tranches/1/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Meta en el último mes y mejora sobre la línea de base" in html


def test_reaching_the_target_in_the_last_month_pays_the_whole_condition(api_client, cast):
    client = api_client(cast["national"])
    agreement = client.post("/api/v1/agreements", body_with(mine()), content_type="application/json").json()["id"]
    client.post(f"/api/v1/agreements/{agreement}/sign")
    monthly([70, 70, 70, 70, 70, 82])
    frozen("2025", {("low_birth_weight", "CL01001"): 6.0})
    data = client.post(f"/api/v1/agreements/{agreement}/tranches/1/evaluate").json()
    # 82 ≥ 80 → ½; gain 22 ≥ 9 → ½; low birth weight at its target → 1; all met → 400 000 000 cents
    assert [c["compliance_exact"] for c in data["conditions"]] == ["1", "1"]
    assert data["amount_cents"] == 400_000_000


def test_conditions_with_the_profile_rule_are_checked_field_by_field(api_client, cast):
    client = api_client(cast["national"])
    for condition, field in (
        (mine(rule="last_month_and_improve"), "rule"),  # unknown code
        (mine(months=None), "months"),  # the rule reads months
        (mine(points=None), "points"),  # the expression reads required_points
    ):
        response = client.post("/api/v1/agreements", body_with(condition), content_type="application/json")
        assert response.status_code == 422, (field, response.content)
        assert f"tranches.0.conditions.0.{field}" in response.json()["errors"], field
    assert not Agreement.objects.exists()


def test_the_creation_page_offers_the_profile_rule_and_refuses_an_unknown_one_beside_its_field(cast):
    page = Client()
    page.force_login(cast["national"])
    page.post("/i18n/setlang/", {"language": "en", "next": "/"})  # the user's own choice, not the browser's
    form = page.get("/agreements/new/").content.decode()
    assert f'value="{RULE}"' in form
    assert "Target met in the last month and improvement on the baseline" in form
    post = {
        "code": "CONV-PAGE",
        "name": "Convenio",
        "period": "2025",
        "party_kind": "municipality",
        "territory_code": "CL01001",
        "base": "1000",
        "per_child": "0",
        "currency": "CLP",
        "t1_share": "100",
        "t1_due_date": "2025-12-31",
        "t1_payment_rule": "proportional",
        "t1c1_indicator": "check_ups_up_to_date_0_11m",
        "t1c1_rule": "nope",
        "t1c1_period": "2025",
        "t1c1_baseline": "60",
        "t1c1_target": "80",
    }
    page.post("/i18n/setlang/", {"language": "es", "next": "/"})
    refused = page.post("/agreements/new/", post, HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 422
    html = refused.content.decode()
    # the message sits in the rule field's own block, before the next field
    rule_field = html.index('name="t1c1_rule"')
    assert rule_field < html.index("Regla desconocida «nope».") < html.index('name="t1c1_period"')
    post.update({"t1c1_rule": RULE, "t1c1_period": "", "t1c1_months": ",".join(MONTHS), "t1c1_points": "9"})
    created = page.post("/agreements/new/", post, HTTP_ACCEPT_LANGUAGE="es")
    assert created.status_code == 302, created.content.decode()[:2000]
    condition = Agreement.objects.get().tranches.get().conditions.get()
    assert (condition.rule, condition.params["months"], condition.params["points"]) == (RULE, MONTHS, "9")
    assert condition.periods() == MONTHS
    assert not Evaluation.objects.exists()


def test_a_profile_rule_failing_on_the_figures_refuses_the_evaluation_naming_the_rule(api_client, cast, monkeypatch):
    [fragile] = money.parse_profile_rules(
        {
            "condition_rule": [
                {
                    "code": "fragile",
                    "name_es": "Avance relativo",
                    "name_en": "Relative progress",
                    "compliance": "gain / span",
                    "examples": [{"baseline": 60, "target": 80, "values": [75], "expect": "0.75"}],
                }
            ]
        },
        "test",
    )
    monkeypatch.setattr(evaluation, "profile_rules", lambda: {"fragile": fragile})
    client = api_client(cast["national"])
    # the target equals the baseline: span 0, gain / span is infinite
    condition = {"indicator": "welcome_kit", "rule": "fragile", "period": "2025", "baseline": 60, "target": 60}
    agreement = client.post("/api/v1/agreements", body_with(condition), content_type="application/json").json()["id"]
    client.post(f"/api/v1/agreements/{agreement}/sign")
    frozen("2025", {("welcome_kit", "CL01001"): 72.0, ("low_birth_weight", "CL01001"): 8.0})
    response = client.post(f"/api/v1/agreements/{agreement}/tranches/1/evaluate", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 422, response.content
    [error] = response.json()["errors"]["conditions"]
    assert error["message"] == "La regla «Avance relativo» del perfil del país no se pudo calcular con estas cifras."
    assert not Evaluation.objects.exists()
