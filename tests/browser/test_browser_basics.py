"""The browser harness itself: sign in on a phone and read the home page in Spanish."""

from __future__ import annotations

from tests.browser.conftest import fits_the_phone


def test_a_nurse_signs_in_on_a_phone_and_sees_spanish(transactional_db, sign_in, cast):
    page = sign_in(cast["nurse_alta"])
    assert "/login/" not in page.url
    assert page.evaluate("document.documentElement.lang") == "es"
    assert "Cerrar sesión" in page.content() or "Salir" in page.content()
    assert fits_the_phone(page)
