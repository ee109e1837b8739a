"""The one scoped query layer for person data. Deny by default.

Every page, API endpoint, search, export and count that touches people starts from one of the
functions here. A user sees:

* with a territorial role (health worker, coordinator, managers; an auditor only where
  ``CRECER_AUDITORS_READ_RECORDS`` is set): the people living in their territory subtree, or enrolled
  at / attended by a facility in it;
* with any role bound to an organisation: the children explicitly shared with that organisation
  (an active :class:`~crecer.registry.models.AccessGrant`), and only the shared data categories;
* otherwise nothing. An inactive or anonymous user sees nothing.

Records outside scope must answer 404 (never 403): callers use :func:`get_child_or_404`.

The audit trail has its own scope (:func:`audited_children`): an auditor reads the events about the
children of their territory subtree without reading the children's records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.access.models import DataCategory
from crecer.core.prepared import Lookup
from crecer.registry.models import (
    AccessGrant,
    Caregiver,
    CaregiverLink,
    CaseNote,
    Child,
    Household,
    Pregnancy,
)
from crecer.territories.models import Facility, Territory
from crecer.validation import MAX_ID

if TYPE_CHECKING:
    from crecer.access.models import User


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _territory_ids(user: User) -> QuerySet[Territory, Any]:
    assert user.territory is not None
    return Territory.objects.filter(path__startswith=user.territory.path).values("id")


def _facility_ids(user: User) -> QuerySet[Facility, Any]:
    assert user.territory is not None
    return Facility.objects.filter(territory__path__startswith=user.territory.path).values("id")


def _territorial(user: Any) -> bool:
    return _active(user) and user.has_territorial_access


def _shared_child_ids(user: Any) -> QuerySet[AccessGrant, Any] | None:
    if not _active(user) or user.organisation_id is None:
        return None
    return AccessGrant.objects.active().filter(organisation_id=user.organisation_id).values("child_id")


def territorial_children(user: Any) -> QuerySet[Child]:
    """Children in the user's territory subtree only (not shared ones)."""
    if not _territorial(user):
        return Child.unscoped.none()
    return Child.unscoped.filter(voided_at__isnull=True).filter(
        Q(territory_id__in=_territory_ids(user)) | Q(facility_id__in=_facility_ids(user))
    )


def children(user: Any) -> QuerySet[Child]:
    """Every child the user may see."""
    condition = Q()
    matched = False
    if _territorial(user):
        condition |= Q(territory_id__in=_territory_ids(user)) | Q(facility_id__in=_facility_ids(user))
        matched = True
    shared = _shared_child_ids(user)
    if shared is not None:
        condition |= Q(pk__in=shared)
        matched = True
    if not matched:
        return Child.unscoped.none()
    return Child.unscoped.filter(voided_at__isnull=True).filter(condition)


def caregivers(user: Any) -> QuerySet[Caregiver]:
    """Caregivers living or served in the user's territory, or linked to a child the user may see."""
    if not _territorial(user):
        # Organisations see a shared child's caregivers through the child's page, not as a list.
        return Caregiver.unscoped.none()
    linked = CaregiverLink.unscoped.filter(child__in=territorial_children(user)).values("caregiver_id")
    served = Pregnancy.unscoped.filter(facility_id__in=_facility_ids(user)).values("mother_id")
    return Caregiver.unscoped.filter(voided_at__isnull=True).filter(
        Q(territory_id__in=_territory_ids(user)) | Q(pk__in=linked) | Q(pk__in=served)
    )


def households(user: Any) -> QuerySet[Household]:
    if not _territorial(user):
        return Household.unscoped.none()
    return Household.unscoped.filter(territory_id__in=_territory_ids(user))


def pregnancies(user: Any) -> QuerySet[Pregnancy]:
    if not _territorial(user):
        return Pregnancy.unscoped.none()
    return Pregnancy.unscoped.filter(Q(mother__in=caregivers(user)) | Q(facility_id__in=_facility_ids(user)))


def _in_territory(user: Any, child: Child) -> bool:
    """Whether ``child`` (a living record, its territory and facility loaded) lies in the user's territory
    subtree: :func:`territorial_children`'s condition for one child, decided from the paths
    (:func:`crecer.access.permissions.within`) rather than by a second query."""
    if not _territorial(user) or child.voided_at is not None:
        return False
    if permissions.within(user, child.territory.path):
        return True
    return child.facility is not None and permissions.within(user, child.facility.territory.path)


def _shared_categories(user: Any, child_id: int) -> frozenset[str]:
    """The categories of the child that the user's organisation's active grants share (identity always);
    empty when no active grant shares the child with it."""
    if not _active(user) or user.organisation_id is None:
        return frozenset()
    grants = AccessGrant.objects.active().filter(organisation_id=user.organisation_id, child_id=child_id)
    shared = [set(c) for c in grants.values_list("categories", flat=True)]
    if not shared:
        return frozenset()
    return frozenset(set[str]({DataCategory.IDENTITY}).union(*shared))


#: a living child by id with its territory, its facility and the facility's territory, and its household,
#: in SQL written once per process (:mod:`crecer.core.prepared`: every page and API call about a child
#: asks)
_CHILD = Lookup(Child, ["territory", "facility__territory", "household"], [("id", "="), ("voided_at", "isnull")])

#: where :func:`get_child_or_404` leaves, on the child it returns, the categories it decided for the user
_DECIDED = "_scope_decided"


def _decision_key(user: Any, child: Child) -> tuple[Any, ...]:
    """What the categories decided for ``user`` on ``child`` depend on, on both objects: a decision kept on
    the child holds only while all of it is unchanged (the child moved or voided, the user's role, place,
    organisation or extra categories changed: decided again)."""
    return (
        user.pk,
        user.is_active,
        user.role,
        user.territory_id,
        user.organisation_id,
        tuple(user.extra_categories or ()),
        child.pk,
        child.territory_id,
        child.facility_id,
        child.voided_at,
    )


def get_child_or_404(user: Any, child_id: Any) -> Child:
    """The child if the user may see it; 404 otherwise (existence is never revealed).

    One query by id (with the child's territory, facility and household), then the scope of
    :func:`children` decided for that one child: in the user's territory subtree (a territorial role), or
    shared with the user's organisation by an active grant (one more query, only for users bound to an
    organisation). The categories so decided are kept on the returned child for :func:`categories`."""
    try:
        pk = int(child_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not _active(user):
        raise Http404
    if not 0 < pk <= MAX_ID:
        raise Http404
    child = _CHILD.first(pk)
    if child is None:
        raise Http404
    if _in_territory(user, child):
        allowed = user.data_categories()
    else:
        allowed = _shared_categories(user, pk)
        if not allowed:
            raise Http404
    setattr(child, _DECIDED, (_decision_key(user, child), allowed))
    return child


def get_caregiver_or_404(user: Any, caregiver_id: Any) -> Caregiver:
    try:
        pk = int(caregiver_id)
    except (TypeError, ValueError):
        raise Http404 from None
    caregiver = caregivers(user).filter(pk=pk).first()
    if caregiver is None:
        raise Http404
    return caregiver


def get_household_or_404(user: Any, household_id: Any) -> Household:
    """The household if the user may see it; 404 otherwise (existence is never revealed)."""
    try:
        pk = int(household_id)
    except (TypeError, ValueError):
        raise Http404 from None
    household = households(user).select_related("territory").filter(pk=pk).first()
    if household is None:
        raise Http404
    return household


def get_pregnancy_or_404(user: Any, pregnancy_id: Any) -> Pregnancy:
    """The pregnancy if the user may see it: in scope and the user reads health data (a pregnancy is
    health data); 404 otherwise (existence is never revealed). Pages and API share this one rule."""
    try:
        pk = int(pregnancy_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not _active(user) or DataCategory.HEALTH not in user.data_categories():
        raise Http404
    pregnancy = pregnancies(user).select_related("mother__territory", "facility").filter(pk=pk).first()
    if pregnancy is None:
        raise Http404
    return pregnancy


def categories(user: Any, child: Child) -> frozenset[str]:
    """The data categories of ``child`` this user may see (empty if the child is out of scope)."""
    if not _active(user):
        return frozenset()
    decided = getattr(child, _DECIDED, None)
    if decided is not None and decided[0] == _decision_key(user, child):
        return frozenset(decided[1])
    if territorial_children(user).filter(pk=child.pk).exists():
        return user.data_categories()
    return _shared_categories(user, child.pk)


def with_category(user: Any, category: str, field: str = "pk") -> Q:
    """A condition on children (``field``: the child's id in the query filtered) keeping those whose data of
    ``category`` the user may see — the set form of :func:`categories`, for lists and worklists: everything
    in scope for a territorial role granted the category; for an organisation, the children whose active
    grant shares it (identity always); nothing otherwise."""
    nothing = Q(**{f"{field}__in": []})
    if not _active(user):
        return nothing
    if _territorial(user):
        return Q() if category in user.data_categories() else nothing
    if user.organisation_id is None:
        return nothing
    grants = AccessGrant.objects.active().filter(organisation_id=user.organisation_id)
    if category != DataCategory.IDENTITY:
        # the grant's categories are a JSON list of codes, each quoted in its text
        grants = grants.filter(categories__icontains=f'"{category}"')
    return Q(**{f"{field}__in": grants.values("child_id")})


def notes(user: Any, child: Child) -> QuerySet[CaseNote]:
    """The child's case notes in categories the user may see."""
    allowed = categories(user, child)
    return CaseNote.unscoped.filter(child=child, category__in=allowed).select_related("author")


def can_register(user: Any) -> bool:
    """Whether the signed-in user may register people (:data:`crecer.access.permissions.REGISTER`)."""
    return _active(user) and permissions.has(user, permissions.REGISTER)


def can_register_in(user: Any, territory: Territory) -> bool:
    return _active(user) and permissions.register_refusal(user, territory.path) is None


def can_read_audit(user: Any) -> bool:
    return _active(user) and permissions.has(user, permissions.READ_AUDIT)


def audited_children(user: Any) -> QuerySet[Child]:
    """The children whose audit trail ``user`` may read: for an auditor, those living in their territory
    subtree or enrolled at a facility in it, voided ones included (who voided a record is audited too);
    nobody for anyone else. Not a read of the records: pages and the API show such a child by registry
    number and id only."""
    if not _active(user) or not permissions.audits(user):
        return Child.unscoped.none()
    return Child.unscoped.filter(Q(territory_id__in=_territory_ids(user)) | Q(facility_id__in=_facility_ids(user)))


def get_audited_child_or_404(user: Any, child_id: Any) -> Child:
    """The child if ``user`` may read its audit trail; 404 otherwise (existence is never revealed)."""
    try:
        pk = int(child_id)
    except (TypeError, ValueError):
        raise Http404 from None
    child = audited_children(user).filter(pk=pk).first()
    if child is None:
        raise Http404
    return child


def audited_user_or_404(auditor: Any, username: str) -> User:
    """The user named ``username`` if ``auditor`` may read what they did: a user of the auditor's territory
    subtree (or one bound to no territory, for a national auditor). 404 for an unknown user and for one
    outside it alike, so that usernames elsewhere are not revealed."""
    from crecer.access.models import User

    if not _active(auditor) or not permissions.audits(auditor):
        raise Http404
    subject = User.objects.select_related("territory").filter(username=username).first()
    if subject is None:
        raise Http404
    path = subject.territory.path if subject.territory is not None else None
    national = auditor.territory is not None and auditor.territory.depth == 0
    if not (permissions.within(auditor, path) or (path is None and national)):
        raise Http404
    return subject


def counted_children(user: Any) -> QuerySet[Child]:
    """The children living in the user's territory subtree, for figures only (counts grouped by territory,
    never a list of people): territorial roles, and auditors (who read the figures of their territory);
    every child for the system (``None``); nobody for anyone else."""
    if user is None:
        return Child.unscoped.filter(voided_at__isnull=True)
    if not _active(user) or user.territory_id is None:
        return Child.unscoped.none()
    if not (user.has_territorial_access or permissions.audits(user)):
        return Child.unscoped.none()
    return Child.unscoped.filter(voided_at__isnull=True, territory_id__in=_territory_ids(user))
