"""Who reads which plan: deny by default. A plan is seen by whoever holds the right and works in its
territory or below it (a municipality's coordinator sees the national plan, for their municipality only);
within a plan, a user sees the territories of their own subtree (:func:`root`). Outside: 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.planning.models import Phase, Plan, Proposal
from crecer.territories.models import Territory


def plans(user: Any) -> QuerySet[Plan]:
    if user is None:
        return Plan.objects.all()
    if not permissions.has(user, permissions.READ_PLANNING) or user.territory is None:
        return Plan.objects.none()
    own = user.territory.path
    ancestors = [own[: i + 1] for i, ch in enumerate(own) if ch == "/" and i > 0]
    return Plan.objects.filter(Q(territory__path__startswith=own) | Q(territory__path__in=ancestors))


def plan_or_404(user: Any, pk: Any) -> Plan:
    try:
        return plans(user).select_related("territory").get(pk=int(pk))
    except (Plan.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def phase_or_404(user: Any, plan: Plan, number: Any) -> Phase:
    try:
        return plan.phases.get(number=int(number))
    except (Phase.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def proposal_or_404(user: Any, pk: Any) -> Proposal:
    try:
        proposal = Proposal.objects.select_related("phase__plan__territory", "territory").get(pk=int(pk))
    except (Proposal.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    if not plans(user).filter(pk=proposal.phase.plan_id).exists() or not visible(user, proposal.territory):
        raise Http404
    return proposal


def root(user: Any, plan: Plan) -> Territory:
    """The part of the plan the user sees: the plan's territory, or the user's own where it lies below it."""
    if user is not None and user.territory is not None and plan.territory.contains(user.territory):
        return user.territory
    return plan.territory


def visible(user: Any, territory: Territory) -> bool:
    return user is None or (user.territory is not None and user.territory.contains(territory))
