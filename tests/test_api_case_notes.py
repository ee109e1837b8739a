"""Case notes through the API: written through the registry's action (category the author may record,
child they may register), read back only in the categories each user may read, every read logged."""

from __future__ import annotations

import json

import pytest

from crecer.access.models import DataCategory
from crecer.audit.models import Action, AuditEvent
from crecer.registry import actions
from crecer.registry.models import CaseNote
from tests.conftest import SYSTEM


def _post(client, child, body):
    return client.post(f"/api/v1/children/{child.pk}/notes", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def noted(children):
    child = children["alta"]
    actions.add_case_note(SYSTEM, child, DataCategory.HEALTH, "control sano al día")
    actions.add_case_note(SYSTEM, child, DataCategory.VIOLENCE, "violencia intrafamiliar")
    return child


@pytest.mark.parametrize(
    ("who", "sees_violence"), [("nurse_alta", False), ("coordinator_alta", True), ("regional_norte", False)]
)
def test_notes_listed_only_in_categories_the_user_may_read(cast, api_client, noted, who, sees_violence):
    user = cast[who]
    response = api_client(user).get(f"/api/v1/children/{noted.pk}/notes")
    assert response.status_code == 200
    texts = {n["text"]: n["category"] for n in response.json()}
    assert texts.get("control sano al día") == "health"
    assert ("violencia intrafamiliar" in texts) is sees_violence
    assert ("violencia intrafamiliar" in response.content.decode()) is sees_violence
    assert AuditEvent.objects.filter(action=Action.READ, actor=user, child_id=noted.pk).exists()


def test_notes_of_a_child_out_of_scope_are_404(cast, api_client, noted):
    for who in ("nurse_baja", "provider_opd"):
        assert api_client(cast[who]).get(f"/api/v1/children/{noted.pk}/notes").status_code == 404, who


def test_write_a_note(cast, api_client, children):
    nurse, child = cast["nurse_alta"], children["alta"]
    response = _post(api_client(nurse), child, {"category": "social", "text": "  Vive con la abuela "})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["category"], body["text"], body["author"]) == ("social", "Vive con la abuela", nurse.username)
    note = CaseNote.unscoped.get(pk=body["id"])
    assert (note.child_id, note.author_id) == (child.pk, nurse.pk)
    assert AuditEvent.objects.filter(entity="registry.casenote", entity_id=note.pk, action=Action.CREATE).exists()
    listed = api_client(nurse).get(f"/api/v1/children/{child.pk}/notes").json()
    assert [n["id"] for n in listed] == [note.pk]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"category": "gossip", "text": "x"}, "category", "invalid_choice"),
        ({"category": "social", "text": "   "}, "text", "required"),
    ],
)
def test_bad_note_names_the_field(cast, api_client, children, body, field, code):
    response = _post(api_client(cast["nurse_alta"]), children["alta"], body)
    assert response.status_code == 422
    assert response.json()["errors"][field][0]["code"] == code
    assert not CaseNote.unscoped.exists()


def test_a_sensitive_category_not_granted_is_refused(cast, api_client, children):
    """A nurse may not file a note under violence (she cannot read it); a national manager registers
    no one; a nurse of another commune does not see the child."""
    child = children["alta"]
    assert _post(api_client(cast["nurse_alta"]), child, {"category": "violence", "text": "x"}).status_code == 403
    assert _post(api_client(cast["national"]), child, {"category": "health", "text": "x"}).status_code == 403
    assert _post(api_client(cast["nurse_baja"]), child, {"category": "health", "text": "x"}).status_code == 404
    coordinator = _post(api_client(cast["coordinator_alta"]), child, {"category": "violence", "text": "denuncia"})
    assert coordinator.status_code == 201
    assert list(CaseNote.unscoped.values_list("category", flat=True)) == ["violence"]
