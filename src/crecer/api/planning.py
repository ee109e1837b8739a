"""API for planning: composite indices computed from frozen snapshots, phasing plans with their phases,
the prioritisation of territories, coverage and rollout by cohort, and municipalities' proposals.

National and regional managers create and edit plans of their territory; a municipality's coordinator
sees the plans that phase their municipality (for it only) and proposes it for a phase; auditors read.
A plan outside the user's territory answers 404."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError

from crecer.access import permissions
from crecer.api.base import actor
from crecer.lib.periods import PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import reading
from crecer.planning import actions, indices, payloads, phasing, scope
from crecer.validation import Collector

router = Router(tags=["planning"])
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


def _body(request: HttpRequest) -> dict[str, Any]:
    if not (request.content_type or "").endswith("json"):
        return {k: v for k, v in request.POST.items()}
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "malformed") from exc
    if not isinstance(body, dict):
        raise HttpError(400, "malformed")
    return body


def _reader(request: HttpRequest) -> None:
    if not permissions.has(request.user, permissions.READ_PLANNING):  # type: ignore[arg-type]
        raise PermissionDenied(_("Your role cannot read the planning."))


@router.get("/indices")
def list_indices(request: HttpRequest) -> dict[str, Any]:
    """The composite indices of the country profile, with their components, weights and normalisation."""
    if reading.territory_for(request.user, "") is None:
        raise PermissionDenied(_("Your role cannot read indicators."))
    return {"results": [indices.index_payload(i) for i in indices.indices()]}


@router.get("/indices/{code}/values")
def index_values(
    request: HttpRequest, code: str, territory: str = "", period: str = "", snapshot: int | None = None
) -> dict[str, Any]:
    """The index of a territory (yours by default) and of each territory directly below it, for a period,
    from the period's latest frozen snapshot (or the ``snapshot`` id given), with every component: its
    value, normalised value, weight and contribution. 422 naming ``period`` when it has no snapshot."""
    place = reading.territory_for(request.user, territory)
    if place is None:
        raise Http404
    index = indices.index_or_404(code)
    errors = Collector()
    try:
        chosen = parse_period(period).code
    except PeriodError:
        errors.add("period", "invalid", _("Use a year (2025), a quarter (2025-Q2) or a month (2025-07)."))
    errors.raise_if_any()
    frozen = indices.snapshot_of(chosen, snapshot)
    territories = [place, *reading.children_of(place)]
    computed = indices.compute(index, frozen, territories)
    return {
        "index": indices.index_payload(index),
        "territory": place.code,
        "period": chosen,
        "snapshot": {"id": frozen.pk, "revision": frozen.revision, "created_at": frozen.created_at.isoformat()},
        "values": [indices.value_payload(t, computed.values[t.pk]) for t in territories],
    }


@router.get("/phasing/plans")
def list_plans(request: HttpRequest) -> dict[str, Any]:
    """The phasing plans you may read (a municipality's coordinator: those that phase their territory)."""
    _reader(request)
    plans = scope.plans(request.user).select_related("territory").order_by("name", "pk")
    return {"results": [payloads.plan_payload(p) for p in plans]}


@router.post("/phasing/plans", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def create_plan(request: HttpRequest) -> Status[dict[str, Any]]:
    """A plan: ``name``, ``territory_code`` (yours by default), ``level`` (the level phased, e.g.
    municipality), ``period`` (whose frozen snapshot gives the figures of the priorities), ``weights``
    (``{"vulnerability", "children", "gaps", "services"}``; the profile's by default), ``notes``."""
    plan = actions.create_plan(actor(request), _body(request))
    return Status(201, payloads.plan_payload(plan, request.user, detail=True))


@router.get("/phasing/plans/{plan_id}")
def get_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    """A plan with its phases (territories you may see), coverage by phase and cohort, and the rollout."""
    _reader(request)
    return payloads.plan_payload(scope.plan_or_404(request.user, plan_id), request.user, detail=True)


@router.patch("/phasing/plans/{plan_id}", openapi_extra=JSON_BODY)
def update_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    """Change the plan's ``name``, ``level``, ``period``, ``weights`` or ``notes`` (all given again)."""
    plan = scope.plan_or_404(request.user, plan_id)
    body = {**payloads.plan_fields(plan), **_body(request)}
    return payloads.plan_payload(actions.update_plan(actor(request), plan, body), request.user, detail=True)


@router.post("/phasing/plans/{plan_id}/phases", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def add_phase(request: HttpRequest, plan_id: int) -> Status[dict[str, Any]]:
    """The plan's next phase: ``name``, ``starts`` and ``ends`` (dates)."""
    plan = scope.plan_or_404(request.user, plan_id)
    phase = actions.add_phase(actor(request), plan, _body(request))
    return Status(201, payloads.phase_payload(phase, request.user))


@router.patch("/phasing/plans/{plan_id}/phases/{number}", openapi_extra=JSON_BODY)
def update_phase(request: HttpRequest, plan_id: int, number: int) -> dict[str, Any]:
    """Change a phase's ``name``, ``starts`` or ``ends``."""
    plan = scope.plan_or_404(request.user, plan_id)
    phase = scope.phase_or_404(request.user, plan, number)
    body = {"name": phase.name, "starts": phase.starts, "ends": phase.ends, **_body(request)}
    return payloads.phase_payload(actions.update_phase(actor(request), phase, body), request.user)


@router.put("/phasing/plans/{plan_id}/phases/{number}/territories", openapi_extra=JSON_BODY)
def set_territories(request: HttpRequest, plan_id: int, number: int) -> dict[str, Any]:
    """``{"territories": [codes]}``: the territories of the phase (replacing those it had)."""
    plan = scope.plan_or_404(request.user, plan_id)
    phase = scope.phase_or_404(request.user, plan, number)
    codes = _body(request).get("territories")
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        errors = Collector()
        errors.add("territories", "invalid", _("Give a list of territory codes."))
        errors.raise_if_any()
    return payloads.phase_payload(actions.set_territories(actor(request), phase, codes or []), request.user)


@router.get("/phasing/plans/{plan_id}/priorities")
def priorities(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    """The territories of the plan's level ranked by priority (most in need first), each with its score
    (0–100) and its parts: raw figure, normalised, weight and contribution; the phase it is in."""
    _reader(request)
    plan = scope.plan_or_404(request.user, plan_id)
    snapshot, ranked = phasing.priorities(plan)
    root = scope.root(request.user, plan)
    return {
        "plan": plan.pk,
        "period": plan.period,
        "snapshot": snapshot.pk if snapshot else None,
        "weights": {k: float(v) for k, v in phasing.weights_of(plan).items()},
        "results": [phasing.ranked_payload(r) for r in ranked if root.contains(r.territory)],
    }


@router.get("/phasing/plans/{plan_id}/phases/{number}/proposal")
def proposal(request: HttpRequest, plan_id: int, number: int, count: int = 10) -> dict[str, Any]:
    """The ``count`` territories of highest priority that no other phase holds: what the phase is proposed
    to take (a manager accepts or edits it with ``PUT …/territories``)."""
    plan = scope.plan_or_404(request.user, plan_id)
    actions.check_manage(request.user, plan.territory)
    phase = scope.phase_or_404(request.user, plan, number)
    if not 0 <= count <= 10000:
        errors = Collector()
        errors.add("count", "invalid", _("Choose between 0 and 10000 territories."))
        errors.raise_if_any()
    chosen = phasing.proposal_for(plan, phase, count)
    return {"phase": phase.number, "territories": [{"code": t.code, "name": t.name} for t in chosen]}


@router.post(
    "/phasing/plans/{plan_id}/phases/{number}/proposals", response={201: dict[str, Any]}, openapi_extra=JSON_BODY
)
def propose(request: HttpRequest, plan_id: int, number: int) -> Status[dict[str, Any]]:
    """A municipality's coordinator proposes their municipality for the phase: ``{"reason"}``."""
    plan = scope.plan_or_404(request.user, plan_id)
    phase = scope.phase_or_404(request.user, plan, number)
    made = actions.propose(actor(request), phase, str(_body(request).get("reason") or ""))
    return Status(201, payloads.proposal_payload(made))


@router.post("/phasing/proposals/{proposal_id}/decide", openapi_extra=JSON_BODY)
def decide(request: HttpRequest, proposal_id: int) -> dict[str, Any]:
    """``{"decision": "accept" | "decline", "answer"}`` (an answer is required to decline)."""
    found = scope.proposal_or_404(request.user, proposal_id)
    body = _body(request)
    decision = body.get("decision")
    if decision not in ("accept", "decline"):
        errors = Collector()
        errors.add("decision", "invalid_choice", _("Choose accept or decline."))
        errors.raise_if_any()
    made = actions.decide(actor(request), found, decision == "accept", str(body.get("answer") or ""))
    return payloads.proposal_payload(made)
