"""Browser tests: a real Chromium (Debian's package, never a downloaded browser) driven by Playwright
against a live server, on a 390 px phone viewport.

Without a browser the tests are skipped on a developer's machine; under CI=true a missing browser is
a failure (`.ci/run` installs Debian's `chromium`). CRECER_CHROMIUM names another executable."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crecer.access.models import User
from tests.conftest import PASSWORD

PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    return os.environ.get("CRECER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def _browser() -> Iterator[Any]:
    path = chromium_path()
    if not path:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is needed for the browser tests in CI (apt-get install chromium)")
        pytest.skip("no chromium on this machine")
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API keeps an event loop in this thread; the ORM calls of the test
    # itself (fixtures, assertions) are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _plain_static_names(settings: Any) -> None:
    # The live server serves static files from the apps' folders under their plain names; a manifest
    # left in the data folder by `crecer serve` would otherwise name fingerprinted copies it does not serve.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def phone(_browser: Any, live_server: Any) -> Iterator[Any]:
    """A new page on a 390 px wide phone viewport, Spanish, with `phone.url(path)` to the live server."""
    context = _browser.new_context(viewport=PHONE, locale="es-CL", device_scale_factor=1, is_mobile=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base = live_server.url
    yield page
    context.close()


@pytest.fixture
def sign_in(phone: Any) -> Callable[[User], Any]:
    def go(user: User) -> Any:
        phone.goto(phone.base + "/login/")
        phone.fill("input[name=username]", user.username)
        phone.fill("input[name=password]", PASSWORD)
        with phone.expect_navigation():
            phone.locator("form:has(#id_password) button[type=submit]").click()
        assert "/login/" not in phone.url, phone.content()
        return phone

    return go


def fits_the_phone(page: Any) -> bool:
    """No horizontal scrolling on the phone's screen: the page is no wider than the viewport's 390 px.
    (Not ``window.innerWidth``: a mobile browser widens its layout viewport to content that overflows,
    so a page too wide for the screen would still "fit" that.)"""
    return bool(page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"])
