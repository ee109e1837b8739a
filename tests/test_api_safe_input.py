"""The API answers bad bodies and impossible ids in its JSON error format, never with a server error, and
its OpenAPI document declares the errors every operation answers (the schemathesis run checks the rest)."""

from __future__ import annotations

import json

import pytest

from crecer.api.routes import api
from tests.conftest import CHILD_DEFAULTS

API = "/api/v1"


def _post(client, path, body, content_type="application/json"):
    return client.post(f"{API}{path}", data=body, content_type=content_type)


def _error(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"] and isinstance(body["errors"], dict)
    return body


# A lone surrogate is escaped in JSON (raw, it is not UTF-8 at all): any field, not only names.
SURROGATE = json.dumps({**CHILD_DEFAULTS, "territory_code": "CL\ud800"})


@pytest.mark.parametrize(
    ("path", "content_type"), [("/children", "application/json"), ("/fhir", "application/fhir+json")]
)
def test_a_lone_surrogate_is_a_malformed_body(cast, api_client, path, content_type):
    body = _error(_post(api_client(cast["nurse_alta"]), path, SURROGATE, content_type), 400, "malformed")
    assert "Unicode" in body["message"]


@pytest.mark.parametrize("depth", [40, 5000])
@pytest.mark.parametrize(
    ("path", "content_type"), [("/children", "application/json"), ("/fhir", "application/fhir+json")]
)
def test_deeply_nested_json_is_a_malformed_body(cast, api_client, path, content_type, depth):
    nested = '{"given_names": ' + "[" * depth + "]" * depth + "}"
    _error(_post(api_client(cast["nurse_alta"]), path, nested, content_type), 400, "malformed")


def test_a_fhir_bundle_nests_well_within_the_limit(cast, api_client, today):
    from tests.test_fhir import _incoming

    response = _post(api_client(cast["nurse_alta"]), "/fhir", json.dumps(_incoming(today)), "application/fhir+json")
    assert response.status_code == 200


def test_a_body_over_the_limit_answers_413_in_the_error_format(cast, api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({**CHILD_DEFAULTS, "given_names": "x" * 2000})
    error = _error(_post(api_client(cast["nurse_alta"]), "/children", body), 413, "too_large")
    assert "1000" in error["message"]


@pytest.mark.parametrize("path", ["/children/{}", "/households/{}", "/caregivers/{}", "/referrals/{}"])
def test_an_id_beyond_any_integer_is_not_found(cast, api_client, path):
    client = api_client(cast["national"])
    _error(client.get(f"{API}{path.format(2**70)}"), 404, "not_found")
    _error(client.get(f"{API}{path.format(2**63 + 1)}"), 404, "not_found")


def test_notification_ids_beyond_any_integer_are_refused(cast, api_client):
    client = api_client(cast["national"])
    body = _error(_post(client, "/notifications/read", json.dumps({"ids": [2**64]})), 422, "invalid")
    assert "ids.0" in body["errors"]
    assert _post(client, "/notifications/read", json.dumps({"ids": [1]})).status_code == 200


def test_every_operation_declares_its_errors():
    schema = api.get_openapi_schema()
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == ["code", "message", "errors"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = {int(s) for s in operation["responses"]}
            assert {401, 403, 404, 422, 429} <= declared, (method, path)
            if "requestBody" in operation:
                assert {400, 413} <= declared, (method, path)
    transition = schema["paths"]["/api/v1/referrals/{referral_id}/transition"]["post"]["responses"]
    assert transition[409]["content"]["application/json"]["schema"]["$ref"].endswith("/ConflictOut")
    fhir = schema["paths"]["/api/v1/children/{child_id}/fhir"]["get"]["responses"][200]
    assert list(fhir["content"]) == ["application/fhir+json"]


def test_a_nul_in_free_text_never_answers_a_server_error(cast, api_client):
    """SQLite stores a NUL; PostgreSQL cannot: the API then answers 400 in its format, not 500."""
    from django.db import connection

    body = json.dumps({"code": "H-1", "territory_code": "CL01001", "address": "Calle 1\u0000"})
    response = _post(api_client(cast["nurse_alta"]), "/households", body)
    if connection.vendor == "postgresql":
        _error(response, 400, "malformed")
    else:
        assert response.status_code == 201


@pytest.mark.parametrize("role", ["nurse_alta", "national"])
def test_a_nul_in_the_address_answers_a_documented_status_on_every_database(cast, api_client, role):
    """A query parameter with a NUL is refused before any query, naming it (422, documented for every
    operation), on SQLite and PostgreSQL alike; a NUL in a code of the path names no record (404), where
    PostgreSQL would have refused the query."""
    client = api_client(cast[role])
    response = client.get("/api/v1/agreements", {"state": "open\u0000", "period": "2026"})
    assert list(_error(response, 422, "invalid")["errors"]) == ["state"]
    assert client.get("/api/v1/children", {"q": "\u0000"}).status_code == 422
    _error(client.get("/api/v1/groups/G%00X"), 404, "not_found")


def test_the_document_lists_the_fields_the_rules_require(cast, api_client):
    schemas = api.get_openapi_schema()["components"]["schemas"]
    assert schemas["ChildIn"]["required"] == ["paternal_surname", "territory_code"]
    assert schemas["ChildPatch"]["required"] == ["reason"]
    assert schemas["CaregiverIn"]["required"] == ["given_names", "paternal_surname", "sex", "territory_code"]
    assert "required" not in schemas["CaregiverPatch"]
    assert schemas["HouseholdIn"]["required"] == ["code", "territory_code"]
    # What the document says is what the rules answer: each left out is a 422 naming it.
    response = _post(api_client(cast["nurse_alta"]), "/children", json.dumps({"given_names": "Ana"}))
    assert {"paternal_surname", "territory_code"} <= set(_error(response, 422, "invalid")["errors"])
