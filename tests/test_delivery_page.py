"""The child page's form for a home visit or a stimulation session: offered from the child's page, written
through the shared delivery action, audited, shown on the child's timeline; only services given by visits
or sessions are accepted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer import conf
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.tracking.models import Delivery


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def child(make_child, today):
    return make_child(birth_date=(today - dt.timedelta(days=120)).isoformat(), facility_code="F-ALTA")


def test_the_child_page_links_to_the_form(cast, child):
    html = _client(cast["nurse_alta"]).get(f"/children/{child.pk}/").content.decode()
    assert f'href="/children/{child.pk}/deliveries/new/"' in html


def test_the_form_offers_the_visits_and_sessions_of_the_profile(cast, child):
    response = _client(cast["nurse_alta"]).get(f"/children/{child.pk}/deliveries/new/")
    assert response.status_code == 200
    offered = {code for code, _name in response.context["services"]}
    assert {"home_visit", "stimulation_session"} <= offered
    for code in offered:
        service = conf.profile().service(code)
        assert service.delivery in ("visit", "session") and service.subject == "child"
    assert "welcome_kit" not in offered and "parenting_programme" not in offered
    # A child-protection visit is a sensitive category the nurse may not record: not offered.
    assert "child_protection" not in offered
    assert AuditEvent.objects.filter(actor=cast["nurse_alta"], action=Action.READ, child_id=child.pk).exists()


def test_a_home_visit_is_saved_and_shown_on_the_child_page(cast, child, today):
    nurse = cast["nurse_alta"]
    client = _client(nurse)
    day = today - dt.timedelta(days=2)
    response = client.post(
        f"/children/{child.pk}/deliveries/new/",
        {"service": "home_visit", "date": day.isoformat(), "facility_code": "F-ALTA", "detail": "Visita con la abuela"},
    )
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"
    assert "Se guardó: Visita domiciliaria" in client.get(response["Location"]).content.decode()
    delivery = Delivery.unscoped.get(child=child)
    assert (delivery.service_code, delivery.delivered_on, delivery.facility.code, delivery.recorded_by_id) == (
        "home_visit",
        day,
        "F-ALTA",
        nurse.pk,
    )
    event = AuditEvent.objects.get(entity="tracking.delivery", entity_id=delivery.pk, action=Action.CREATE)
    assert event.channel == Channel.WEB and event.child_id == child.pk
    page = client.get(f"/children/{child.pk}/")
    visits = [i for i in page.context["timeline"] if i.kind == "delivery"]
    assert [(i.date, i.data["service"], i.detail) for i in visits] == [(day, "home_visit", "Visita con la abuela")]
    assert conf.profile().service("home_visit").name("es") in page.content.decode()


@pytest.mark.parametrize("service", ["welcome_kit", "parenting_programme", "no_such_service", ""])
def test_a_service_that_is_not_a_visit_or_session_is_refused(cast, child, today, service):
    response = _client(cast["nurse_alta"]).post(
        f"/children/{child.pk}/deliveries/new/", {"service": service, "date": today.isoformat()}
    )
    assert response.status_code == 422
    assert "service" in response.context["errors"]
    assert 'id="service-error"' in response.content.decode()
    assert not Delivery.unscoped.exists()


def test_bad_date_and_foreign_place_are_named_beside_their_fields(cast, child, today):
    response = _client(cast["nurse_alta"]).post(
        f"/children/{child.pk}/deliveries/new/",
        {"service": "home_visit", "date": (today + dt.timedelta(days=1)).isoformat(), "facility_code": "F-AUSTRAL"},
    )
    assert response.status_code == 422
    assert {"date", "facility_code"} <= set(response.context["errors"])
    assert not Delivery.unscoped.exists()


def test_refused_outside_the_scope_and_without_the_right(cast, child, today):
    body = {"service": "home_visit", "date": today.isoformat()}
    assert _client(cast["nurse_baja"]).post(f"/children/{child.pk}/deliveries/new/", body).status_code == 404
    assert _client(cast["nurse_baja"]).get(f"/children/{child.pk}/deliveries/new/").status_code == 404
    assert _client(cast["regional_norte"]).post(f"/children/{child.pk}/deliveries/new/", body).status_code == 403
    assert not Delivery.unscoped.exists()


def test_a_child_seen_at_the_centre_but_living_elsewhere_is_refused_not_crashed(cast, children, today):
    attends_alta = children["baja"]  # lives in Baja, attends the Alta centre: the Alta nurse sees her
    client = _client(cast["nurse_alta"])
    assert client.get(f"/children/{attends_alta.pk}/").status_code == 200
    body = {"service": "home_visit", "date": today.isoformat()}
    assert client.post(f"/children/{attends_alta.pk}/deliveries/new/", body).status_code == 403
    assert not Delivery.unscoped.exists()
