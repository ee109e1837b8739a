"""API for the service catalogue, the provider directory, referrals and risk flags."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.responses import NinjaJSONEncoder

from crecer.api.base import ErrorOut, actor, error_body, paginate
from crecer.referrals import actions, machine
from crecer.referrals import scope as referral_scope
from crecer.referrals.models import Provision, Referral, Service
from crecer.registry import scope
from crecer.registry.reads import log_reads
from crecer.risks.models import RiskFlag
from crecer.territories.models import Organisation, Territory
from crecer.validation import Collector, FieldError, InputErrors

router = Router(tags=["referrals"])
PAGE_SIZE = 25


def _language() -> str:
    return get_language() or "es"


class ReferralIn(Schema):
    child: int | None = None
    pregnancy: int | None = None
    service: str
    organisation: str | None = None
    reason: str = ""
    consent: list[str] = []
    priority: str | None = None
    flag: int | None = None
    draft: bool = False


class TransitionIn(Schema):
    to: str
    version: int
    note: str = ""
    reason: str = ""
    counter_referral: dict[str, Any] | None = None


class ReassignIn(Schema):
    version: int
    organisation: str | None = None
    assignee: str | None = None


def referral_payload(r: Referral, user: Any) -> dict[str, Any]:
    subject = r.child if r.child_id else (r.pregnancy.mother if r.pregnancy_id else None)  # type: ignore[union-attr]
    return {
        "id": r.pk,
        "child": r.child_id,
        "pregnancy": r.pregnancy_id,
        "subject": {
            "name": subject.full_name if subject else "",
            "registry_number": subject.registry_number if subject else "",
            "birth_date": subject.birth_date if subject else None,
        },
        "service": r.service.code,
        "organisation": r.organisation.code,
        "assignee": r.assignee.username if r.assignee_id else None,  # type: ignore[union-attr]
        "sender": r.sender.username,
        "state": r.state,
        "version": r.version,
        "priority": r.priority,
        "reason": r.reason,
        "consent": r.consent,
        "flag": r.flag_id,
        "deadlines": {"acceptance": r.acceptance_due, "attention": r.attention_due},
        "overdue": r.overdue_at is not None or r.state == "expired",
        "rejection_reason": r.rejection_reason,
        "not_completed_reason": r.not_completed_reason,
        "counter_referral": r.counter_referral,
        "sent_at": r.sent_at,
        "allowed": machine.allowed_next(user, r),
    }


def log_referral_reads(request: HttpRequest, what: str, referrals: list[Referral]) -> None:
    """The children (or pregnancies) these referrals' payloads name."""
    children, pregnancies = referral_scope.subjects(referrals)
    log_reads(actor(request), what, children, pregnancies=pregnancies)


class ConflictOut(ErrorOut):
    """409: the move was refused (a stale version, or not allowed now): the referral as it is now and the
    moves allowed from it."""

    allowed: list[str]
    current: dict[str, Any]


def conflict(request: HttpRequest, exc: actions.TransitionRefused) -> HttpResponse:
    """409: the move was refused (stale version or illegal now), with the referral as it is and the moves
    allowed, in the API's error format."""
    body = error_body(exc.code, exc.message)
    body["allowed"] = exc.allowed
    body["current"] = referral_payload(exc.referral, request.user)
    log_referral_reads(request, "referral", [exc.referral])
    return JsonResponse(body, status=409, encoder=NinjaJSONEncoder)


@router.get("/services")
def list_services(request: HttpRequest) -> list[dict[str, Any]]:
    """The service catalogue."""
    language = _language()
    return [
        {
            "code": s.code,
            "name": s.name(language),
            "sector": s.sector,
            "axis": s.axis,
            "universal": s.universal,
            "acceptance_days": s.acceptance_days,
            "attention_days": s.attention_days,
            "active": s.active,
        }
        for s in Service.objects.all()
    ]


@router.get("/organisations")
def list_organisations(request: HttpRequest, service: str = "", territory: str = "") -> list[dict[str, Any]]:
    """Providers, optionally those offering ``service`` where ``territory`` is (best first)."""
    if service and territory:
        svc = Service.objects.filter(code=service).first()
        place = Territory.objects.filter(code=territory).first()
        errors = Collector()
        if svc is None:
            errors.add("service", "unknown", _("“%(code)s” is not a service of the catalogue.") % {"code": service})
        if place is None:
            errors.add("territory", "unknown", _("No territory has the code “%(code)s”.") % {"code": territory})
        errors.raise_if_any()
        assert svc is not None and place is not None
        orgs = [org for org, _free in actions.providers(svc, place)]
    else:
        orgs = list(Organisation.objects.all())
        if service:
            orgs = [o for o in orgs if Provision.objects.filter(organisation=o, service__code=service).exists()]
    provisions: dict[int, list[Provision]] = {}
    for p in Provision.objects.filter(organisation__in=orgs).select_related("service").prefetch_related("territories"):
        provisions.setdefault(p.organisation_id, []).append(p)
    return [
        {
            "code": o.code,
            "name": o.name,
            "sector": o.sector,
            "services": sorted(p.service.code for p in provisions.get(o.pk, [])),
            "territories": sorted({t.code for p in provisions.get(o.pk, []) for t in p.territories.all()}),
            "monthly_capacity": {p.service.code: p.monthly_capacity for p in provisions.get(o.pk, [])},
        }
        for o in orgs
    ]


@router.post("/referrals", response={201: dict[str, Any]})
def create_referral(request: HttpRequest, payload: ReferralIn) -> Any:
    child = scope.get_child_or_404(request.user, payload.child) if payload.child else None
    pregnancy = None
    if payload.pregnancy and not child:
        pregnancy = scope.get_pregnancy_or_404(request.user, payload.pregnancy)
    if child is None and pregnancy is None:
        raise InputErrors({"child": [FieldError("required", _("Give the child (or the pregnancy) to refer."))]})
    flag = None
    if payload.flag:
        flag = RiskFlag.unscoped.filter(pk=payload.flag, child=child, pregnancy=pregnancy).first()
        if flag is None:
            raise InputErrors({"flag": [FieldError("unknown", _("This risk flag is not this child's."))]})
    referral = actions.create_referral(
        actor(request),
        child=child,
        pregnancy=pregnancy,
        service_code=payload.service,
        organisation_code=payload.organisation or "",
        reason=payload.reason,
        consent=payload.consent,
        priority=payload.priority or "",
        flag=flag,
        send=not payload.draft,
    )
    created = referral_scope.get_or_404(request.user, referral.pk)
    log_referral_reads(request, "referral", [created])
    return Status(201, referral_payload(created, request.user))


@router.get("/referrals")
def list_referrals(
    request: HttpRequest, box: str = "inbox", state: str = "", service: str = "", organisation: str = "", page: int = 1
) -> dict[str, Any]:
    """``box``: inbox (received by your organisation), outbox (sent by you or your facility) or
    network (the coordinator's municipality; overdue first). ``state``: states separated by commas, or one
    of the board's filters: ``action`` (what needs action), ``open``, ``closed`` (finished), ``all``."""
    if box not in referral_scope.BOXES:
        raise InputErrors(
            {
                "box": [
                    FieldError(
                        "invalid_choice",
                        _("Choose one of: %(choices)s.") % {"choices": ", ".join(referral_scope.BOXES)},
                    )
                ]
            }
        )
    referrals = referral_scope.box(request.user, box)
    if state in referral_scope.BOARD_FILTERS:
        referrals = referral_scope.by_filter(referrals, state)
    elif state:
        referrals = referrals.filter(state__in=state.split(","))
    if service:
        referrals = referrals.filter(service__code=service)
    if organisation:
        referrals = referrals.filter(organisation__code=organisation)
    referrals = referral_scope.overdue_first(referrals).select_related(
        "service", "organisation", "territory", "sender", "assignee", "child", "pregnancy__mother"
    )
    items, pages = paginate(referrals, page)
    log_referral_reads(request, f"referrals {box}", items)
    return {**pages, "results": [referral_payload(r, request.user) for r in items]}


@router.get("/referrals/{referral_id}")
def get_referral(request: HttpRequest, referral_id: int) -> dict[str, Any]:
    referral = referral_scope.get_or_404(request.user, referral_id)
    log_referral_reads(request, "referral", [referral])
    return referral_payload(referral, request.user)


@router.post("/referrals/{referral_id}/transition", response={200: dict[str, Any], 409: ConflictOut})
def transition(request: HttpRequest, referral_id: int, payload: TransitionIn) -> Any:
    referral = referral_scope.get_or_404(request.user, referral_id)
    try:
        updated = actions.transition(
            actor(request),
            referral,
            payload.to,
            payload.version,
            note=payload.note,
            reason=payload.reason,
            counter_referral=payload.counter_referral,
        )
    except actions.TransitionRefused as exc:
        return conflict(request, exc)
    current = referral_scope.get_or_404(request.user, updated.pk)
    log_referral_reads(request, "referral", [current])
    return referral_payload(current, request.user)


@router.post("/referrals/{referral_id}/reassign", response={200: dict[str, Any], 409: ConflictOut})
def reassign(request: HttpRequest, referral_id: int, payload: ReassignIn) -> Any:
    referral = referral_scope.get_or_404(request.user, referral_id)
    try:
        updated = actions.reassign(
            actor(request),
            referral,
            payload.version,
            organisation_code=payload.organisation or "",
            assignee_username=payload.assignee or "",
        )
    except actions.TransitionRefused as exc:
        return conflict(request, exc)
    current = referral_scope.get_or_404(request.user, updated.pk)
    log_referral_reads(request, "referral", [current])
    return referral_payload(current, request.user)


class CommentIn(Schema):
    text: str


def comment_payload(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "author": c.author.username,
        "author_name": c.author.get_full_name() or c.author.username,
        "text": c.text,
        "created_at": c.created_at,
    }


@router.get("/referrals/{referral_id}/comments")
def list_comments(request: HttpRequest, referral_id: int) -> list[dict[str, Any]]:
    """The referral's comment thread, oldest first: for its parties only (sender, receiver, the
    municipality's coordinator); anyone else gets 404."""
    referral = referral_scope.get_or_404(request.user, referral_id)
    thread = actions.comments(request.user, referral)
    log_referral_reads(request, "referral comments", [referral])
    return [comment_payload(c) for c in thread]


@router.post("/referrals/{referral_id}/comments", response={201: dict[str, Any]})
def add_comment(request: HttpRequest, referral_id: int, payload: CommentIn) -> Any:
    """Add a comment to the thread (parties only; anyone else gets 404): ``text``, at most 2,000 characters."""
    referral = referral_scope.get_or_404(request.user, referral_id)
    comment = actions.add_comment(actor(request), referral, payload.text)
    return Status(201, comment_payload(comment))


@router.get("/children/{child_id}/risks")
def child_risks(request: HttpRequest, child_id: int, status: str = "open") -> list[dict[str, Any]]:
    """The child's risk flags (open by default; ``status=all``), in the categories you may see."""
    from crecer import conf

    child = scope.get_child_or_404(request.user, child_id)
    flags = referral_scope.flags_for(request.user, child)
    if status != "all":
        flags = flags.filter(status=status)
    rules = {r.id: r for r in conf.profile().rules}
    language = _language()
    log_reads(actor(request), "risks", [child.pk])
    return [
        {
            "id": f.pk,
            "rule": f.rule_id,
            "rule_version": f.rule_version,
            "label": rules[f.rule_id].flag.label(language) if f.rule_id in rules else f.rule_id,
            "category": f.category,
            "axis": f.axis,
            "severity": f.severity,
            "data_category": f.data_category,
            "recommendation": f.recommendation,
            "status": f.status,
            "raised_at": f.raised_at,
            "resolved_at": f.resolved_at,
            "resolution": f.resolution,
            "referrals": list(f.referrals.values_list("pk", flat=True)),
        }
        for f in flags.order_by("-raised_at")
    ]
