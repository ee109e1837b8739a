"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crecer import conf
from crecer.access import permissions


def crecer(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"crecer_profile": conf.profile()}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from crecer.dedup.merging import may_merge
        from crecer.imports.permissions import kinds_for
        from crecer.referrals.models import Notification

        # One indexed count per page: the header shows unread notifications.
        context["unread_notifications"] = Notification.objects.filter(user=user, read_at__isnull=True).count()
        context["can_import"] = bool(kinds_for(user))  # no query: the role decides
        context["can_merge"] = may_merge(user)
        context["can_read_audit"] = permissions.has(user, permissions.READ_AUDIT)
        context["can_manage_users"] = permissions.has(user, permissions.MANAGE_USERS)
        # The same right as the indicator pages' own check (monitoring.reading.territory_for).
        context["can_read_indicators"] = permissions.has(user, permissions.READ_INDICATORS)
        context["can_read_results"] = permissions.has(user, permissions.READ_RESULTS)  # agreements
        # Funds: who reads them, proposes to their calls or sits on a panel.
        context["can_see_funds"] = any(
            permissions.has(user, r)
            for r in (permissions.READ_FUNDS, permissions.SUBMIT_PROPOSALS, permissions.REVIEW_PROPOSALS)
        )
        context["can_plan"] = permissions.has(user, permissions.READ_COSTS)  # costing and projections
        context["can_read_planning"] = permissions.has(user, permissions.READ_PLANNING)  # indices, phasing
        context["can_record_groups"] = permissions.has(user, permissions.REGISTER)  # parenting groups' pages
        # Childcare centres: operators, and those who read or review them.
        context["can_see_centres"] = permissions.has(user, permissions.READ_CENTRES) or permissions.has(
            user, permissions.OPERATE_CENTRES
        )
        # The prenatal entry: roles that register people, working in a territory.
        context["can_register_people"] = permissions.has(user, permissions.REGISTER) and user.territory_id is not None
    return context
