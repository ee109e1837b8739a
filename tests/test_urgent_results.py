"""Urgent results act at once: the profile marks rules urgent; an urgent flag notifies the health centre's
team and the municipal coordinator (in-app and by e-mail, need to know), shows a banner on the child's and
the mother's pages, and stays on top of every worklist until someone records the action taken."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client

from crecer import conf
from crecer.access.models import Role, User
from crecer.audit.models import AuditEvent
from crecer.lib.rules import RuleDefinitionError, parse_rule
from crecer.referrals.models import Notification
from crecer.registry import actions as registry_actions
from crecer.risks.models import RiskFlag
from tests.conftest import SYSTEM

SELF_HARM = {"instrument": "epds", "inputs": {"items": [1, 1, 0, 1, 0, 1, 0, 0, 0, 2]}}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def team(cast, make_user, settings):
    """The Alta team with e-mail addresses; a technician of the same centre whose role is not granted
    mental health; a coordinator of another municipality."""
    settings.CRECER_ROLE_SENSITIVE_CATEGORIES = {
        "health_worker": [],
        "municipal_coordinator": ["violence", "abuse", "mental_health", "child_protection"],
    }
    nurse = cast["nurse_alta"]
    User.objects.filter(pk=nurse.pk).update(extra_categories=["mental_health"])
    technician = make_user("tens_alta", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA")
    other_coordinator = make_user("coord_baja", Role.MUNICIPAL_COORDINATOR, "CL01002")
    people = {
        "nurse": nurse,
        "technician": technician,
        "coordinator": cast["coordinator_alta"],
        "nurse_baja": cast["nurse_baja"],
        "coordinator_baja": other_coordinator,
    }
    for key, user in people.items():
        User.objects.filter(pk=user.pk).update(email=f"{key}@crecer.test")
        user.refresh_from_db()
    return people


@pytest.fixture
def baby(make_child, make_mother, today):
    mother = make_mother(phone="+56 9 1234 5678")
    child = make_child(
        given_names="Amanda",
        birth_date=(today - dt.timedelta(days=60)).isoformat(),
        facility_code="F-ALTA",
        mother_national_id=mother.national_id,
    )
    return child


def test_the_profile_marks_the_self_harm_item_and_severe_acute_malnutrition_urgent():
    urgent = {r.id for r in conf.profile().rules if r.urgent}
    assert urgent == {"maternal_self_harm", "severe_acute_malnutrition"}


def test_urgent_must_be_true_or_false():
    rule = {
        "id": "x",
        "version": 1,
        "subject": "child",
        "description_es": "x",
        "description_en": "x",
        "when": "growth.wasting == 2",
        "urgent": "yes",
        "flag": {
            "category": "biomedical",
            "axis": "health_nutrition",
            "severity": "high",
            "data_category": "health",
            "label_es": "x",
            "label_en": "x",
        },
        "examples": [{"facts": {"growth": {"wasting": 2}}, "expect": True}, {"facts": {}, "expect": False}],
    }
    with pytest.raises(RuleDefinitionError, match="urgent"):
        parse_rule(rule, "test", [])


def test_urgent_epds_through_the_api_notifies_the_centre_and_the_coordinator(
    team, baby, api_client, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client(team["nurse"]).post(
            f"/api/v1/children/{baby.pk}/encounters",
            {"date": today.isoformat(), "screenings": [SELF_HARM]},
            content_type="application/json",
        )
    assert answer.status_code == 201, answer.content
    flag = RiskFlag.unscoped.get(child=baby, rule_id="maternal_self_harm")
    assert flag.urgent and flag.acted_at is None
    notified = set(
        Notification.objects.filter(flag=flag, kind="urgent_result").values_list("user__username", flat=True)
    )
    # The nurse of the centre and the coordinator of the municipality; not the technician whose role is not
    # granted mental health, nor the nurse or the coordinator of another municipality.
    assert notified == {team["nurse"].username, team["coordinator"].username}
    addressed = sorted(address for message in mail.outbox for address in message.to)
    assert addressed == ["coordinator@crecer.test", "nurse@crecer.test"]
    # One message per address; the e-mail names neither the child nor the result, and links to the record.
    assert all(len(message.to) == 1 for message in mail.outbox)
    body = mail.outbox[0].body
    assert f"/children/{baby.pk}/" in body and "Amanda" not in body and "autolesión" not in body.lower()

    listed = api_client(team["coordinator"]).get("/api/v1/notifications").json()
    assert listed["count"] == 1
    assert listed["results"][0]["flag"]["id"] == flag.pk and listed["results"][0]["flag"]["child"] == baby.pk
    assert AuditEvent.objects.filter(
        action="read", child_id=baby.pk, actor=team["coordinator"], note="notifications"
    ).exists()
    assert api_client(team["technician"]).get("/api/v1/notifications").json()["count"] == 0


def test_severe_acute_malnutrition_notifies_those_without_mental_health_too(team, baby, api_client, today):
    answer = api_client(team["nurse"]).post(
        f"/api/v1/children/{baby.pk}/encounters",
        {"date": today.isoformat(), "measurement": {"weight_kg": 4.0, "length_cm": 58, "oedema": True}},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    flag = RiskFlag.unscoped.get(child=baby, rule_id="severe_acute_malnutrition")
    notified = set(Notification.objects.filter(flag=flag).values_list("user__username", flat=True))
    # Health data: the whole team of the centre hears of it.
    assert notified == {team["nurse"].username, team["technician"].username, team["coordinator"].username}


def test_an_import_notifies_like_a_page(team, make_child, today, tmp_path, django_capture_on_commit_callbacks):
    from crecer.imports.framework import run_import

    child = make_child(
        given_names="Importada",
        external_id="C-URG",
        facility_code="F-ALTA",
        birth_date=(today - dt.timedelta(days=60)).isoformat(),
    )
    encounters = tmp_path / "encounters.csv"
    encounters.write_text(
        "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional\n"
        f"E-URG,C-URG,,check_up,,{today.isoformat()},F-ALTA,\n",
        encoding="utf-8",
    )
    screenings = tmp_path / "screenings.csv"
    screenings.write_text(
        'external_id,encounter_external_id,instrument,inputs\nS-URG,E-URG,epds,"{""items"": [0,0,0,0,0,0,0,0,0,3]}"\n',
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        for path, kind in ((encounters, "encounters"), (screenings, "screenings")):
            result = run_import(kind, path, SYSTEM)
            assert not result.rejected, [r.message() for r in result.rejected]
    flag = RiskFlag.unscoped.get(child=child, rule_id="maternal_self_harm")
    notified = set(Notification.objects.filter(flag=flag).values_list("user__username", flat=True))
    assert notified == {team["nurse"].username, team["coordinator"].username}
    assert sorted(a for m in mail.outbox for a in m.to) == ["coordinator@crecer.test", "nurse@crecer.test"]


def test_banner_on_the_child_and_the_mother_pages_until_the_action_is_recorded(team, baby, today, make_mother):
    from crecer.tracking import actions as tracking_actions

    tracking_actions.record_encounter(SYSTEM, {"date": today.isoformat(), "screenings": [SELF_HARM]}, child=baby)
    flag = RiskFlag.unscoped.get(child=baby, rule_id="maternal_self_harm")
    mother = baby.caregiver_links.get().caregiver
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_national_id": mother.national_id,
            "lmp_date": (today - dt.timedelta(days=60)).isoformat(),
            "first_visit_date": today.isoformat(),
        },
    )
    coordinator = _client(team["coordinator"])
    page = coordinator.get(f"/children/{baby.pk}/").content.decode()
    assert "urgent-banner" in page and "Riesgo de autolesión materna" in page
    assert "urgent-banner" in coordinator.get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    # The technician, not granted mental health, sees no banner.
    assert "urgent-banner" not in _client(team["technician"]).get(f"/children/{baby.pk}/").content.decode()

    # An empty action is refused beside its field, and changes nothing.
    refused = coordinator.post(f"/urgent/{flag.pk}/", {"action_taken": "  "})
    assert refused.status_code == 422 and "Diga qué se hizo" in refused.content.decode()
    flag.refresh_from_db()
    assert flag.acted_at is None

    done = coordinator.post(
        f"/urgent/{flag.pk}/",
        {"action_taken": "Llamé a la madre; hora con psicóloga mañana", "next": f"/children/{baby.pk}/"},
    )
    assert done.status_code == 302 and done["Location"] == f"/children/{baby.pk}/"
    flag.refresh_from_db()
    assert flag.acted_by == team["coordinator"] and flag.action_taken.startswith("Llamé") and flag.acted_at
    assert flag.status == "open"  # the flag itself follows its rule
    event = AuditEvent.objects.get(entity="risks.riskflag", entity_id=flag.pk, action="update")
    assert event.actor == team["coordinator"] and event.after["action_taken"].startswith("Llamé")
    page = coordinator.get(f"/children/{baby.pk}/").content.decode()
    assert "urgent-banner" not in page
    # The child's history keeps what was done, by whom.
    assert "Acción realizada: Riesgo de autolesión materna" in page and "Llamé a la madre" in page
    assert "urgent-banner" not in coordinator.get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    # Recorded once: a second action is refused.
    again = coordinator.post(f"/urgent/{flag.pk}/", {"action_taken": "otra vez"})
    assert again.status_code == 422


def test_urgent_results_stay_on_top_of_every_worklist_until_acted_on(team, baby, make_child, today, api_client):
    from crecer.tracking import actions as tracking_actions

    # Many children due this week, so the urgent one would otherwise not be on the first page.
    for i in range(25):
        make_child(
            given_names=f"Niño{i}", birth_date=(today - dt.timedelta(days=70)).isoformat(), facility_code="F-ALTA"
        )
    tracking_actions.record_encounter(SYSTEM, {"date": today.isoformat(), "screenings": [SELF_HARM]}, child=baby)
    flag = RiskFlag.unscoped.get(child=baby, rule_id="maternal_self_harm")
    nurse = _client(team["nurse"])
    for url in ("/", "/worklists/", "/worklists/?tab=today", "/worklists/?tab=overdue", "/worklists/?tab=risk"):
        response = nurse.get(url)
        assert [p.flag.pk for p in response.context["pinned"]] == [flag.pk], url
        # The pinned list comes before the tab's rows (every one of these tabs has rows: the 25 children).
        assert response.context["rows"], url
        html = response.content.decode()
        assert "<table" in html, url
        assert html.index("Riesgo de autolesión materna") < html.index("<table"), url
    body = api_client(team["nurse"]).get("/api/v1/worklists", {"tab": "overdue"}).json()
    assert [u["flag"] for u in body["urgent"]] == [flag.pk]
    # Not for a user without the category, nor for a health worker of another municipality.
    assert not _client(team["technician"]).get("/worklists/").context["pinned"]
    assert not _client(team["nurse_baja"]).get("/worklists/").context["pinned"]

    answer = api_client(team["nurse"]).post(
        f"/api/v1/urgent/{flag.pk}/action",
        {"action_taken": "Derivada a salud mental hoy"},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["awaiting_action"] is False
    assert not nurse.get("/worklists/").context["pinned"]
    # The child's row still shows the flag among its alerts (the flag is open), no longer as urgent.
    rows = nurse.get("/worklists/?tab=risk").context["rows"]
    flags = [f for r in rows if r.child.pk == baby.pk for f in r.flags]
    assert ("maternal_self_harm", "Riesgo de autolesión materna", False) in flags


def test_the_action_is_refused_out_of_scope_and_without_the_category(team, baby, today, api_client):
    from crecer.tracking import actions as tracking_actions

    tracking_actions.record_encounter(SYSTEM, {"date": today.isoformat(), "screenings": [SELF_HARM]}, child=baby)
    flag = RiskFlag.unscoped.get(child=baby, rule_id="maternal_self_harm")
    for who in ("nurse_baja", "technician"):
        answer = api_client(team[who]).post(
            f"/api/v1/urgent/{flag.pk}/action", {"action_taken": "x"}, content_type="application/json"
        )
        assert answer.status_code == 404, who
    flag.refresh_from_db()
    assert flag.acted_at is None
