"""The first prenatal visit and the birth on a 390 px phone: a midwife registers a mother and her household,
the pregnancy with its LMP and a positive EPsA (the risk is shown and its referral offered and sent), then
registers the birth from the pregnancy and lands on the newborn's page, linked to mother and pregnancy."""

from __future__ import annotations

import datetime as dt

from crecer.lib.documents import run_check_digit
from crecer.referrals.models import Referral
from crecer.registry.models import Caregiver, Child, Household, Pregnancy
from crecer.risks.models import RiskFlag
from crecer.tracking.models import Delivery, Screening
from tests.browser.conftest import fits_the_phone


def test_a_midwife_enters_a_pregnancy_with_a_positive_epsa_and_registers_the_birth(
    transactional_db, sign_in, cast, network, today
):
    page = sign_in(cast["nurse_alta"])
    assert fits_the_phone(page)

    # The entry is in the navigation and on the home page.
    assert page.locator("main").get_by_role("link", name="Ingresar gestante").is_visible()
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="Ingresar gestante").click()
    assert page.url.endswith("/caregivers/new/")
    assert fits_the_phone(page)

    document = f"21333444-{run_check_digit(21333444)}"
    page.fill("input[name=given_names]", "Francisca")
    page.fill("input[name=paternal_surname]", "Huenchullán")
    page.fill("input[name=maternal_surname]", "Rivas")
    page.fill("input[name=birth_date]", "1999-09-09")
    page.fill("input[name=national_id]", document)
    page.fill("input[name=phone]", "+56 9 5555 1111")
    page.fill("input[name=address]", "Los Copihues 45, Comuna Alta")
    page.fill("input[name=vulnerability_percentile]", "35")
    with page.expect_navigation():
        page.get_by_role("button", name="Revisar y continuar").click()
    mother = Caregiver.unscoped.get(national_id=document)
    household = Household.unscoped.get(pk=mother.household_id)
    assert (household.address, household.vulnerability_percentile) == ("Los Copihues 45, Comuna Alta", 35)
    assert f"/pregnancies/new/?mother={mother.pk}" in page.url
    assert f"Se registró a {mother.full_name}. Ahora, su gestación." in page.locator(".messages").inner_text()
    assert fits_the_phone(page)

    # The pregnancy by its LMP, and the EPsA of this visit with one risk factor.
    # (dated so that the birth registered below, today, falls at term)
    lmp = today - dt.timedelta(weeks=39)
    page.fill("input[name=lmp_date]", lmp.isoformat())
    page.fill("input[name=first_visit_date]", (lmp + dt.timedelta(weeks=12)).isoformat())
    page.check("input[name='s.epsa.low_support']")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar la gestación").click()
    pregnancy = Pregnancy.unscoped.get(mother=mother)
    assert page.url.endswith(f"/pregnancies/{pregnancy.pk}/")
    assert "Se guardaron la gestación y su primer control." in page.locator(".messages").inner_text()
    assert pregnancy.first_visit_week == 12
    assert Screening.unscoped.get(pregnancy=pregnancy).classification == "positive"
    assert RiskFlag.unscoped.filter(pregnancy=pregnancy, rule_id="epsa_positive", status="open").exists()
    risks = page.locator("section.risk")
    assert risks.is_visible()
    assert "Riesgo psicosocial en la gestación (EPsA)" in risks.inner_text()
    offer = risks.get_by_role("button", name="Derivar a Visita domiciliaria integral ahora")
    assert offer.is_visible()
    assert fits_the_phone(page)

    # The referral in one click.
    with page.expect_navigation():
        offer.click()
    referral = Referral.unscoped.get(pregnancy=pregnancy)
    assert referral.service.code == "home_visit" and referral.state == "sent"
    assert page.url.endswith(f"/referrals/{referral.pk}/")
    assert fits_the_phone(page)

    # The birth, from the pregnancy's page.
    page.goto(f"{page.base}/pregnancies/{pregnancy.pk}/")
    assert not page.locator("section.risk button").count()  # already referred
    with page.expect_navigation():
        page.get_by_role("link", name="Registrar el nacimiento").click()
    assert fits_the_phone(page)
    page.fill("input[name=given_names]", "Amaru")
    page.fill("input[name=paternal_surname]", "Huenchullán")
    page.select_option("select[name=sex]", "M")
    page.fill("input[name=birth_weight_g]", "3420")
    page.fill("input[name=gestational_weeks]", "39")
    assert page.is_checked("input[name=welcome_kit]")
    with page.expect_navigation():
        page.get_by_role("button", name="Registrar al recién nacido").click()
    child = Child.unscoped.get(pregnancy=pregnancy)
    assert page.url.endswith(f"/children/{child.pk}/")
    assert f"Se registró el nacimiento de {child.full_name}." in page.locator(".messages").inner_text()
    assert child.caregiver_links.get().caregiver_id == mother.pk
    assert (child.birth_weight_g, child.gestational_weeks, child.birth_date) == (3420, 39, today)
    assert Delivery.unscoped.filter(child=child, service_code="welcome_kit").exists()
    text = page.locator("main").inner_text()
    assert "Francisca Huenchullán Rivas" in text  # the mother, linked
    assert child.registry_number in text  # the provisional identity until a document is added
    assert fits_the_phone(page)
