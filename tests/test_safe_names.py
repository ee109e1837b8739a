"""Names refuse characters that only hide or disguise text (control characters, NUL, bidirectional
overrides, zero-width characters), on every write path: the action, the API, the pages, the imports,
FHIR and the parenting groups; with a translated message beside the field, and the data unchanged."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from crecer.imports.models import RejectedRow
from crecer.lib import names
from crecer.registry import actions
from crecer.registry.models import Caregiver, Child
from crecer.tracking.models import ParentingGroup
from crecer.validation import InputErrors
from tests.conftest import CHILD_DEFAULTS, SYSTEM
from tests.test_api_groups import _group_body
from tests.test_fhir import _counts, _incoming, _post

HIDDEN = {
    "nul": "Ana\x00",
    "control": "Ana\x07María",
    "tab": "Ana\tMaría",
    "line break": "Ana\nMaría",
    "right-to-left override": "\u202eanA",
    "left-to-right isolate": "Ana\u2066x\u2069",
    "zero-width space": "A\u200bna",
    "zero-width joiner": "An\u200da",
    "byte-order mark": "\ufeffAna",
    "lone surrogate": "Ana\ud800",
}
MESSAGE = (
    "This name has an invisible or control character (for example a zero-width space or a "
    "text-direction mark, often pasted with it). Type the name again."
)


@pytest.mark.parametrize("text", HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_characters_are_found(text):
    assert names.has_hidden_characters(text)


@pytest.mark.parametrize("text", ["María José", "Núñez-O'Higgins", "Ñuñoa Müller", "D’Alessandro", "", None])
def test_real_names_pass(text):
    assert not names.has_hidden_characters(text)


@pytest.mark.parametrize("field", ["given_names", "paternal_surname", "maternal_surname"])
@pytest.mark.parametrize("text", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_child_name_with_hidden_characters_is_refused(country, field, text):
    with pytest.raises(InputErrors) as caught:
        actions.create_child(SYSTEM, {**CHILD_DEFAULTS, field: text})
    assert [e.code for e in caught.value.errors[field]] == ["hidden_characters"]
    assert not Child.unscoped.exists()


def test_the_message_is_translated(country):
    with translation.override("es"), pytest.raises(InputErrors) as caught:
        actions.create_child(SYSTEM, {**CHILD_DEFAULTS, "given_names": "\u202eanA"})
    message = caught.value.errors["given_names"][0].message
    assert message == gettext(MESSAGE) and message != MESSAGE  # Spanish, not the English source


def test_an_update_with_hidden_characters_leaves_the_child_unchanged(make_child):
    child = make_child()
    with pytest.raises(InputErrors) as caught:
        actions.update_child(SYSTEM, child, {"paternal_surname": "Mu\u200bñoz"}, reason="typo")
    assert "paternal_surname" in caught.value.errors
    assert Child.unscoped.get(pk=child.pk).paternal_surname == "Muñoz"


def test_the_api_answers_422_beside_the_field(cast, api_client):
    body = {**CHILD_DEFAULTS, "given_names": "Sof\x00ía"}
    response = api_client(cast["nurse_alta"]).post("/api/v1/children", json.dumps(body), "application/json")
    assert response.status_code == 422
    assert response.json()["errors"]["given_names"][0]["code"] == "hidden_characters"
    caregiver = {
        **CHILD_DEFAULTS,
        "given_names": "Camila",
        "paternal_surname": "P\u202erez",
        "birth_date": "1990-01-01",
    }
    response = api_client(cast["nurse_alta"]).post("/api/v1/caregivers", json.dumps(caregiver), "application/json")
    assert response.status_code == 422
    assert response.json()["errors"]["paternal_surname"][0]["code"] == "hidden_characters"
    assert not Child.unscoped.exists() and not Caregiver.unscoped.exists()


def test_the_page_shows_the_message_beside_the_field(cast, make_child):
    child = make_child(facility_code="F-ALTA")
    client = Client()
    client.force_login(cast["nurse_alta"])
    form = {
        "given_names": "Sofía\u200b",
        "paternal_surname": child.paternal_surname,
        "maternal_surname": child.maternal_surname,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "national_id_type": "CL-RUN",
        "national_id": "",
        "reason": "typo",
    }
    page = client.post(f"/children/{child.pk}/edit/", form)
    assert page.status_code == 422
    given = next(f for f in page.context["fields"] if f["name"] == "given_names")
    assert [e["code"] for e in given["errors"]] == ["hidden_characters"]
    with translation.override("es"):
        assert gettext(MESSAGE) in page.content.decode()
    assert Child.unscoped.get(pk=child.pk).given_names == "Sofía Antonia"


def test_an_import_rejects_the_row_naming_the_field(tmp_path, country):
    path = tmp_path / "children.csv"
    path.write_text(
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,"
        "mother_national_id,territory_code\n"
        "A1,Agustín,González,,M,2023-05-01,,,CL01001\n"
        "A2,Ro\u200bsa,Paz,,F,2023-01-01,,,CL01001\n"
        "A3,Eva,\u202eZaP,,F,2023-01-01,,,CL01001\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit):
        call_command("import", "children", str(path), "--quiet", stdout=io.StringIO())
    assert list(Child.unscoped.values_list("external_id", flat=True)) == ["A1"]
    rejected = {r.line: r.errors for r in RejectedRow.objects.all()}
    assert rejected[3]["given_names"][0]["code"] == "hidden_characters"
    assert rejected[4]["paternal_surname"][0]["code"] == "hidden_characters"


def test_a_fhir_bundle_is_refused_at_the_name(cast, country, api_client, today):
    bundle = _incoming(today)
    bundle["entry"][0]["resource"]["name"][0]["given"] = ["Mat\u202eías"]
    client = api_client(cast["nurse_alta"])
    before = _counts()
    response = _post(client, bundle)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["entry[0].resource.name[0].given"][0]["code"] == "hidden_characters"
    assert _counts() == before


@pytest.mark.parametrize("field", ["name", "facilitator"])
def test_a_group_and_its_facilitator_refuse_hidden_characters(cast, api_client, today, field):
    body = _group_body(today, **{field: "Nadie es\x00 Perfecto"})
    response = api_client(cast["nurse_alta"]).post("/api/v1/groups", json.dumps(body), "application/json")
    assert response.status_code == 422
    assert response.json()["errors"][field][0]["code"] == "hidden_characters"
    assert not ParentingGroup.unscoped.exists()
