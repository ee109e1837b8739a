"""The referral state machine: legal transitions, and which party may make each.

draft → sent → accepted | rejected(reason) → in_progress → completed(counter-referral) |
not_completed(reason) → closed; plus cancelled (by the sender) and expired (no answer by the
acceptance deadline, set by the sweep).
"""

from __future__ import annotations

from typing import Any

from crecer.access.models import Role
from crecer.referrals.models import Referral, State

SENDER, RECEIVER, COORDINATOR, SYSTEM = "sender", "receiver", "coordinator", "system"

TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (State.DRAFT, State.SENT): frozenset({SENDER, COORDINATOR}),
    (State.DRAFT, State.CANCELLED): frozenset({SENDER, COORDINATOR}),
    (State.SENT, State.ACCEPTED): frozenset({RECEIVER}),
    (State.SENT, State.REJECTED): frozenset({RECEIVER}),
    (State.SENT, State.CANCELLED): frozenset({SENDER, COORDINATOR}),
    (State.SENT, State.EXPIRED): frozenset({SYSTEM}),
    (State.ACCEPTED, State.IN_PROGRESS): frozenset({RECEIVER}),
    (State.ACCEPTED, State.NOT_COMPLETED): frozenset({RECEIVER}),
    (State.ACCEPTED, State.CANCELLED): frozenset({SENDER, COORDINATOR}),
    (State.IN_PROGRESS, State.COMPLETED): frozenset({RECEIVER}),
    (State.IN_PROGRESS, State.NOT_COMPLETED): frozenset({RECEIVER}),
    (State.COMPLETED, State.CLOSED): frozenset({SENDER, COORDINATOR}),
    (State.NOT_COMPLETED, State.CLOSED): frozenset({SENDER, COORDINATOR}),
    (State.REJECTED, State.CLOSED): frozenset({SENDER, COORDINATOR}),
    (State.EXPIRED, State.CLOSED): frozenset({SENDER, COORDINATOR}),
}


def parties(user: Any, referral: Referral) -> set[str]:
    """The roles ``user`` plays in ``referral``: sender (or a colleague at the sending facility),
    receiver (staff of the receiving organisation) and/or coordinator of the child's municipality."""
    found: set[str] = set()
    if user is None:
        return {SYSTEM}
    if not user.is_active:
        return found
    if user.pk == referral.sender_id or (
        user.role == Role.HEALTH_WORKER and user.facility_id and user.facility_id == referral.sender_facility_id
    ):
        found.add(SENDER)
    if user.role == Role.PROVIDER_STAFF and user.organisation_id == referral.organisation_id:
        found.add(RECEIVER)
    if (
        user.role == Role.MUNICIPAL_COORDINATOR
        and user.territory is not None
        and referral.territory.path.startswith(user.territory.path)
    ):
        found.add(COORDINATOR)
    return found


def allowed_next(user: Any, referral: Referral) -> list[str]:
    """The states this user may move the referral to now."""
    mine = parties(user, referral)
    return [to for (frm, to), who in TRANSITIONS.items() if frm == referral.state and who & mine]


def is_legal(frm: str, to: str) -> bool:
    return (frm, to) in TRANSITIONS
