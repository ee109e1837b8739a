"""Writes of phasing plans: plans, phases, the territories of a phase, and proposals. Each checks the right
and the territory, validates with field errors, and writes its change with its audit event in one
transaction. National and regional managers plan in their territory; a municipality's coordinator
proposes their own municipality for a phase."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, save_changes
from crecer.lib import planning
from crecer.lib.periods import PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.planning.models import Phase, Plan, Proposal, ProposalState
from crecer.territories.models import Territory
from crecer.validation import Collector

MAX_NAME = 200
MAX_TEXT = 2000


def check_manage(user: Any, territory: Territory) -> None:
    if not permissions.has(user, permissions.MANAGE_PLANNING):
        raise PermissionDenied(_("Your role cannot plan the territorial phasing."))
    if not permissions.within(user, territory.path):
        raise PermissionDenied(_("This territory is outside the one you work in."))


def _text(raw: Any, field: str, errors: Collector, *, limit: int = MAX_NAME, required: bool = True) -> str:
    value = str(raw if raw is not None else "").strip()
    if required and not value:
        errors.add(field, "required", _("This field is required."))
    elif len(value) > limit:
        errors.add(field, "too_long", _("Write at most %(n)s characters.") % {"n": limit})
    return value


def _date(raw: Any, field: str, errors: Collector) -> dt.date | None:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        errors.add(field, "invalid", _("Write a date such as 2027-01-31."))
        return None


def _weights(raw: Any, errors: Collector) -> dict[str, str]:
    """The weights as decimal text (empty: the profile's defaults)."""
    if raw in (None, "", {}):
        return {}
    if not isinstance(raw, Mapping):
        errors.add("weights", "invalid", _("Give a weight for each part."))
        return {}
    cleaned = {k: v for k, v in raw.items() if str(v).strip() != ""}
    try:
        weights = planning.parse_weights(cleaned, "weights")
    except planning.PlanningError:
        errors.add("weights", "invalid", _("Each weight is a number of zero or more, and at least one is above zero."))
        return {}
    return {part: planning.decimal_text(w, 4) for part, w in weights.items()}


def _plan_fields(data: Mapping[str, Any], errors: Collector, territory: Territory | None) -> dict[str, Any]:
    values: dict[str, Any] = {"name": _text(data.get("name"), "name", errors)}
    level = str(data.get("level") or "").strip()
    profile = conf.profile()
    if level not in profile.level_keys:
        errors.add("level", "invalid_choice", _("Choose one of the territory levels."))
    elif territory is not None and profile.depth_of(level) <= territory.depth:
        errors.add("level", "invalid_choice", _("Choose a level below the plan's territory."))
    values["level"] = level
    period = str(data.get("period") or "").strip()
    try:
        values["period"] = parse_period(period).code
    except PeriodError:
        errors.add("period", "invalid", _("Use a year (2025), a quarter (2025-Q2) or a month (2025-07)."))
        values["period"] = period
    values["weights"] = _weights(data.get("weights"), errors)
    values["notes"] = _text(data.get("notes"), "notes", errors, limit=MAX_TEXT, required=False)
    return values


def create_plan(actor: Actor, data: Mapping[str, Any]) -> Plan:
    """A plan of ``territory_code`` (the user's own by default): name, level, period, weights, notes."""
    user = actor.user
    if not permissions.has(user, permissions.MANAGE_PLANNING):
        raise PermissionDenied(_("Your role cannot plan the territorial phasing."))
    errors = Collector()
    code = str(data.get("territory_code") or "").strip()
    territory = Territory.objects.filter(code=code).first() if code else (user.territory if user else None)
    if territory is None or not permissions.within(user, territory.path):
        errors.add("territory_code", "not_found", _("No territory with this code in the one you work in."))
        territory = None
    values = _plan_fields(data, errors, territory)
    errors.raise_if_any()
    assert territory is not None
    with transaction.atomic():
        plan = Plan.objects.create(territory=territory, created_by=user, **values)
        record(actor, Action.CREATE, plan, after={"territory": territory.code, **values})
    return plan


def update_plan(actor: Actor, plan: Plan, data: Mapping[str, Any]) -> Plan:
    check_manage(actor.user, plan.territory)
    errors = Collector()
    values = _plan_fields(data, errors, plan.territory)
    if values["level"] != plan.level and Phase.territories.through.objects.filter(phase__plan=plan).exists():
        errors.add("level", "in_use", _("The phases already hold territories of the current level."))
    errors.raise_if_any()
    with transaction.atomic():
        save_changes(actor, plan, values, list(values))
    return plan


def _phase_fields(data: Mapping[str, Any], errors: Collector) -> dict[str, Any]:
    starts = _date(data.get("starts"), "starts", errors)
    ends = _date(data.get("ends"), "ends", errors)
    if starts and ends and ends < starts:
        errors.add("ends", "before_start", _("The end date comes before the start date."))
    return {"name": _text(data.get("name"), "name", errors), "starts": starts, "ends": ends}


def add_phase(actor: Actor, plan: Plan, data: Mapping[str, Any]) -> Phase:
    """The plan's next phase: name, start and end dates (territories are set apart)."""
    check_manage(actor.user, plan.territory)
    errors = Collector()
    values = _phase_fields(data, errors)
    errors.raise_if_any()
    with transaction.atomic():
        number = (Phase.objects.select_for_update().filter(plan=plan).aggregate(m=Max("number"))["m"] or 0) + 1
        phase = Phase.objects.create(plan=plan, number=number, **values)
        record(actor, Action.CREATE, phase, after={"plan": plan.pk, "number": number, **values})
    return phase


def update_phase(actor: Actor, phase: Phase, data: Mapping[str, Any]) -> Phase:
    check_manage(actor.user, phase.plan.territory)
    errors = Collector()
    values = _phase_fields(data, errors)
    errors.raise_if_any()
    with transaction.atomic():
        save_changes(actor, phase, values, list(values))
    return phase


def _eligible(phase: Phase, territory: Territory) -> bool:
    plan = phase.plan
    return territory.level == plan.level and plan.territory.contains(territory)


def _held_elsewhere(phase: Phase, ids: Iterable[int]) -> dict[int, int]:
    """{territory id: phase number} of those of ``ids`` another phase of the plan holds."""
    return dict(
        Phase.territories.through.objects.filter(phase__plan=phase.plan_id, territory_id__in=list(ids))
        .exclude(phase=phase)
        .values_list("territory_id", "phase__number")
    )


def set_territories(actor: Actor, phase: Phase, codes: Iterable[str]) -> Phase:
    """The territories of a phase, replacing those it had (a manager accepting or editing a proposal).
    Each must be of the plan's level, inside the plan's territory and the user's, and in no other phase."""
    user = actor.user
    check_manage(user, phase.plan.territory)
    wanted = sorted({str(c).strip() for c in codes if str(c).strip()})
    found = {t.code: t for t in Territory.objects.filter(code__in=wanted)}
    errors = Collector()
    for code in wanted:
        territory = found.get(code)
        if territory is None or not _eligible(phase, territory) or not permissions.within(user, territory.path):
            errors.add("territories", "invalid", _("%(code)s is not a territory this plan phases.") % {"code": code})
    held = _held_elsewhere(phase, [t.pk for t in found.values()])
    for territory in found.values():
        if territory.pk in held:
            errors.add(
                "territories",
                "in_another_phase",
                _("%(name)s is already in phase %(n)s.") % {"name": territory.name, "n": held[territory.pk]},
            )
    errors.raise_if_any()
    with transaction.atomic():
        before = sorted(phase.territories.values_list("code", flat=True))
        phase.territories.set(list(found.values()))
        if before != wanted:
            record(actor, Action.UPDATE, phase, before={"territories": before}, after={"territories": wanted})
    return phase


def propose(actor: Actor, phase: Phase, reason: str) -> Proposal:
    """A municipality's coordinator proposes their own territory for ``phase``, with a reason."""
    user = actor.user
    if not permissions.has(user, permissions.PROPOSE_PLANNING) or user is None or user.territory is None:
        raise PermissionDenied(_("Your role cannot propose territories for a phase."))
    territory = user.territory
    errors = Collector()
    text = _text(reason, "reason", errors, limit=MAX_TEXT)
    if not _eligible(phase, territory):
        errors.add("phase", "not_phased", _("This plan does not phase your territory."))
    elif _held_elsewhere(phase, [territory.pk]) or phase.territories.filter(pk=territory.pk).exists():
        errors.add("phase", "already_in", _("Your territory is already in a phase of this plan."))
    elif Proposal.objects.filter(phase=phase, territory=territory, state=ProposalState.PENDING).exists():
        errors.add("phase", "pending", _("Your proposal for this phase is awaiting a decision."))
    errors.raise_if_any()
    with transaction.atomic():
        proposal = Proposal.objects.create(phase=phase, territory=territory, reason=text, created_by=user)
        record(actor, Action.CREATE, proposal, after={"phase": phase.pk, "territory": territory.code, "reason": text})
    return proposal


def decide(actor: Actor, proposal: Proposal, accept: bool, answer: str = "") -> Proposal:
    """Accept (the territory joins the phase) or decline (with an answer) a pending proposal."""
    phase = proposal.phase
    check_manage(actor.user, phase.plan.territory)
    if not permissions.within(actor.user, proposal.territory.path):
        raise PermissionDenied(_("This territory is outside the one you work in."))
    errors = Collector()
    text = _text(answer, "answer", errors, limit=MAX_TEXT, required=not accept)
    if proposal.state != ProposalState.PENDING:
        errors.add("proposal", "decided", _("This proposal has already been decided."))
    elif accept and _held_elsewhere(phase, [proposal.territory_id]):
        errors.add("proposal", "in_another_phase", _("The territory is already in another phase of this plan."))
    errors.raise_if_any()
    with transaction.atomic():
        values = {
            "state": ProposalState.ACCEPTED if accept else ProposalState.DECLINED,
            "answer": text,
            "decided_at": timezone.now(),
            "decided_by": actor.user,
        }
        save_changes(actor, proposal, values, list(values))
        if accept and not phase.territories.filter(pk=proposal.territory_id).exists():
            before = sorted(phase.territories.values_list("code", flat=True))
            phase.territories.add(proposal.territory)
            record(
                actor,
                Action.UPDATE,
                phase,
                before={"territories": before},
                after={"territories": sorted([*before, proposal.territory.code])},
                note="proposal accepted",
            )
    return proposal
