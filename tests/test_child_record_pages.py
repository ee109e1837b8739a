"""The child's record in the browser: demographics changed with a reason, caregivers (father, guardian)
linked and unlinked with a reason, case notes by data category (a sensitive note seen only by those
granted it), a record voided with a reason; out of scope 404, a role that cannot register refused."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from crecer.audit.models import Action, AuditEvent
from crecer.registry.models import Caregiver, CaregiverLink, CaseNote, Child


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def child(make_child):
    return make_child(facility_code="F-ALTA")


def _demographics(child, **changes):
    return {
        "given_names": child.given_names,
        "paternal_surname": child.paternal_surname,
        "maternal_surname": child.maternal_surname,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "national_id_type": "CL-RUN",
        "national_id": "",
        **changes,
    }


def test_demographics_change_with_a_reason_kept_in_the_audit(cast, child):
    client = _client(cast["nurse_alta"])
    page = client.get(f"/children/{child.pk}/edit/")
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    refused = client.post(f"/children/{child.pk}/edit/", _demographics(child, given_names="Sofía Ignacia"))
    assert refused.status_code == 422
    # only the reason is wrong, and its message is shown beside it (not beside the names)
    assert {k: [e["code"] for e in v] for k, v in refused.context["errors"].items()} == {"reason": ["required"]}
    assert not any(f["errors"] for f in refused.context["fields"])
    with translation.override("es"):
        said = gettext("Say why the record is changed.")
        saved = gettext("The child's record was saved.")
    assert f'<p class="field-error">{said}</p>' in refused.content.decode()
    given = next(f for f in refused.context["fields"] if f["name"] == "given_names")
    assert given["value"] == "Sofía Ignacia"  # what was typed comes back
    assert Child.unscoped.get(pk=child.pk).given_names == "Sofía Antonia"  # unchanged
    done = client.post(
        f"/children/{child.pk}/edit/", _demographics(child, given_names="Sofía Ignacia", reason="Civil registry")
    )
    assert done.status_code == 302
    assert Child.unscoped.get(pk=child.pk).given_names == "Sofía Ignacia"
    event = AuditEvent.objects.filter(action=Action.UPDATE, entity="registry.child", child_id=child.pk).get()
    assert event.note == "Civil registry"
    assert [str(m) for m in client.get(done.url).context["messages"]] == [saved]


def test_bad_demographics_come_back_beside_their_field(cast, child):
    page = _client(cast["nurse_alta"]).post(
        f"/children/{child.pk}/edit/", _demographics(child, birth_date="2999-01-01", reason="typo")
    )
    assert page.status_code == 422
    field = next(f for f in page.context["fields"] if f["name"] == "birth_date")
    assert field["errors"] and field["value"] == "2999-01-01"
    assert "birth_date:" not in page.content.decode()
    assert Child.unscoped.get(pk=child.pk).birth_date == child.birth_date


def test_a_father_is_registered_and_linked_then_unlinked_with_reasons(cast, child):
    client = _client(cast["nurse_alta"])
    url = f"/children/{child.pk}/caregivers/link/"
    father = {"relationship": "father", "national_id": "11.111.111-1", "reason": "Recognised at the CESFAM"}
    unknown = client.post(url, father)
    assert unknown.status_code == 422 and "given_names" in unknown.context["errors"]
    assert not Caregiver.unscoped.exists()
    done = client.post(url, {**father, "given_names": "Pedro", "paternal_surname": "Muñoz", "sex": "M"})
    assert done.status_code == 302
    link = CaregiverLink.unscoped.get(child=child)
    assert link.relationship == "father" and link.caregiver.given_names == "Pedro"
    assert AuditEvent.objects.filter(entity="registry.caregiverlink", note="Recognised at the CESFAM").exists()
    unlink = f"/children/{child.pk}/caregivers/{link.pk}/unlink/"
    assert client.post(unlink, {"reason": ""}).status_code == 422
    assert client.post(unlink, {"reason": "Linked to the wrong child"}).status_code == 302
    assert not CaregiverLink.unscoped.filter(child=child).exists()
    # the registered father is found again by his document, as guardian this time
    again = client.post(url, {"relationship": "guardian", "national_id": "11111111-1", "reason": "Court order"})
    assert again.status_code == 302 and Caregiver.unscoped.count() == 1


def test_a_sensitive_note_is_seen_only_by_those_granted_its_category(cast, child):
    coordinator, nurse = _client(cast["coordinator_alta"]), _client(cast["nurse_alta"])
    categories = [c for c, _l in coordinator.get(f"/children/{child.pk}/edit/").context["note_categories"]]
    assert "child_protection" in categories
    assert "child_protection" not in [
        c for c, _l in nurse.get(f"/children/{child.pk}/edit/").context["note_categories"]
    ]
    assert (
        coordinator.post(
            f"/children/{child.pk}/notes/", {"category": "child_protection", "text": "Follow-up OPD"}
        ).status_code
        == 302
    )
    assert nurse.post(f"/children/{child.pk}/notes/", {"category": "health", "text": "Seen at home"}).status_code == 302
    assert nurse.post(f"/children/{child.pk}/notes/", {"category": "child_protection", "text": "x"}).status_code == 403
    assert nurse.post(f"/children/{child.pk}/notes/", {"category": "health", "text": "  "}).status_code == 422
    assert CaseNote.unscoped.filter(child=child).count() == 2
    assert "Follow-up OPD" in coordinator.get(f"/children/{child.pk}/edit/").content.decode()
    assert "Follow-up OPD" not in nurse.get(f"/children/{child.pk}/edit/").content.decode()
    assert "Follow-up OPD" not in nurse.get(f"/children/{child.pk}/").content.decode()


def test_a_record_is_voided_only_with_a_reason(cast, child):
    client = _client(cast["nurse_alta"])
    assert client.get(f"/children/{child.pk}/void/").status_code == 200
    assert client.post(f"/children/{child.pk}/void/", {"reason": " "}).status_code == 422
    assert Child.unscoped.get(pk=child.pk).voided_at is None
    assert client.post(f"/children/{child.pk}/void/", {"reason": "Registered twice"}).status_code == 302
    voided = Child.unscoped.get(pk=child.pk)
    assert voided.voided_at is not None and voided.void_reason == "Registered twice"
    assert client.get(f"/children/{child.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["edit/", "void/"])
def test_out_of_scope_is_404_and_a_role_that_cannot_register_is_refused(cast, child, path):
    assert _client(cast["nurse_baja"]).get(f"/children/{child.pk}/{path}").status_code == 404
    assert _client(cast["regional_norte"]).get(f"/children/{child.pk}/{path}").status_code == 403
    assert _client(cast["nurse_baja"]).post(f"/children/{child.pk}/void/", {"reason": "x"}).status_code == 404
    assert Child.unscoped.get(pk=child.pk).voided_at is None
