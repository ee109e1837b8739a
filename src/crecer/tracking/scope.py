"""Which parenting groups, measurements and screenings a user may see (deny by default, like the person
registry).

A group belongs to the territory of the facility where it meets: territorial roles see the groups of
their territory subtree; everybody else sees none. A child's measurement or screening is seen by who sees
the child and its data category. Out of scope answers 404; pages and API use these same functions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.access.models import DataCategory
from crecer.registry import scope as registry_scope
from crecer.tracking.models import Measurement, ParentingGroup, Screening


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
