"""The check-up form offers the instruments that apply at the child's age on the check-up's date: a
check-up entered later for an earlier date gets the instrument that applied then, and an instrument
posted that does not apply at that age comes back with a plain error beside it (never silently dropped)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer.tracking.models import Encounter, Screening


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def toddler(make_child, today):
    """800 days old today: past the EEDP's band (up to 2 years), in the TEPSI's."""
    return make_child(birth_date=(today - dt.timedelta(days=800)).isoformat(), facility_code="F-ALTA")


def _codes(page):
    return {i["code"] for i in page.context["instruments"]}


def test_a_new_form_offers_the_instruments_of_todays_age(cast, toddler):
    codes = _codes(_client(cast["nurse_alta"]).get(f"/children/{toddler.pk}/check-up/"))
    assert "tepsi" in codes and "eedp" not in codes


def test_a_check_up_of_an_earlier_date_records_the_instrument_of_that_age(cast, toddler, today):
    visit = today - dt.timedelta(days=200)  # the child was 600 days old: EEDP age
    response = _client(cast["nurse_alta"]).post(
        f"/children/{toddler.pk}/check-up/", {"date": visit.isoformat(), "use.eedp": "on", "s.eedp.cd": "0.95"}
    )
    assert response.status_code == 302
    screening = Screening.unscoped.get(child=toddler)
    assert screening.instrument == "eedp" and screening.encounter.date == visit


def test_the_form_sent_back_offers_the_instruments_of_the_posted_date(cast, toddler, today):
    visit = today - dt.timedelta(days=200)
    page = _client(cast["nurse_alta"]).post(
        f"/children/{toddler.pk}/check-up/", {"date": visit.isoformat(), "m.weight_kg": "740"}
    )
    assert page.status_code == 422
    assert "eedp" in _codes(page) and "tepsi" not in _codes(page)
    assert not Encounter.unscoped.exists()


def test_an_instrument_that_does_not_apply_on_that_date_is_refused_beside_it(cast, toddler, today):
    response = _client(cast["nurse_alta"]).post(
        f"/children/{toddler.pk}/check-up/",
        {"date": today.isoformat(), "m.weight_kg": "11.5", "use.eedp": "on", "s.eedp.cd": "0.95"},
    )
    assert response.status_code == 422  # not saved without it
    assert not Encounter.unscoped.exists() and not Screening.unscoped.exists()
    eedp = next(i for i in response.context["instruments"] if i["code"] == "eedp")
    assert eedp["use"] and eedp["errors"]  # shown, ticked, with the error beside it
    message = eedp["errors"][0]["message"]
    assert message in response.content.decode()
    assert "eedp" not in message and "screenings[" not in message  # plain words
