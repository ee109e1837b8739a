"""Pages of the person registry: a caregiver (a mother, with her pregnancies and children) and a
household (its address, vulnerability percentile and members). Read through the scoped queries (out of
scope answers 404) and logged with :func:`crecer.registry.reads.log_reads`.

The registration flow that writes them (a pregnant woman, her household, her pregnancy and its birth)
joins other apps and lives in :mod:`crecer.web.prenatal`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crecer.access import permissions
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import scope
from crecer.registry.models import CaregiverLink
from crecer.registry.reads import log_reads


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _may_register(user: Any, territory: Any) -> bool:
    return permissions.has(user, permissions.REGISTER) and scope.can_register_in(user, territory)


@login_required
def caregiver_detail(request: HttpRequest, caregiver_id: int) -> HttpResponse:
    user: Any = request.user
    caregiver = scope.get_caregiver_or_404(user, caregiver_id)
    pregnancies = list(
        scope.pregnancies(user).filter(mother=caregiver).select_related("facility").order_by("-edd_date")
    )
    links = list(
        CaregiverLink.unscoped.filter(caregiver=caregiver, child__in=scope.children(user))
        .select_related("child")
        .order_by("child__birth_date", "child_id")
    )
    household = scope.households(user).filter(pk=caregiver.household_id).first() if caregiver.household_id else None
    log_reads(
        _actor(request),
        "caregiver page",
        [link.child_id for link in links],
        pregnancies=[p.pk for p in pregnancies],
        caregivers=[caregiver.pk],
    )
    return render(
        request,
        "registry/caregiver.html",
        {
            "caregiver": caregiver,
            "household": household,
            "pregnancies": pregnancies,
            "links": links,
            "can_register": _may_register(user, caregiver.territory),
        },
    )


@login_required
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    user: Any = request.user
    household = scope.get_household_or_404(user, household_id)
    caregivers = list(scope.caregivers(user).filter(household=household).order_by("search_name", "pk"))
    children = list(scope.children(user).filter(household=household).order_by("birth_date", "pk"))
    log_reads(_actor(request), "household page", [c.pk for c in children], caregivers=[c.pk for c in caregivers])
    return render(
        request,
        "registry/household.html",
        {
            "household": household,
            "caregivers": caregivers,
            "children": children,
            "can_register": _may_register(user, household.territory),
        },
    )
