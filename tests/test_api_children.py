"""API v1 for children: search, read, create, update; errors are JSON with a code and per-field messages."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from crecer.access.models import ApiToken, DataCategory
from crecer.audit.models import Action, AuditEvent
from crecer.registry import actions
from crecer.registry.models import Child
from tests.conftest import SYSTEM

NEW = {
    "given_names": "Josefa",
    "paternal_surname": "Araya",
    "maternal_surname": "Fuentes",
    "sex": "F",
    "birth_date": "2025-01-20",
    "national_id": "24.965.885-5",
    "territory_code": "CL01001",
}


def _post(client, data, path="/api/v1/children"):
    return client.post(path, data=json.dumps(data), content_type="application/json")


def _patch(client, path, data):
    return client.patch(path, data=json.dumps(data), content_type="application/json")


def test_create_returns_the_child(cast, api_client):
    response = _post(api_client(cast["nurse_alta"]), NEW)
    assert response.status_code == 201, response.json()
    body = response.json()
    for field in (
        "id",
        "registry_number",
        "given_names",
        "paternal_surname",
        "maternal_surname",
        "sex",
        "birth_date",
        "national_id",
        "territory_code",
    ):
        assert field in body
    assert body["national_id"] == "24965885-5" and body["territory_code"] == "CL01001"
    assert AuditEvent.objects.filter(child_id=body["id"], action=Action.CREATE, channel="api").exists()


def test_create_with_errors_names_each_field(cast, api_client):
    response = _post(api_client(cast["nurse_alta"]), {**NEW, "national_id": "24.965.885-1", "birth_date": "2999-01-01"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["national_id"][0]["code"] == "check_digit"
    assert body["errors"]["birth_date"][0]["code"] == "future"
    assert not Child.unscoped.exists()


def test_wrong_json_types_are_field_errors(cast, api_client):
    response = _post(api_client(cast["nurse_alta"]), {**NEW, "birth_weight_g": "mucho"})
    assert response.status_code == 422
    assert "birth_weight_g" in response.json()["errors"]


def test_malformed_json(cast, api_client):
    response = api_client(cast["nurse_alta"]).post(
        "/api/v1/children", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    assert not Child.unscoped.exists()


def test_duplicate_document(cast, api_client):
    client = api_client(cast["nurse_alta"])
    assert _post(client, NEW).status_code == 201
    response = _post(client, {**NEW, "given_names": "Otra"})
    assert response.status_code == 422
    assert response.json()["errors"]["national_id"][0]["code"] == "duplicate"


def test_another_document_type(cast, api_client):
    response = _post(
        api_client(cast["nurse_alta"]), {**NEW, "national_id_type": "PASSPORT", "national_id": "ab 123456"}
    )
    assert response.status_code == 201
    assert (response.json()["national_id_type"], response.json()["national_id"]) == ("PASSPORT", "AB123456")


def test_create_outside_own_territory_is_refused(cast, api_client):
    response = _post(api_client(cast["nurse_alta"]), {**NEW, "territory_code": "CL02001"})
    assert response.status_code == 422
    assert response.json()["errors"]["territory_code"][0]["code"] == "out_of_scope"


def test_roles_without_registration_get_403(cast, api_client):
    assert _post(api_client(cast["national"]), NEW).status_code == 403
    assert _post(api_client(cast["auditor"]), NEW).status_code == 403


def test_patch(cast, children, api_client):
    client = api_client(cast["nurse_alta"])
    child = children["alta"]
    # People say why they change a record: without a reason nothing changes.
    response = _patch(client, f"/api/v1/children/{child.pk}", {"maternal_surname": "Sepúlveda"})
    assert response.status_code == 422 and response.json()["errors"]["reason"][0]["code"] == "required"
    child.refresh_from_db()
    assert child.maternal_surname != "Sepúlveda"
    response = _patch(
        client, f"/api/v1/children/{child.pk}", {"maternal_surname": "Sepúlveda", "reason": "error de digitación"}
    )
    assert response.status_code == 200
    assert response.json()["maternal_surname"] == "Sepúlveda"
    assert response.json()["given_names"] == "Agustín"  # untouched
    event = AuditEvent.objects.get(child_id=child.pk, action=Action.UPDATE)
    assert event.after["maternal_surname"] == "Sepúlveda" and event.note == "error de digitación"


def test_patch_errors_change_nothing(cast, children, api_client):
    child = children["alta"]
    response = _patch(
        api_client(cast["nurse_alta"]),
        f"/api/v1/children/{child.pk}",
        {"sex": "Z", "given_names": "Otro", "reason": "x"},
    )
    assert response.status_code == 422
    child.refresh_from_db()
    assert (child.sex, child.given_names) == ("M", "Agustín")


def test_patch_out_of_scope_is_404(cast, children, api_client):
    response = _patch(
        api_client(cast["nurse_alta"]),
        f"/api/v1/children/{children['austral'].pk}",
        {"given_names": "X", "reason": "x"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [("agustin", ["alta"]), ("MUÑOZ isid", ["baja"]), ("tomás", []), ("mar", ["baja_local"])],
)
def test_search_by_name(cast, children, api_client, query, expected):
    results = (
        api_client(cast["nurse_baja"] if query == "mar" else cast["nurse_alta"])
        .get("/api/v1/children", {"q": query})
        .json()["results"]
    )
    assert [r["id"] for r in results] == [children[name].pk for name in expected]


def test_search_by_registry_number_and_document(cast, make_child, api_client):
    child = make_child(national_id="10.000.013-k")
    client = api_client(cast["nurse_alta"])
    assert [
        r["id"] for r in client.get("/api/v1/children", {"q": child.registry_number.lower()}).json()["results"]
    ] == [child.pk]
    assert [r["id"] for r in client.get("/api/v1/children", {"q": "10000013K"}).json()["results"]] == [child.pk]
    assert AuditEvent.objects.filter(action=Action.SEARCH, note="10000013K").exists()


def test_pagination(cast, make_child, api_client):
    for i in range(30):
        make_child(given_names=f"Niña {i:02d}")
    client = api_client(cast["nurse_alta"])
    first, second = client.get("/api/v1/children").json(), client.get("/api/v1/children", {"page": 2}).json()
    assert (first["count"], first["pages"], len(first["results"]), len(second["results"])) == (30, 2, 25, 5)
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_health_fields_follow_data_categories(cast, make_child, api_client):
    child = make_child(birth_weight_g="3100")
    assert api_client(cast["nurse_alta"]).get(f"/api/v1/children/{child.pk}").json()["birth_weight_g"] == 3100
    actions.grant_access(SYSTEM, child, cast["provider_opd"].organisation, [DataCategory.CHILD_PROTECTION], "referral")
    shared = api_client(cast["provider_opd"]).get(f"/api/v1/children/{child.pk}").json()
    assert shared["birth_weight_g"] is None
    assert shared["data_categories"] == ["child_protection", "identity"]


def test_authentication_is_required(children):
    client = Client()
    assert client.get("/api/v1/children").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer not-a-token").get("/api/v1/children").status_code == 401
    body = client.get(f"/api/v1/children/{children['alta'].pk}").json()
    assert body["code"] == "unauthenticated"


def test_openapi_schema(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/children/{child_id}" in response.json()["paths"]


def test_token_command_prints_only_the_token(cast):
    out = io.StringIO()
    call_command("token", "create", "enfermera_alta", stdout=out)
    token = out.getvalue().strip()
    assert "\n" not in token and " " not in token
    assert ApiToken.objects.authenticate(token) == cast["nurse_alta"]
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/me").json()["username"] == "enfermera_alta"


def test_revoked_token_stops_working(cast):
    from crecer.access.actions import create_token, revoke_token

    raw = create_token(SYSTEM, cast["nurse_alta"])
    revoke_token(SYSTEM, ApiToken.objects.get(user=cast["nurse_alta"]))
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me").status_code == 401
