"""The child's record page edits the document as people know it: a child with a passport keeps it when
another field changes, a newborn registered without a document (provisional identity) gets one, and a
bad number comes back beside its field."""

from __future__ import annotations

import pytest
from django.test import Client

from crecer.lib import documents
from crecer.registry.models import Child


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _form(child, **changes):
    return {
        "given_names": child.given_names,
        "paternal_surname": child.paternal_surname,
        "maternal_surname": child.maternal_surname,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "national_id_type": child.national_id_type,
        "national_id": child.national_id or "",
        "reason": "Civil registry",
        **changes,
    }


def test_the_form_shows_the_childs_document_type_by_its_name(cast, make_child):
    child = make_child(national_id_type="PASSPORT", national_id="AB123456")
    page = _client(cast["nurse_alta"]).get(f"/children/{child.pk}/edit/")
    html = page.content.decode()
    assert 'name="national_id_type"' in html
    assert f'<option value="PASSPORT" selected>{documents.get("PASSPORT").label}</option>' in html
    assert f">{documents.get('CL-RUN').label}</option>" in html
    assert next(f for f in page.context["fields"] if f["name"] == "national_id_type")["value"] == "PASSPORT"


def test_a_passport_child_changes_a_name_and_keeps_the_passport(cast, make_child):
    child = make_child(national_id_type="PASSPORT", national_id="AB123456")
    done = _client(cast["nurse_alta"]).post(f"/children/{child.pk}/edit/", _form(child, given_names="Sofía Ignacia"))
    assert done.status_code == 302, done.context and done.context["errors"]
    saved = Child.unscoped.get(pk=child.pk)
    assert (saved.given_names, saved.national_id_type, saved.national_id) == ("Sofía Ignacia", "PASSPORT", "AB123456")


@pytest.mark.parametrize(
    ("doc_type", "number", "stored"), [("CL-RUN", "11.111.111-1", "11111111-1"), ("PASSPORT", "ab123456", "AB123456")]
)
def test_a_newborn_without_a_document_gets_one(cast, make_child, doc_type, number, stored):
    child = make_child()
    assert child.national_id is None  # provisional identity
    client = _client(cast["nurse_alta"])
    # the form offers the country's document by default
    field = next(
        f for f in client.get(f"/children/{child.pk}/edit/").context["fields"] if f["name"] == "national_id_type"
    )
    assert field["value"] == "CL-RUN"
    done = client.post(f"/children/{child.pk}/edit/", _form(child, national_id_type=doc_type, national_id=number))
    assert done.status_code == 302
    saved = Child.unscoped.get(pk=child.pk)
    assert (saved.national_id_type, saved.national_id) == (doc_type, stored)


def test_saving_without_a_document_leaves_the_provisional_identity_as_it_was(cast, make_child):
    child = make_child()
    before = Child.unscoped.get(pk=child.pk).national_id_type
    done = _client(cast["nurse_alta"]).post(
        f"/children/{child.pk}/edit/", _form(child, national_id_type="PASSPORT", given_names="Sofía Ignacia")
    )
    assert done.status_code == 302
    saved = Child.unscoped.get(pk=child.pk)
    assert (saved.national_id_type, saved.national_id, saved.given_names) == (before, None, "Sofía Ignacia")


def test_a_bad_run_comes_back_beside_the_number(cast, make_child):
    child = make_child()
    page = _client(cast["nurse_alta"]).post(
        f"/children/{child.pk}/edit/", _form(child, national_id_type="CL-RUN", national_id="11.111.111-2")
    )
    assert page.status_code == 422
    fields = {f["name"]: f for f in page.context["fields"]}
    assert [e["code"] for e in fields["national_id"]["errors"]] and not fields["given_names"]["errors"]
    assert fields["national_id"]["value"] == "11.111.111-2" and fields["national_id_type"]["value"] == "CL-RUN"
    assert fields["national_id"]["errors"][0]["message"] in page.content.decode()
    assert Child.unscoped.get(pk=child.pk).national_id is None
