"""JSON API v1 (django-ninja): the API object and its routers, and the registry's and the audit's routes.

What every endpoint shares (authentication, the acting user, pages, errors) is in :mod:`crecer.api.base`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Status
from ninja.security import django_auth

from crecer.api import schemas
from crecer.api.base import BearerToken, CrecerAPI, JsonParser, actor, install_error_handlers, paginate
from crecer.api.centres import router as centres_router
from crecer.api.costing import router as costing_router
from crecer.api.dedup import router as dedup_router
from crecer.api.fhir import router as fhir_router
from crecer.api.funds import router as funds_router
from crecer.api.groups import router as groups_router
from crecer.api.monitoring import router as monitoring_router
from crecer.api.planning import router as planning_router
from crecer.api.referrals import router as referrals_router
from crecer.api.registry import router as registry_router
from crecer.api.results import router as results_router
from crecer.api.tracking import router as tracking_router
from crecer.api.transfers import router as transfers_router
from crecer.api.urgent import router as urgent_router
from crecer.audit.models import Action, AuditEvent
from crecer.audit.trail import record
from crecer.dedup.merging import merged_into
from crecer.registry import actions, scope
from crecer.registry.reads import log_reads
from crecer.registry.search import search
from crecer.validation import FieldError, InputErrors

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
api.add_router("/", centres_router)
api.add_router("/", results_router)
api.add_router("/", funds_router)
api.add_router("/", planning_router)
api.add_router("/", transfers_router)
api.add_router("/", costing_router)


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


#: events without an acting user that belong to what a user did: their failed sign-ins and lockouts
SIGN_IN_FAILURES = ("login_failed", "lockout")


def _since(value: str) -> dt.datetime:
    """An ISO 8601 date (from its first moment, in the server's time zone) or date and time."""
    try:
        moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
    except ValueError:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InputErrors(
                {
                    "since": [
                        FieldError("invalid_date", _("Enter a date as YYYY-MM-DD, or a date and time in ISO 8601."))
                    ]
                }
            ) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@api.get("/audit", response=schemas.AuditPage, tags=["audit"])
def list_audit(
    request: HttpRequest, child: int | None = None, user: str = "", since: str = "", page: int = 1
) -> dict[str, Any]:
    """The audit trail (auditors, within their territory), newest first: what happened to a child's record
    (``child``: who created, changed or viewed it) and what a user did and read (``user``: a username of the
    auditor's territory; an unknown one answers 404, like one outside it), from ``since`` (an ISO 8601 date
    or date and time). Events of a user name children by id; those about children outside the auditor's
    territory are left out."""
    auditor = request.user
    if not scope.can_read_audit(auditor):
        raise PermissionDenied(_("Only auditors can read the audit trail."))
    if child is None and not user:
        raise InputErrors({"user": [FieldError("required", _("Give a user or a child."))]})
    events = AuditEvent.objects.all()
    if since:
        events = events.filter(at__gte=_since(since))
    read: list[int] = []
    if child is not None:
        target = scope.get_audited_child_or_404(auditor, child)
        merged = merged_into(target.pk)
        events = events.about_child(target.pk, merged)
        # The events carry the child's data (and that of the records merged into it) in before/after.
        read = [target.pk, *merged]
    if user:
        subject = scope.audited_user_or_404(auditor, user)
        # Failed sign-ins and lockouts have no acting user: they name the account tried (entity access.user).
        tried = Q(actor__isnull=True, entity="access.user", entity_id=subject.pk, action__in=SIGN_IN_FAILURES)
        events = events.filter(Q(actor=subject) | tried).filter(
            Q(child_id__isnull=True) | Q(child_id__in=scope.audited_children(auditor).values("pk"))
        )
    items, pages = paginate(events, page)
    if child is None:
        read = [e.child_id for e in items if e.child_id is not None]
    log_reads(actor(request), "audit trail", read)
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
