"""Who sees which referrals (deny by default, like the person registry)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from crecer.access.models import Role
from crecer.referrals.models import Referral
from crecer.registry import scope as registry_scope

BOXES = ("inbox", "outbox", "network")


def visible(user: Any) -> QuerySet[Referral]:
    """Referrals the user may see: received by their organisation, sent by them or their facility,
    or about a child or pregnancy in their territory (coordinators, managers, auditors)."""
    if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
        return Referral.unscoped.none()
    condition = Q(pk__in=[])
    if user.role == Role.PROVIDER_STAFF and user.organisation_id:
        condition |= Q(organisation_id=user.organisation_id)
    if user.role in (Role.HEALTH_WORKER, Role.MUNICIPAL_COORDINATOR):
        condition |= Q(sender=user)
        if user.facility_id:
            condition |= Q(sender_facility_id=user.facility_id)
    if user.has_territorial_access:
        condition |= Q(territory__path__startswith=user.territory.path)
    return Referral.unscoped.filter(condition)


def box(user: Any, name: str) -> QuerySet[Referral]:
    referrals = visible(user)
    if name == "inbox":
        return referrals.filter(organisation_id=user.organisation_id) if user.organisation_id else referrals.none()
    if name == "outbox":
        q = Q(sender=user)
        if user.facility_id:
            q |= Q(sender_facility_id=user.facility_id)
        return referrals.filter(q)
    if name == "network":
        if user.role != Role.MUNICIPAL_COORDINATOR or user.territory is None:
            return referrals.none()
        return referrals.filter(territory__path__startswith=user.territory.path)
    return referrals.none()


def get_or_404(user: Any, referral_id: Any) -> Referral:
    try:
        pk = int(referral_id)
    except (TypeError, ValueError):
        raise Http404 from None
    referral = (
        visible(user)
        .select_related("service", "organisation", "territory", "sender", "child", "pregnancy__mother")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        raise Http404
    return referral


def subjects(referrals: Any) -> tuple[list[int], list[int]]:
    """The children and pregnancies that ``referrals`` are about, for the read log."""
    items = list(referrals)
    return (
        [r.child_id for r in items if r.child_id],
        [r.pregnancy_id for r in items if not r.child_id and r.pregnancy_id],
    )


def flags_for(user: Any, child: Any) -> QuerySet[Any]:
    """A child's risk flags in the data categories the user may see."""
    from crecer.risks.models import RiskFlag

    categories = registry_scope.categories(user, child)
    return RiskFlag.unscoped.filter(child=child, data_category__in=categories)


def overdue_first(referrals: Any) -> Any:
    """Overdue (or expired) first, then by the nearest deadline."""
    from django.db.models import BooleanField, Case, Value, When
    from django.db.models.functions import Coalesce

    return referrals.annotate(
        late=Case(
            When(overdue_at__isnull=False, then=Value(True)),
            When(state="expired", then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        due=Coalesce("attention_due", "acceptance_due"),
    ).order_by("-late", "due", "pk")
