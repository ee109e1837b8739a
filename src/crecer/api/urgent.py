"""API of notifications and urgent results: the user's notifications, and recording the action taken on
an urgent result."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from crecer.api.base import Id, actor, paginate
from crecer.referrals import actions as referral_actions
from crecer.referrals import scope as referral_scope
from crecer.referrals.actions import notification_text
from crecer.referrals.models import Notification
from crecer.registry.reads import log_reads
from crecer.risks import actions, urgent
from crecer.risks.models import RiskFlag

router = Router(tags=["notifications"])
PAGE_SIZE = 25


class ActionIn(Schema):
    action_taken: str


def flag_payload(flag: RiskFlag) -> dict[str, Any]:
    return {
        "id": flag.pk,
        "rule": flag.rule_id,
        "label": urgent.label(flag),
        "child": flag.child_id,
        "pregnancy": flag.pregnancy_id,
        "status": flag.status,
        "raised_at": flag.raised_at,
        "urgent": flag.urgent,
        "awaiting_action": flag.awaiting_action,
        "action_taken": flag.action_taken,
        "acted_at": flag.acted_at,
        "acted_by": flag.acted_by.username if flag.acted_by else None,
    }


@router.get("/notifications")
def notifications(request: HttpRequest, unread: bool = False, page: int = 1) -> dict[str, Any]:
    """Your notifications, newest first (``unread=true``: only unread). An urgent result's notification
    carries the flag (its child or pregnancy by id) while it is still in your scope and data categories."""
    user: Any = request.user
    found = Notification.objects.filter(user=user).select_related("flag")
    if unread:
        found = found.filter(read_at__isnull=True)
    items, pages = paginate(found, page, PAGE_SIZE)
    visible = {f.pk for f in urgent.visible(user, [n.flag_id for n in items if n.flag_id])}
    # A referral's notification names it while the user may still see it (the one scoped query).
    referrals = set(
        referral_scope.visible(user)
        .filter(pk__in=[n.referral_id for n in items if n.referral_id])
        .values_list("pk", flat=True)
    )
    results = []
    children, pregnancies = [], []
    for n in items:
        row: dict[str, Any] = {
            "id": n.pk,
            "kind": n.kind,
            "text": notification_text(n.kind),
            "created_at": n.created_at,
            "read_at": n.read_at,
            "referral": n.referral_id if n.referral_id in referrals else None,
            "flag": None,
        }
        if n.flag is not None and n.flag_id in visible:
            row["flag"] = flag_payload(n.flag)
            if n.flag.child_id:
                children.append(n.flag.child_id)
            elif n.flag.pregnancy_id:
                pregnancies.append(n.flag.pregnancy_id)
        results.append(row)
    log_reads(actor(request), "notifications", children, pregnancies=pregnancies)
    return {**pages, "results": results}


class ReadIn(Schema):
    #: the notifications to mark as read; leave out to mark all of yours
    ids: list[Id] | None = None


@router.post("/notifications/read")
def mark_read(request: HttpRequest, payload: ReadIn) -> dict[str, Any]:
    """Mark your notifications as read: all of them, or those listed in ``ids`` (only your own: ids of other
    people's notifications are ignored). Answers how many were marked and how many stay unread."""
    marked = referral_actions.mark_notifications_read(actor(request), payload.ids)
    unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()  # type: ignore[misc]
    return {"marked": marked, "unread": unread}


@router.post("/urgent/{flag_id}/action")
def record_action(request: HttpRequest, flag_id: int, payload: ActionIn) -> dict[str, Any]:
    """Record the action taken on an urgent result (once): it then leaves the top of the worklists."""
    flag = urgent.get_flag_or_404(request.user, flag_id)
    flag = actions.record_action(actor(request), flag, payload.action_taken)
    log_reads(
        actor(request),
        "urgent result",
        [flag.child_id] if flag.child_id else [],
        pregnancies=[flag.pregnancy_id] if flag.pregnancy_id else [],
    )
    return flag_payload(flag)
