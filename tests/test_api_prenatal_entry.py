"""API v1 for the first prenatal visit and the birth: likely existing caregivers asked before registering a
mother, the newborn welcome kit recorded with the birth (all or nothing), and the provisional identity of
a newborn without a document."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from crecer.audit.models import Action, AuditEvent
from crecer.registry import actions
from crecer.registry.models import Child, Pregnancy
from crecer.tracking.models import Delivery
from tests.conftest import SYSTEM

API = "/api/v1"


def _send(client, method, path, data=None):
    return getattr(client, method)(f"{API}{path}", data=json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def mother(make_mother):
    return make_mother()


@pytest.fixture
def ongoing(mother, today):
    return actions.create_pregnancy(
        SYSTEM, {"lmp_date": (today - dt.timedelta(weeks=39)).isoformat(), "facility_code": "F-ALTA"}, mother=mother
    )


def _newborn(today: dt.date, **extra):
    return {
        "given_names": "Amanda",
        "paternal_surname": "Pérez",
        "sex": "F",
        "birth_date": today.isoformat(),
        "birth_weight_g": 3280,
        "gestational_weeks": 39,
        **extra,
    }


def test_caregiver_matches_before_registering_a_mother(cast, api_client, mother):
    nurse = cast["nurse_alta"]
    typed = {
        "given_names": "Kamila",
        "paternal_surname": "Perez",
        "maternal_surname": "Rojas",
        "birth_date": "1995-06-01",
    }
    response = _send(api_client(nurse), "post", "/caregivers/matches", typed)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [mother.pk]
    assert results[0]["probability"] > 0.5 and results[0]["levels"]["given"] == "sounds_alike"
    assert AuditEvent.objects.filter(
        action=Action.READ, actor=nurse, entity="registry.caregiver", entity_id=mother.pk
    ).exists()
    by_document = _send(api_client(nurse), "post", "/caregivers/matches", {"national_id": "154328769"})
    assert [r["id"] for r in by_document.json()["results"]] == [mother.pk]
    # Out of scope: nobody; without the right to register: not found.
    assert _send(api_client(cast["nurse_baja"]), "post", "/caregivers/matches", typed).json()["results"] == []
    assert _send(api_client(cast["auditor"]), "post", "/caregivers/matches", typed).status_code == 404


def test_the_birth_records_the_welcome_kit_and_a_provisional_identity(cast, api_client, ongoing, today):
    nurse = cast["nurse_alta"]
    response = _send(api_client(nurse), "post", f"/pregnancies/{ongoing.pk}/birth", _newborn(today, welcome_kit=True))
    assert response.status_code == 201, response.content
    body = response.json()
    child = Child.unscoped.get(pk=body["child"]["id"])
    assert body["provisional_identity"] == child.registry_number and child.national_id is None
    kit = Delivery.unscoped.get(child=child)
    assert (kit.service_code, kit.delivered_on) == ("welcome_kit", today)
    created = AuditEvent.objects.filter(action=Action.CREATE, entity="tracking.delivery", child_id=child.pk)
    assert created.count() == 1


def test_a_newborn_with_a_document_has_no_provisional_identity_and_no_kit_unless_given(
    cast, api_client, ongoing, today
):
    from crecer.lib.documents import run_check_digit

    document = f"26111222-{run_check_digit(26111222)}"
    response = _send(
        api_client(cast["nurse_alta"]),
        "post",
        f"/pregnancies/{ongoing.pk}/birth",
        _newborn(today, national_id=document),
    )
    assert response.status_code == 201, response.content
    assert response.json()["provisional_identity"] is None
    assert not Delivery.unscoped.exists()


def test_a_refused_birth_writes_neither_the_newborn_nor_the_kit(cast, api_client, ongoing, today):
    response = _send(
        api_client(cast["nurse_alta"]),
        "post",
        f"/pregnancies/{ongoing.pk}/birth",
        _newborn(today, birth_weight_g=99999, welcome_kit=True),
    )
    assert response.status_code == 422
    assert "birth_weight_g" in json.dumps(response.json())
    assert not Child.unscoped.exists() and not Delivery.unscoped.exists()
    assert Pregnancy.unscoped.get(pk=ongoing.pk).outcome == "ongoing"
