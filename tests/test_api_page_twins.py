"""API twins of the front-line pages: one household with its members, the groups and one group (members,
sessions, completion), marking notifications read, and a pregnancy registered with its first visit (the
EPsA) all or nothing. Each by role: in scope, out of scope (404), a role without the right."""

from __future__ import annotations

import datetime as dt

import pytest

from crecer.audit.models import Action, AuditEvent
from crecer.referrals.models import Notification
from crecer.registry import actions as registry_actions
from crecer.registry.models import Pregnancy
from crecer.risks.models import RiskFlag
from crecer.territories.models import Facility
from crecer.tracking import actions as tracking_actions
from crecer.tracking.models import Encounter, Screening
from tests.conftest import SYSTEM

# --- one household -------------------------------------------------------------------------------------


@pytest.fixture
def home(make_mother, make_child):
    household = registry_actions.create_household(
        SYSTEM, {"code": "H-API", "territory_code": "CL01001", "address": "Pasaje 2", "vulnerability_percentile": 20}
    )
    mother = make_mother(household_code="H-API")
    child = make_child(household_code="H-API")
    return household, mother, child


def test_a_household_and_its_members_in_scope(cast, home, api_client):
    household, mother, child = home
    nurse = cast["nurse_alta"]
    response = api_client(nurse).get(f"/api/v1/households/{household.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "H-API" and body["address"] == "Pasaje 2" and body["vulnerability_percentile"] == 20
    assert [c["id"] for c in body["caregivers"]] == [mother.pk]
    assert body["caregivers"][0]["paternal_surname"] == mother.paternal_surname
    assert [c["id"] for c in body["children"]] == [child.pk]
    assert AuditEvent.objects.filter(action=Action.READ, actor=nurse, child_id=child.pk).exists()


def test_a_household_out_of_scope_or_for_an_organisation_is_404(cast, home, api_client):
    household, _mother, _child = home
    for role in ("nurse_baja", "provider_opd"):
        assert api_client(cast[role]).get(f"/api/v1/households/{household.pk}").status_code == 404
    assert api_client(cast["nurse_alta"]).get("/api/v1/households/999999").status_code == 404


# --- groups --------------------------------------------------------------------------------------------


@pytest.fixture
def group(make_mother, make_child, today):
    group = tracking_actions.create_group(
        SYSTEM,
        code="GR-API",
        name="Nadie es Perfecto",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=35),
        planned_sessions=6,
    )
    mother = make_mother()
    child = make_child()
    tracking_actions.record_attendance(SYSTEM, group, mother, [1, 2, 3, 4, 5, 6], child)
    return group, mother, child


def test_the_groups_of_the_territory_are_listed_without_people(cast, group, api_client):
    response = api_client(cast["coordinator_alta"]).get("/api/v1/groups")
    assert response.status_code == 200
    assert [g["code"] for g in response.json()["results"]] == ["GR-API"]
    assert response.json()["count"] == 1
    # another territory and an organisation see no group
    assert api_client(cast["nurse_baja"]).get("/api/v1/groups").json()["results"] == []
    assert api_client(cast["provider_opd"]).get("/api/v1/groups").json()["results"] == []


def test_one_group_with_members_sessions_and_completion(cast, group, api_client):
    g, mother, child = group
    nurse = cast["nurse_alta"]
    response = api_client(nurse).get("/api/v1/groups/GR-API")
    assert response.status_code == 200
    body = response.json()
    minimum = tracking_actions.completion_minimum(g)
    assert body["minimum"] == minimum and body["planned_sessions"] == 6
    (member,) = body["members"]
    assert member["caregiver"] == mother.pk and member["child"] == child.pk
    assert member["attended"] == [1, 2, 3, 4, 5, 6] and member["sessions_attended"] == 6
    assert member["completed"] is True and member["missing"] == 0 and member["completed_on"]
    assert [s["number"] for s in body["sessions"]] == list(range(1, 7))
    assert all(s["held"] for s in body["sessions"])
    assert AuditEvent.objects.filter(action=Action.READ, actor=nurse, child_id=child.pk).exists()


def test_a_group_out_of_scope_is_404(cast, group, api_client):
    for role in ("nurse_baja", "provider_opd"):
        assert api_client(cast[role]).get("/api/v1/groups/GR-API").status_code == 404
    assert api_client(cast["nurse_alta"]).get("/api/v1/groups/NOPE").status_code == 404


# --- notifications ---------------------------------------------------------------------------------------


@pytest.fixture
def notes(cast):
    nurse, coordinator = cast["nurse_alta"], cast["coordinator_alta"]
    mine = [Notification.objects.create(user=nurse, kind="sent") for _ in range(3)]
    other = Notification.objects.create(user=coordinator, kind="sent")
    return mine, other


def test_listed_notifications_are_marked_read_and_only_ones_own(cast, notes, api_client):
    mine, other = notes
    client = api_client(cast["nurse_alta"])
    response = client.post(
        "/api/v1/notifications/read", {"ids": [mine[0].pk, other.pk]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}
    mine[0].refresh_from_db()
    other.refresh_from_db()
    assert mine[0].read_at is not None and other.read_at is None  # another user's is never touched
    assert client.get("/api/v1/notifications?unread=true").json()["count"] == 2


def test_all_notifications_are_marked_read(cast, notes, api_client):
    mine, other = notes
    response = api_client(cast["nurse_alta"]).post("/api/v1/notifications/read", {}, content_type="application/json")
    assert response.json() == {"marked": 3, "unread": 0}
    assert not Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_marking_read_needs_a_signed_in_user(notes, client):
    assert client.post("/api/v1/notifications/read", {}, content_type="application/json").status_code == 401


# --- a pregnancy with its first visit -------------------------------------------------------------------


#: the EPsA answered: only insufficient support present (a positive EPsA)
EPSA = {
    "late_entry": False,
    "low_schooling": False,
    "adolescent": False,
    "rejection": False,
    "low_support": True,
    "depressive_symptoms": False,
    "substance_use": False,
    "gender_violence": False,
    "other": "",
}


def _body(mother, today, **visit):
    return {
        "mother": mother.pk,
        "lmp_date": (today - dt.timedelta(weeks=10)).isoformat(),
        "first_visit": {
            "date": today.isoformat(),
            "facility_code": "F-ALTA",
            "screenings": [{"instrument": "epsa", "inputs": EPSA}],
            **visit,
        },
    }


def test_a_pregnancy_is_registered_with_its_first_visit_and_epsa(cast, make_mother, today, api_client):
    mother = make_mother()
    response = api_client(cast["nurse_alta"]).post(
        "/api/v1/pregnancies", _body(mother, today), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    pregnancy = Pregnancy.unscoped.get(pk=response.json()["id"])
    assert pregnancy.first_visit_date == today and pregnancy.first_visit_week == 10
    assert pregnancy.facility.code == "F-ALTA"
    encounter = Encounter.unscoped.get(pregnancy=pregnancy)
    assert encounter.date == today and encounter.gestational_weeks == 10
    screening = Screening.unscoped.get(pregnancy=pregnancy)
    assert screening.instrument == "epsa" and screening.classification == "positive"
    assert RiskFlag.unscoped.filter(pregnancy=pregnancy, rule_id="epsa_positive").exists()


def test_a_bad_first_visit_saves_nothing(cast, make_mother, today, api_client):
    mother = make_mother()
    bad = _body(mother, today, screenings=[{"instrument": "epsa", "inputs": {**EPSA, "low_support": "perhaps"}}])
    response = api_client(cast["nurse_alta"]).post("/api/v1/pregnancies", bad, content_type="application/json")
    assert response.status_code == 422
    assert any(k.startswith("first_visit.") for k in response.json()["errors"])
    assert not Pregnancy.unscoped.exists() and not Encounter.unscoped.exists()
    future = _body(mother, today, date=(today + dt.timedelta(days=5)).isoformat())
    response = api_client(cast["nurse_alta"]).post("/api/v1/pregnancies", future, content_type="application/json")
    assert response.status_code == 422
    assert not Pregnancy.unscoped.exists()


def test_a_pregnancy_with_first_visit_out_of_scope_or_without_the_right(cast, make_mother, today, api_client):
    mother = make_mother()
    body = _body(mother, today)
    assert (
        api_client(cast["nurse_baja"]).post("/api/v1/pregnancies", body, content_type="application/json").status_code
        == 404
    )
    assert (
        api_client(cast["regional_norte"])
        .post("/api/v1/pregnancies", body, content_type="application/json")
        .status_code
        == 403
    )
    assert not Pregnancy.unscoped.exists() and not Encounter.unscoped.exists()


def test_without_first_visit_the_pregnancy_is_registered_alone(cast, make_mother, today, api_client):
    mother = make_mother()
    response = api_client(cast["nurse_alta"]).post(
        "/api/v1/pregnancies",
        {"mother": mother.pk, "lmp_date": (today - dt.timedelta(weeks=10)).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert not Encounter.unscoped.exists()
