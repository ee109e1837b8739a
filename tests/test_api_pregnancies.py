"""API v1 for pregnancies and births: registering a pregnancy, reading it (logged), and recording the
birth — a newborn registered, or an existing child given — linked to the mother and the pregnancy, all
or nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from crecer.audit.models import Action, AuditEvent
from crecer.lib.documents import run_check_digit
from crecer.registry import actions
from crecer.registry.models import CaregiverLink, Child, Pregnancy
from tests.conftest import SYSTEM

API = "/api/v1"
MOTHER_DOC = "15432876-9"


def _send(client, method, path, data=None):
    return getattr(client, method)(f"{API}{path}", data=json.dumps(data or {}), content_type="application/json")


def _reads(user, **filters):
    return AuditEvent.objects.filter(action=Action.READ, actor=user, **filters)


def _ago(today: dt.date, days: int) -> str:
    return (today - dt.timedelta(days=days)).isoformat()


@pytest.fixture
def mother(make_mother):
    return make_mother()


@pytest.fixture
def ongoing(mother, today):
    return actions.create_pregnancy(
        SYSTEM, {"mother_national_id": MOTHER_DOC, "lmp_date": _ago(today, 270), "facility_code": "F-ALTA"}
    )


def _newborn(today: dt.date, **extra):
    return {
        "given_names": "Antonia",
        "paternal_surname": "Pérez",
        "maternal_surname": "Rojas",
        "sex": "F",
        "birth_date": today.isoformat(),
        "birth_weight_g": 3280,
        "gestational_weeks": 39,
        **extra,
    }


# --- registering a pregnancy ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["nurse_alta", "coordinator_alta"])
def test_register_a_pregnancy_of_a_mother_given_by_id(cast, api_client, mother, today, role):
    body = {"mother": mother.pk, "lmp_date": _ago(today, 70), "first_visit_date": today.isoformat()}
    response = _send(api_client(cast[role]), "post", "/pregnancies", body)
    assert response.status_code == 201, response.json()
    out = response.json()
    pregnancy = Pregnancy.unscoped.get(pk=out["id"])
    assert (out["mother"], out["outcome"], out["children"], out["first_visit_week"]) == (mother.pk, "ongoing", [], 10)
    assert out["edd_date"] == (today - dt.timedelta(days=70) + dt.timedelta(days=280)).isoformat()
    event = AuditEvent.objects.get(entity="registry.pregnancy", entity_id=pregnancy.pk)
    assert (event.action, event.actor_id, event.channel) == (Action.CREATE, cast[role].pk, "api")


def test_register_a_pregnancy_of_a_mother_given_by_document(cast, api_client, mother, today):
    body = {"mother_national_id": "15.432.876-9", "edd_date": (today + dt.timedelta(days=100)).isoformat()}
    response = _send(api_client(cast["nurse_alta"]), "post", "/pregnancies", body)
    assert response.status_code == 201
    assert response.json()["mother"] == mother.pk


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "edd_date", "required"),
        ({"lmp_date": "2999-01-01"}, "lmp_date", "future"),
        ({"lmp_date": "ayer"}, "lmp_date", "invalid_date"),
        ({"lmp_date": "2025-01-01", "outcome": "twins"}, "outcome", "invalid_choice"),
        ({"lmp_date": "2025-01-01", "first_visit_week": 60}, "first_visit_week", "out_of_range"),
    ],
)
def test_pregnancy_errors_name_the_field(cast, api_client, mother, body, field, code):
    response = _send(api_client(cast["nurse_alta"]), "post", "/pregnancies", {"mother": mother.pk, **body})
    assert response.status_code == 422
    assert code in [e["code"] for e in response.json()["errors"][field]]
    assert not Pregnancy.unscoped.exists()


def test_a_mother_unknown_by_document_is_a_field_error(cast, api_client, country):
    response = _send(api_client(cast["nurse_alta"]), "post", "/pregnancies", {"mother_national_id": MOTHER_DOC})
    assert response.json()["errors"]["mother_national_id"][0]["code"] == "unknown"


def test_a_mother_out_of_scope_given_by_id_is_404(cast, api_client, make_mother):
    austral = make_mother(territory_code="CL02001")
    response = _send(
        api_client(cast["nurse_alta"]), "post", "/pregnancies", {"mother": austral.pk, "lmp_date": "2025-06-01"}
    )
    assert response.status_code == 404
    assert not Pregnancy.unscoped.exists()


def test_a_mother_living_elsewhere_is_refused_naming_the_mother(cast, api_client, make_mother, make_child):
    # She lives in Baja but her child lives in Alta: the Alta nurse sees her, and may not register for her.
    baja = make_mother(territory_code="CL01002")
    make_child(mother_national_id=MOTHER_DOC)
    client = api_client(cast["nurse_alta"])
    by_id = _send(client, "post", "/pregnancies", {"mother": baja.pk, "lmp_date": "2025-06-01"})
    assert by_id.status_code == 422
    assert by_id.json()["errors"] == {"mother": [by_id.json()["errors"]["mother"][0]]}
    assert by_id.json()["errors"]["mother"][0]["code"] == "out_of_scope"
    by_document = _send(client, "post", "/pregnancies", {"mother_national_id": MOTHER_DOC, "lmp_date": "2025-06-01"})
    assert list(by_document.json()["errors"]) == ["mother_external_id"]
    assert by_document.json()["errors"]["mother_external_id"][0]["code"] == "out_of_scope"
    assert not Pregnancy.unscoped.exists()


@pytest.mark.parametrize(("role", "status"), [("national", 403), ("auditor", 404), ("inspector", 404), ("admin", 404)])
def test_other_roles_cannot_register_a_pregnancy(cast, api_client, mother, role, status):
    response = _send(api_client(cast[role]), "post", "/pregnancies", {"mother": mother.pk, "lmp_date": "2025-06-01"})
    assert response.status_code == status
    assert not Pregnancy.unscoped.exists()


# --- reading a pregnancy ----------------------------------------------------------------------------------


def test_read_a_pregnancy_logs_it(cast, api_client, ongoing):
    nurse = cast["nurse_alta"]
    response = api_client(nurse).get(f"{API}/pregnancies/{ongoing.pk}")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["facility_code"]) == (ongoing.pk, "F-ALTA")
    assert [(e.entity, e.entity_id, e.child_id) for e in _reads(nurse)] == [("registry.pregnancy", ongoing.pk, None)]


@pytest.mark.parametrize("role", ["nurse_baja", "auditor_sur", "inspector", "admin", "provider_opd"])
def test_a_pregnancy_out_of_scope_is_404(cast, api_client, ongoing, role):
    assert api_client(cast[role]).get(f"{API}/pregnancies/{ongoing.pk}").status_code == 404
    assert not _reads(cast[role]).exists()


# --- births -------------------------------------------------------------------------------------------------


def test_record_the_birth_of_a_newborn(cast, api_client, mother, ongoing, today):
    nurse = cast["nurse_alta"]
    response = _send(api_client(nurse), "post", f"/pregnancies/{ongoing.pk}/birth", _newborn(today))
    assert response.status_code == 201, response.json()
    out = response.json()
    child = Child.unscoped.get(pk=out["child"]["id"])
    # Born of the pregnancy and its mother, living where she lives, with the birth's figures.
    assert (child.pregnancy_id, child.territory.code, child.birth_weight_g, child.gestational_weeks) == (
        ongoing.pk,
        "CL01001",
        3280,
        39,
    )
    assert CaregiverLink.unscoped.filter(child=child, caregiver=mother, relationship="mother").exists()
    ongoing.refresh_from_db()
    assert (ongoing.outcome, ongoing.outcome_date) == ("live_birth", today)
    assert (out["pregnancy"]["outcome"], out["pregnancy"]["children"]) == ("live_birth", [child.pk])
    assert (out["child"]["birth_weight_g"], out["child"]["gestational_weeks"]) == (3280, 39)
    # Audited: the child created, linked to its mother and to the pregnancy, the pregnancy ended.
    events = AuditEvent.objects.exclude(action=Action.READ).filter(actor=nurse)
    assert {(e.entity, e.action) for e in events} == {
        ("registry.child", Action.CREATE),
        ("registry.child", Action.UPDATE),
        ("registry.caregiverlink", Action.CREATE),
        ("registry.pregnancy", Action.UPDATE),
    }
    assert {(e.entity, e.entity_id, e.child_id) for e in _reads(nurse)} == {
        ("registry.child", child.pk, child.pk),
        ("registry.pregnancy", ongoing.pk, child.pk),
    }


def test_record_the_birth_of_a_child_already_registered(cast, api_client, mother, ongoing, make_child, today):
    born = make_child(birth_date=today.isoformat())
    response = _send(
        api_client(cast["coordinator_alta"]),
        "post",
        f"/pregnancies/{ongoing.pk}/birth",
        {"child": born.pk, "birth_weight_g": 2950, "gestational_weeks": 38},
    )
    assert response.status_code == 201, response.json()
    born.refresh_from_db()
    assert (born.pregnancy_id, born.birth_weight_g, born.gestational_weeks) == (ongoing.pk, 2950, 38)
    assert CaregiverLink.unscoped.filter(child=born, caregiver=mother, relationship="mother").exists()
    assert Child.unscoped.count() == 1


def test_twins_are_two_births_of_one_pregnancy(cast, api_client, ongoing, today):
    client = api_client(cast["nurse_alta"])
    first = _send(client, "post", f"/pregnancies/{ongoing.pk}/birth", _newborn(today))
    second = _send(client, "post", f"/pregnancies/{ongoing.pk}/birth", _newborn(today, given_names="Josefa"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert len(second.json()["pregnancy"]["children"]) == 2


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"birth_date": None}, "birth_date", "unborn"),
        ({"birth_date": "2999-01-01"}, "birth_date", "future"),
        ({"birth_weight_g": 90000}, "birth_weight_g", "out_of_range"),
        ({"territory_code": "CL02001"}, "territory_code", "out_of_scope"),
    ],
)
def test_a_newborn_with_errors_is_not_registered(cast, api_client, ongoing, today, body, field, code):
    raw = {**_newborn(today), **body}
    response = _send(api_client(cast["nurse_alta"]), "post", f"/pregnancies/{ongoing.pk}/birth", raw)
    assert response.status_code == 422
    assert response.json()["errors"][field][0]["code"] == code
    assert not Child.unscoped.exists()
    ongoing.refresh_from_db()
    assert ongoing.outcome == "ongoing"
    assert not AuditEvent.objects.filter(entity="registry.child").exists()


def test_a_birth_on_another_day_than_the_first_is_refused_and_leaves_nothing(cast, api_client, ongoing, today):
    client = api_client(cast["nurse_alta"])
    assert _send(client, "post", f"/pregnancies/{ongoing.pk}/birth", _newborn(today)).status_code == 201
    other_day = _newborn(today - dt.timedelta(days=1), given_names="Otra")
    response = _send(client, "post", f"/pregnancies/{ongoing.pk}/birth", other_day)
    assert response.status_code == 422
    assert response.json()["errors"]["birth_date"][0]["code"] == "other_day"
    assert Child.unscoped.count() == 1


def test_an_existing_child_of_another_mother_or_with_other_fields_is_refused(
    cast, api_client, ongoing, make_mother, make_child, today
):
    make_mother(given_names="Otra", national_id=f"{16333444}-{run_check_digit(16333444)}")
    other = make_child(birth_date=today.isoformat(), mother_national_id=f"{16333444}-{run_check_digit(16333444)}")
    client = api_client(cast["nurse_alta"])
    response = _send(client, "post", f"/pregnancies/{ongoing.pk}/birth", {"child": other.pk})
    assert response.json()["errors"]["child"][0]["code"] == "other_mother"
    renamed = _send(client, "post", f"/pregnancies/{ongoing.pk}/birth", {"child": other.pk, "given_names": "X"})
    assert response.status_code == renamed.status_code == 422
    assert renamed.json()["errors"]["given_names"][0]["code"] == "not_allowed"
    other.refresh_from_db()
    assert (other.pregnancy_id, other.given_names) == (None, "Sofía Antonia")


def test_a_pregnancy_that_ended_otherwise_takes_no_birth(cast, api_client, mother, today):
    lost = actions.create_pregnancy(
        SYSTEM,
        {
            "mother_national_id": MOTHER_DOC,
            "lmp_date": _ago(today, 100),
            "outcome": "miscarriage",
            "outcome_date": _ago(today, 30),
        },
    )
    response = _send(api_client(cast["nurse_alta"]), "post", f"/pregnancies/{lost.pk}/birth", _newborn(today))
    assert response.status_code == 422
    assert response.json()["errors"]["outcome"][0]["code"] == "closed"
    assert not Child.unscoped.exists()


def test_births_out_of_scope_or_by_readers(cast, api_client, ongoing, children, today):
    body = _newborn(today)
    assert _send(api_client(cast["nurse_baja"]), "post", f"/pregnancies/{ongoing.pk}/birth", body).status_code == 404
    assert _send(api_client(cast["national"]), "post", f"/pregnancies/{ongoing.pk}/birth", body).status_code == 403
    austral = {"child": children["austral"].pk}
    assert _send(api_client(cast["nurse_alta"]), "post", f"/pregnancies/{ongoing.pk}/birth", austral).status_code == 404
    assert not Child.unscoped.filter(pregnancy=ongoing).exists()
    assert Child.unscoped.count() == len(children)
