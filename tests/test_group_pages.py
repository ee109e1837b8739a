"""Pages of parenting groups: creating a group, enrolling caregivers of one's territory, recording each
session's attendance as a checklist and seeing who completed the programme; scoped by the group's
territory, written through the shared actions and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer import conf
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.territories.models import Facility
from crecer.tracking import actions
from crecer.tracking.inputs import session_date
from crecer.tracking.models import GroupMember, GroupSession, ParentingGroup
from tests.conftest import SYSTEM


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _form(today: dt.date, **extra):
    return {
        "service_code": "parenting_programme",
        "name": "Nadie es Perfecto — verano",
        "code": "NEP-VERANO",
        "facility_code": "F-ALTA",
        "facilitator": "",
        "start_date": (today - dt.timedelta(days=28)).isoformat(),
        "planned_sessions": "6",
        **extra,
    }


@pytest.fixture
def group(country, today):
    return actions.create_group(
        SYSTEM,
        code="NEP-ALTA",
        name="Nadie es Perfecto",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=35),
        planned_sessions=6,
    )


@pytest.fixture
def family(make_mother, make_child):
    mother = make_mother()
    return {"mother": mother, "child": make_child(mother_national_id="15.432.876-9")}


# --- create ---------------------------------------------------------------------------------------------


def test_a_nurse_creates_a_group_at_her_centre_and_leads_it(cast, today):
    nurse = cast["nurse_alta"]
    client = _client(nurse)
    form = client.get("/groups/new/")
    assert form.status_code == 200
    # The form proposes the programme of the profile and the nurse's own centre.
    assert form.context["data"]["service_code"] == "parenting_programme"
    assert form.context["data"]["facility_code"] == "F-ALTA"
    response = client.post("/groups/new/", _form(today))
    assert response.status_code == 302
    group = ParentingGroup.unscoped.get(code="NEP-VERANO")
    assert response["Location"] == f"/groups/{group.code}/"
    assert f"Se creó el grupo «{group.name}»" in client.get(response["Location"]).content.decode()
    assert group.facility.code == "F-ALTA" and group.facilitator_id == nurse.pk and group.planned_sessions == 6
    created = AuditEvent.objects.get(entity="tracking.parentinggroup", entity_id=group.pk, action=Action.CREATE)
    assert created.channel == Channel.WEB and created.actor_id == nurse.pk
    # The group's page lists each planned session on the day the one rule gives.
    page = client.get(response["Location"])
    assert [s["date"] for s in page.context["sessions"]] == [session_date(group.start_date, n) for n in range(1, 7)]
    assert [g.code for g in client.get("/groups/").context["page"].object_list] == ["NEP-VERANO"]


def test_a_facility_outside_the_territory_is_refused_beside_its_field(cast, today):
    response = _client(cast["nurse_alta"]).post("/groups/new/", _form(today, facility_code="F-AUSTRAL"))
    assert response.status_code == 422
    assert "facility_code" in response.context["errors"]
    assert 'id="facility_code-error"' in response.content.decode()
    assert not ParentingGroup.unscoped.exists()


def test_bad_input_leaves_nothing_and_names_each_field(cast, today):
    response = _client(cast["nurse_alta"]).post(
        "/groups/new/", _form(today, name="", start_date="ayer", planned_sessions="40", code="A/B")
    )
    assert response.status_code == 422
    html = response.content.decode()
    for field in ("name", "start_date", "planned_sessions", "code"):
        assert field in response.context["errors"], field
        assert f'id="{field}-error"' in html, field
    assert "start_date:" not in html  # plain words, no field codes
    assert not ParentingGroup.unscoped.exists()
    assert not AuditEvent.objects.filter(entity="tracking.parentinggroup").exists()


def test_a_role_without_the_right_is_refused(cast, group, family, today):
    regional = _client(cast["regional_norte"])  # sees the region's groups, records none
    assert regional.get("/groups/new/").status_code == 403
    assert regional.post("/groups/new/", _form(today)).status_code == 403
    assert regional.get(f"/groups/{group.code}/").status_code == 200
    assert regional.post(f"/groups/{group.code}/enrol/", {"caregiver": family["mother"].pk}).status_code == 403
    assert regional.post(f"/groups/{group.code}/sessions/1/", {"held_on": today.isoformat()}).status_code == 403
    assert not ParentingGroup.unscoped.exclude(pk=group.pk).exists()
    assert not GroupMember.unscoped.exists() and not GroupSession.unscoped.exists()


def test_the_navigation_offers_groups_to_those_who_record_them(cast):
    assert 'href="/groups/"' in _client(cast["nurse_alta"]).get("/").content.decode()
    assert 'href="/groups/"' not in _client(cast["auditor"]).get("/").content.decode()


# --- scope ----------------------------------------------------------------------------------------------


def test_a_group_of_another_territory_answers_404_everywhere(cast, group, family, today):
    other = _client(cast["nurse_baja"])
    for path in ("", "enrol/", "sessions/1/"):
        assert other.get(f"/groups/{group.code}/{path}").status_code == 404
    assert other.post(f"/groups/{group.code}/enrol/", {"caregiver": family["mother"].pk}).status_code == 404
    assert other.get("/groups/NO-SUCH/").status_code == 404
    assert list(other.get("/groups/").context["page"].object_list) == []
    assert not GroupMember.unscoped.exists()


# --- enrolment ------------------------------------------------------------------------------------------


def test_a_caregiver_of_the_territory_is_found_and_enrolled_for_her_child(cast, group, family):
    nurse = cast["nurse_alta"]
    client = _client(nurse)
    found = client.get(f"/groups/{group.code}/enrol/", {"q": "Camila Pérez"})
    assert [c["caregiver"].pk for c in found.context["candidates"]] == [family["mother"].pk]
    assert [ch.pk for ch in found.context["candidates"][0]["children"]] == [family["child"].pk]
    assert AuditEvent.objects.filter(
        actor=nurse, action=Action.READ, entity="registry.caregiver", entity_id=family["mother"].pk
    ).exists()
    by_document = client.get(f"/groups/{group.code}/enrol/", {"q": "15.432.876-9"})
    assert [c["caregiver"].pk for c in by_document.context["candidates"]] == [family["mother"].pk]

    response = client.post(
        f"/groups/{group.code}/enrol/", {"caregiver": family["mother"].pk, "child": family["child"].pk}
    )
    assert response.status_code == 302
    assert (
        f"Se inscribió a {family['mother'].full_name} en el grupo." in client.get(response["Location"]).content.decode()
    )
    member = GroupMember.unscoped.get(group=group)
    assert (member.caregiver_id, member.child_id, member.sessions_attended) == (
        family["mother"].pk,
        family["child"].pk,
        0,
    )
    assert AuditEvent.objects.filter(entity="tracking.groupmember", entity_id=member.pk, action=Action.CREATE).exists()
    page = client.get(f"/groups/{group.code}/")
    assert family["mother"].full_name in page.content.decode()
    assert AuditEvent.objects.filter(actor=nurse, action=Action.READ, child_id=family["child"].pk).exists()


def test_a_caregiver_outside_the_scope_gets_the_answer_of_an_unknown_one(cast, group, make_mother):
    far = make_mother(
        given_names="Rosa", paternal_surname="Lejana", national_id="12.345.678-5", territory_code="CL02001"
    )
    client = _client(cast["nurse_alta"])
    search_far = client.get(f"/groups/{group.code}/enrol/", {"q": "Rosa Lejana"})
    search_none = client.get(f"/groups/{group.code}/enrol/", {"q": "Nadie Existe"})
    assert search_far.context["candidates"] == search_none.context["candidates"] == []
    assert far.registry_number not in search_far.content.decode()
    enrol_far = client.post(f"/groups/{group.code}/enrol/", {"caregiver": far.pk})
    enrol_none = client.post(f"/groups/{group.code}/enrol/", {"caregiver": far.pk + 1000})
    assert enrol_far.status_code == enrol_none.status_code == 422
    assert enrol_far.context["errors"] == enrol_none.context["errors"]
    assert not GroupMember.unscoped.exists()


# --- attendance and completion ------------------------------------------------------------------------


@pytest.fixture
def members(group, family, make_mother, make_child):
    second = make_mother(given_names="Javiera", paternal_surname="Soto", national_id="11.111.111-1")
    make_child(given_names="Tomás", mother_national_id="11.111.111-1")
    for caregiver, child in ((family["mother"], family["child"]), (second, None)):
        actions.record_attendance(SYSTEM, group, caregiver, [], child)
    return [family["mother"], second]


def test_a_session_is_recorded_as_a_checklist_through_the_action_and_audited(cast, group, members):
    nurse = cast["nurse_alta"]
    client = _client(nurse)
    form = client.get(f"/groups/{group.code}/sessions/1/")
    assert form.status_code == 200
    assert form.context["data"]["held_on"] == session_date(group.start_date, 1).isoformat()
    response = client.post(
        f"/groups/{group.code}/sessions/1/",
        {"held_on": session_date(group.start_date, 1).isoformat(), "attended": [members[0].pk]},
    )
    assert response.status_code == 302
    assert "Se guardó la asistencia de la sesión 1" in client.get(response["Location"]).content.decode()
    session = GroupSession.unscoped.get(group=group, number=1)
    assert [m.caregiver_id for m in session.attendees.all()] == [members[0].pk]
    updates = AuditEvent.objects.filter(entity="tracking.groupmember", action=Action.UPDATE, actor=nurse)
    assert [(e.channel, e.after["attended"]) for e in updates] == [(Channel.WEB, [1])]
    assert AuditEvent.objects.filter(entity="tracking.groupsession", entity_id=session.pk, action=Action.CREATE)

    # The session already held: the second member is added; the first stays.
    again = client.post(f"/groups/{group.code}/sessions/1/", {"attended": [members[1].pk]})
    assert again.status_code == 302
    assert sorted(session.attendees.values_list("caregiver_id", flat=True)) == sorted(m.pk for m in members)
    assert GroupSession.unscoped.filter(group=group).count() == 1


def test_completion_follows_the_programme_minimum(cast, group, members):
    minimum = conf.profile().service("parenting_programme").completion_min_sessions
    assert minimum is not None and minimum < group.planned_sessions
    client = _client(cast["nurse_alta"])
    for number in range(1, minimum + 1):
        attended = [m.pk for m in members] if number < minimum else [members[0].pk]
        held = session_date(group.start_date, number).isoformat()
        assert (
            client.post(f"/groups/{group.code}/sessions/{number}/", {"held_on": held, "attended": attended}).status_code
            == 302
        )
    page = client.get(f"/groups/{group.code}/")
    rows = {r["member"].caregiver_id: r for r in page.context["members"]}
    assert rows[members[0].pk]["member"].completed_on == session_date(group.start_date, minimum)
    assert rows[members[0].pk]["missing"] == 0
    assert rows[members[1].pk]["member"].completed_on is None
    assert rows[members[1].pk]["missing"] == 1
    assert rows[members[1].pk]["attended"] == list(range(1, minimum))


def test_bad_attendance_leaves_the_data_unchanged(cast, group, members, today):
    client = _client(cast["nurse_alta"])
    future = client.post(
        f"/groups/{group.code}/sessions/2/",
        {"held_on": (today + dt.timedelta(days=3)).isoformat(), "attended": [members[0].pk]},
    )
    assert future.status_code == 422 and "held_on" in future.context["errors"]
    assert 'id="held_on-error"' in future.content.decode()
    stranger = client.post(
        f"/groups/{group.code}/sessions/2/", {"held_on": today.isoformat(), "attended": [members[0].pk + 999]}
    )
    assert stranger.status_code == 422 and "attendees" in stranger.context["errors"]
    assert client.get(f"/groups/{group.code}/sessions/{group.planned_sessions + 1}/").status_code == 404
    assert not GroupSession.unscoped.exists()
    assert set(GroupMember.unscoped.values_list("sessions_attended", flat=True)) == {0}
