"""Deadlines: expire unanswered referrals, mark and escalate overdue ones, remind receivers.

Idempotent and safe with several copies running at once: an expiry is the referral's transition
(:func:`crecer.referrals.actions.transition`, a compare-and-set on its version), escalation and reminders
are compare-and-set updates (``… AND overdue_at IS NULL``); only the run whose update changed the row
audits and notifies, so each referral changes once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.referrals import actions
from crecer.referrals.models import Referral, State

REMINDER_BEFORE = dt.timedelta(hours=24)


@dataclass
class SweepResult:
    expired: int = 0
    overdue: int = 0
    reminded: int = 0


def sweep(actor: Actor, now: dt.datetime | None = None) -> SweepResult:
    """Expire, escalate and remind as of ``now``. ``actor`` is the system (``Actor.system()``) or the command
    line: the parties that may expire a referral."""
    now = now or timezone.now()
    result = SweepResult()
    # 1. No answer by the acceptance deadline: expired, through the same transition as people's moves
    #    (the system is the party that may expire a referral).
    for ref in Referral.unscoped.filter(state=State.SENT, acceptance_due__lt=now):
        try:
            actions.transition(actor, ref, State.EXPIRED, ref.version, note="sweep", at=now)
        except actions.TransitionRefused:
            continue  # moved meanwhile (answered, or expired by another sweep)
        result.expired += 1
    # 2. Accepted but not attended by the attention deadline: overdue, escalated to the coordinator.
    late = Referral.unscoped.filter(
        state=State.ACCEPTED, attention_due__lt=now, overdue_at__isnull=True
    ).select_related("territory")
    for ref in late:
        with transaction.atomic():
            if Referral.unscoped.filter(pk=ref.pk, overdue_at__isnull=True).update(overdue_at=now):
                record(
                    actor,
                    Action.UPDATE,
                    ref,
                    child_id=ref.child_id,
                    before={"overdue": False},
                    after={"overdue": True},
                    note="sweep",
                )
                actions.notify(actions.coordinators(ref), ref, "overdue", actor)
                result.overdue += 1
    # 3. The answer is due within a day: one reminder to the receivers.
    soon = Referral.unscoped.filter(
        state=State.SENT, acceptance_due__gte=now, acceptance_due__lt=now + REMINDER_BEFORE, reminded_at__isnull=True
    ).select_related("territory", "assignee")
    for ref in soon:
        with transaction.atomic():
            if Referral.unscoped.filter(pk=ref.pk, reminded_at__isnull=True).update(reminded_at=now):
                actions.notify(actions._receivers(ref), ref, "reminder", actor)
                result.reminded += 1
    return result
