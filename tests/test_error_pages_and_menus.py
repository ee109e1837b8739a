"""The 403, 404 and 500 pages are in the site's layout and the user's language, with a way back; the
menu shows only what the role can open (each link answers 200); a merged record's old address and
registry number lead to the record that holds it now."""

from __future__ import annotations

import re

import pytest
from django.db import connections
from django.test import Client, RequestFactory
from django.urls import include, path

from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.dedup import merging
from crecer.web.views import server_error


def _boom(request):
    raise RuntimeError("a bug")


# A URL configuration with a page that fails, for the 500 page through the whole stack.
urlpatterns = [path("boom/", _boom), path("", include("crecer.urls"))]
handler500 = "crecer.web.views.server_error"


def _client(user: User, **headers: str) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


def test_not_found_in_the_users_language_with_a_way_back(cast, children):
    User.objects.filter(pk=cast["nurse_baja"].pk).update(language="en")
    cast["nurse_baja"].refresh_from_db()
    response = _client(cast["nurse_baja"]).get(f"/children/{children['alta'].pk}/")
    html = response.content.decode()
    assert response.status_code == 404 and '<html lang="en">' in html
    assert "Not found" in html and 'href="/">Back to the home page' in html
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en").get("/no-such-page/")
    assert anonymous.status_code == 404 and "No encontrado" in anonymous.content.decode()


def test_refused_in_the_layout_with_a_way_back(cast):
    response = _client(cast["auditor"], HTTP_ACCEPT_LANGUAGE="en").get("/caregivers/new/")
    html = response.content.decode()
    assert response.status_code == 403 and "No permitido" in html and 'class="top"' in html
    assert "Volver al inicio" in html


def test_a_server_error_page_in_spanish_without_the_database(settings, db):
    settings.ROOT_URLCONF = "tests.test_error_pages_and_menus"
    response = Client(raise_request_exception=False).get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500 and "Algo salió mal" in html and "Volver al inicio" in html
    assert 'class="top"' in html and "a bug" not in html and "Traceback" not in html
    # The handler itself never touches the database (which may be what failed).
    request = RequestFactory().get("/")
    request.LANGUAGE_CODE = "en"
    blocked = {alias: connections[alias].cursor for alias in connections}

    def refuse(*args, **kwargs):
        raise AssertionError("the error page used the database")

    try:
        for alias in connections:
            connections[alias].cursor = refuse
        english = server_error(request)
    finally:
        for alias, cursor in blocked.items():
            connections[alias].cursor = cursor
    assert english.status_code == 500 and "Something went wrong" in english.content.decode()


def _menu(html: str) -> list[str]:
    nav = html.split('<nav aria-label="', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


@pytest.mark.parametrize(
    "key",
    ["nurse_alta", "coordinator_alta", "regional_norte", "national", "provider_opd", "inspector", "auditor", "admin"],
)
def test_every_menu_link_of_each_role_opens(cast, key):
    client = _client(cast[key])
    links = _menu(client.get("/").content.decode())
    assert "/account/" in links
    refused = {link: client.get(link).status_code for link in links}
    assert {link: code for link, code in refused.items() if code != 200} == {}
    # The indicators: shown exactly to the roles whose pages open them.
    assert ("/monitoring/" in links) == (key not in {"provider_opd", "inspector"})


@pytest.fixture
def merged(cast, make_child):
    kept = make_child(given_names="Tomás", birth_date="2025-01-10", facility_code="F-ALTA")
    other = make_child(given_names="Tomas", birth_date="2025-01-10", facility_code="F-ALTA")
    merging.merge(Actor(cast["coordinator_alta"], Channel.WEB), kept.pk, other.pk, "Mismo niño")
    return kept, other


def test_a_merged_records_old_address_leads_to_the_survivor(cast, merged):
    kept, other = merged
    response = _client(cast["nurse_alta"]).get(f"/children/{other.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/children/{kept.pk}/"
    # Out of the user's scope: not found, as any record they may not see.
    assert _client(cast["nurse_baja"]).get(f"/children/{other.pk}/").status_code == 404


def test_a_merged_records_old_registry_number_finds_the_survivor(cast, merged):
    kept, other = merged
    page = _client(cast["nurse_alta"]).get("/children/", {"q": other.registry_number})
    assert [c.pk for c in page.context["page"].object_list] == [kept.pk]
    assert list(_client(cast["nurse_baja"]).get("/children/", {"q": other.registry_number}).context["page"]) == []
