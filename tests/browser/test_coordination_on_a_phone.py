"""The coordinator's tools on a 390 px phone: the network board, a referral with its comments, staff
chosen by name and its history; the merge page's choices; the auditors' page."""

from __future__ import annotations

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.dedup.models import DedupRun, DuplicatePair
from crecer.referrals import actions
from crecer.registry import actions as registry_actions
from tests.browser.conftest import fits_the_phone


def test_coordinator_and_auditor_pages_fit_a_phone(transactional_db, sign_in, cast, network, make_child):
    child = make_child(given_names="Valentina Ignacia", national_id="", facility_code="F-ALTA")
    twin = make_child(given_names="Valentina", national_id="", facility_code="F-ALTA")
    referral = actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        child=child,
        service_code="stimulation_session",
        reason="Sintético: evaluación del desarrollo con puntaje bajo en lenguaje",
        consent=[],
    )
    registry_actions.update_child(
        Actor(cast["nurse_alta"], Channel.WEB), child, {"given_names": "Valentina Ignacia Antonia"}, reason="x"
    )
    pair = DuplicatePair.objects.create(
        run=DedupRun.objects.create(actor=None), child_a=child, child_b=twin, probability=0.9, decision="review"
    )
    page = sign_in(cast["coordinator_alta"])
    page.goto(page.base + "/referrals/")
    assert "Por atender" in page.content() and fits_the_phone(page)
    page.goto(page.base + f"/referrals/{referral.pk}/")
    page.fill("textarea[name=text]", "¿Pueden verla esta semana? Gracias.")
    with page.expect_navigation():
        page.get_by_role("button", name="Enviar comentario").click()
    assert "¿Pueden verla esta semana?" in page.content()
    assert "Enviada a Sala de estimulación Alta" in page.content()
    assert page.locator("select[name=assignee] option", has_text="sala_alta_2").count() == 1
    assert fits_the_phone(page)
    page.goto(page.base + f"/duplicates/{pair.pk}/")
    assert page.locator("input[name=choose_given_names]").count() == 2 and fits_the_phone(page)
    page.goto(page.base + "/duplicates/")
    assert "Actualizar la cola" in page.content() and fits_the_phone(page)

    page.context.clear_cookies()
    page = sign_in(cast["auditor"])
    page.goto(page.base + f"/audit/?child={child.registry_number}&action=update")
    assert "Nombres" in page.content() and "Valentina Ignacia Antonia" in page.content()
    assert fits_the_phone(page), page.evaluate("document.documentElement.scrollWidth")
