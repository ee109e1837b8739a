"""Which parenting groups a user may see (deny by default, like the person registry).

A group belongs to the territory of the facility where it meets: territorial roles see the groups of
their territory subtree; everybody else sees none. Out of scope answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.tracking.models import ParentingGroup


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
