"""Auditors read the audit trail of their territory — what happened to a child, what a user did and read —
not the children's records (unless CRECER_AUDITORS_READ_RECORDS says so)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from crecer.access.models import Role
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.registry.reads import log_reads


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_auditor_does_not_read_childrens_records(cast, children, api_client):
    child = children["alta"]
    auditor = cast["auditor"]
    assert web(auditor).get(f"/children/{child.pk}/").status_code == 404
    api = api_client(auditor)
    assert api.get(f"/api/v1/children/{child.pk}").status_code == 404
    assert api.get("/api/v1/children").json()["count"] == 0
    assert not AuditEvent.objects.filter(actor=auditor, action=Action.READ).exists()


def test_the_audit_trail_names_the_child_by_registry_number_and_id(cast, children):
    child = children["alta"]
    response = web(cast["auditor"]).get(f"/children/{child.pk}/audit/")
    assert response.status_code == 200
    text = response.content.decode()
    assert child.registry_number in text and f"#{child.pk}" in text
    assert child.given_names not in text and child.paternal_surname not in text
    # The read of the trail (its events carry the child's data) is logged, as before.
    assert AuditEvent.objects.filter(actor=cast["auditor"], action=Action.READ, child_id=child.pk).exists()
    # The southern auditor cannot learn that a northern child exists.
    assert web(cast["auditor_sur"]).get(f"/children/{child.pk}/audit/").status_code == 404


def test_the_auditor_home_lists_events_of_the_territory_without_names(cast, children):
    response = web(cast["auditor"]).get("/")
    assert response.status_code == 200
    assert {e.child_id for e in response.context["recent"]} >= {children["alta"].pk, children["austral"].pk}
    south = web(cast["auditor_sur"]).get("/").context["recent"]
    assert {e.child_id for e in south} == {children["austral"].pk}
    assert children["alta"].given_names not in response.content.decode()


def test_a_setting_lets_auditors_read_the_records(cast, children, settings):
    settings.CRECER_AUDITORS_READ_RECORDS = True
    assert web(cast["auditor"]).get(f"/children/{children['alta'].pk}/").status_code == 200
    assert web(cast["auditor_sur"]).get(f"/children/{children['alta'].pk}/").status_code == 404


def test_what_a_user_did_and_read(cast, children, api_client):
    nurse = api_client(cast["nurse_alta"])
    child = children["alta"]
    assert nurse.get(f"/api/v1/children/{child.pk}").status_code == 200
    assert nurse.get("/api/v1/children?q=Agust").status_code == 200
    response = api_client(cast["auditor"]).get("/api/v1/audit?user=enfermera_alta")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "page", "pages", "results"}
    seen = {(e["action"], e["child_id"], e["note"]) for e in body["results"]}
    assert ("read", child.pk, "child") in seen
    assert ("search", None, "Agust") in seen
    assert {e["username"] for e in body["results"]} == {"enfermera_alta"}
    # Listing them is itself a read of those children, logged for the auditor.
    logged = AuditEvent.objects.filter(actor=cast["auditor"], action=Action.READ, note="audit trail")
    assert child.pk in set(logged.values_list("child_id", flat=True))


def test_since_limits_the_events_by_date(cast, children, api_client):
    api_client(cast["nurse_alta"]).get(f"/api/v1/children/{children['alta'].pk}")
    auditor = api_client(cast["auditor"])
    today = timezone.localdate()
    assert auditor.get(f"/api/v1/audit?user=enfermera_alta&since={today.isoformat()}").json()["count"] >= 1
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert auditor.get(f"/api/v1/audit?user=enfermera_alta&since={tomorrow}").json()["count"] == 0
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert auditor.get("/api/v1/audit", {"user": "enfermera_alta", "since": later}).json()["count"] == 0


@pytest.mark.parametrize("since", ["2026-13-01", "yesterday", "01/12/2026"])
def test_a_bad_date_answers_422_in_the_api_format(cast, api_client, since):
    response = api_client(cast["auditor"]).get("/api/v1/audit", {"user": "enfermera_alta", "since": since})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and body["errors"]["since"][0]["code"] == "invalid_date"


def test_an_unknown_user_and_one_outside_the_territory_answer_404_alike(cast, api_client):
    south = api_client(cast["auditor_sur"])
    unknown = south.get("/api/v1/audit?user=nobody_here")
    outside = south.get("/api/v1/audit?user=enfermera_alta")
    assert unknown.status_code == outside.status_code == 404
    assert unknown.json() == outside.json() == {"code": "not_found", "message": unknown.json()["message"], "errors": {}}
    assert south.get("/api/v1/audit?user=vivienda_sur").status_code == 200


def test_a_regional_auditor_does_not_see_events_about_children_elsewhere(cast, children, api_client, make_user):
    south_manager = make_user("regional_sur", Role.REGIONAL_MANAGER, "CL02")
    log_reads(Actor(south_manager, Channel.API), "child", [children["austral"].pk, children["alta"].pk])
    south = api_client(cast["auditor_sur"]).get("/api/v1/audit?user=regional_sur").json()
    assert {e["child_id"] for e in south["results"]} == {children["austral"].pk}
    national = api_client(cast["auditor"]).get("/api/v1/audit?user=regional_sur").json()
    assert {e["child_id"] for e in national["results"]} == {children["austral"].pk, children["alta"].pk}


def test_only_auditors_list_a_users_events_and_a_filter_is_required(cast, api_client):
    assert api_client(cast["national"]).get("/api/v1/audit?user=enfermera_alta").status_code == 403
    response = api_client(cast["auditor"]).get("/api/v1/audit")
    assert response.status_code == 422 and "user" in response.json()["errors"]


def test_the_list_is_paginated(cast, children, api_client):
    actor = Actor(cast["nurse_alta"], Channel.WEB)
    for _ in range(30):
        log_reads(actor, "child page", [children["alta"].pk])
    auditor = api_client(cast["auditor"])
    first = auditor.get("/api/v1/audit?user=enfermera_alta").json()
    second = auditor.get("/api/v1/audit?user=enfermera_alta&page=2").json()
    assert first["count"] == 30 and first["pages"] == 2 and len(first["results"]) == 25
    assert len(second["results"]) == 5
    assert not {e["id"] for e in first["results"]} & {e["id"] for e in second["results"]}


def test_failed_sign_ins_naming_the_user_are_listed_with_their_events(cast, api_client):
    """A failed sign-in or a lockout has no acting user; it names the account tried (entity access.user)."""
    from django.db import transaction

    from crecer.audit.trail import record

    nurse, other = cast["nurse_alta"], cast["nurse_baja"]
    with transaction.atomic():
        for user in (nurse, other):
            record(
                Actor(None, Channel.WEB),
                "login_failed",
                entity="access.user",
                entity_id=user.pk,
                after={"username": user.username, "step": "password"},
            )
    listed = api_client(cast["auditor"]).get("/api/v1/audit?user=enfermera_alta").json()["results"]
    assert [(e["action"], e["entity_id"]) for e in listed] == [("login_failed", nurse.pk)]
