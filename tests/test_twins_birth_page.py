"""Twins through the birth page: once the first baby is registered the pregnancy page offers "Register
another baby of this birth", and the second baby is registered on the same page, linked to the same
mother and pregnancy. The birth action decides what may be recorded: a pregnancy that ended otherwise
answers 422 with the reason in plain words and saves nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer.registry import actions as registry_actions
from crecer.registry.models import Child, Pregnancy
from tests.conftest import SYSTEM


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def mother(make_mother):
    return make_mother(paternal_surname="Rojas", birth_date="1995-03-02")


@pytest.fixture
def pregnancy(mother, today):
    return registry_actions.create_pregnancy(
        SYSTEM,
        {"lmp_date": (today - dt.timedelta(weeks=37)).isoformat(), "facility_code": "F-ALTA"},
        mother=mother,
    )


def _baby(name: str, day: dt.date) -> dict[str, str]:
    return {
        "given_names": name,
        "paternal_surname": "Pérez",
        "maternal_surname": "Rojas",
        "sex": "F",
        "birth_date": day.isoformat(),
        "birth_weight_g": "2450",
        "gestational_weeks": "37",
    }


def test_twins_are_registered_through_the_birth_page(cast, pregnancy, mother, today):
    client = _client(cast["nurse_alta"])
    first = client.post(f"/pregnancies/{pregnancy.pk}/birth/", _baby("Amanda", today))
    assert first.status_code == 302
    page = client.get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    assert "Register another baby of this birth" in page or "Registrar otro bebé de este parto" in page
    assert f'href="/pregnancies/{pregnancy.pk}/birth/"' in page
    form = client.get(f"/pregnancies/{pregnancy.pk}/birth/")
    assert form.status_code == 200
    # the second baby's birth date is offered as the day the pregnancy ended
    assert {f.name: f for f in form.context["fields"]}["birth_date"].value == today.isoformat()
    second = client.post(f"/pregnancies/{pregnancy.pk}/birth/", _baby("Belén", today))
    assert second.status_code == 302
    twins = Child.unscoped.filter(pregnancy=pregnancy).order_by("pk")
    assert [c.given_names for c in twins] == ["Amanda", "Belén"]
    assert all(c.caregiver_links.get().caregiver_id == mother.pk for c in twins)
    pregnancy.refresh_from_db()
    assert pregnancy.outcome == "live_birth" and pregnancy.outcome_date == today


def test_a_second_baby_born_another_day_is_refused_beside_its_date(cast, pregnancy, today):
    client = _client(cast["nurse_alta"])
    assert client.post(f"/pregnancies/{pregnancy.pk}/birth/", _baby("Amanda", today)).status_code == 302
    response = client.post(f"/pregnancies/{pregnancy.pk}/birth/", _baby("Belén", today - dt.timedelta(days=1)))
    assert response.status_code == 422
    assert {f.name: f for f in response.context["fields"]}["birth_date"].errors
    assert Child.unscoped.filter(pregnancy=pregnancy).count() == 1


def test_a_pregnancy_that_ended_otherwise_is_refused_in_plain_words(cast, pregnancy, today):
    Pregnancy.unscoped.filter(pk=pregnancy.pk).update(outcome="miscarriage", outcome_date=today)
    client = _client(cast["nurse_alta"])
    page = client.get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    assert f'href="/pregnancies/{pregnancy.pk}/birth/"' not in page
    response = client.post(f"/pregnancies/{pregnancy.pk}/birth/", _baby("Amanda", today))
    assert response.status_code == 422
    html = response.content.decode()
    assert "already ended" in html or "ya terminó" in html
    assert "outcome" not in " ".join(response.context["other_errors"])
    assert not Child.unscoped.exists()
