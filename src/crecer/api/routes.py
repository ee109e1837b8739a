"""JSON API v1 (django-ninja): the API object and its routers, and the registry's and the audit's routes.

What every endpoint shares (authentication, the acting user, pages, errors) is in :mod:`crecer.api.base`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Status
from ninja.security import django_auth

from crecer.api import schemas
from crecer.api.base import BearerToken, CrecerAPI, JsonParser, actor, install_error_handlers, paginate
from crecer.api.dedup import router as dedup_router
from crecer.api.fhir import router as fhir_router
from crecer.api.groups import router as groups_router
from crecer.api.monitoring import router as monitoring_router
from crecer.api.referrals import router as referrals_router
from crecer.api.registry import router as registry_router
from crecer.api.tracking import router as tracking_router
from crecer.api.urgent import router as urgent_router
from crecer.audit.models import Action, AuditEvent
from crecer.audit.trail import record
from crecer.dedup.merging import merged_into
from crecer.registry import actions, scope
from crecer.registry.reads import log_reads
from crecer.registry.search import search

api = CrecerAPI(
    title="Crecer API",
    version="1",
    description=_("Registry, tracking and referral of early-childhood-development policies."),
    auth=[BearerToken(), django_auth],
    urls_namespace="api-v1",
    docs_url="/docs",
    parser=JsonParser(),
)
install_error_handlers(api)

api.add_router("/", registry_router)
api.add_router("/", groups_router)
api.add_router("/", urgent_router)
api.add_router("/", tracking_router)
api.add_router("/", referrals_router)
api.add_router("/", monitoring_router)
api.add_router("/", dedup_router)
api.add_router("/", fhir_router)


# --- children ------------------------------------------------------------------------------------


@api.get("/children", response=schemas.ChildPage, tags=["registry"])
def list_children(request: HttpRequest, q: str = "", page: int = 1) -> dict[str, Any]:
    """Children in your scope, searched by name, registry number or identity document."""
    queryset = search(scope.children(request.user), q).select_related("territory", "facility", "household")
    items, pages = paginate(queryset, page)
    if q:
        record(actor(request), Action.SEARCH, entity="registry.child", note=q[:200], after={"count": pages["count"]})
    log_reads(actor(request), "children", [c.pk for c in items])
    return {**pages, "results": [schemas.child_payload(c, scope.categories(request.user, c)) for c in items]}


@api.get("/children/{child_id}", response=schemas.ChildOut, tags=["registry"])
def get_child(request: HttpRequest, child_id: int) -> dict[str, Any]:
    child = scope.get_child_or_404(request.user, child_id)
    log_reads(actor(request), "child", [child.pk])
    return schemas.child_payload(child, scope.categories(request.user, child))


@api.post("/children", response={201: schemas.ChildOut}, tags=["registry"])
def create_child(request: HttpRequest, payload: schemas.ChildIn) -> Status[dict[str, Any]]:
    child = actions.create_child(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, schemas.child_payload(child, scope.categories(request.user, child)))


@api.patch("/children/{child_id}", response=schemas.ChildOut, tags=["registry"])
def update_child(request: HttpRequest, child_id: int, payload: schemas.ChildPatch) -> dict[str, Any]:
    child = scope.get_child_or_404(request.user, child_id)
    changes = payload.model_dump(exclude_unset=True)
    reason = changes.pop("reason", "")
    child = actions.update_child(actor(request), child, changes, reason=reason)
    log_reads(actor(request), "child", [child.pk])
    return schemas.child_payload(child, scope.categories(request.user, child))


# --- audit -----------------------------------------------------------------------------------------


@api.get("/audit", response=schemas.AuditPage, tags=["audit"])
def list_audit(request: HttpRequest, child: int, page: int = 1) -> dict[str, Any]:
    """Who created, changed or viewed a child's record (auditors, within their territory)."""
    if not scope.can_read_audit(request.user):
        raise PermissionDenied(_("Only auditors can read the audit trail."))
    target = scope.get_child_or_404(request.user, child)
    merged = merged_into(target.pk)
    items, pages = paginate(AuditEvent.objects.about_child(target.pk, merged), page)
    # The events carry the child's data (and that of the records merged into it) in before/after.
    log_reads(actor(request), "audit trail", [target.pk, *merged])
    return {**pages, "results": [schemas.audit_payload(e) for e in items]}


@api.get("/me", response=schemas.MeOut, tags=["access"])
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "username": user.username,
        "role": user.role,  # type: ignore[union-attr]
        "territory_code": user.territory.code if user.territory else None,  # type: ignore[union-attr]
        "data_categories": sorted(user.data_categories()),  # type: ignore[union-attr]
    }
