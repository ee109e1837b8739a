"""Pages: login, a home page per role, child search (with htmx), child profile, territory browser,
Spanish by default with an English switch, usable on a phone, served without any CDN."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_login_page_and_login(cast):
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assert 'name="viewport"' in page.content.decode()
    response = client.post("/login/", {"username": "enfermera_alta", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200


def test_anonymous_is_sent_to_login(db):
    response = Client().get("/children/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_repeated_failed_logins_lock_the_account(cast):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "enfermera_alta", "password": "wrong"}, REMOTE_ADDR="10.0.0.2")
    locked = client.post("/login/", {"username": "enfermera_alta", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2")
    assert locked.status_code in (403, 429)


@pytest.mark.parametrize(
    ("who", "marker"),
    [
        ("nurse_alta", "rows"),  # the worklist: a health worker's home is the list, not counts
        ("coordinator_alta", "breakdown"),
        ("regional_norte", "breakdown"),
        ("national", "breakdown"),
        ("provider_opd", "shared"),
        ("inspector", "centres"),
        ("auditor", "recent"),
        ("admin", "territory_count"),
    ],
)
def test_home_per_role(cast, children, who, marker):
    response = _client(cast[who]).get("/")
    assert response.status_code == 200
    assert marker in response.context


def test_national_home_counts_by_region(cast, children):
    breakdown = _client(cast["national"]).get("/").context["breakdown"]
    assert {row["territory"].code: row["children"] for row in breakdown} == {"CL01": 3, "CL02": 1}


def test_search_page_and_htmx_partial(cast, children):
    client = _client(cast["nurse_alta"])
    full = client.get("/children/", {"q": "agustin"})
    assert full.status_code == 200
    assert b"<html" in full.content and b"Agust\xc3\xadn" in full.content
    partial = client.get("/children/", {"q": "agustin"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"Agust\xc3\xadn" in partial.content


def test_profile_page(cast, children):
    response = _client(cast["nurse_alta"]).get(f"/children/{children['alta'].pk}/")
    assert response.status_code == 200
    assert children["alta"].registry_number in response.content.decode()


def test_territory_browser(cast, children):
    client = _client(cast["regional_norte"])
    root = client.get("/territories/")
    assert root.status_code == 200 and root.context["territory"].code == "CL01"
    municipality = client.get("/territories/CL01001/")
    assert municipality.context["children_count"] == 1  # living there (another attends its centre)
    assert [f.code for f in municipality.context["facilities"]] == ["F-ALTA"]


def test_spanish_by_default_english_on_request(cast):
    client = _client(cast["nurse_alta"])
    spanish = client.get("/").content.decode()
    assert '<html lang="es">' in spanish
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    assert '<html lang="en">' in english
    assert "Children" in english


def test_no_external_assets(cast, children):
    page = _client(cast["nurse_alta"]).get(f"/children/{children['alta'].pk}/").content.decode()
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not url.startswith(("http:", "https:", "//")), url
    static = Client().get("/static/django_htmx/htmx-2.min.js")
    assert static.status_code == 200


def test_security_headers(cast):
    response = _client(cast["nurse_alta"]).get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"
