"""The data category of a record: one function decides it for every kind of record.

Pages, the timeline, the API, FHIR, exports and the analytics export show a record only to users who
may read its category (:func:`crecer.registry.scope.categories` says which categories a user may read
for a child); writes refuse a record whose category the user may not record
(:func:`crecer.access.permissions.check_record`). Both ask :func:`category_of`.

Records are recognised by their model label, so this module imports no domain app.
"""

from __future__ import annotations

from typing import Any

from crecer import conf
from crecer.access.models import DataCategory

#: records whose category is fixed by their kind
FIXED: dict[str, str] = {
    "registry.child": DataCategory.IDENTITY,
    "registry.caregiver": DataCategory.IDENTITY,
    "registry.caregiverlink": DataCategory.IDENTITY,
    "registry.household": DataCategory.SOCIAL,
    "registry.pregnancy": DataCategory.HEALTH,
    "tracking.encounter": DataCategory.HEALTH,
    "tracking.measurement": DataCategory.HEALTH,
    # parenting groups are part of the development axis (ChCC's "Nadie es Perfecto")
    "tracking.parentinggroup": DataCategory.DEVELOPMENT,
    "tracking.groupmember": DataCategory.DEVELOPMENT,
    "tracking.groupsession": DataCategory.DEVELOPMENT,
}
#: a service not (or no longer) in the profile's catalogue
UNKNOWN_SERVICE = DataCategory.SOCIAL


def of_service(code: str) -> str:
    """The category of a service of the profile's catalogue (deliveries, referrals)."""
    for service in conf.profile().services:
        if service.code == code:
            return service.data_category
    return UNKNOWN_SERVICE


def of_instrument(code: str) -> str:
    """The category of a screening instrument's result (the EPDS is mental health, the EEDP development)."""
    from crecer.lib import screening

    return screening.get(code).category


def service_categories() -> dict[str, str]:
    """``{service code: category}`` for the whole catalogue (pages that list many records)."""
    return {s.code: s.data_category for s in conf.profile().services}


def services_of(categories: frozenset[str] | set[str]) -> list[str]:
    """The codes of the catalogue's services whose category is one of ``categories`` (scoped queries)."""
    return sorted(code for code, category in service_categories().items() if category in categories)


def revealed_by(record: Any) -> frozenset[str]:
    """Every category a record reveals: its own (:func:`category_of`) and, for a referral, the categories
    consented for sharing with the receiver (a housing referral that shares child protection data tells
    of child protection). The referrals' scoped query hides a referral revealing a sensitive category
    from users not granted it (and not party to it)."""
    found = {category_of(record)}
    if record._meta.label_lower == "referrals.referral":
        found |= set(record.consent or [])
    return frozenset(found)


def category_of(record: Any) -> str:
    """The data category of ``record`` (a model instance of the registry, trajectory, risks or referrals)."""
    label = record._meta.label_lower
    if label in FIXED:
        return FIXED[label]
    if label in ("tracking.screening", "risks.riskflag"):
        # decided when written (by the instrument, by the rule) and stored with the record
        return str(record.data_category)
    if label == "tracking.delivery":
        return of_service(record.service_code)
    if label == "referrals.referral":
        return of_service(record.service.code)
    if label == "registry.casenote":
        return str(record.category)
    raise KeyError(f"no data category is defined for {label}")
