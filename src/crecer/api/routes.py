"""JSON API v1 (django-ninja): bearer tokens, scoped reads, audited writes, uniform errors.

Errors are always ``{"code": ..., "message": ..., "errors": {field: [{"code", "message"}]}}``.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from crecer.access.models import ApiToken
from crecer.api import schemas
from crecer.api.dedup import router as dedup_router
from crecer.api.groups import router as groups_router
from crecer.api.monitoring import router as monitoring_router
from crecer.api.referrals import router as referrals_router
from crecer.api.registry import router as registry_router
from crecer.api.tracking import router as tracking_router
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.reads import log_reads
from crecer.audit.trail import Actor, record
from crecer.dedup.merging import merged_into
from crecer.interop.api import router as interop_router
from crecer.registry import actions, scope
from crecer.registry.search import search
from crecer.validation import InputErrors

PAGE_SIZE = 25


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = ApiToken.objects.authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Crecer API",
    version="1",
    description=_("Registry, tracking and referral of early-childhood-development policies."),
    auth=[BearerToken(), django_auth],
    urls_namespace="api-v1",
    docs_url="/docs",
)


api.add_router("/", registry_router)
api.add_router("/", groups_router)
api.add_router("/", tracking_router)
api.add_router("/", referrals_router)
api.add_router("/", monitoring_router)
api.add_router("/", dedup_router)
api.add_router("/", interop_router)


def error_body(code: str, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or {}}


@api.exception_handler(InputErrors)
def _input_errors(request: HttpRequest, exc: InputErrors) -> HttpResponse:
    return api.create_response(
        request, error_body("invalid", _("Some fields are not valid."), exc.as_dict()), status=422
    )


@api.exception_handler(ValidationError)
def _schema_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[dict[str, str]]] = {}
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "payload")]
        errors.setdefault(".".join(loc) or "body", []).append(
            {"code": str(item.get("type", "invalid")), "message": str(item.get("msg", ""))}
        )
    return api.create_response(request, error_body("invalid", _("Some fields are not valid."), errors), status=422)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, error_body("forbidden", str(exc) or _("Not allowed.")), status=403)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, error_body("unauthenticated", _("A valid bearer token is required.")), status=401
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "malformed" if exc.status_code == 400 else "error"
    message = _("The request body is not valid JSON.") if exc.status_code == 400 else str(exc)
    return api.create_response(request, error_body(code, message), status=exc.status_code)


def actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.API)  # type: ignore[arg-type]


def page_of(queryset: Any, page: int) -> tuple[list[Any], int, int]:
    count = queryset.count()
    pages = max(1, math.ceil(count / PAGE_SIZE))
    page = min(max(page, 1), pages)
    return list(queryset[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]), count, page


# --- children ------------------------------------------------------------------------------------


@api.get("/children", response=schemas.ChildPage, tags=["registry"])
def list_children(request: HttpRequest, q: str = "", page: int = 1) -> dict[str, Any]:
    """Children in your scope, searched by name, registry number or identity document."""
    queryset = search(scope.children(request.user), q).select_related("territory", "facility", "household")
    items, count, page = page_of(queryset, page)
    if q:
        record(actor(request), Action.SEARCH, entity="registry.child", note=q[:200], after={"count": count})
    log_reads(actor(request), "children", [c.pk for c in items])
    return {
        "count": count,
        "page": page,
        "pages": max(1, math.ceil(count / PAGE_SIZE)),
        "results": [schemas.child_payload(c, scope.categories(request.user, c)) for c in items],
    }


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
    child = actions.update_child(actor(request), child, payload.model_dump(exclude_unset=True))
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
    items, count, page = page_of(AuditEvent.objects.about_child(target.pk, merged), page)
    # The events carry the child's data (and that of the records merged into it) in before/after.
    log_reads(actor(request), "audit trail", [target.pk, *merged])
    return {
        "count": count,
        "page": page,
        "pages": max(1, math.ceil(count / PAGE_SIZE)),
        "results": [schemas.audit_payload(e) for e in items],
    }


@api.get("/me", response=schemas.MeOut, tags=["access"])
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "username": user.username,
        "role": user.role,  # type: ignore[union-attr]
        "territory_code": user.territory.code if user.territory else None,  # type: ignore[union-attr]
        "data_categories": sorted(user.data_categories()),  # type: ignore[union-attr]
    }
