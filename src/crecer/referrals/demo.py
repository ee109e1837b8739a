"""A living referral network for the demo: the providers' staff, and referrals in every state.

Everything goes through the action functions (referrals dated in the past with ``at``), so the
audit, the consent grants and the deadlines are what real use would leave. SYNTHETIC data.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crecer.access.actions import create_user
from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions
from crecer.referrals.models import Referral, State
from crecer.referrals.sweep import sweep
from crecer.registry.models import Child
from crecer.risks.models import RiskFlag
from crecer.territories.models import Organisation
from crecer.validation import InputErrors


def _staff_for(organisation: Organisation) -> User:
    """A synthetic staff member who answers for the organisation in the demo (cannot log in)."""
    username = f"demo-{organisation.code.lower()}"[:150]
    user = User.objects.filter(username=username).first()
    if user is None:
        user = create_user(
            Actor(None, Channel.CLI),
            username,
            Role.PROVIDER_STAFF,
            organisation.territory.code,
            secrets.token_urlsafe(24),
            organisation_code=organisation.code,
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


#: (state to reach, days ago the referral was sent)
PLAN = (
    (State.DRAFT, 0),
    (State.SENT, 1),
    (State.SENT, 25),  # no answer: the sweep expires it
    (State.ACCEPTED, 3),
    (State.ACCEPTED, 60),  # accepted long ago, never attended: overdue, escalated
    (State.IN_PROGRESS, 10),
    (State.COMPLETED, 30),
    (State.CLOSED, 50),
    (State.REJECTED, 6),
    (State.NOT_COMPLETED, 40),
    (State.CANCELLED, 8),
)
COUNTER = {
    "outcome": "attended",
    "services_given": ["Atención según protocolo (demo)"],
    "follow_up": "Seguimiento en el próximo control.",
}


def simulate(coordinator: User, limit: int = 44) -> int:
    """Referrals from the open flags of the coordinator's municipality, walked to every state."""
    if Referral.unscoped.filter(flag__isnull=False).exists():
        return 0  # already simulated
    assert coordinator.territory is not None
    now = timezone.now()
    children = Child.unscoped.filter(territory__path__startswith=coordinator.territory.path)
    flags = (
        RiskFlag.unscoped.filter(status="open", child__in=children, recommendation__isnull=False)
        .select_related("child__territory", "child__facility")
        .order_by("pk")
    )
    senders = {
        u.facility_id: u for u in User.objects.filter(role=Role.HEALTH_WORKER, is_active=True, facility__isnull=False)
    }
    made = 0
    for flag in flags:
        if made >= limit:
            break
        child = flag.child
        assert child is not None
        state, days = PLAN[made % len(PLAN)]
        sender = senders.get(child.facility_id) or coordinator
        sent = now - dt.timedelta(days=days)
        try:
            referral = actions.create_referral(
                Actor(sender, Channel.CLI),
                child=child,
                service_code=flag.recommendation["service"],  # type: ignore[index]
                reason=f"{flag.rule_id} (demo)",
                consent=[flag.data_category] if flag.data_category in sender.data_categories() else [],
                flag=flag,
                send=state != State.DRAFT,
                at=sent,
            )
        except (InputErrors, PermissionDenied):  # no provider for that service there, or already referred
            continue
        _walk(referral, state, sent, sender, coordinator)
        made += 1
    sweep(Actor(None, Channel.SYSTEM), now)
    return made


def _walk(referral: Referral, target: str, sent: dt.datetime, sender: User, coordinator: User) -> None:
    receiver = Actor(_staff_for(referral.organisation), Channel.CLI)
    step = dt.timedelta(days=1)

    def move(actor: Actor, to: str, when: dt.datetime, **extra: object) -> None:
        nonlocal referral
        referral = actions.transition(actor, referral, to, referral.version, at=when, **extra)  # type: ignore[arg-type]

    if target in (State.DRAFT, State.SENT):
        return
    if target == State.CANCELLED:
        move(Actor(sender, Channel.CLI), State.CANCELLED, sent + step)
        return
    if target == State.REJECTED:
        move(receiver, State.REJECTED, sent + step, reason="Sin cupo este mes (demo)")
        return
    move(receiver, State.ACCEPTED, sent + step)
    if target == State.ACCEPTED:
        return
    if target == State.NOT_COMPLETED:
        move(receiver, State.NOT_COMPLETED, sent + 3 * step, reason="unreachable")
        return
    move(receiver, State.IN_PROGRESS, sent + 2 * step)
    if target == State.IN_PROGRESS:
        return
    move(receiver, State.COMPLETED, sent + 10 * step, counter_referral=COUNTER)
    if target == State.CLOSED:
        move(Actor(coordinator, Channel.CLI), State.CLOSED, sent + 12 * step)


def ensure_network(coordinator: User) -> int:
    """Simulated referrals in every state (idempotent); the providers came with the synthetic country."""
    actions.sync_services(Actor(None, Channel.CLI))
    return simulate(coordinator)
