"""The funds' pages fit a 390 px phone, in Spanish: the funds and calls with the managers' forms, a network
fund's allocation, a municipality's report with its lines and spending, a call with its ranking, and a
proposal as a panel member scores it and sees a score refused beside its field."""

from __future__ import annotations

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.funds import actions
from crecer.funds.models import Allocation
from tests.browser.conftest import fits_the_phone


def test_funds_pages_fit_the_phone(transactional_db, sign_in, cast, children, today, settings, tmp_path):
    settings.CRECER_UPLOAD_DIR = tmp_path
    national = Actor(cast["national"], Channel.WEB)
    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    fund = actions.create_fund(
        national,
        {
            "year": today.year,
            "name": "Fondo de fortalecimiento de redes comunales",
            "territory_code": "CL",
            "budget": "2500000000",
            "base": "5000000",
            "vulnerability_weight": "2",
        },
    )
    actions.allocate(national, fund)
    alta = Allocation.objects.get(municipality__code="CL01001")
    line = actions.add_line(
        coordinator, alta, {"activity": "Talleres de crianza respetuosa para familias", "amount": "1000000"}
    )
    actions.record_execution(
        coordinator, line, {"date": today, "amount": "250000.50", "description": "Materiales y colaciones"}
    )
    call = actions.create_call(
        national,
        {
            "name": "Fondo de innovación en primera infancia",
            "territory_code": "CL",
            "opens_on": today,
            "closes_on": today,
            "budget": "60000000",
            "criteria": [
                {"name": "Impacto esperado en los niños", "weight": "3", "max_score": 10},
                {"name": "Factibilidad", "weight": "1", "max_score": 5},
            ],
            "reviewers": [cast["national"].username],
        },
    )
    proposal = actions.submit_proposal(
        coordinator,
        call,
        {"title": "Visitas domiciliarias con apoyo por video", "summary": "Una propuesta.", "requested": "35000000"},
    )
    actions.close_submissions(national, call)

    page = sign_in(cast["national"])
    for path in (
        "/funds/",
        f"/funds/network/{fund.pk}/",
        f"/funds/allocations/{alta.pk}/",
        f"/funds/calls/{call.pk}/",
        f"/funds/proposals/{proposal.pk}/",
    ):
        page.goto(page.base + path)
        assert fits_the_phone(page), (path, page.evaluate("document.documentElement.scrollWidth"))
    assert "Su evaluación" in page.content()
    criterion = call.criteria.get(name="Impacto esperado en los niños")
    page.fill(f"input[name=score_{criterion.pk}]", "11")
    with page.expect_navigation():
        page.locator("form:has(input[value=save_scores]) button[type=submit]").click()
    error = page.locator(f"input[name=score_{criterion.pk}] >> xpath=../following-sibling::p[@class='error'][1]")
    assert "de 0 a 10" in error.inner_text()
    assert fits_the_phone(page)
