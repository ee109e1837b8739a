"""Who reads which agreement: deny by default, the user's territory subtree (404 outside it)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.results.models import Agreement, Appeal, Evaluation


def agreements(user: Any) -> QuerySet[Agreement]:
    """Agreements whose party lies in the user's territory (all, for the system); none without the right."""
    if user is None:
        return Agreement.objects.all()
    if not permissions.has(user, permissions.READ_RESULTS):
        return Agreement.objects.none()
    return Agreement.objects.filter(territory__path__startswith=user.territory.path)


def get_agreement_or_404(user: Any, pk: Any) -> Agreement:
    try:
        return agreements(user).select_related("territory", "organisation").get(pk=int(pk))
    except (Agreement.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def evaluation_or_404(user: Any, pk: Any) -> Evaluation:
    try:
        return Evaluation.objects.select_related("tranche__agreement").get(
            pk=int(pk), tranche__agreement__in=agreements(user)
        )
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def appeal_or_404(user: Any, pk: Any) -> Appeal:
    try:
        return Appeal.objects.select_related("evaluation__tranche__agreement").get(
            pk=int(pk), evaluation__tranche__agreement__in=agreements(user)
        )
    except (Appeal.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
