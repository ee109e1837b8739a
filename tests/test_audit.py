"""Audit: every write leaves an event in the same transaction, reads of a child are logged,
auditors can list who accessed or changed a child, and nobody can edit or delete events."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client

from crecer.audit.models import Action, AuditEvent, AuditImmutable, Channel
from crecer.audit.trail import Actor
from crecer.registry import actions
from crecer.registry.models import Child
from tests.conftest import CHILD_DEFAULTS


def test_create_and_update_are_audited_with_before_and_after(cast, country):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    child = actions.create_child(nurse, dict(CHILD_DEFAULTS))
    created = AuditEvent.objects.get(child_id=child.pk, action=Action.CREATE, entity="registry.child")
    assert created.actor == cast["nurse_alta"] and created.channel == Channel.WEB
    # A creation carries no copy of the values (the record holds them until its first change, whose
    # event has the before and after): the same event whether one child is registered or a million imported.
    assert created.before is None and created.after is None
    actions.update_child(nurse, child, {"given_names": "Sofía"}, reason="Nombre mal escrito")
    updated = AuditEvent.objects.get(child_id=child.pk, action=Action.UPDATE, entity="registry.child")
    assert updated.before == {"given_names": "Sofía Antonia", "search_name": "sofia antonia munoz perez"}
    assert updated.after["given_names"] == "Sofía"


def test_no_event_for_a_change_that_changed_nothing(make_child):
    child = make_child()
    actions.update_child(Actor(None, Channel.CLI), child, {"given_names": child.given_names}, reason=None)
    assert not AuditEvent.objects.filter(child_id=child.pk, action=Action.UPDATE).exists()


def test_change_and_event_roll_back_together(country):
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.create_child(Actor(None, Channel.CLI), dict(CHILD_DEFAULTS))
        raise RuntimeError("the request failed after the write")
    assert not Child.unscoped.exists()
    assert not AuditEvent.objects.filter(entity="registry.child").exists()


def test_audit_refuses_writes_outside_a_transaction(transactional_db):
    from crecer.audit.trail import record

    with pytest.raises(RuntimeError, match="transaction"):
        record(Actor(None, Channel.CLI), Action.CREATE, entity="x", entity_id=1)


def test_page_and_api_reads_are_logged(cast, children, api_client):
    child = children["alta"]
    client = Client()
    client.force_login(cast["nurse_alta"])
    assert client.get(f"/children/{child.pk}/").status_code == 200
    assert api_client(cast["coordinator_alta"]).get(f"/api/v1/children/{child.pk}").status_code == 200
    reads = AuditEvent.objects.filter(child_id=child.pk, action=Action.READ)
    assert {(e.actor_username, e.channel) for e in reads} == {("enfermera_alta", "web"), ("coord_alta", "api")}


def test_refused_reads_leave_no_trace_of_the_record(cast, children, api_client):
    api_client(cast["nurse_baja"]).get(f"/api/v1/children/{children['austral'].pk}")
    assert not AuditEvent.objects.filter(child_id=children["austral"].pk, action=Action.READ).exists()


def test_auditor_lists_who_accessed_or_changed_a_child(cast, children, api_client):
    child = children["alta"]
    api_client(cast["nurse_alta"]).get(f"/api/v1/children/{child.pk}")
    response = api_client(cast["auditor"]).get(f"/api/v1/audit?child={child.pk}")
    assert response.status_code == 200
    events = response.json()["results"]
    assert {(e["username"], e["action"]) for e in events} >= {("system", "create"), ("enfermera_alta", "read")}


def test_only_auditors_in_scope_read_the_audit(cast, children, api_client):
    child = children["alta"]
    assert api_client(cast["nurse_alta"]).get(f"/api/v1/audit?child={child.pk}").status_code == 403
    assert api_client(cast["national"]).get(f"/api/v1/audit?child={child.pk}").status_code == 403
    # The southern auditor cannot learn that a northern child exists.
    assert api_client(cast["auditor_sur"]).get(f"/api/v1/audit?child={child.pk}").status_code == 404


def test_auditor_page(cast, children):
    client = Client()
    client.force_login(cast["auditor"])
    response = client.get(f"/children/{children['alta'].pk}/audit/")
    assert response.status_code == 200
    assert any(e.action == Action.CREATE for e in response.context["page"].object_list)
    client.force_login(cast["nurse_alta"])
    assert client.get(f"/children/{children['alta'].pk}/audit/").status_code == 403


def test_events_cannot_be_changed_or_deleted(make_child):
    child = make_child()
    event = AuditEvent.objects.get(child_id=child.pk, entity="registry.child")
    event.note = "rewritten"
    with pytest.raises(AuditImmutable):
        event.save()
    with pytest.raises(AuditImmutable):
        event.delete()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_database_rejects_raw_updates(make_child):
    from django.db.utils import DatabaseError

    child = make_child()
    event = AuditEvent.objects.get(child_id=child.pk, entity="registry.child")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET note = 'x' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).note == ""


def test_no_api_or_page_edits_audit(cast, children, api_client):
    client = api_client(cast["auditor"])
    child = children["alta"]
    event = AuditEvent.objects.filter(child_id=child.pk).first()
    stored = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert client.delete(f"/api/v1/audit/{event.pk}").status_code in (404, 405)
    assert client.patch(f"/api/v1/audit/{event.pk}", data={}, content_type="application/json").status_code in (404, 405)
    # The auditor's page only shows the trail: a form posted to it changes nothing.
    page = Client()
    page.force_login(cast["auditor"])
    page.post(f"/children/{child.pk}/audit/", {"id": event.pk, "note": "rewritten", "action": "delete"})
    assert AuditEvent.objects.filter(pk=event.pk).values().get() == stored
