"""API v1 for parenting groups: creating a group, recording a caregiver's attendance (the twin of a row of
the ``group_members`` import) and a session held with its attendees; scoped by the group's territory,
audited, and the members' data logged as read."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from crecer.audit.models import Action, AuditEvent
from crecer.territories.models import Facility
from crecer.tracking import actions
from crecer.tracking.models import GroupMember, GroupSession, ParentingGroup
from tests.conftest import SYSTEM

API = "/api/v1"


def _send(client, path, data):
    return client.post(f"{API}{path}", data=json.dumps(data), content_type="application/json")


def _group_body(today: dt.date, **extra):
    return {
        "code": "NEP-1",
        "name": "Nadie es Perfecto — otoño",
        "facility_code": "F-ALTA",
        "start_date": (today - dt.timedelta(days=35)).isoformat(),
        "planned_sessions": 6,
        **extra,
    }


@pytest.fixture
def group(country, today):
    return actions.create_group(
        SYSTEM,
        code="NEP-ALTA",
        name="Nadie es Perfecto",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=30),
        planned_sessions=6,
    )


@pytest.fixture
def family(make_mother, make_child):
    mother = make_mother()
    return {"mother": mother, "child": make_child(mother_national_id="15.432.876-9")}


# --- groups ---------------------------------------------------------------------------------------------------


def test_a_health_worker_creates_a_group_and_leads_it(cast, api_client, today):
    nurse = cast["nurse_alta"]
    response = _send(api_client(nurse), "/groups", _group_body(today))
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "code": "NEP-1",
        "name": "Nadie es Perfecto — otoño",
        "service_code": "parenting_programme",
        "facility_code": "F-ALTA",
        "start_date": (today - dt.timedelta(days=35)).isoformat(),
        "planned_sessions": 6,
        "facilitator": nurse.get_full_name(),
    }
    group = ParentingGroup.unscoped.get(code="NEP-1")
    assert group.facilitator_id == nurse.pk
    event = AuditEvent.objects.get(entity="tracking.parentinggroup", entity_id=group.pk)
    assert (event.action, event.actor_id, event.channel) == (Action.CREATE, nurse.pk, "api")


def test_a_coordinator_creates_a_group_with_a_named_facilitator(cast, api_client, today):
    body = _group_body(today, facilitator="Marta Vidal")
    response = _send(api_client(cast["coordinator_alta"]), "/groups", body)
    assert response.status_code == 201
    assert response.json()["facilitator"] == "Marta Vidal"


@pytest.mark.parametrize(
    ("extra", "field", "code"),
    [
        ({"facility_code": "F-NADA"}, "facility_code", "unknown"),
        ({"facility_code": " "}, "facility_code", "required"),
        ({"facility_code": "F-AUSTRAL"}, "facility_code", "out_of_scope"),
        ({"service_code": "home_visit"}, "service_code", "not_a_group"),
        ({"planned_sessions": 12}, "planned_sessions", "out_of_range"),
        ({"start_date": "pronto"}, "start_date", "invalid_date"),
        ({"name": ""}, "name", "required"),
        ({"code": "a/b"}, "code", "invalid"),
        ({"code": "NEW"}, "code", "reserved"),  # /groups/new/ is the page that creates one
    ],
)
def test_group_errors_name_the_field(cast, api_client, today, extra, field, code):
    response = _send(api_client(cast["nurse_alta"]), "/groups", _group_body(today, **extra))
    assert response.status_code == 422
    assert response.json()["errors"][field][0]["code"] == code
    assert not ParentingGroup.unscoped.exists()


def test_a_group_code_is_unique(cast, api_client, group, today):
    response = _send(api_client(cast["nurse_alta"]), "/groups", _group_body(today, code=group.code))
    assert response.status_code == 422
    assert response.json()["errors"]["code"][0]["code"] == "duplicate"


@pytest.mark.parametrize("role", ["national", "regional_norte", "auditor", "inspector", "admin", "provider_opd"])
def test_other_roles_cannot_create_a_group(cast, api_client, today, role):
    assert _send(api_client(cast[role]), "/groups", _group_body(today)).status_code == 403
    assert not ParentingGroup.unscoped.exists()


# --- attendance -------------------------------------------------------------------------------------------


def test_record_a_caregiver_s_attendance(cast, api_client, group, family):
    nurse, mother, child = cast["nurse_alta"], family["mother"], family["child"]
    client = api_client(nurse)
    first = _send(
        client, f"/groups/{group.code}/attendance", {"caregiver": mother.pk, "child": child.pk, "attended": [1, 2]}
    )
    assert first.status_code == 201, first.json()
    assert first.json() == {
        "group": group.code,
        "caregiver": mother.pk,
        "child": child.pk,
        "sessions_attended": 2,
        "attended": [1, 2],
        "completed_on": None,
    }
    # More sessions are added to those she had; the fourth completes the programme (its minimum is 4),
    # on the day that session was held (start + 7·3 days).
    more = _send(client, f"/groups/{group.code}/attendance", {"caregiver": mother.pk, "attended": [3, 4]})
    assert more.json()["attended"] == [1, 2, 3, 4]
    assert more.json()["completed_on"] == (group.start_date + dt.timedelta(days=21)).isoformat()
    member = GroupMember.unscoped.get(group=group, caregiver=mother)
    assert (member.sessions_attended, member.child_id) == (4, child.pk)
    events = AuditEvent.objects.filter(actor=nurse).exclude(action=Action.READ)
    assert sorted((e.entity, e.action) for e in events) == sorted(
        [("tracking.groupmember", Action.CREATE)]
        + [("tracking.groupsession", Action.CREATE)] * 4
        + [("tracking.groupmember", Action.UPDATE)] * 2
    )
    reads = AuditEvent.objects.filter(actor=nurse, action=Action.READ)
    assert {(e.entity, e.entity_id, e.child_id) for e in reads} == {
        ("registry.child", child.pk, child.pk),
        ("registry.caregiver", mother.pk, child.pk),
    }


@pytest.mark.parametrize(("attended", "code"), [([7], "out_of_range"), ([6], "future")])
def test_attendance_errors_name_the_field(cast, api_client, group, family, attended, code):
    # Six weekly sessions from 30 days ago: the sixth is planned in 5 days, the seventh does not exist.
    response = _send(
        api_client(cast["nurse_alta"]),
        f"/groups/{group.code}/attendance",
        {"caregiver": family["mother"].pk, "attended": attended},
    )
    assert response.status_code == 422
    assert response.json()["errors"]["attended"][0]["code"] == code
    assert not GroupMember.unscoped.exists()


def test_attendance_out_of_scope_is_404(cast, api_client, group, family, make_mother, children):
    austral = make_mother(national_id="", external_id="G-AUS", territory_code="CL02001")
    nurse = api_client(cast["nurse_alta"])
    assert (
        _send(nurse, f"/groups/{group.code}/attendance", {"caregiver": austral.pk, "attended": [1]}).status_code == 404
    )
    body = {"caregiver": family["mother"].pk, "child": children["austral"].pk, "attended": [1]}
    assert _send(nurse, f"/groups/{group.code}/attendance", body).status_code == 404
    body = {"caregiver": family["mother"].pk, "attended": [1]}
    assert _send(nurse, "/groups/NO-EXISTE/attendance", body).status_code == 404
    # A group meeting in another municipality is not seen from there.
    for role in ("nurse_baja", "inspector", "provider_opd"):
        assert _send(api_client(cast[role]), f"/groups/{group.code}/attendance", body).status_code == 404, role
    assert _send(api_client(cast["national"]), f"/groups/{group.code}/attendance", body).status_code == 403
    assert not GroupMember.unscoped.exists()


# --- sessions -----------------------------------------------------------------------------------------------


def test_record_a_session_held_with_its_attendees(cast, api_client, group, family, make_mother, today):
    father = make_mother(given_names="Pedro", sex="M", national_id="", external_id="G-PAPA")
    mother = family["mother"]
    actions.record_attendance(SYSTEM, group, mother, [1, 2, 3])
    actions.record_attendance(SYSTEM, group, father, [1])
    coordinator = cast["coordinator_alta"]
    response = _send(
        api_client(coordinator),
        f"/groups/{group.code}/sessions",
        {"number": 5, "held_on": today.isoformat(), "attendees": [mother.pk, father.pk]},
    )
    assert response.status_code == 201, response.json()
    out = response.json()
    assert (out["number"], out["held_on"]) == (5, today.isoformat())
    by_caregiver = {a["caregiver"]: a for a in out["attendees"]}
    assert by_caregiver[mother.pk]["attended"] == [1, 2, 3, 5]
    assert by_caregiver[mother.pk]["completed_on"] == today.isoformat()
    assert by_caregiver[father.pk]["attended"] == [1, 5] and by_caregiver[father.pk]["completed_on"] is None
    session = GroupSession.unscoped.get(group=group, number=5)
    assert session.held_on == today
    assert AuditEvent.objects.filter(
        actor=coordinator, entity="tracking.groupsession", entity_id=session.pk, action=Action.CREATE
    ).exists()
    reads = AuditEvent.objects.filter(actor=coordinator, action=Action.READ, entity="registry.caregiver")
    assert set(reads.values_list("entity_id", flat=True)) == {mother.pk, father.pk}
    assert family["child"].pk in set(reads.values_list("child_id", flat=True))


def test_a_session_nobody_attended_is_still_held(cast, api_client, group, today):
    response = _send(
        api_client(cast["nurse_alta"]), f"/groups/{group.code}/sessions", {"number": 1, "held_on": today.isoformat()}
    )
    assert response.status_code == 201
    assert response.json()["attendees"] == []
    assert GroupSession.unscoped.filter(group=group, number=1, held_on=today).exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"number": 2, "held_on": "2999-01-01"}, "held_on", "future"),
        ({"number": 2, "held_on": "ayer"}, "held_on", "invalid_date"),
        ({"number": 2, "held_on": ""}, "held_on", "required"),
        ({"number": 9, "held_on": "today"}, "number", "out_of_range"),
        ({"number": 1, "held_on": "today"}, "number", "duplicate"),
        ({"number": 2, "held_on": "today", "attendees": ["stranger"]}, "attendees", "not_member"),
    ],
)
def test_session_errors_name_the_field(cast, api_client, group, family, make_mother, today, body, field, code):
    actions.record_attendance(SYSTEM, group, family["mother"], [1])
    stranger = make_mother(given_names="Ajena", national_id="", external_id="G-AJENA")
    body = {
        **body,
        "held_on": today.isoformat() if body["held_on"] == "today" else body["held_on"],
        "attendees": [stranger.pk for _ in body.get("attendees", [])],
    }
    sessions = GroupSession.unscoped.count()
    response = _send(api_client(cast["nurse_alta"]), f"/groups/{group.code}/sessions", body)
    assert response.status_code == 422
    assert response.json()["errors"][field][0]["code"] == code
    assert GroupSession.unscoped.count() == sessions


def test_sessions_out_of_scope_or_by_readers(cast, api_client, group, today):
    body = {"number": 1, "held_on": today.isoformat()}
    assert _send(api_client(cast["nurse_baja"]), f"/groups/{group.code}/sessions", body).status_code == 404
    assert _send(api_client(cast["admin"]), f"/groups/{group.code}/sessions", body).status_code == 404
    assert _send(api_client(cast["regional_norte"]), f"/groups/{group.code}/sessions", body).status_code == 403
    assert not GroupSession.unscoped.exists()
