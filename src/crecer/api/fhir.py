"""FHIR endpoints of API v1: one child as a Bundle, and a Bundle from another system mapped in."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Router

from crecer.api.base import actor, read_json
from crecer.interop import fhir_export, fhir_import
from crecer.registry import scope
from crecer.registry.reads import log_reads

router = Router(tags=["fhir"])
FHIR_JSON = "application/fhir+json"
BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FHIR_JSON: {
                "schema": {"type": "object", "description": "A FHIR R4 Bundle (transaction, batch or collection)"}
            },
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def _registered_children(summary: dict[str, Any]) -> list[int]:
    """Children already registered that the answer names (matched by identifier, not created by this
    Bundle): telling the sender their record, number or links is a read of them."""
    entries = summary["entries"]
    created = {e["id"] for e in entries if e["resourceType"] == "Patient" and e["outcome"] == "created"}
    ids = [e["id"] for e in entries if e["resourceType"] == "Patient" and e["outcome"] != "created" and e.get("id")]
    for e in entries:
        ids += [e[key] for key in ("child", "patient") if e.get(key) and e[key] not in created]
    return ids


@router.get(
    "/children/{child_id}/fhir",
    openapi_extra={
        "responses": {
            200: {
                "description": "A FHIR R4 collection Bundle",
                "content": {FHIR_JSON: {"schema": {"type": "object", "description": "A FHIR R4 Bundle"}}},
            }
        }
    },
)
def child_fhir(request: HttpRequest, child_id: int) -> JsonResponse:
    """One child as a FHIR R4 ``collection`` Bundle: Patient, RelatedPerson, Encounter, Observation,
    ServiceRequest, Task and Flag, limited to the data categories you may see (the read is logged)."""
    child = scope.get_child_or_404(request.user, child_id)
    log_reads(actor(request), "fhir", [child.pk])
    bundle = fhir_export.child_bundle(request.user, child, request.build_absolute_uri("/api/v1/fhir"))
    return JsonResponse(bundle, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


@router.post("/fhir", response={200: dict[str, Any]}, openapi_extra=BUNDLE_BODY)
def post_bundle(request: HttpRequest) -> dict[str, Any]:
    """Map a Bundle of Patient, RelatedPerson, Encounter and Observation in, all or nothing.

    People are matched by identifier before anything is created. Answers, per entry, whether it was
    created or matched and the record's id; 422 with errors keyed ``entry[i].resource.…`` otherwise."""
    if not scope.can_register(request.user):
        raise PermissionDenied(_("Your role cannot register or change people."))
    body = read_json(request.body or b"null")
    summary = fhir_import.import_bundle(actor(request), body)
    log_reads(actor(request), "fhir bundle", _registered_children(summary))
    return summary
