"""Which parenting groups, measurements and screenings a user may see (deny by default, like the person
registry).

A group belongs to the territory of the facility where it meets: territorial roles see the groups of
their territory subtree; everybody else sees none. A child's measurement or screening is seen by who sees
the child and its data category. Out of scope answers 404; pages and API use these same functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.access.models import DataCategory
from crecer.registry import scope as registry_scope
from crecer.tracking.models import GroupMember, GroupSession, Measurement, ParentingGroup, Screening


def groups(user: Any) -> QuerySet[ParentingGroup]:
    """The groups meeting at a facility inside the user's territory."""
    if not permissions.is_territorial(user) or not getattr(user, "is_authenticated", False):
        return ParentingGroup.unscoped.none()
    return ParentingGroup.unscoped.filter(facility__territory__path__startswith=user.territory.path)


def get_group_or_404(user: Any, code: str) -> ParentingGroup:
    """The group with this code if the user may see it; 404 otherwise (existence is never revealed)."""
    group = groups(user).select_related("facility__territory").filter(code=code).first()
    if group is None:
        raise Http404
    return group


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def get_measurement_or_404(user: Any, measurement_id: Any) -> Measurement:
    """A child's measurement if the user sees the child and its health data; 404 otherwise."""
    measurement = (
        Measurement.unscoped.filter(pk=_pk(measurement_id), child__in=registry_scope.children(user))
        .select_related("child__territory")
        .first()
    )
    if measurement is None or DataCategory.HEALTH not in registry_scope.categories(user, measurement.child):
        raise Http404
    return measurement


def get_screening_or_404(user: Any, screening_id: Any) -> Screening:
    """A child's screening if the user sees the child and the screening's data category; 404 otherwise."""
    screening = (
        Screening.unscoped.filter(pk=_pk(screening_id), child__in=registry_scope.children(user))
        .select_related("child__territory")
        .first()
    )
    if screening is None or screening.child is None:
        raise Http404
    if screening.data_category not in registry_scope.categories(user, screening.child):
        raise Http404
    return screening


def group_members(user: Any, group: ParentingGroup) -> list[dict[str, Any]]:
    """The group's members as the user may see them: a caregiver (or child) outside the user's scope is
    listed without a name."""
    members = list(GroupMember.unscoped.filter(group=group).select_related("caregiver", "child").order_by("pk"))
    caregiver_ids = {m.caregiver_id for m in members}
    child_ids = {m.child_id for m in members if m.child_id}
    visible_caregivers = set(registry_scope.caregivers(user).filter(pk__in=caregiver_ids).values_list("pk", flat=True))
    visible_children = set(registry_scope.children(user).filter(pk__in=child_ids).values_list("pk", flat=True))
    attended: dict[int, list[int]] = {}
    for member_id, number in GroupSession.attendees.through.objects.filter(
        groupmember_id__in=[m.pk for m in members]
    ).values_list("groupmember_id", "groupsession__number"):
        attended.setdefault(member_id, []).append(number)
    from crecer.tracking.actions import completion_minimum

    minimum = completion_minimum(group)
    rows = []
    for m in members:
        sessions = sorted(attended.get(m.pk, []))
        rows.append(
            {
                "member": m,
                "caregiver": m.caregiver if m.caregiver_id in visible_caregivers else None,
                "child": m.child if m.child_id in visible_children else None,
                "attended": sessions,
                "missing": max(minimum - m.sessions_attended, 0),
            }
        )
    return rows


def group_sessions(group: ParentingGroup, today: dt.date) -> list[dict[str, Any]]:
    """The planned sessions of the group, each with its day (held or planned) and how many attended."""
    from crecer.tracking.inputs import session_date

    held = {s.number: s for s in GroupSession.unscoped.filter(group=group).annotate(n=Count("attendees"))}
    rows = []
    for number in range(1, group.planned_sessions + 1):
        session = held.get(number)
        day = session.held_on if session is not None else session_date(group.start_date, number)
        rows.append(
            {
                "number": number,
                "date": day,
                "held": session is not None,
                "attendees": session.n if session is not None else 0,
                "open": session is not None or day <= today,
            }
        )
    return rows
