"""The auditor's page /audit/: filters by user, child, action and dates, pages through the results, and
tells each change's before and after in words (field labels and value labels, not column names or codes)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.registry import actions
from crecer.web import audit_page


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_filters_and_words(cast, children):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    alta, baja = children["alta"], children["baja"]
    actions.update_child(nurse, alta, {"given_names": "Agustina", "sex": "F"}, reason="Corrección")
    actions.update_child(Actor(cast["nurse_baja"], Channel.WEB), baja, {"given_names": "Isa"}, reason="x")
    auditor = _client(cast["auditor"])

    by_user = auditor.get("/audit/", {"user": "enfermera_alta", "action": "update"})
    assert by_user.status_code == 200
    events = [e for e, _changes, _number in by_user.context["rows"]]
    assert events and all(e.actor_username == "enfermera_alta" and e.action == "update" for e in events)
    assert {e.child_id for e in events} == {alta.pk}

    # The change in words: the field's label and the choice's label, not "given_names" or "M".
    _event, changes, number = by_user.context["rows"][0]
    assert number == alta.registry_number
    words = {c.label: (c.before, c.after) for c in changes}
    assert words["Nombres"] == ("Agustín", "Agustina")
    assert words["Sexo"] == ("Masculino", "Femenino")
    html = by_user.content.decode()
    assert "given_names" not in html and "Antes" in html and "Después" in html

    by_child = auditor.get("/audit/", {"child": baja.registry_number})
    assert {e.child_id for e, _c, _n in by_child.context["rows"]} == {baja.pk}
    assert {e.actor_username for e, _c, _n in by_child.context["rows"] if e.action == "update"} == {"enfermera_baja"}

    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert auditor.get("/audit/", {"since": tomorrow}).context["page"].paginator.count == 0
    today = timezone.localdate().isoformat()
    assert auditor.get("/audit/", {"since": today, "until": today}).context["page"].paginator.count > 0

    # Bad filters are told beside their field; an auditor of another territory learns nothing.
    bad = auditor.get("/audit/", {"user": "nadie", "since": "ayer"})
    assert bad.status_code == 422 and set(bad.context["errors"]) == {"user", "since"}
    south = _client(cast["auditor_sur"]).get("/audit/", {"child": alta.registry_number})
    assert south.status_code == 422 and "child" in south.context["errors"]
    assert _client(cast["nurse_alta"]).get("/audit/").status_code == 403


def test_pages_through_results(cast, children):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    child = children["alta"]
    for n in range(audit_page.PAGE_SIZE + 3):
        actions.update_child(nurse, child, {"given_names": f"Nombre {n}"}, reason="x")
    auditor = _client(cast["auditor"])
    wanted = {"user": "enfermera_alta", "action": "update"}
    first = auditor.get("/audit/", wanted)
    assert first.context["page"].paginator.count == audit_page.PAGE_SIZE + 3
    assert len(first.context["rows"]) == audit_page.PAGE_SIZE
    # The link to the next page keeps the filters.
    assert "user=enfermera_alta&amp;action=update&amp;page=2" in first.content.decode()
    second = auditor.get("/audit/", {**wanted, "page": 2})
    ids_first = [e.pk for e, _c, _n in first.context["rows"]]
    ids_second = [e.pk for e, _c, _n in second.context["rows"]]
    assert len(ids_second) == 3 and not set(ids_first) & set(ids_second)
    # Newest first: the last change heads the first page, the first one ends the second.
    assert first.context["rows"][0][1][0].after == f"Nombre {audit_page.PAGE_SIZE + 2}"
    assert second.context["rows"][-1][1][0].after == "Nombre 0"
    assert (
        AuditEvent.objects.filter(action=Action.UPDATE, actor_username="enfermera_alta").count()
        == audit_page.PAGE_SIZE + 3
    )
