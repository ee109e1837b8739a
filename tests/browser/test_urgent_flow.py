"""On a 390 px phone: a nurse records an Edinburgh scale with the self-harm item positive at a child's
check-up; the municipal coordinator signs in, finds it in the notifications and on top of the worklist,
and records the action taken, after which it leaves the top."""

from __future__ import annotations

import datetime as dt

from crecer.referrals.models import Notification
from crecer.risks.models import RiskFlag
from tests.browser.conftest import fits_the_phone


def test_an_urgent_edinburgh_result_reaches_the_coordinator_who_records_the_action(
    transactional_db, sign_in, cast, make_child, make_mother, today
):
    mother = make_mother(phone="+56 9 8765 4321")
    baby = make_child(
        given_names="Amanda",
        birth_date=(today - dt.timedelta(days=60)).isoformat(),
        facility_code="F-ALTA",
        mother_national_id=mother.national_id,
    )
    nurse, coordinator = cast["nurse_alta"], cast["coordinator_alta"]

    page = sign_in(nurse)
    page.goto(f"{page.base}/children/{baby.pk}/check-up/")
    page.check('input[name="use.epds"]')
    for i in range(1, 10):
        page.select_option(f'select[name="s.epds.items.{i}"]', "1" if i < 4 else "0")
    page.select_option('select[name="s.epds.items.10"]', "2")  # thoughts of self-harm
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar").click()
    assert f"/children/{baby.pk}/" in page.url
    # The nurse's own page carries the banner at once.
    assert page.locator(".urgent-banner").count() == 1
    assert "Riesgo de autolesión materna" in page.locator(".urgent-banner").inner_text()
    assert fits_the_phone(page)
    flag = RiskFlag.unscoped.get(child=baby, rule_id="maternal_self_harm")
    assert Notification.objects.filter(flag=flag, user=coordinator).exists()

    page.context.clear_cookies()
    page = sign_in(coordinator)
    page.goto(f"{page.base}/notifications/")
    assert "Riesgo de autolesión materna" in page.content() and "Amanda" in page.content()
    assert fits_the_phone(page)

    page.goto(f"{page.base}/worklists/?tab=overdue")
    pinned = page.locator(".urgent-list li")
    assert pinned.count() == 1 and "Riesgo de autolesión materna" in pinned.first.inner_text()
    assert fits_the_phone(page)
    with page.expect_navigation():
        pinned.first.get_by_role("link", name="Registrar la acción realizada").click()
    page.get_by_label("Acción realizada").fill("Llamé a la madre; atención con psicóloga hoy a las 15:00")
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.locator("main form button[type=submit], form.form button[type=submit]").first.click()
    assert "/worklists/" in page.url
    assert page.locator(".urgent-list li").count() == 0
    flag.refresh_from_db()
    assert flag.acted_by == coordinator and flag.action_taken.startswith("Llamé a la madre")
