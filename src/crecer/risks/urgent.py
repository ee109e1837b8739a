"""Urgent results awaiting action: which a user may see, and the banner shown on a person's pages.

An urgent flag (its rule says ``urgent = true``) stays "pending" until someone records the action taken
(:func:`crecer.risks.actions.record_action`), whatever the flag's status meanwhile. A user sees the pending
flags of subjects in their scope (territorial roles only) in the data categories they may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import get_language

from crecer import conf
from crecer.access import permissions
from crecer.registry import scope
from crecer.registry.models import Caregiver, CaregiverLink, Child, Relationship
from crecer.risks.models import RiskFlag


def _awaiting(user: Any) -> QuerySet[RiskFlag]:
    """Urgent flags awaiting action in the categories ``user`` reads, oldest first: :func:`pending` before
    the subject's scope."""
    if not permissions.is_territorial(user):
        return RiskFlag.unscoped.none()
    categories = permissions.readable_categories(user)
    return (
        RiskFlag.unscoped.filter(urgent=True, acted_at__isnull=True, data_category__in=categories)
        .select_related("child__territory", "pregnancy__mother__territory")
        .order_by("raised_at", "pk")
    )


def pending(user: Any) -> QuerySet[RiskFlag]:
    """Urgent flags awaiting action that ``user`` may see, oldest first."""
    return _awaiting(user).filter(Q(child__in=scope.children(user)) | Q(pregnancy__in=scope.pregnancies(user)))


def visible(user: Any, flag_ids: list[int]) -> QuerySet[RiskFlag]:
    """Which of these urgent flags (pending or not) the user may still see: subject in scope, category read."""
    if not flag_ids or not permissions.is_territorial(user):
        return RiskFlag.unscoped.none()
    return RiskFlag.unscoped.filter(
        pk__in=flag_ids, urgent=True, data_category__in=permissions.readable_categories(user)
    ).filter(Q(child__in=scope.children(user)) | Q(pregnancy__in=scope.pregnancies(user)))


def get_flag_or_404(user: Any, flag_id: Any) -> RiskFlag:
    """An urgent flag the user may see (pending or not); 404 otherwise."""
    try:
        pk = int(flag_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not permissions.is_territorial(user):
        raise Http404
    flag = (
        RiskFlag.unscoped.filter(pk=pk, urgent=True, data_category__in=permissions.readable_categories(user))
        .filter(Q(child__in=scope.children(user)) | Q(pregnancy__in=scope.pregnancies(user)))
        .select_related("child__territory", "pregnancy__mother__territory", "acted_by")
        .first()
    )
    if flag is None:
        raise Http404
    return flag


def label(flag: RiskFlag) -> str:
    """The rule's flag label in the user's language (the rule id if the profile no longer has it)."""
    language = get_language() or "es"
    for rule in conf.profile().rules:
        if rule.id == flag.rule_id:
            return rule.flag.label(language)
    return flag.rule_id


def may_act(user: Any, flag: RiskFlag) -> bool:
    """Whether ``user`` may record the action taken on ``flag`` (see :func:`crecer.risks.actions.record_action`)."""
    territory = flag.child.territory if flag.child is not None else flag.pregnancy.mother.territory  # type: ignore[union-attr]
    return (
        permissions.register_refusal(user, territory.path) is None
        and permissions.record_refusal(user, flag.data_category) is None
    )


@dataclass
class Item:
    flag: RiskFlag
    label: str
    #: the child (or the mother, for a pregnancy's flag) the result is about
    subject_name: str
    subject_url: str
    can_act: bool


def items(user: Any, flags: Any) -> list[Item]:
    """Display items for pending flags (loaded with their subject and its territory)."""
    from django.urls import reverse

    found = []
    for flag in flags:
        if flag.child_id:
            name, url = flag.child.full_name, reverse("child-detail", args=[flag.child_id])
        else:
            name, url = flag.pregnancy.mother.full_name, reverse("pregnancy-detail", args=[flag.pregnancy_id])
        found.append(Item(flag, label(flag), name, url, may_act(user, flag)))
    return found


def banner(
    user: Any, *, child: Child | None = None, caregiver: Caregiver | None = None, next_url: str = ""
) -> dict[str, Any]:
    """Context for ``risks/_urgent_banner.html``: the pending urgent results of a child, or of a mother
    (her pregnancies, and the results recorded on her children — an Edinburgh scale is about the mother
    but recorded at her child's check-up)."""
    if child is not None:
        # A child the user may see (scope.categories: not empty exactly when the child is in
        # scope.children) makes the scope's subqueries on each flag's subject true already.
        flags = (_awaiting(user) if scope.categories(user, child) else pending(user)).filter(child=child)
    elif caregiver is not None:
        flags = pending(user)
        mothered = CaregiverLink.unscoped.filter(caregiver=caregiver, relationship=Relationship.MOTHER).values(
            "child_id"
        )
        flags = flags.filter(Q(child_id__in=mothered) | Q(pregnancy__mother=caregiver))
    else:
        flags = RiskFlag.unscoped.none()
    return {"urgent_items": items(user, flags), "urgent_next": next_url}


SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def flags_for(user: Any, child_ids: list[int]) -> dict[int, list[tuple[str, str, bool]]]:
    """Each child's open risk flags (and urgent ones awaiting action) in categories the user may see, urgent
    first, then by severity, as (rule id, label, urgent awaiting action): the worklists' alerts (one query)."""
    if not child_ids or not permissions.is_territorial(user):
        return {}
    language = get_language() or "es"
    labels = {r.id: r.flag.label(language) for r in conf.profile().rules}
    rows = RiskFlag.unscoped.filter(
        child_id__in=child_ids, data_category__in=permissions.readable_categories(user)
    ).filter(Q(status="open") | Q(urgent=True, acted_at__isnull=True))
    found: dict[int, list[tuple[int, int, str, str, bool]]] = {}
    for child_id, rule_id, severity, is_urgent, acted_at in rows.values_list(
        "child_id", "rule_id", "severity", "urgent", "acted_at"
    ):
        waiting = bool(is_urgent and acted_at is None)
        found.setdefault(child_id, []).append(
            (0 if waiting else 1, SEVERITY_RANK.get(severity, 3), rule_id, labels.get(rule_id, rule_id), waiting)
        )
    return {
        child_id: [(rule_id, text, waiting) for _u, _s, rule_id, text, waiting in sorted(items)]
        for child_id, items in found.items()
    }


#: at most this many urgent results are pinned on a page (oldest first); the next show as these are acted on
PINNED_MAX = 50


def pinned(user: Any) -> list[Item]:
    """The urgent results awaiting action the user may see (oldest first): on top of every worklist."""
    return items(user, pending(user)[:PINNED_MAX])
