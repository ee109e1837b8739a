"""In a real browser set to English: the pages are Spanish until the user picks English on their
account page, then English (remembered on their next sign-in); the main pages show no internal codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crecer.access.models import User
from tests.browser.conftest import PHONE
from tests.code_tokens import code_tokens
from tests.conftest import PASSWORD
from tests.test_no_codes_for_people import world  # noqa: F401 - the small world of the pages


@pytest.fixture
def english_browser(_browser: Any, live_server: Any) -> Iterator[Any]:
    """New pages of a phone whose browser asks for English (Accept-Language: en-US)."""
    contexts = []

    def page() -> Any:
        context = _browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        new = context.new_page()
        new.base = live_server.url
        return new

    yield page
    for context in contexts:
        context.close()


def _sign_in(page: Any, user: User) -> Any:
    page.goto(page.base + "/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(#id_password) button[type=submit]").click()
    return page


def test_english_browser_gets_spanish_until_the_user_picks_english(transactional_db, english_browser, cast):
    page = english_browser()
    page.goto(page.base + "/login/")
    assert page.evaluate("document.documentElement.lang") == "es"
    _sign_in(page, cast["nurse_alta"])
    assert page.evaluate("document.documentElement.lang") == "es" and "Niños" in page.inner_text("nav")
    page.goto(page.base + "/account/")
    page.select_option("#id_language", "en")
    with page.expect_navigation():
        page.locator("form:has(#id_language) button[type=submit]").click()
    assert page.evaluate("document.documentElement.lang") == "en" and "My account" in page.content()
    page.goto(page.base + "/worklists/")
    assert "Children" in page.inner_text("nav")
    # Another phone, the same user: remembered.
    again = _sign_in(english_browser(), cast["nurse_alta"])
    assert again.evaluate("document.documentElement.lang") == "en"


def test_the_main_pages_in_a_browser_show_no_codes(transactional_db, english_browser, cast, network, world):  # noqa: F811
    page = _sign_in(english_browser(), cast["coordinator_alta"])
    names = list(User.objects.values_list("username", flat=True))
    child, referral = world["child"].pk, world["referral"].pk
    found = {}
    for path in ("/", "/worklists/", f"/children/{child}/", f"/referrals/{referral}/", "/referrals/", "/monitoring/"):
        page.goto(page.base + path)
        codes = code_tokens(page.content(), allowed=names)
        if codes:
            found[path] = codes
    assert found == {}
