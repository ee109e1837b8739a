"""API for parenting groups: a group, its members' attendance and the sessions held.

The twins of the ``groups`` and ``group_members`` imports and of the group's page: the same actions
(:mod:`crecer.tracking.actions`), the same rules and audit events. Groups are read through
:mod:`crecer.tracking.scope` (a group of another territory answers 404), caregivers and children through
:mod:`crecer.registry.scope`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from crecer.api.base import actor, paginate
from crecer.registry import scope
from crecer.registry.inputs import parse_date
from crecer.registry.reads import log_reads
from crecer.territories.models import Facility
from crecer.tracking import actions
from crecer.tracking import scope as tracking_scope
from crecer.tracking.models import GroupMember, ParentingGroup
from crecer.tracking.scope import get_group_or_404
from crecer.validation import Collector

router = Router(tags=["groups"])


class GroupIn(Schema):
    """A group programme, as a row of the ``groups`` import."""

    code: str
    name: str
    facility_code: str
    start_date: str
    planned_sessions: int
    service_code: str = "parenting_programme"
    facilitator: str = ""


class GroupOut(Schema):
    code: str
    name: str
    service_code: str
    facility_code: str
    start_date: dt.date
    planned_sessions: int
    facilitator: str


class AttendanceIn(Schema):
    """A caregiver (and optionally the child they attend for) and the sessions they attended, by number;
    the twin of a row of the ``group_members`` import."""

    caregiver: int
    child: int | None = None
    attended: list[int] = []


class MemberOut(Schema):
    group: str
    caregiver: int
    child: int | None
    sessions_attended: int
    attended: list[int]
    completed_on: dt.date | None


class SessionIn(Schema):
    """A session held on a day, with the members (caregiver ids) who attended."""

    number: int
    held_on: str
    attendees: list[int] = []


class SessionOut(Schema):
    group: str
    number: int
    held_on: dt.date
    attendees: list[MemberOut]


class GroupListOut(Schema):
    count: int
    page: int
    pages: int
    results: list[GroupOut]


class GroupMemberDetailOut(Schema):
    """A member of the group: the caregiver (and child) by id when you may see them, ``None`` otherwise;
    their attendance and completion under the programme's one rule (``minimum`` sessions)."""

    caregiver: int | None
    caregiver_name: str | None
    child: int | None
    sessions_attended: int
    attended: list[int]
    missing: int
    completed: bool
    completed_on: dt.date | None


class GroupSessionOut(Schema):
    number: int
    date: dt.date
    held: bool
    attendees: int


class GroupDetailOut(GroupOut):
    #: sessions a member must attend to complete the programme
    minimum: int
    members: list[GroupMemberDetailOut]
    sessions: list[GroupSessionOut]


def group_payload(g: ParentingGroup) -> dict[str, Any]:
    return {
        "code": g.code,
        "name": g.name,
        "service_code": g.service_code,
        "facility_code": g.facility.code,
        "start_date": g.start_date,
        "planned_sessions": g.planned_sessions,
        "facilitator": g.facilitator_name,
    }


def member_payload(m: GroupMember, group: ParentingGroup) -> dict[str, Any]:
    return {
        "group": group.code,
        "caregiver": m.caregiver_id,
        "child": m.child_id,
        "sessions_attended": m.sessions_attended,
        "attended": sorted(m.sessions.values_list("number", flat=True)),
        "completed_on": m.completed_on,
    }


@router.get("/groups", response=GroupListOut, summary="The parenting groups of your territory")
def list_groups(request: HttpRequest, page: int = 1) -> dict[str, Any]:
    """The groups meeting at a facility of your territory, newest first, as on the groups page (no person is
    shown)."""
    found = tracking_scope.groups(request.user).select_related("facility").order_by("-start_date", "code")
    items, pages = paginate(found, page)
    return {**pages, "results": [group_payload(g) for g in items]}


@router.get("/groups/{group_code}", response=GroupDetailOut, summary="One parenting group")
def get_group(request: HttpRequest, group_code: str) -> dict[str, Any]:
    """A group of your territory (404 otherwise): its members with their attendance and completion, and its
    sessions, as on the group's page. Members you may not see are listed without who they are. The read of
    the members shown is logged."""
    user: Any = request.user
    group = get_group_or_404(user, group_code)
    members = tracking_scope.group_members(user, group)
    log_reads(
        actor(request),
        "group",
        [r["child"].pk for r in members if r["child"] is not None],
        caregivers=[r["caregiver"].pk for r in members if r["caregiver"] is not None],
    )
    return {
        **group_payload(group),
        "minimum": actions.completion_minimum(group),
        "members": [
            {
                "caregiver": r["caregiver"].pk if r["caregiver"] is not None else None,
                "caregiver_name": r["caregiver"].full_name if r["caregiver"] is not None else None,
                "child": r["child"].pk if r["child"] is not None else None,
                "sessions_attended": r["member"].sessions_attended,
                "attended": r["attended"],
                "missing": r["missing"],
                "completed": r["member"].completed_on is not None,
                "completed_on": r["member"].completed_on,
            }
            for r in members
        ],
        "sessions": [
            {"number": s["number"], "date": s["date"], "held": s["held"], "attendees": s["attendees"]}
            for s in tracking_scope.group_sessions(group, timezone.localdate())
        ],
    }


@router.post("/groups", response={201: GroupOut}, summary="Create a parenting group")
def create_group(request: HttpRequest, payload: GroupIn) -> Status[dict[str, Any]]:
    """A group programme of the catalogue (e.g. ``parenting_programme``) meeting at a facility of your
    territory, with its start date and the number of sessions planned (within the service's range).
    Without a named facilitator, you lead it if you work at a facility."""
    errors = Collector()
    code = payload.facility_code.strip()
    facility = Facility.objects.select_related("territory").filter(code=code).first() if code else None
    if not code:
        errors.add("facility_code", "required", _("The facility code is required."))
    elif facility is None:
        errors.add("facility_code", "unknown", _("No facility has the code “%(code)s”.") % {"code": code})
    errors.raise_if_any()
    assert facility is not None
    group = actions.create_group(
        actor(request),
        code=payload.code,
        name=payload.name,
        facility=facility,
        start_date=payload.start_date,
        planned_sessions=payload.planned_sessions,
        service_code=payload.service_code,
        facilitator_name=payload.facilitator,
    )
    return Status(201, group_payload(group))


@router.post("/groups/{group_code}/attendance", response={201: MemberOut}, summary="Record a caregiver's attendance")
def record_attendance(request: HttpRequest, group_code: str, payload: AttendanceIn) -> Status[dict[str, Any]]:
    """The caregiver (enrolled if new) attended these sessions of the group, added to those they had; a
    session not recorded yet is held on its planned day. Completion follows the programme's minimum."""
    group = get_group_or_404(request.user, group_code)
    caregiver = scope.get_caregiver_or_404(request.user, payload.caregiver)
    child = scope.get_child_or_404(request.user, payload.child) if payload.child is not None else None
    member = actions.record_attendance(actor(request), group, caregiver, payload.attended, child)
    log_reads(actor(request), "group attendance", [member.child_id], caregivers=[member.caregiver_id])
    return Status(201, member_payload(member, group))


@router.post("/groups/{group_code}/sessions", response={201: SessionOut}, summary="Record a session held")
def record_session(request: HttpRequest, group_code: str, payload: SessionIn) -> Status[dict[str, Any]]:
    """Session ``number`` of the group was held on ``held_on`` with these members (caregiver ids); members who
    reach the programme's minimum complete it. Each session is recorded once."""
    group = get_group_or_404(request.user, group_code)
    errors = Collector()
    held_on = parse_date(payload.held_on, "held_on", errors)
    if held_on is None and "held_on" not in errors.errors:
        errors.add("held_on", "required", _("The date is required."))
    wanted = list(dict.fromkeys(payload.attendees))
    members = list(GroupMember.unscoped.filter(group=group, caregiver_id__in=wanted).order_by("caregiver_id"))
    if len(members) != len(wanted):
        errors.add("attendees", "not_member", _("Someone listed is not a member of this group."))
    errors.raise_if_any()
    assert held_on is not None
    session = actions.record_session(actor(request), group, payload.number, held_on, members)
    attendees = list(session.attendees.order_by("caregiver_id"))
    log_reads(
        actor(request),
        "group session",
        [m.child_id for m in attendees],
        caregivers=[m.caregiver_id for m in attendees],
    )
    return Status(
        201,
        {
            "group": group.code,
            "number": session.number,
            "held_on": session.held_on,
            "attendees": [member_payload(m, group) for m in attendees],
        },
    )
