"""An indicator's page (its trend with axes and values, the count to act on) and the list of the children
to act on fit a 390 px phone, in Spanish."""

from __future__ import annotations

from crecer.lib import periods
from crecer.monitoring import snapshots
from tests.browser.conftest import fits_the_phone
from tests.conftest import SYSTEM
from tests.test_indicators import D, deliver, kid
from tests.test_monitoring_managers import _freeze


def test_an_indicator_and_its_list_to_act_on_fit_the_phone(transactional_db, sign_in, cast, monkeypatch):
    on_time = kid(D(2025, 2, 1))
    deliver(on_time, "welcome_kit", D(2025, 2, 20))
    waiting = [kid(D(2025, 3, 1)), kid(D(2025, 4, 1))]
    _freeze(monkeypatch, "welcome_kit")
    snapshots.take(SYSTEM, periods.parse("2024"))
    snapshots.take(SYSTEM, periods.parse("2025"))

    page = sign_in(cast["regional_norte"])
    page.goto(page.base + "/monitoring/welcome_kit/?period=2025")
    assert fits_the_phone(page), page.evaluate("document.documentElement.scrollWidth")
    trend = page.locator("figure svg").first
    assert trend.bounding_box()["width"] <= 390
    labels = trend.locator("text").all_text_contents()
    assert "Periodo" in labels and "33,3%" in labels
    with page.expect_navigation():  # the new page loaded before it is measured
        page.get_by_role("link", name="2", exact=True).first.click()  # the two to act on in the region
    assert "side=missing" in page.url
    assert fits_the_phone(page), page.evaluate("document.documentElement.scrollWidth")
    content = page.content()
    assert "a quienes atender" in content
    assert all(child.registry_number in content for child in waiting) and on_time.registry_number not in content
