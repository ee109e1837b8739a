"""Two-factor sign-in on a phone: a national manager is led to enrol (QR code and key), keeps the
recovery codes, and at the next sign-in types a code; the administrators' user pages fit the phone."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import fits_the_phone
from tests.conftest import PASSWORD
from tests.test_two_factor import code_for


def _password_step(page, user):
    page.goto(page.base + "/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(#id_password) button[type=submit]").click()


def test_a_national_manager_enrols_and_then_signs_in_with_a_code(transactional_db, phone, cast, settings):
    settings.CRECER_TWO_FACTOR_ROLES = ["national_manager", "admin", "auditor"]
    user = cast["national"]
    _password_step(phone, user)
    phone.wait_for_url("**/account/two-factor/**")
    assert phone.locator(".qr svg").is_visible()
    assert phone.locator("code.secret").inner_text().strip()
    assert fits_the_phone(phone)

    phone.fill("input[name=code]", code_for(TOTPDevice.objects.get(user=user, confirmed=False)))
    with phone.expect_navigation():
        phone.locator("form button[type=submit]").last.click()
    assert phone.locator("ul.codes li").count() == 10
    assert "Sus códigos de recuperación" in phone.content()
    assert fits_the_phone(phone)
    with phone.expect_navigation():
        phone.get_by_text("Ya los guardé: continuar").click()
    assert "/account/" not in phone.url

    phone.context.clear_cookies()
    _password_step(phone, user)
    phone.wait_for_url("**/account/two-factor/verify/**")
    assert "Segundo paso" in phone.content()
    assert fits_the_phone(phone)
    phone.fill("input[name=code]", code_for(TOTPDevice.objects.get(user=user)))
    with phone.expect_navigation():
        phone.locator("form button[type=submit]").last.click()
    assert "/two-factor/" not in phone.url and "/login/" not in phone.url


def test_the_user_pages_fit_the_phone(transactional_db, sign_in, cast):
    page = sign_in(cast["admin"])
    page.goto(page.base + "/users/")
    assert "enfermera_alta" in page.content()
    assert fits_the_phone(page)
    page.goto(page.base + f"/users/{cast['nurse_alta'].pk}/")
    assert fits_the_phone(page)
    page.goto(page.base + "/account/")
    assert fits_the_phone(page)
