"""Which territory's costing and projections a user reads: deny by default, the user's territory subtree
(unknown and out-of-scope codes answer alike: None, a 404)."""

from __future__ import annotations

from typing import Any

from crecer.access import permissions
from crecer.territories.models import Territory


def may_read(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and permissions.has(user, permissions.READ_COSTS))


def may_plan(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and permissions.has(user, permissions.PLAN_COSTS))


def territory_for(user: Any, code: str) -> Territory | None:
    """The territory asked for (the user's own when ``code`` is empty), or None."""
    if not may_read(user) or user.territory is None:
        return None
    if not code:
        return user.territory
    territory = Territory.objects.filter(code=code).first()
    if territory is None or not user.territory.contains(territory):
        return None
    return territory
