"""A referral's history in words: each audited step (sent, accepted, rejected, reassigned, closed…) named
as people say it, read from the audit trail (:mod:`crecer.audit.trail`) — the one record of what happened."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from crecer.access.models import User
from crecer.audit.models import Action, AuditEvent
from crecer.referrals.models import NotCompletedReason, Referral, State
from crecer.territories.models import Organisation

ENTITY = "referrals.referral"


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    who: str
    text: str
    note: str = ""


def _state_text(state: str, after: dict[str, Any], organisation: str) -> str:
    reason = str(after.get("reason") or "")
    texts: dict[str, Any] = {
        State.DRAFT: _("Saved as a draft"),
        State.SENT: _("Sent to %(organisation)s") % {"organisation": organisation},
        State.ACCEPTED: _("Accepted"),
        State.REJECTED: _("Rejected"),
        State.IN_PROGRESS: _("Attention started"),
        State.COMPLETED: _("Completed, with its counter-referral"),
        State.NOT_COMPLETED: _("Not completed"),
        State.CLOSED: _("Closed"),
        State.CANCELLED: _("Cancelled"),
        State.EXPIRED: _("Expired without an answer"),
    }
    text = str(texts.get(state, _("Changed")))
    if state == State.NOT_COMPLETED and reason in NotCompletedReason.values:
        text = f"{text}: {NotCompletedReason(reason).label}"
    elif state == State.REJECTED and reason:
        text = f"{text}: {reason}"
    return text


def steps(referral: Referral) -> list[Step]:
    """The referral's steps, oldest first, each in words (never a bare "Changed" where the step is known)."""
    events = list(
        AuditEvent.objects.filter(
            entity=ENTITY, entity_id=referral.pk, action__in=(Action.CREATE, Action.UPDATE, Action.DELETE)
        ).order_by("at", "pk")
    )
    codes: set[str] = set()
    people: set[int] = set()
    for e in events:
        for side in (e.before or {}, e.after or {}):
            if isinstance(side.get("organisation"), str):
                codes.add(side["organisation"])
            if isinstance(side.get("assignee"), int):
                people.add(side["assignee"])
    names = dict(Organisation.objects.filter(code__in=codes).values_list("code", "name"))
    persons = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=people)}
    found = []
    # The receiving organisation as it was at each step (a reassignment changes it).
    receiver = referral.organisation.name
    for e in events:
        before, after = e.before or {}, e.after or {}
        if e.action == Action.CREATE and isinstance(after.get("organisation"), str):
            receiver = names.get(after["organisation"], receiver)
        if e.action == Action.CREATE:
            text = _("Referral created (draft)")
        elif "state" in after:
            text = _state_text(str(after["state"]), after, receiver)
        elif "organisation" in after:
            organisation = names.get(after["organisation"], _("another provider"))
            receiver = organisation
            if after.get("assignee"):
                text = _("Reassigned to %(person)s at %(organisation)s") % {
                    "person": persons.get(after["assignee"], _("a member of staff")),
                    "organisation": organisation,
                }
            else:
                text = _("Reassigned to %(organisation)s") % {"organisation": organisation}
        elif "user" in after:
            text = _("Handed over from %(a)s to %(b)s (a person left)") % {
                "a": before.get("user", "—"),
                "b": after["user"],
            }
        elif after.get("overdue"):
            text = _("Marked overdue: the deadline passed")
        else:
            text = _("Changed")
        note = e.note if e.note not in ("sweep", "bulk reassignment") else ""
        who = e.actor_username or _("the system")
        found.append(Step(e.at, who, str(text), note))
    return found
