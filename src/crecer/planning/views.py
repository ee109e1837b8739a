"""Pages of planning: the composite indices of a territory (components shown), phasing plans with their
coverage by phase and cohort and the rollout, the ranked priorities, the forms of plans and phases, and
municipalities' proposals. Phone first; names, never codes; Excel downloads of the index and priorities."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crecer import conf
from crecer.access import permissions
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import xlsx_response
from crecer.lib import planning
from crecer.lib.periods import PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import reading
from crecer.monitoring.models import Snapshot
from crecer.planning import actions, indices, phasing, scope
from crecer.planning.models import Plan, Proposal, ProposalState
from crecer.territories.models import Territory
from crecer.validation import InputErrors

PART_LABELS = {
    "vulnerability": gettext_lazy("Vulnerability"),
    "children": gettext_lazy("Children under six"),
    "gaps": gettext_lazy("Indicator gaps"),
    "services": gettext_lazy("Services present"),
}
NORMALISATION_LABELS = {
    "bounds": gettext_lazy("between fixed bounds"),
    "territories": gettext_lazy("compared with the territories of its level"),
    "target": gettext_lazy("share of the target"),
}
DIRECTION_LABELS = {"higher": gettext_lazy("higher is better"), "lower": gettext_lazy("lower is better")}
COHORT_SHORT = {
    "pregnancies": gettext_lazy("Preg."),
    "births": gettext_lazy("Born"),
    "under_1": "<1",
    "age_1_2": "1–2",
    "age_2_4": "2–4",
}
COHORT_LABELS = {
    "pregnancies": gettext_lazy("Pregnancies"),
    "births": gettext_lazy("Births"),
    "under_1": gettext_lazy("Under 1"),
    "age_1_2": gettext_lazy("1 to 2 years"),
    "age_2_4": gettext_lazy("2 to 4 years"),
}


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _reader(request: HttpRequest) -> Any:
    user: Any = request.user
    if not permissions.has(user, permissions.READ_PLANNING):
        raise Http404
    return user


def _text(value: Any, places: int = 1) -> str:
    return planning.decimal_text(value, places) if value is not None else "—"


def _exported(request: HttpRequest, what: str) -> None:
    with transaction.atomic():
        record(_actor(request), Action.EXPORT, entity="planning", note=what)


def _level_name(key: str) -> str:
    try:
        level = conf.profile().level(key)
    except KeyError:
        return key
    return level.name_en if (get_language() or "es").startswith("en") else level.name_es


# --- indices --------------------------------------------------------------------------------------------


def _recent_periods() -> list[str]:
    return list(Snapshot.objects.order_by("-period").values_list("period", flat=True).distinct()[:12])


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The indices of the profile and the plans the user reads."""
    user = _reader(request)
    plans = scope.plans(user).select_related("territory").order_by("name", "pk")
    return render(
        request,
        "planning/home.html",
        {
            "indices": [(i.code, i.name(get_language() or "es")) for i in indices.indices()],
            "plans": plans,
            "manage": permissions.has(user, permissions.MANAGE_PLANNING),
        },
    )


def _index_rows(request: HttpRequest, code: str) -> tuple[Any, ...]:
    user = _reader(request)
    index = indices.index_or_404(code)
    place = reading.territory_for(user, request.GET.get("territory", ""))
    if place is None:
        raise Http404
    periods = _recent_periods()
    period = request.GET.get("period") or (periods[0] if periods else "")
    try:
        period = parse_period(period).code
    except PeriodError:
        period = ""
    snapshot = Snapshot.objects.filter(period=period).order_by("-revision").first() if period else None
    territories = [place, *reading.children_of(place)]
    computed = indices.compute(index, snapshot, territories) if snapshot else None
    return user, index, place, period, periods, snapshot, territories, computed


@login_required
def index_page(request: HttpRequest, code: str) -> HttpResponse:
    _user, index, place, period, periods, snapshot, territories, computed = _index_rows(request, code)
    language = get_language() or "es"
    rows = []
    if computed is not None:
        for t in territories:
            value = computed.values[t.pk]
            rows.append(
                {
                    "territory": t,
                    "value": _text(value.value),
                    "missing": [indices.indicator_name(m) for m in value.missing],
                    "components": [
                        {
                            "name": indices.indicator_name(c.indicator),
                            "value": _text(c.value),
                            "normalised": _text(None if c.normalised is None else c.normalised * 100),
                            "weight": _text(c.effective_weight * 100 if c.value is not None else None),
                            "contribution": _text(c.contribution),
                        }
                        for c in value.components
                    ],
                }
            )
    return render(
        request,
        "planning/index.html",
        {
            "index": index,
            "index_name": index.name(language),
            "description": index.description(language),
            "components": [
                {
                    "name": indices.indicator_name(c.indicator),
                    "weight": _text(c.weight / sum(x.weight for x in index.components) * 100),
                    "normalisation": NORMALISATION_LABELS[c.normalisation],
                    "direction": DIRECTION_LABELS[c.direction],
                }
                for c in index.components
            ],
            "place": place,
            "period": period,
            "periods": periods,
            "snapshot": snapshot,
            "rows": rows,
            "ancestors": [t for t in place.ancestors() if reading.territory_for(request.user, t.code)],
        },
    )


@login_required
def index_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    _user, index, place, period, _periods, _snapshot, territories, computed = _index_rows(request, code)
    if computed is None:
        raise Http404
    header = [
        _("territory"),
        _("index"),
        _("indicator"),
        _("value"),
        _("normalised (0-1)"),
        _("weight"),
        _("contribution"),
    ]
    rows: list[list[Any]] = []
    for t in territories:
        value = computed.values[t.pk]
        rows.append([t.name, indices.number(value.value), "", "", "", "", ""])
        for c in value.components:
            rows.append(
                [
                    t.name,
                    "",
                    indices.indicator_name(c.indicator),
                    indices.number(c.value, 4),
                    indices.number(c.normalised, 4),
                    indices.number(c.effective_weight, 4),
                    indices.number(c.contribution),
                ]
            )
    _exported(request, f"index {index.code} {place.code} {period}")
    return xlsx_response(header, rows, f"indice-{index.code}-{place.code}-{period}")


# --- plans ----------------------------------------------------------------------------------------------


def _errors_of(exc: InputErrors) -> dict[str, list[str]]:
    return {key: [e["message"] for e in items] for key, items in exc.as_dict().items()}


def _field(
    form: Any, errors: dict[str, list[str]], name: str, label: Any, kind: str = "text", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "kind": kind,
        "value": form.get(name, extra.pop("default", "")),
        "errors": errors.get(name, []),
        **extra,
    }


def _plan_form(request: HttpRequest, plan: Plan | None, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    user: Any = request.user
    if request.method == "POST":
        form: Any = request.POST
    elif plan is not None:
        form = {
            "name": plan.name,
            "level": plan.level,
            "period": plan.period,
            "notes": plan.notes,
            **{f"weight_{k}": planning.decimal_text(v, 2) for k, v in phasing.weights_of(plan).items()},
        }
    else:
        defaults = conf.profile().planning.priority.weights
        form = {
            "period": str(timezone.localdate().year - 1),
            "level": conf.profile().level_keys[-1],
            **{f"weight_{k}": planning.decimal_text(v, 2) for k, v in defaults.items()},
        }
    levels = [(level.key, _level_name(level.key)) for level in conf.profile().territory_levels[1:]]
    fields = [_field(form, errors, "name", _("Name"))]
    if plan is None:
        places = Territory.objects.filter(path__startswith=user.territory.path).exclude(
            level=conf.profile().level_keys[-1]
        )
        fields.append(
            _field(
                form,
                errors,
                "territory_code",
                _("Territory of the plan"),
                "select",
                choices=[(t.code, f"{t.name} ({t.level_name})") for t in places.order_by("path")[:500]],
            )
        )
    fields += [
        _field(form, errors, "level", _("Territories phased"), "select", choices=levels),
        _field(form, errors, "period", _("Period of the figures (year, e.g. 2025)")),
    ]
    weights = [_field(form, errors, f"weight_{part}", PART_LABELS[part], "decimal") for part in planning.PARTS]
    return [*fields, *weights, _field(form, errors, "notes", _("Notes"), "textarea")]


def _plan_data(post: Any) -> dict[str, Any]:
    return {
        "name": post.get("name", ""),
        "territory_code": post.get("territory_code", ""),
        "level": post.get("level", ""),
        "period": post.get("period", ""),
        "notes": post.get("notes", ""),
        "weights": {part: post.get(f"weight_{part}", "") for part in planning.PARTS},
    }


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not permissions.has(user, permissions.MANAGE_PLANNING):
        raise Http404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            plan = actions.create_plan(_actor(request), _plan_data(request.POST))
            return redirect("planning-plan", plan.pk)
        except InputErrors as exc:
            errors = _errors_of(exc)
    return render(
        request,
        "planning/plan_form.html",
        {"plan": None, "fields": _plan_form(request, None, errors), "errors": errors},
    )


@login_required
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _reader(request)
    plan = scope.plan_or_404(user, plan_id)
    if not permissions.has(user, permissions.MANAGE_PLANNING) or not permissions.within(user, plan.territory.path):
        raise Http404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            actions.update_plan(_actor(request), plan, _plan_data(request.POST))
            return redirect("planning-plan", plan.pk)
        except InputErrors as exc:
            errors = _errors_of(exc)
    return render(
        request,
        "planning/plan_form.html",
        {"plan": plan, "fields": _plan_form(request, plan, errors), "errors": errors},
    )


def _manages(user: Any, plan: Plan) -> bool:
    return permissions.has(user, permissions.MANAGE_PLANNING) and permissions.within(user, plan.territory.path)


@login_required
def plan_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan's dashboard: coverage by phase and by cohort, each phase's territories and rollout, the
    proposals; a manager adds phases, a coordinator proposes their municipality."""
    user = _reader(request)
    plan = scope.plan_or_404(user, plan_id)
    root = scope.root(user, plan)
    manages = _manages(user, plan)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if request.POST.get("do") == "phase" and manages:
                actions.add_phase(_actor(request), plan, request.POST)
            elif request.POST.get("do") == "propose":
                phase = scope.phase_or_404(user, plan, request.POST.get("phase"))
                actions.propose(_actor(request), phase, request.POST.get("reason", ""))
            else:
                raise Http404
            return redirect("planning-plan", plan.pk)
        except InputErrors as exc:
            errors = _errors_of(exc)
        except PermissionDenied as exc:
            errors = {"reason": [str(exc)]}
    total, coverage = phasing.coverage(plan, root)
    phases = []
    for c in coverage:
        places = [t for t in c.phase.territories.order_by("name") if root.contains(t)]
        proposals = [p for p in c.phase.proposals.select_related("territory") if root.contains(p.territory)]
        phases.append(
            {
                "phase": c.phase,
                "territories": places,
                "children": c.children,
                "cohort": c.cohort,
                "share": _text(None if c.cumulative_share is None else c.cumulative_share * 100),
                "rollout": [
                    {"year": r["year"], "cells": [r[k] for k in phasing.COHORTS]}
                    for r in phasing.rollout(c.phase, root)
                ],
                "proposals": proposals,
            }
        )
    form = request.POST if request.method == "POST" else {}
    can_propose = (
        permissions.has(user, permissions.PROPOSE_PLANNING)
        and user.territory is not None
        and user.territory.level == plan.level
        and plan.territory.contains(user.territory)
    )
    return render(
        request,
        "planning/plan.html",
        {
            "plan": plan,
            "root": root,
            "level_name": _level_name(plan.level),
            "total": total,
            "phases": phases,
            "manages": manages,
            "can_propose": can_propose,
            "errors": errors,
            "phase_fields": [
                _field(form, errors, "name", _("Name of the phase")),
                _field(form, errors, "starts", _("Start date"), "date"),
                _field(form, errors, "ends", _("End date"), "date"),
            ],
            "reason": form.get("reason", ""),
            "cohort_labels": [(COHORT_SHORT[k], COHORT_LABELS[k]) for k in phasing.COHORTS],
            "weights": [(PART_LABELS[k], _text(v, 2)) for k, v in phasing.weights_of(plan).items()],
            "pending": ProposalState.PENDING,
        },
    )


@login_required
def plan_xlsx(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan's phases with their coverage, territories and rollout by cohort (the part the user sees)."""
    user = _reader(request)
    plan = scope.plan_or_404(user, plan_id)
    root = scope.root(user, plan)
    total, coverage = phasing.coverage(plan, root)
    header = [
        _("phase"),
        _("start date"),
        _("end date"),
        _("territories"),
        _("children under six"),
        _("born since the phase began"),
        _("cumulative coverage"),
    ]
    rows: list[list[Any]] = []
    for c in coverage:
        rows.append(
            [
                c.phase.name,
                c.phase.starts,
                c.phase.ends,
                c.territories,
                c.children,
                c.cohort,
                indices.number(c.cumulative_share, 4),
            ]
        )
    rows += [[], [_("children under six"), total], []]
    rows.append([_("phase"), _("year"), *[str(COHORT_LABELS[k]) for k in phasing.COHORTS]])
    for c in coverage:
        for r in phasing.rollout(c.phase, root):
            rows.append([c.phase.name, r["year"], *[r[k] for k in phasing.COHORTS]])
    rows += [[], [_("phase"), _("territory")]]
    for c in coverage:
        for t in c.phase.territories.order_by("name"):
            if root.contains(t):
                rows.append([c.phase.name, t.name])
    _exported(request, f"plan {plan.pk}")
    return xlsx_response(header, rows, f"plan-{plan.pk}")


def _priority_rows(request: HttpRequest, plan_id: int) -> tuple[Plan, Any, list[phasing.Ranked]]:
    user = _reader(request)
    plan = scope.plan_or_404(user, plan_id)
    root = scope.root(user, plan)
    snapshot, ranked = phasing.priorities(plan)
    return plan, snapshot, [r for r in ranked if root.contains(r.territory)]


@login_required
def priorities_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan, snapshot, ranked = _priority_rows(request, plan_id)
    rows = [
        {
            "rank": r.priority.rank,
            "territory": r.territory,
            "score": _text(r.priority.score),
            "phase": r.phase,
            "parts": [
                {
                    "label": PART_LABELS[part],
                    "raw": _text(p.raw * 100 if part in ("vulnerability", "gaps") and p.raw is not None else p.raw),
                    "contribution": _text(p.contribution),
                }
                for part, p in r.priority.parts.items()
            ],
        }
        for r in ranked
    ]
    return render(
        request,
        "planning/priorities.html",
        {"plan": plan, "snapshot": snapshot, "rows": rows, "parts": [PART_LABELS[p] for p in planning.PARTS]},
    )


@login_required
def priorities_xlsx(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan, _snapshot, ranked = _priority_rows(request, plan_id)
    header = [_("rank"), _("territory"), _("score"), _("phase")]
    for part in planning.PARTS:
        header += [f"{PART_LABELS[part]}: {_('figure')}", f"{PART_LABELS[part]}: {_('points')}"]
    rows = []
    for r in ranked:
        row: list[Any] = [r.priority.rank, r.territory.name, indices.number(r.priority.score), r.phase or ""]
        for part in planning.PARTS:
            p = r.priority.parts[part]
            row += [indices.number(p.raw, 4), indices.number(p.contribution)]
        rows.append(row)
    _exported(request, f"priorities plan {plan.pk}")
    return xlsx_response(header, rows, f"prioridades-plan-{plan.pk}")


@login_required
def phase_page(request: HttpRequest, plan_id: int, number: int) -> HttpResponse:
    """A manager edits a phase: its name and dates, and its territories (proposed by priority, accepted
    or changed by ticking them)."""
    user = _reader(request)
    plan = scope.plan_or_404(user, plan_id)
    phase = scope.phase_or_404(user, plan, number)
    if not _manages(user, plan):
        raise Http404
    errors: dict[str, list[str]] = {}
    form: Any = {"name": phase.name, "starts": phase.starts.isoformat(), "ends": phase.ends.isoformat()}
    current = set(phase.territories.values_list("code", flat=True))
    chosen = current
    try:
        count = max(0, min(int(request.GET.get("propose", "")), 10000))
    except ValueError:
        count = None
    if count is not None:
        chosen = {t.code for t in phasing.proposal_for(plan, phase, count)}
    if request.method == "POST":
        form = request.POST
        chosen = set(request.POST.getlist("territories"))
        try:
            with transaction.atomic():
                actions.update_phase(_actor(request), phase, request.POST)
                actions.set_territories(_actor(request), phase, chosen)
            return redirect("planning-plan", plan.pk)
        except InputErrors as exc:
            errors = _errors_of(exc)
    _snapshot, ranked = phasing.priorities(plan)
    options = [
        {
            "territory": r.territory,
            "rank": r.priority.rank,
            "score": _text(r.priority.score),
            "checked": r.territory.code in chosen,
            "elsewhere": r.phase if r.phase not in (None, phase.number) else None,
        }
        for r in ranked
        if permissions.within(user, r.territory.path)
    ]
    return render(
        request,
        "planning/phase.html",
        {
            "plan": plan,
            "phase": phase,
            "errors": errors,
            "fields": [
                _field(form, errors, "name", _("Name of the phase")),
                _field(form, errors, "starts", _("Start date"), "date"),
                _field(form, errors, "ends", _("End date"), "date"),
            ],
            "options": options,
            "proposed": count,
        },
    )


@login_required
@require_POST
def proposal_decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    user = _reader(request)
    proposal: Proposal = scope.proposal_or_404(user, proposal_id)
    plan = proposal.phase.plan
    try:
        actions.decide(
            _actor(request), proposal, request.POST.get("decision") == "accept", request.POST.get("answer", "")
        )
    except (InputErrors, PermissionDenied):
        return redirect(f"{_plan_url(plan)}?proposal_error={proposal.pk}")
    return redirect("planning-plan", plan.pk)


def _plan_url(plan: Plan) -> str:
    from django.urls import reverse

    return reverse("planning-plan", args=[plan.pk])
