"""On a 390 px phone: a nurse corrects the name of a child registered with a passport (the passport is
kept, shown as people name it), then links a father whose document has a wrong check digit and reads the
message beside the number; the mother's link has no button to remove it."""

from __future__ import annotations

from crecer.registry.models import Caregiver, CaregiverLink, Child
from tests.browser.conftest import fits_the_phone


def test_a_nurse_edits_a_passport_child_and_links_a_father(transactional_db, sign_in, cast, make_child, make_mother):
    mother = make_mother()
    child = make_child(
        national_id_type="PASSPORT",
        national_id="AB123456",
        mother_national_id=mother.national_id,
        facility_code="F-ALTA",
    )
    page = sign_in(cast["nurse_alta"])
    page.goto(f"{page.base}/children/{child.pk}/edit/")
    assert fits_the_phone(page)
    assert page.locator("#national_id_type option:checked").inner_text() == "Pasaporte"
    page.fill("#given_names", "Sofía Ignacia")
    page.fill("#reason", "Acta de nacimiento")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar los cambios").click()
    saved = Child.unscoped.get(pk=child.pk)
    assert (saved.given_names, saved.national_id_type, saved.national_id) == ("Sofía Ignacia", "PASSPORT", "AB123456")

    # The mother's link is shown without a button to remove it.
    caregivers = page.locator("#caregivers")
    assert mother.given_names in caregivers.inner_text()
    assert caregivers.get_by_role("button").count() == 0

    page.select_option("#link-relationship", "father")
    page.fill("#link-national_id", "11.111.111-2")  # the check digit of 11.111.111 is 1
    page.fill("#link-given_names", "Pedro")
    page.fill("#link-paternal_surname", "Muñoz")
    page.select_option("#link-sex", "M")
    page.fill("#link-reason", "Reconoce al niño en el CESFAM")
    with page.expect_navigation():
        page.get_by_role("button", name="Vincular", exact=True).click()
    beside = page.locator("#link-national_id + .field-error")
    assert beside.is_visible() and "dígito verificador" in beside.inner_text()
    assert page.input_value("#link-given_names") == "Pedro"
    assert fits_the_phone(page)
    assert not Caregiver.unscoped.filter(given_names="Pedro").exists()

    page.fill("#link-national_id", "11.111.111-1")
    with page.expect_navigation():
        page.get_by_role("button", name="Vincular", exact=True).click()
    assert CaregiverLink.unscoped.get(child=child, relationship="father").caregiver.given_names == "Pedro"
    assert page.locator("#caregivers").get_by_role("button").count() == 1  # the father's, not the mother's
    assert fits_the_phone(page)
