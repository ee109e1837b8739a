"""Spanish first: the interface is Spanish whatever the browser asks, until the user picks English
(remembered on the user, applied to every page and to the API's messages); anonymous pages follow the
choice made on them (a cookie); Spanish dates are dd/mm/aaaa and numbers have a decimal comma."""

from __future__ import annotations

import datetime as dt
import re

from django.test import Client

from crecer.access.models import User
from crecer.audit.models import Action, AuditEvent


def _signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # a browser set to English
    client.force_login(user)
    return client


def test_a_browser_asking_for_english_gets_spanish(cast):
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/login/").content.decode()
    assert '<html lang="es">' in anonymous and "Contraseña" in anonymous
    page = _signed_in(cast["nurse_alta"]).get("/").content.decode()
    assert '<html lang="es">' in page and "Niños" in page and ">Children<" not in page


def test_english_once_picked_is_remembered_for_the_user_and_audited(cast):
    nurse = cast["nurse_alta"]
    client = _signed_in(nurse)
    assert "Idioma" in client.get("/account/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/account/"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    nurse.refresh_from_db()
    assert nurse.language == "en"
    event = AuditEvent.objects.filter(action=Action.UPDATE, entity="access.user", entity_id=str(nurse.pk)).last()
    assert event is not None and event.before == {"language": ""} and event.after == {"language": "en"}
    # Another browser, asking for Spanish, without the cookie: the user's choice decides.
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="es")
    elsewhere.force_login(nurse)
    page = elsewhere.get("/").content.decode()
    assert '<html lang="en">' in page and ">Children<" in page
    # Back to Spanish from the account page.
    elsewhere.post("/i18n/setlang/", {"language": "es", "next": "/"})
    nurse.refresh_from_db()
    assert nurse.language == "es" and '<html lang="es">' in elsewhere.get("/").content.decode()


def test_an_unknown_language_changes_nothing(cast):
    nurse = cast["nurse_alta"]
    client = _signed_in(nurse)
    assert client.post("/i18n/setlang/", {"language": "fr", "next": "https://elsewhere.example/"})["Location"] == "/"
    nurse.refresh_from_db()
    assert nurse.language == ""


def test_the_public_pages_follow_the_choice_made_on_them(cast):
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")
    browser.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert '<html lang="en">' in browser.get("/login/").content.decode()
    browser.post("/i18n/setlang/", {"language": "es", "next": "/login/"})
    assert '<html lang="es">' in browser.get("/login/").content.decode()


def test_the_api_speaks_the_users_language(cast, api_client):
    nurse = cast["nurse_alta"]
    assert api_client(nurse).get("/api/v1/children/999999", HTTP_ACCEPT_LANGUAGE="en").json()["message"] == (
        "No encontrado."
    )
    User.objects.filter(pk=nurse.pk).update(language="en")
    nurse.refresh_from_db()
    assert api_client(nurse).get("/api/v1/children/999999").json()["message"] == "Not found."


def test_spanish_dates_are_day_month_year(cast, make_child):
    child = make_child(birth_date="2025-03-04", facility_code="F-ALTA")
    html = _signed_in(cast["nurse_alta"]).get(f"/children/{child.pk}/").content.decode()
    text = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
    assert "04/03/2025" in text and "2025-03-04" not in text
    assert dt.date(2025, 3, 4).strftime("%B") not in text


def test_a_get_of_the_switch_changes_nothing(cast):
    nurse = cast["nurse_alta"]
    response = _signed_in(nurse).get("/i18n/setlang/", {"language": "en", "next": "/account/"})
    nurse.refresh_from_db()
    assert response.status_code == 302 and nurse.language == ""
