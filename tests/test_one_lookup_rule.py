"""One "or 404" rule per record, shared by pages and API: a pregnancy (in scope and health data readable,
:func:`crecer.registry.scope.get_pregnancy_or_404`), a child's measurement and screening
(:func:`crecer.tracking.scope.get_measurement_or_404` / ``get_screening_or_404``). What the page refuses
with 404 the API refuses with 404 too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer.access import permissions
from crecer.access.models import DataCategory
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import actions as registry_actions
from crecer.territories.models import Organisation
from crecer.tracking import actions
from crecer.tracking.models import Measurement, Screening
from tests.conftest import SYSTEM


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def infant(make_child, today):
    return make_child(birth_date=(today - dt.timedelta(days=250)).isoformat(), facility_code="F-ALTA")


@pytest.fixture
def recorded(cast, infant, today):
    encounter = actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 8.1, "length_cm": 69},
            "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.9}}],
        },
        child=infant,
    )
    return Measurement.unscoped.get(encounter=encounter), Screening.unscoped.get(encounter=encounter)


@pytest.fixture
def shared_without_health(cast, network, infant):
    """The infant shared with the OPD for its social situation only: the provider sees the child, not its
    health data."""
    opd = Organisation.objects.get(code="OPD-ALTA")
    registry_actions.grant_access(SYSTEM, infant, opd, [DataCategory.SOCIAL], "case")
    return cast["provider_opd"]


def test_a_measurement_the_page_hides_the_api_hides_too(cast, recorded, shared_without_health, api_client):
    measurement, _screening = recorded
    provider = shared_without_health
    assert _client(provider).get(f"/measurements/{measurement.pk}/correct/").status_code == 404
    response = api_client(provider).post(
        f"/api/v1/measurements/{measurement.pk}/correct",
        {"changes": {"weight_kg": 8.2}, "reason": "typo"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Measurement.unscoped.filter(child=measurement.child).count() == 1


def test_a_screening_the_page_hides_the_api_hides_too(cast, recorded, shared_without_health, api_client):
    _measurement, screening = recorded
    provider = shared_without_health
    assert _client(provider).get(f"/screenings/{screening.pk}/correct/").status_code == 404
    response = api_client(provider).post(
        f"/api/v1/screenings/{screening.pk}/correct",
        {"inputs": {"cd": 0.95}, "reason": "typo"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_in_scope_the_measurement_is_found_by_page_and_api(cast, recorded, api_client):
    measurement, _screening = recorded
    assert _client(cast["nurse_alta"]).get(f"/measurements/{measurement.pk}/correct/").status_code == 200
    response = api_client(cast["nurse_alta"]).post(
        f"/api/v1/measurements/{measurement.pk}/correct",
        {"changes": {"weight_kg": 8.2}, "reason": "typo"},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_a_pregnancy_without_health_data_is_404_on_page_and_api(cast, make_mother, today, api_client, monkeypatch):
    mother = make_mother()
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM, {"lmp_date": (today - dt.timedelta(weeks=12)).isoformat(), "facility_code": "F-ALTA"}, mother=mother
    )
    nurse = cast["nurse_alta"]
    assert _client(nurse).get(f"/pregnancies/{pregnancy.pk}/").status_code == 200
    assert api_client(nurse).get(f"/api/v1/pregnancies/{pregnancy.pk}").status_code == 200
    readable = permissions.readable_categories
    # a country where this role does not read health data
    monkeypatch.setattr(
        permissions,
        "readable_categories",
        lambda user: readable(user) - {DataCategory.HEALTH} if user and user.pk == nurse.pk else readable(user),
    )
    assert _client(nurse).get(f"/pregnancies/{pregnancy.pk}/").status_code == 404
    assert _client(nurse).get(f"/pregnancies/{pregnancy.pk}/birth/").status_code == 404
    api = api_client(nurse)
    assert api.get(f"/api/v1/pregnancies/{pregnancy.pk}").status_code == 404
    assert (
        api.post(
            f"/api/v1/pregnancies/{pregnancy.pk}/encounters",
            {"date": today.isoformat()},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        api.post(
            "/api/v1/referrals",
            {"pregnancy": pregnancy.pk, "service": "home_visit", "reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
