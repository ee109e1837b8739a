"""Who reads what of the funds: deny by default, the user's territory subtree (404 outside it).

A network fund is seen by those whose territory it covers or who cover it (a municipality's coordinator
sees the national fund, but only its own allocation); an allocation by those whose territory holds the
municipality. An innovation call is seen the same way, and by the reviewers designated on it; a proposal by
those whose territory holds its applicant, by the applicant organisation's users, and by the call's
reviewers."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from crecer.access import permissions
from crecer.funds.models import Allocation, Award, BudgetLine, InnovationCall, NetworkFund, Proposal, ProposalFile


def _reads(user: Any) -> bool:
    return permissions.has(user, permissions.READ_FUNDS)


def _around(user: Any, field: str) -> Q:
    """Territories within the user's, or containing it."""
    path = user.territory.path
    prefixes = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    return Q(**{f"{field}__path__startswith": path}) | Q(**{f"{field}__path__in": prefixes})


def funds(user: Any) -> QuerySet[NetworkFund]:
    if user is None:
        return NetworkFund.objects.all()
    if not _reads(user):
        return NetworkFund.objects.none()
    return NetworkFund.objects.filter(_around(user, "territory"))


def allocations(user: Any) -> QuerySet[Allocation]:
    if user is None:
        return Allocation.objects.all()
    if not _reads(user):
        return Allocation.objects.none()
    return Allocation.objects.filter(municipality__path__startswith=user.territory.path)


def get_fund_or_404(user: Any, pk: Any) -> NetworkFund:
    try:
        return funds(user).select_related("territory").get(pk=int(pk))
    except (NetworkFund.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_allocation_or_404(user: Any, pk: Any) -> Allocation:
    try:
        return allocations(user).select_related("fund", "municipality").get(pk=int(pk))
    except (Allocation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_line_or_404(user: Any, pk: Any) -> BudgetLine:
    try:
        return BudgetLine.objects.select_related("allocation__fund", "allocation__municipality").get(
            pk=int(pk), allocation__in=allocations(user)
        )
    except (BudgetLine.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- innovation ------------------------------------------------------------------------------------------


def _sees_calls(user: Any) -> bool:
    return any(
        permissions.has(user, r)
        for r in (permissions.READ_FUNDS, permissions.SUBMIT_PROPOSALS, permissions.REVIEW_PROPOSALS)
    )


def calls(user: Any) -> QuerySet[InnovationCall]:
    if user is None:
        return InnovationCall.objects.all()
    if not _sees_calls(user):
        return InnovationCall.objects.none()
    return InnovationCall.objects.filter(_around(user, "territory") | Q(reviewers=user)).distinct()


def get_call_or_404(user: Any, pk: Any) -> InnovationCall:
    try:
        return calls(user).select_related("territory").get(pk=int(pk))
    except (InnovationCall.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def proposals(user: Any) -> QuerySet[Proposal]:
    if user is None:
        return Proposal.objects.all()
    condition = Q(pk__in=[])
    if _reads(user):
        condition |= Q(territory__path__startswith=user.territory.path)
    if permissions.has(user, permissions.SUBMIT_PROPOSALS):
        if user.organisation_id is not None:
            condition |= Q(organisation_id=user.organisation_id)
        else:
            condition |= Q(territory__path__startswith=user.territory.path)
    if permissions.has(user, permissions.REVIEW_PROPOSALS):
        condition |= Q(call__reviewers=user)
    if not _sees_calls(user):
        return Proposal.objects.none()
    return Proposal.objects.filter(condition).distinct()


def get_proposal_or_404(user: Any, pk: Any) -> Proposal:
    try:
        return proposals(user).select_related("call__territory", "territory", "organisation").get(pk=int(pk))
    except (Proposal.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_award_or_404(user: Any, pk: Any) -> Award:
    try:
        return Award.objects.select_related("proposal__call__territory", "proposal__territory").get(
            pk=int(pk), proposal__in=proposals(user)
        )
    except (Award.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_file_or_404(user: Any, proposal: Proposal, pk: Any) -> ProposalFile:
    try:
        return proposal.files.get(pk=int(pk))
    except (ProposalFile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
