"""A nurse meets a document registered in another territory and requests a transfer on her phone; the
coordinator of that territory approves it on hers."""

from __future__ import annotations

from crecer.access.models import Role
from crecer.registry.models import Child
from tests.browser.conftest import fits_the_phone
from tests.conftest import CHILD_DEFAULTS


def test_a_nurse_requests_a_transfer_and_the_coordinator_approves_it(
    transactional_db, sign_in, cast, make_child, make_user
):
    zeta = make_child(
        given_names="Zenón",
        paternal_surname="Pichihueche",
        national_id="24.987.654-2",
        territory_code="CL02001",
        facility_code="F-AUSTRAL",
    )
    austral = make_user("coord_austral", Role.MUNICIPAL_COORDINATOR, "CL02001")
    page = sign_in(cast["nurse_alta"])
    page.goto(page.base + "/children/new/")
    for name in ("given_names", "paternal_surname", "birth_date"):
        page.fill(f"[name={name}]", CHILD_DEFAULTS[name])
    page.select_option("[name=sex]", "F")
    page.fill("[name=national_id]", "24.987.654-2")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "otro territorio" in page.content() and "Pichihueche" not in page.content()
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Solicitar el traslado de este registro").click()
    assert page.input_value("#national_id") == "24.987.654-2"
    page.fill("#reason", "La familia vive ahora en Alta")
    with page.expect_navigation():
        page.get_by_role("button", name="Solicitar el traslado").click()
    assert "Pendiente" in page.content() and "Pichihueche" not in page.content()
    assert fits_the_phone(page)
    page.context.clear_cookies()
    page = sign_in(austral)
    page.goto(page.base + "/transfers/")
    assert "Pichihueche" in page.content()
    assert fits_the_phone(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Aprobar: trasladar el registro").click()
    assert Child.unscoped.get(pk=zeta.pk).territory.code == "CL01001"
