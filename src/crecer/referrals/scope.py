"""Who sees which referrals (deny by default, like the person registry)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from crecer.access import categories as access_categories
from crecer.access.models import SENSITIVE_CATEGORIES, Role
from crecer.referrals.models import OPEN_STATES, Referral, State
from crecer.registry import scope as registry_scope
from crecer.registry.models import AccessGrant

BOXES = ("inbox", "outbox", "network")


def share_grace() -> dt.timedelta:
    """How long the receiver keeps access after the referral stops being open (``CRECER_SHARE_GRACE_DAYS``)."""
    return dt.timedelta(days=getattr(settings, "CRECER_SHARE_GRACE_DAYS", 30))


def _sensitive(categories: frozenset[str]) -> Q:
    """Referrals revealing one of ``categories``: by their service's category, or by their consent
    (:func:`crecer.access.categories.revealed_by`, the same rule for one record)."""
    condition = Q(service__code__in=access_categories.services_of(categories))
    for category in sorted(categories):
        # consent is a JSON list of category codes; each code is quoted in its text
        condition |= Q(consent__icontains=f'"{category}"')
    return condition


def _parties(user: Any) -> Q:
    """Referrals ``user`` is party to (:func:`crecer.referrals.machine.parties`): sender (or a colleague at
    the sending facility), receiver (staff of the receiving organisation), coordinator of the municipality."""
    condition = Q(sender=user)
    if user.role == Role.HEALTH_WORKER and user.facility_id:
        condition |= Q(sender_facility_id=user.facility_id)
    if user.role == Role.PROVIDER_STAFF and user.organisation_id:
        condition |= Q(organisation_id=user.organisation_id)
    if user.role == Role.MUNICIPAL_COORDINATOR and user.territory is not None:
        condition |= Q(territory__path__startswith=user.territory.path)
    return condition


def received(organisation_id: int, now: dt.datetime | None = None) -> Q:
    """Referrals an organisation may still see: a child's while its access grant is active (opened when the
    referral is sent, ended the grace period after it stops being open, revoked when it is reassigned); a
    pregnancy's (no grant: the mother is not shared) from sending until the same grace period after it
    stops being open."""
    now = now or timezone.now()
    cut = now - share_grace()
    active = AccessGrant.objects.active(now).filter(organisation_id=organisation_id).values("pk")
    pregnancy = (
        Q(child__isnull=True)
        & ~Q(state=State.DRAFT)
        & (Q(state__in=OPEN_STATES) | Q(finished_at__gt=cut) | Q(finished_at__isnull=True, closed_at__gt=cut))
    )
    return Q(organisation_id=organisation_id) & (Q(grant_id__in=active) | pregnancy)


def visible(user: Any) -> QuerySet[Referral]:
    """Referrals the user may see — the one rule of every path (pages, boxes, the child's page, the
    timeline, notifications, figures' lists, the API, FHIR):

    * received by their organisation while its access lasts (:func:`received`), sent by them or their
      facility, or about a child or pregnancy in their territory (coordinators, managers, auditors);
    * and, when the referral reveals a sensitive category (violence, abuse, mental health, child
      protection: its service's or a consented one), only if the user is granted that category or is
      party to the referral (sender, receiver, the municipality's coordinator)."""
    if not (user is not None and getattr(user, "is_authenticated", False) and user.is_active):
        return Referral.unscoped.none()
    condition = Q(pk__in=[])
    if user.role == Role.PROVIDER_STAFF and user.organisation_id:
        condition |= received(user.organisation_id)
    if user.role in (Role.HEALTH_WORKER, Role.MUNICIPAL_COORDINATOR):
        condition |= Q(sender=user)
        if user.facility_id:
            condition |= Q(sender_facility_id=user.facility_id)
    if user.has_territorial_access:
        condition |= Q(territory__path__startswith=user.territory.path)
    referrals = Referral.unscoped.filter(condition)
    hidden = frozenset(SENSITIVE_CATEGORIES - user.data_categories())
    if hidden:
        referrals = referrals.filter(~_sensitive(hidden) | _parties(user))
    return referrals


def of_child(user: Any, child: Any) -> list[Referral]:
    """The child's referrals ``user`` may see (:func:`visible`), newest first, with their service and
    organisation. The child's page shows them twice (its timeline and its referrals section): the list is
    kept on the ``child`` instance for that user (and that user's role, place, organisation and categories),
    so one page asks the database once. A request that creates a referral and then shows the page again
    must use a new instance of the child (the pages redirect; ``refresh_from_db`` keeps the list)."""
    memo = child.__dict__.setdefault("_visible_referrals", {})
    # everything about the user that visible() decides by: a change to any of them reads again
    names = ("pk", "is_active", "role", "territory_id", "facility_id", "organisation_id")
    key = (*(getattr(user, name, None) for name in names), tuple(getattr(user, "extra_categories", None) or ()))
    if key not in memo:
        memo[key] = list(
            visible(user).filter(child=child).select_related("service", "organisation").order_by("-created_at")
        )
    return list(memo[key])


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


#: What the network board opens on: referrals waiting for someone (sent, accepted, in progress) and the
#: overdue or expired ones, which the coordinator must chase or close. Drafts and finished ones on request.
ACTION_STATES = (State.SENT, State.ACCEPTED, State.IN_PROGRESS, State.EXPIRED)
#: The board's filters besides single states (:func:`by_filter`).
BOARD_FILTERS = ("action", "open", "closed", "all")
#: Finished referrals (the board's "closed" filter).
FINISHED_STATES = tuple(s for s in State.values if s not in OPEN_STATES)


def by_filter(referrals: QuerySet[Referral], name: str) -> QuerySet[Referral]:
    """The board's filters: ``action`` (needs action: :data:`ACTION_STATES` or overdue), ``open``,
    ``draft``, ``closed`` (finished), ``all``, or one state's code."""
    if name == "action":
        return referrals.filter(Q(state__in=ACTION_STATES) | Q(overdue_at__isnull=False, state__in=OPEN_STATES))
    if name == "open":
        return referrals.filter(state__in=OPEN_STATES)
    if name == "closed":
        return referrals.filter(state__in=FINISHED_STATES)
    if name in State.values:
        return referrals.filter(state=name)
    return referrals


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
