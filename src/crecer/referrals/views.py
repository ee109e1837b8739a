"""Pages of the referral network: inbox, outbox and network board, a referral with its moves, the
referral form (from a risk flag or by hand), reassignment, the catalogue, the directory, notifications."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.access.models import DataCategory, Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions, machine
from crecer.referrals import history as referral_history
from crecer.referrals import scope as referral_scope
from crecer.referrals.models import NotCompletedReason, Notification, Priority, Provision, Service, State
from crecer.registry import scope
from crecer.registry.reads import log_reads
from crecer.risks.models import RiskFlag
from crecer.validation import InputErrors

PAGE_SIZE = 20
BOARD_FILTERS = ("action", "open", "draft", "closed", "all")


def _board_filters() -> list[tuple[str, str]]:
    return [
        ("action", _("Needs action")),
        ("open", _("Open")),
        ("draft", _("Drafts")),
        ("closed", _("Finished ones")),
        ("all", _("All")),
    ]


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _language() -> str:
    return get_language() or "es"


@login_required
def referral_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    default = (
        "network"
        if permissions.has(user, permissions.REASSIGN_REFERRALS)
        else "inbox"
        if user.organisation_id
        else "outbox"
    )
    box = request.GET.get("box", default)
    if box not in referral_scope.BOXES:
        box = default
    referrals = referral_scope.box(user, box)
    # The network board opens on what needs action (overdue first, then open); the rest on request.
    state = request.GET.get("state", "action" if box == "network" else "all")
    if state not in BOARD_FILTERS and state not in State.values:
        state = "all"
    referrals = referral_scope.by_filter(referrals, state)
    service = request.GET.get("service", "")
    if service:
        referrals = referrals.filter(service__code=service)
    organisation = request.GET.get("organisation", "")
    if organisation:
        referrals = referrals.filter(organisation__code=organisation)
    referrals = referral_scope.overdue_first(referrals).select_related(
        "service", "organisation", "child", "pregnancy__mother", "sender"
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    children, pregnancies = referral_scope.subjects(page.object_list)
    log_reads(_actor(request), f"referral list {box}", children, pregnancies=pregnancies)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/list.html",
        {
            "box": box,
            "boxes": [("inbox", _("Inbox")), ("outbox", _("Sent")), ("network", _("Network board"))],
            "page": page,
            "state": state,
            "filters": [(code, label) for code, label in _board_filters()],
            "states": State.choices,
            "service": service,
            "services": Service.objects.all(),
            "organisation": organisation,
            "querystring": query.urlencode(),
            "now": timezone.now(),
        },
    )


@login_required
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    user: Any = request.user
    referral = referral_scope.get_or_404(user, referral_id)
    errors: dict[str, Any] = {}
    conflict = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "comment":
                actions.add_comment(_actor(request), referral, request.POST.get("text", ""))
            elif request.POST.get("action") == "reassign":
                actions.reassign(
                    _actor(request),
                    referral,
                    int(request.POST.get("version", 0)),
                    organisation_code=request.POST.get("organisation", ""),
                    assignee_username=request.POST.get("assignee", ""),
                )
            else:
                counter = None
                if request.POST.get("to") == State.COMPLETED:
                    counter = {
                        "outcome": request.POST.get("outcome", ""),
                        "services_given": [s for s in request.POST.get("services_given", "").splitlines() if s.strip()],
                        "follow_up": request.POST.get("follow_up", ""),
                    }
                actions.transition(
                    _actor(request),
                    referral,
                    request.POST.get("to", ""),
                    int(request.POST.get("version", 0)),
                    note=request.POST.get("note", ""),
                    reason=request.POST.get("reason", ""),
                    counter_referral=counter,
                )
        except actions.TransitionRefused as exc:
            conflict = exc.message
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            return redirect("referral-detail", referral_id=referral.pk)
        referral = referral_scope.get_or_404(user, referral_id)
    subject = referral.child if referral.child_id else referral.pregnancy.mother  # type: ignore[union-attr]
    providers = [org for org, _free in actions.providers(referral.service, referral.territory)]
    if referral.organisation not in providers:
        providers.insert(0, referral.organisation)
    staff = actions.staff_of(org.pk for org in providers) if "coordinator" in machine.parties(user, referral) else {}
    history = referral_history.steps(referral)
    children, pregnancies = referral_scope.subjects([referral])
    log_reads(_actor(request), "referral page", children, pregnancies=pregnancies)
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "subject": subject,
            "allowed": machine.allowed_next(user, referral),
            "parties": machine.parties(user, referral),
            "history": history,
            "thread": actions.comments(user, referral) if actions.may_discuss(user, referral) else None,
            "errors": errors,
            "conflict": conflict,
            "not_completed_reasons": NotCompletedReason.choices,
            "outcomes": [(o, actions.outcome_label(o)) for o in actions.OUTCOMES],
            "providers": providers,
            "staff": [(org, staff.get(org.pk, [])) for org in providers],
            "chosen": request.POST if request.method == "POST" else {},
            "state_labels": dict(State.choices),
            "child_visible": referral.child_id and scope.children(user).filter(pk=referral.child_id).exists(),
        },
        status=409 if conflict else 422 if errors else 200,
    )


@login_required
def refer_child(request: HttpRequest, child_id: int) -> HttpResponse:
    """The referral form, pre-filled from a risk flag (``?flag=``) or empty."""
    user: Any = request.user
    child = scope.get_child_or_404(user, child_id)
    if not scope.can_register_in(user, child.territory):
        raise PermissionDenied(_("You cannot refer children outside your territory."))
    flag = None
    flag_id = request.GET.get("flag") or request.POST.get("flag") or ""
    if flag_id:
        flag = RiskFlag.unscoped.filter(pk=flag_id if flag_id.isdigit() else 0, child=child).first()
        if flag is None or flag.data_category not in scope.categories(user, child):
            raise Http404
    rules = {r.id: r for r in conf.profile().rules}
    language = _language()
    errors: dict[str, Any] = {}
    if request.method == "POST":
        try:
            referral = actions.create_referral(
                _actor(request),
                child=child,
                service_code=request.POST.get("service", ""),
                organisation_code=request.POST.get("organisation", ""),
                reason=request.POST.get("reason", ""),
                consent=request.POST.getlist("consent"),
                priority=request.POST.get("priority", ""),
                flag=flag,
            )
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            return redirect("referral-detail", referral_id=referral.pk)
    recommendation = (flag.recommendation or {}) if flag else {}
    rule = rules.get(flag.rule_id) if flag else None
    service_code = request.POST.get("service") or request.GET.get("service") or recommendation.get("service", "")
    service = Service.objects.filter(code=service_code).first()
    allowed = sorted(user.data_categories() & (set(DataCategory.values) - {DataCategory.IDENTITY}))
    log_reads(_actor(request), "referral form", [child.pk])
    initial_consent = (
        request.POST.getlist("consent") if request.method == "POST" else ([flag.data_category] if flag else [])
    )
    return render(
        request,
        "referrals/refer.html",
        {
            "child": child,
            "flag": flag,
            "rule": rule,
            "services": Service.objects.filter(active=True),
            "service": service,
            "providers": actions.providers(service, child.territory) if service else [],
            "reason": request.POST.get("reason") or (rule.description(language) if rule else ""),
            "priority": request.POST.get("priority") or recommendation.get("priority", Priority.ROUTINE),
            "priorities": Priority.choices,
            "categories": [(c, DataCategory(c).label) for c in allowed],
            "consent": initial_consent,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@login_required
def staff_reassign(request: HttpRequest) -> HttpResponse:
    """Coordinators move every open referral of a person who leaves to a colleague."""
    user: Any = request.user
    if not permissions.has(user, permissions.REASSIGN_REFERRALS) or user.territory is None:
        raise PermissionDenied(_("Only the municipal coordinator reassigns referrals."))
    people = User.objects.filter(
        role__in=(Role.HEALTH_WORKER, Role.PROVIDER_STAFF), territory__path__startswith=user.territory.path
    ).order_by("username")
    message, errors = "", {}
    if request.method == "POST":
        source = people.filter(username=request.POST.get("from_user", "")).first()
        target = people.filter(username=request.POST.get("to_user", "")).first()
        if source is None or target is None:
            errors = {"user": [{"code": "unknown", "message": _("Choose both people from the list.")}]}
        else:
            try:
                moved = actions.bulk_reassign(_actor(request), source, target)
            except InputErrors as exc:
                errors = exc.as_dict()
            else:
                message = _("%(n)s open referrals moved from %(a)s to %(b)s.") % {
                    "n": moved,
                    "a": source.username,
                    "b": target.username,
                }
    return render(request, "referrals/reassign.html", {"people": people, "message": message, "errors": errors})


@login_required
def services_page(request: HttpRequest) -> HttpResponse:
    """The catalogue; coordinators and administrators edit deadlines, eligibility and availability."""
    user: Any = request.user
    editable = permissions.has(user, permissions.EDIT_CATALOGUE)
    errors: dict[str, Any] = {}
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("Your role cannot edit the service catalogue."))
        service = Service.objects.filter(code=request.POST.get("code", "")).first()
        if service is None:
            raise Http404
        try:
            changes: dict[str, Any] = {
                "eligibility_es": request.POST.get("eligibility_es", service.eligibility_es),
                "active": request.POST.get("active") == "on",
            }
            for name in ("acceptance_days", "attention_days"):
                raw = request.POST.get(name, "")
                changes[name] = int(raw) if raw.strip().isdigit() else raw
            actions.update_service(_actor(request), service, changes)
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            return redirect("services")
    return render(
        request, "referrals/services.html", {"services": Service.objects.all(), "editable": editable, "errors": errors}
    )


@login_required
def directory_page(request: HttpRequest) -> HttpResponse:
    service = request.GET.get("service", "")
    provisions = (
        Provision.objects.select_related("organisation", "service")
        .prefetch_related("territories")
        .order_by("organisation__name")
    )
    if service:
        provisions = provisions.filter(service__code=service)
    return render(
        request,
        "referrals/directory.html",
        {"provisions": provisions[:500], "services": Service.objects.all(), "service": service},
    )


@login_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    from crecer.risks import urgent

    user: Any = request.user
    notifications = Notification.objects.filter(user=user).select_related("flag")
    if request.method == "POST":
        actions.mark_notifications_read(_actor(request))
        return redirect("notifications")
    shown = list(notifications[:100])
    # An urgent result names its person and result while they are still in the user's scope and categories.
    flags = {
        f.pk: f
        for f in urgent.visible(user, [n.flag_id for n in shown if n.flag_id]).select_related(
            "child__territory", "pregnancy__mother__territory"
        )
    }
    items = {item.flag.pk: item for item in urgent.items(user, flags.values())}
    # A referral's notification links to it while the user may still see it (the one scoped query).
    referrals = set(
        referral_scope.visible(user)
        .filter(pk__in=[n.referral_id for n in shown if n.referral_id])
        .values_list("pk", flat=True)
    )
    rows = [
        (n, actions.notification_text(n.kind), items.get(n.flag_id) if n.flag_id else None, n.referral_id in referrals)
        for n in shown
    ]
    log_reads(
        _actor(request),
        "notifications",
        [f.child_id for f in flags.values() if f.child_id],
        pregnancies=[f.pregnancy_id for f in flags.values() if f.pregnancy_id],
    )
    return render(request, "referrals/notifications.html", {"rows": rows})


def child_referral_sections(user: Any, child: Any) -> dict[str, Any]:
    """Open risk flags (with the rule's label and recommendation) and referrals, for the child page."""
    rules = {r.id: r for r in conf.profile().rules}
    language = _language()
    flags = [
        (f, rules[f.rule_id].flag.label(language) if f.rule_id in rules else f.rule_id)
        for f in referral_scope.flags_for(user, child).filter(status="open").order_by("-severity", "raised_at")
    ]
    referrals = referral_scope.of_child(user, child)
    return {"flags": flags, "referrals": referrals, "can_refer": scope.can_register_in(user, child.territory)}
