"""Pages of parenting groups (a group programme such as "Nadie es Perfecto": create it, enrol caregivers,
record each session's attendance, see who completed it) and of services delivered to a child outside a
check-up (home visits, stimulation sessions).

The twins of :mod:`crecer.api.groups` and of ``POST /children/{id}/deliveries``: groups are found by their
code through :mod:`crecer.tracking.scope` (another territory's group answers 404), people through
:mod:`crecer.registry.scope`; every write goes through :mod:`crecer.tracking.actions`; rights are asked of
:mod:`crecer.access.permissions`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import categories, permissions
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import scope
from crecer.registry.inputs import parse_date
from crecer.registry.models import Caregiver, CaregiverLink, Child
from crecer.registry.reads import log_reads
from crecer.registry.search import search
from crecer.territories.models import Facility
from crecer.tracking import actions
from crecer.tracking import scope as group_scope
from crecer.tracking.inputs import clean_delivery, session_date
from crecer.tracking.models import GroupMember, GroupSession, ParentingGroup
from crecer.validation import Collector, InputErrors

PAGE_SIZE = 20
#: caregivers shown for one search on the enrolment page
SEARCH_LIMIT = 20
#: how services given outside a check-up are recorded from the child's page
DELIVERY_KINDS = ("visit", "session")


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _language() -> str:
    return get_language() or "es"


def _may_record(user: Any) -> None:
    permissions.check(user, permissions.REGISTER, _("Your role cannot record parenting groups."))


def _facilities(user: Any) -> Any:
    """The places of the user's territory where a group may meet or a service be given."""
    if user.territory is None:
        return Facility.objects.none()
    return Facility.objects.filter(territory__path__startswith=user.territory.path).order_by("name")


def _group_services() -> list[Any]:
    return [s for s in conf.profile().services if s.delivery == "group"]


# --- the list ---------------------------------------------------------------------------------------------


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    """The groups meeting in the user's territory, newest first (no person is shown: nothing to log)."""
    groups = (
        group_scope.groups(request.user)
        .select_related("facility")
        .annotate(member_count=Count("members"))
        .order_by("-start_date", "code")
    )
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    names = {s.code: s.name(_language()) for s in conf.profile().services}
    rows = [(g, names.get(g.service_code, g.service_code)) for g in page.object_list]
    return render(
        request,
        "tracking/groups.html",
        {"page": page, "rows": rows, "can_record": permissions.has(request.user, permissions.REGISTER)},  # type: ignore[arg-type]
    )


# --- create -----------------------------------------------------------------------------------------------


def _suggested_code(user: Any, today: dt.date) -> str:
    base = f"{user.facility.code if user.facility_id else 'GR'}-{today:%Y%m%d}"
    code, n = base, 1
    while ParentingGroup.unscoped.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


@login_required
def group_new(request: HttpRequest) -> HttpResponse:
    """Create a group: the programme, where it meets, who leads it, when it starts and how many weekly
    sessions it plans (their days follow :func:`~crecer.tracking.inputs.session_date`)."""
    user: Any = request.user
    _may_record(user)
    today = timezone.localdate()
    services = _group_services()
    language = _language()
    errors: dict[str, Any] = {}
    if request.method == "POST":
        data: Any = request.POST
        code = data.get("facility_code", "").strip()
        facility = Facility.objects.select_related("territory").filter(code=code).first() if code else None
        if facility is None:
            errors = {"facility_code": [{"code": "required", "message": _("Choose the place where the group meets.")}]}
        else:
            try:
                group = actions.create_group(
                    _actor(request),
                    code=data.get("code", ""),
                    name=data.get("name", ""),
                    facility=facility,
                    start_date=data.get("start_date", ""),
                    planned_sessions=data.get("planned_sessions", ""),
                    service_code=data.get("service_code", ""),
                    facilitator_name=data.get("facilitator", ""),
                )
            except InputErrors as exc:
                errors = exc.as_dict()
            else:
                messages.success(request, _("The group “%(name)s” was created.") % {"name": group.name})
                return redirect("group-detail", group_code=group.code)
    else:
        first = services[0] if services else None
        data = {
            "code": _suggested_code(user, today),
            "name": first.name(language) if first else "",
            "service_code": first.code if first else "",
            "facility_code": user.facility.code if user.facility_id else "",
            "start_date": today.isoformat(),
            "planned_sessions": str(first.sessions_min or "") if first else "",
        }
    return render(
        request,
        "tracking/groups_new.html",
        {
            "data": data,
            "errors": errors,
            "services": [
                {
                    "code": s.code,
                    "name": s.name(language),
                    "low": s.sessions_min or 1,
                    "high": s.sessions_max or 52,
                    "minimum": s.completion_min_sessions,
                }
                for s in services
            ],
            "facilities": _facilities(user),
        },
        status=422 if errors else 200,
    )


# --- a group's page ---------------------------------------------------------------------------------------


def _members(user: Any, group: ParentingGroup) -> list[dict[str, Any]]:
    return group_scope.group_members(user, group)


def _sessions(group: ParentingGroup, today: dt.date) -> list[dict[str, Any]]:
    return group_scope.group_sessions(group, today)


def _log_members(request: HttpRequest, what: str, rows: list[dict[str, Any]]) -> None:
    log_reads(
        _actor(request),
        what,
        [r["child"].pk for r in rows if r["child"] is not None],
        caregivers=[r["caregiver"].pk for r in rows if r["caregiver"] is not None],
    )


@login_required
def group_detail(request: HttpRequest, group_code: str) -> HttpResponse:
    """The group, its sessions (planned or held, with how many attended) and its members with their
    attendance and completion."""
    user: Any = request.user
    group = group_scope.get_group_or_404(user, group_code)
    today = timezone.localdate()
    service = conf.profile().service(group.service_code)
    members = _members(user, group)
    _log_members(request, "group page", members)
    return render(
        request,
        "tracking/groups_detail.html",
        {
            "group": group,
            "service_name": service.name(_language()),
            "minimum": actions.completion_minimum(group),
            "members": members,
            "sessions": _sessions(group, today),
            "can_record": permissions.has(user, permissions.REGISTER)
            and permissions.within(user, group.facility.territory.path),
        },
    )


# --- enrolment --------------------------------------------------------------------------------------------


def _candidates(user: Any, group: ParentingGroup, query: str) -> list[dict[str, Any]]:
    """Caregivers of the user's scope matching ``query`` (a name, a registry number or a document), each with
    the children linked to them that the user may see."""
    if not query:
        return []
    found = list(search(scope.caregivers(user), query)[:SEARCH_LIMIT])
    members = set(GroupMember.unscoped.filter(group=group).values_list("caregiver_id", flat=True))
    links = (
        CaregiverLink.unscoped.filter(caregiver__in=[c.pk for c in found], child__in=scope.children(user))
        .select_related("child")
        .order_by("child__birth_date", "child_id")
    )
    children: dict[int, list[Child]] = {}
    for link in links:
        children.setdefault(link.caregiver_id, []).append(link.child)
    return [{"caregiver": c, "children": children.get(c.pk, []), "member": c.pk in members} for c in found]


def _enrolment_refusal(user: Any, caregiver_id: str, child_id: str) -> tuple[Caregiver | None, Child | None, dict]:
    """The caregiver and child posted, if the user may see them; an unknown caregiver and one outside the
    user's scope get the same answer."""
    errors = Collector()
    caregiver = scope.caregivers(user).filter(pk=int(caregiver_id)).first() if caregiver_id.isdigit() else None
    if caregiver is None:
        errors.add("caregiver", "unknown", _("No caregiver found. Search again by name or document."))
    child = None
    if child_id and caregiver is not None:
        child = (
            scope.children(user)
            .filter(pk=int(child_id) if child_id.isdigit() else 0, caregiver_links__caregiver=caregiver)
            .first()
        )
        if child is None:
            errors.add("child", "unknown", _("Choose one of this caregiver's children."))
    return caregiver, child, {k: [{"code": e.code, "message": e.message} for e in v] for k, v in errors.errors.items()}


@login_required
def group_enrol(request: HttpRequest, group_code: str) -> HttpResponse:
    """Find a caregiver of the user's territory and enrol them (for one of their children, if chosen)."""
    user: Any = request.user
    group = group_scope.get_group_or_404(user, group_code)
    _may_record(user)
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()
    errors: dict[str, Any] = {}
    if request.method == "POST":
        caregiver, child, errors = _enrolment_refusal(
            user, request.POST.get("caregiver", "").strip(), request.POST.get("child", "").strip()
        )
        if not errors and caregiver is not None:
            try:
                actions.record_attendance(_actor(request), group, caregiver, [], child)
            except InputErrors as exc:
                errors = exc.as_dict()
            else:
                messages.success(request, _("%(name)s was enrolled in the group.") % {"name": caregiver.full_name})
                return redirect("group-detail", group_code=group.code)
    candidates = _candidates(user, group, query)
    log_reads(
        _actor(request),
        "group enrolment search",
        [child.pk for c in candidates for child in c["children"]],
        caregivers=[c["caregiver"].pk for c in candidates],
    )
    return render(
        request,
        "tracking/groups_enrol.html",
        {"group": group, "query": query, "candidates": candidates, "errors": errors},
        status=422 if errors else 200,
    )


# --- a session's attendance -------------------------------------------------------------------------------


@login_required
def group_session(request: HttpRequest, group_code: str, number: int) -> HttpResponse:
    """One session's attendance as a checklist of the members: recording a session not held yet records it
    on its day; for a session already recorded, members ticked are added (nobody is removed)."""
    user: Any = request.user
    group = group_scope.get_group_or_404(user, group_code)
    if not 1 <= number <= group.planned_sessions:
        raise Http404
    _may_record(user)
    today = timezone.localdate()
    session = GroupSession.unscoped.filter(group=group, number=number).first()
    present = set(session.attendees.values_list("caregiver_id", flat=True)) if session is not None else set()
    planned = session_date(group.start_date, number)
    errors: dict[str, Any] = {}
    data: Any = {"held_on": (planned if planned <= today else today).isoformat()}
    ticked: set[int] = set()
    if request.method == "POST":
        data = request.POST
        ticked = {int(v) for v in request.POST.getlist("attended") if v.isdigit()}
        wanted = sorted(ticked - present)
        members = list(GroupMember.unscoped.filter(group=group, caregiver_id__in=wanted).order_by("caregiver_id"))
        collected = Collector()
        if len(members) != len(wanted):
            collected.add("attendees", "not_member", _("Someone listed is not a member of this group."))
        held_on = None
        if session is None:
            held_on = parse_date(request.POST.get("held_on", ""), "held_on", collected)
            if held_on is None and "held_on" not in collected.errors:
                collected.add("held_on", "required", _("The date is required."))
        try:
            collected.raise_if_any()
            if session is None:
                assert held_on is not None
                actions.record_session(_actor(request), group, number, held_on, members)
            else:
                actions.add_session_attendees(_actor(request), group, number, members)
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            messages.success(request, _("The attendance of session %(number)s was saved.") % {"number": number})
            return redirect("group-detail", group_code=group.code)
    members_rows = _members(user, group)
    _log_members(request, "group session", members_rows)
    return render(
        request,
        "tracking/groups_session.html",
        {
            "group": group,
            "number": number,
            "session": session,
            "planned": planned,
            "today": today,
            "members": members_rows,
            "present": present,
            "ticked": ticked,
            "data": data,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


# --- a service delivered to a child (home visit, stimulation session) ------------------------------------


def delivery_services(user: Any) -> list[Any]:
    """The profile's services given to a child by visits or sessions that the user may record."""
    return [
        s
        for s in conf.profile().services
        if s.subject == "child"
        and s.delivery in DELIVERY_KINDS
        and permissions.may_record(user, categories.of_service(s.code))
    ]


@login_required
def delivery_new(request: HttpRequest, child_id: int) -> HttpResponse:
    """Record a home visit or a stimulation session given to the child (by the signed-in professional)."""
    user: Any = request.user
    child = scope.get_child_or_404(user, child_id)
    if not scope.can_register_in(user, child.territory):
        raise PermissionDenied(_("You cannot record services for this child."))
    language = _language()
    services = delivery_services(user)
    facilities = _facilities(user)
    today = timezone.localdate()
    errors: dict[str, Any] = {}
    data: Any = {"date": today.isoformat(), "facility_code": user.facility.code if user.facility_id else ""}
    if request.method == "POST":
        data = request.POST
        collected = Collector()
        service_code = data.get("service", "").strip()
        if service_code not in {s.code for s in services}:
            collected.add("service", "not_offered", _("Choose a home visit or a session of the list."))
        facility_code = data.get("facility_code", "").strip()
        if facility_code and not facilities.filter(code=facility_code).exists():
            collected.add("facility_code", "out_of_scope", _("Choose a place of your territory."))
        if collected.errors:  # the rest of the form is checked by the shared rule too, to name every field
            rest = Collector()
            clean_delivery(
                {"service_code": service_code, "date": data.get("date", ""), "detail": data.get("detail", "")},
                rest,
                has_child=True,
                has_caregiver=False,
                today=today,
            )
            for name, items in rest.errors.items():
                collected.errors.setdefault(name, items)
        try:
            collected.raise_if_any()
            actions.record_delivery(
                _actor(request),
                service_code,
                data.get("date", ""),
                child=child,
                facility_code=facility_code,
                detail=data.get("detail", ""),
            )
        except InputErrors as exc:
            errors = exc.as_dict()
        else:
            service_name = next((s.name(_language()) for s in conf.profile().services if s.code == service_code), "")
            messages.success(request, _("Saved: %(service)s.") % {"service": service_name})
            return redirect("child-detail", child_id=child.pk)
    log_reads(_actor(request), "delivery form", [child.pk])
    return render(
        request,
        "tracking/delivery_new.html",
        {
            "child": child,
            "services": [(s.code, s.name(language)) for s in services],
            "facilities": facilities,
            "today": today,
            "data": data,
            "errors": errors,
        },
        status=422 if errors else 200,
    )
