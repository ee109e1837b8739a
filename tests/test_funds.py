"""The network fund and the innovation fund: an allocation by formula that adds up to the budget (a
hand-built case with exact amounts), budget lines and execution within it, the municipality's report and
scope; an innovation call from proposal to disbursement with the panel's rules."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest

from crecer.audit.models import AuditEvent
from crecer.funds.models import Allocation, Award, Disbursement, ProposalFile, Score
from crecer.risks.models import FlagStatus, RiskFlag

PDF = b"%PDF-1.4\n% synthetic proposal\n"


def flag(child: Any) -> RiskFlag:
    return RiskFlag.unscoped.create(
        child=child,
        rule_id="synthetic",
        rule_version=1,
        category="child",
        axis="health",
        severity="high",
        data_category="health",
    )


@pytest.fixture
def fund_world(cast, children, api_client, today):
    # Alta 1 child, Baja 2 (one with an open risk flag: vulnerability 1/2), Austral 1. The rules' own flags
    # on the new children (missing check-ups and the like) are resolved first, so that the case is by hand.
    RiskFlag.unscoped.update(status=FlagStatus.RESOLVED)
    flag(children["baja"])
    client = api_client(cast["national"])
    answer = client.post(
        "/api/v1/funds/network",
        {
            "year": today.year,
            "name": "Fondo de redes (sintético)",
            "territory_code": "CL",
            "budget": "1000.01",
            "base": "100",
            "vulnerability_weight": "1",
            "vulnerability_source": "risk_flags",
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.json()
    return {"client": client, "fund": answer.json()}


def test_allocation_adds_up_to_the_budget_with_exact_amounts(fund_world, cast, api_client, today):
    client = fund_world["client"]
    fund = fund_world["fund"]
    answer = client.post(f"/api/v1/funds/network/{fund['id']}/allocate")
    assert answer.status_code == 200, answer.json()
    # R = 100001 − 3 × 10000 = 70001 cents by weights 1, 2 × (1 + 1 × 1/2) = 3, 1: 14000.2, 42000.6, 14000.2
    by_code = {r["municipality"]: r for r in answer.json()["results"]}
    assert {c: r["amount_cents"] for c, r in by_code.items()} == {"CL01001": 24000, "CL01002": 52001, "CL02001": 24000}
    assert by_code["CL01002"]["vulnerability"] == "1/2" and by_code["CL01002"]["weight"] == "3"
    assert answer.json()["total_cents"] == 100001 == fund["budget_cents"]

    year = client.get(f"/api/v1/funds/network/{today.year}/allocation").json()
    assert sum(r["amount_cents"] for r in year["results"]) == 100001
    # a municipality's coordinator reads only its own row; the southern auditor only Austral's
    mine = api_client(cast["coordinator_alta"]).get(f"/api/v1/funds/network/{today.year}/allocation").json()
    assert [r["municipality"] for r in mine["results"]] == ["CL01001"]
    south = api_client(cast["auditor_sur"]).get(f"/api/v1/funds/network/{today.year}/allocation").json()
    assert [r["municipality"] for r in south["results"]] == ["CL02001"]
    assert api_client(cast["nurse_alta"]).get(f"/api/v1/funds/network/{today.year}/allocation").status_code == 404
    assert client.get(f"/api/v1/funds/network/{today.year - 5}/allocation").status_code == 404


def test_lines_and_execution_stay_within_the_allocation(fund_world, cast, api_client, today):
    client = fund_world["client"]
    client.post(f"/api/v1/funds/network/{fund_world['fund']['id']}/allocate")
    alta = Allocation.objects.get(municipality__code="CL01001")
    coordinator = api_client(cast["coordinator_alta"])
    too_much = coordinator.post(
        f"/api/v1/funds/network/allocations/{alta.pk}/lines",
        {"activity": "Talleres", "amount": "240.01"},
        content_type="application/json",
    )
    assert too_much.status_code == 422 and "amount" in too_much.json()["errors"]
    line = coordinator.post(
        f"/api/v1/funds/network/allocations/{alta.pk}/lines",
        {"activity": "Talleres de crianza", "amount": "150"},
        content_type="application/json",
    )
    assert line.status_code == 201
    line_id = line.json()["id"]
    # the auditor reads, does not write; the other municipality's line is not found
    assert (
        api_client(cast["auditor"])
        .post(f"/api/v1/funds/network/lines/{line_id}/executions", {}, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        api_client(cast["nurse_baja"])
        .post(f"/api/v1/funds/network/lines/{line_id}/executions", {}, content_type="application/json")
        .status_code
        == 404
    )
    spent = {"date": today.isoformat(), "amount": "100.50", "description": "Materiales"}
    assert (
        coordinator.post(
            f"/api/v1/funds/network/lines/{line_id}/executions", spent, content_type="application/json"
        ).status_code
        == 201
    )
    over = coordinator.post(
        f"/api/v1/funds/network/lines/{line_id}/executions",
        {**spent, "amount": "49.51"},
        content_type="application/json",
    )
    assert over.status_code == 422 and over.json()["errors"]["amount"][0]["code"] == "exceeds_line"
    report = coordinator.get(f"/api/v1/funds/network/allocations/{alta.pk}").json()
    assert report["planned_cents"] == 15000 and report["executed_cents"] == 10050
    # once planned, the allocation no longer changes
    again = client.post(f"/api/v1/funds/network/{fund_world['fund']['id']}/allocate")
    assert again.status_code == 422 and "fund" in again.json()["errors"]
    assert AuditEvent.objects.filter(entity="funds.execution").count() == 1


def _call(client: Any, today: dt.date, budget: str = "1000") -> dict[str, Any]:
    answer = client.post(
        "/api/v1/funds/calls",
        {
            "name": "Fondo de innovación (sintético)",
            "territory_code": "CL",
            "opens_on": today.isoformat(),
            "closes_on": (today + dt.timedelta(days=30)).isoformat(),
            "budget": budget,
            "criteria": [
                {"name": "Impacto", "weight": "2", "max_score": 5},
                {"name": "Costo", "weight": "1", "max_score": 10},
            ],
            "reviewers": ["regional_norte", "nacional"],
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_an_innovation_call_from_proposal_to_disbursement(cast, api_client, today, settings, tmp_path):
    settings.CRECER_UPLOAD_DIR = tmp_path
    national = api_client(cast["national"])
    regional = api_client(cast["regional_norte"])
    call = _call(national, today)
    crit = [c["id"] for c in call["criteria"]]

    def propose(user: str, title: str, requested: str) -> int:
        answer = api_client(cast[user]).post(
            f"/api/v1/funds/calls/{call['id']}/proposals",
            {
                "title": title,
                "summary": "Un servicio nuevo (sintético).",
                "requested": requested,
                "file": {"name": "propuesta.pdf", "content_base64": base64.b64encode(PDF).decode()},
            },
            content_type="application/json",
        )
        assert answer.status_code == 201, answer.json()
        return answer.json()["id"]

    alta = propose("coordinator_alta", "Visitas ampliadas", "700")
    opd = propose("provider_opd", "Acompañamiento OPD", "400")
    housing = propose("provider_housing", "Vivienda y crianza", "500")
    assert ProposalFile.objects.count() == 3
    # the auditor reads but cannot propose; scoring before the panel's review is refused
    assert (
        api_client(cast["auditor"])
        .post(f"/api/v1/funds/calls/{call['id']}/proposals", {"title": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    early = regional.post(
        f"/api/v1/funds/proposals/{alta}/scores", {"scores": {str(crit[0]): 5}}, content_type="application/json"
    )
    assert early.status_code == 422
    assert national.post(f"/api/v1/funds/calls/{call['id']}/close-submissions").status_code == 200

    # a conflict of interest: the regional reviewer cannot score Alta's proposal (403, a clear message)
    assert (
        regional.post(
            f"/api/v1/funds/proposals/{alta}/conflict",
            {"reason": "Trabajé en esa municipalidad"},
            content_type="application/json",
        ).status_code
        == 201
    )
    refused = regional.post(
        f"/api/v1/funds/proposals/{alta}/scores",
        {"scores": {str(crit[0]): 5, str(crit[1]): 10}},
        content_type="application/json",
    )
    assert refused.status_code == 403 and "conflict" in refused.json()["message"].lower()
    # someone off the panel cannot score either; a score above the maximum names its field
    off = api_client(cast["coordinator_alta"]).post(
        f"/api/v1/funds/proposals/{alta}/scores", {"scores": {str(crit[0]): 1}}, content_type="application/json"
    )
    assert off.status_code == 403
    high = national.post(
        f"/api/v1/funds/proposals/{alta}/scores", {"scores": {str(crit[0]): 6}}, content_type="application/json"
    )
    assert high.status_code == 422 and f"scores.{crit[0]}" in high.json()["errors"]

    def scores(client: Any, proposal: int, a: int, b: int) -> None:
        answer = client.post(
            f"/api/v1/funds/proposals/{proposal}/scores",
            {"scores": {str(crit[0]): a, str(crit[1]): b}},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.json()

    scores(national, alta, 5, 10)  # 100
    scores(national, opd, 4, 5)  # (2 × 4/5 + 1/2) / 3 = 70
    scores(regional, opd, 4, 5)  # 70
    scores(national, housing, 4, 5)  # 70: a tie with the OPD, which asks less and ranks first
    assert Score.objects.count() == 8
    ranking = national.get(f"/api/v1/funds/calls/{call['id']}").json()["ranking"]
    assert [(r["proposal"], r["rank"], r["score"]) for r in ranking] == [
        (alta, 1, "100"),
        (opd, 2, "70"),
        (housing, 3, "70"),
    ]
    assert [r["fits_budget"] for r in ranking] == [True, False, False]  # 700 of 1000; 400 does not fit

    assert (
        national.post(f"/api/v1/funds/proposals/{alta}/award", {}, content_type="application/json").status_code == 201
    )
    beyond = national.post(f"/api/v1/funds/proposals/{opd}/award", {}, content_type="application/json")
    assert beyond.status_code == 422 and beyond.json()["errors"]["amount"][0]["code"] == "exceeds_budget"
    partial = national.post(f"/api/v1/funds/proposals/{opd}/award", {"amount": "300"}, content_type="application/json")
    assert partial.status_code == 201
    assert sum(Award.objects.values_list("amount_cents", flat=True)) == 100000  # the whole budget, not a cent more
    assert (
        national.post(
            f"/api/v1/funds/proposals/{housing}/award", {"amount": "0.01"}, content_type="application/json"
        ).status_code
        == 422
    )

    award_id = Award.objects.get(proposal_id=alta).pk
    pay = {"date": today.isoformat(), "amount": "500", "note": "Primera cuota"}
    assert (
        national.post(
            f"/api/v1/funds/awards/{award_id}/disbursements", pay, content_type="application/json"
        ).status_code
        == 201
    )
    over = national.post(
        f"/api/v1/funds/awards/{award_id}/disbursements", {**pay, "amount": "200.01"}, content_type="application/json"
    )
    assert over.status_code == 422 and over.json()["errors"]["amount"][0]["code"] == "exceeds_award"
    assert sum(Disbursement.objects.values_list("amount_cents", flat=True)) == 50000
    report = api_client(cast["coordinator_alta"]).post(
        f"/api/v1/funds/awards/{award_id}/reports",
        {"text": "120 familias atendidas (sintético)."},
        content_type="application/json",
    )
    assert report.status_code == 201
    shown = api_client(cast["coordinator_alta"]).get(f"/api/v1/funds/proposals/{alta}").json()
    assert shown["award"]["disbursed_cents"] == 50000 and len(shown["award"]["reports"]) == 1
    # the southern organisation does not see Alta's proposal
    assert api_client(cast["provider_housing"]).get(f"/api/v1/funds/proposals/{alta}").status_code == 404
    assert AuditEvent.objects.filter(entity="funds.conflict").count() == 1
    assert AuditEvent.objects.filter(entity="funds.award").count() == 2


def test_pages_menu_and_errors_beside_their_field(fund_world, cast, today, client):
    fund_world["client"].post(f"/api/v1/funds/network/{fund_world['fund']['id']}/allocate")
    alta = Allocation.objects.get(municipality__code="CL01001")
    client.force_login(cast["coordinator_alta"])
    home = client.get("/funds/").content.decode()
    assert 'href="/funds/"' in home and "Fondo de redes (sintético)" in home
    page = client.get(f"/funds/allocations/{alta.pk}/")
    assert page.status_code == 200
    refused = client.post(
        f"/funds/allocations/{alta.pk}/", {"op": "add_line", "activity": "Talleres", "amount": "9999"}
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    # the error follows the amount's field, the typed activity is kept
    assert html.index('name="amount"') < html.index('class="error"') and 'value="Talleres"' in html
    assert (
        client.post(
            f"/funds/allocations/{alta.pk}/", {"op": "add_line", "activity": "Talleres", "amount": "10"}
        ).status_code
        == 302
    )
    assert client.get(f"/funds/allocations/{alta.pk}/report.xlsx").status_code == 200
    # the other municipality's report is not found; a health worker has no menu entry and no page
    baja = Allocation.objects.get(municipality__code="CL01002")
    assert client.get(f"/funds/allocations/{baja.pk}/").status_code == 404
    client.force_login(cast["nurse_alta"])
    assert 'href="/funds/"' not in client.get("/").content.decode()
    assert client.get("/funds/").status_code == 404
