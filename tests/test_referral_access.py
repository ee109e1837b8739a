"""Every change of an organisation's access to a child is audited: the grant opened when a referral is
sent, ended when it closes, revoked when it is reassigned. The deadline sweep expires referrals through
the same transition as people's moves (as the system), and sending has one implementation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crecer.access.models import DataCategory
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions
from crecer.referrals.models import Notification, Referral, State
from crecer.referrals.sweep import sweep
from crecer.registry.models import AccessGrant

SYSTEM = Actor(None, Channel.SYSTEM)


@pytest.fixture
def kid(make_child: Any, today: dt.date) -> Any:
    return make_child(birth_date=(today - dt.timedelta(days=300)).isoformat(), facility_code="F-ALTA")


def _refer(cast: dict[str, Any], kid: Any, **kw: Any) -> Referral:
    args = {"service_code": "stimulation_session", "reason": "EEDP en riesgo", "consent": [DataCategory.DEVELOPMENT]}
    return actions.create_referral(Actor(cast["nurse_alta"], Channel.WEB), child=kid, **(args | kw))


def _grant_events(grant_id: int) -> list[tuple[str, str, Any, Any]]:
    return [
        (e.actor_username, e.action, e.before, e.after)
        for e in AuditEvent.objects.filter(entity="registry.accessgrant", entity_id=grant_id).order_by("pk")
    ]


def test_sending_opens_an_audited_grant_and_reassigning_revokes_it_audited(cast, network, kid):
    referral = _refer(cast, kid)
    first = referral.grant
    assert first is not None and first.categories == ["identity", "development"]
    (opened,) = _grant_events(first.pk)
    assert opened[:2] == ("enfermera_alta", Action.CREATE) and opened[3]["organisation_id"] == first.organisation_id
    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    moved = actions.reassign(coordinator, referral, referral.version, organisation_code="SALA-NORTE")
    first.refresh_from_db()
    assert first.revoked_at is not None
    revoked = _grant_events(first.pk)[1]
    assert revoked[:3] == ("coord_alta", Action.UPDATE, {"revoked_at": None})
    assert moved.grant is not None and moved.grant.organisation.code == "SALA-NORTE"
    assert [e[1] for e in _grant_events(moved.grant.pk)] == [Action.CREATE]


def test_closing_a_referral_ends_its_grant_after_the_grace_period_audited(cast, network, kid):
    referral = _refer(cast, kid)
    cancelled = actions.transition(Actor(cast["nurse_alta"], Channel.WEB), referral, State.CANCELLED, referral.version)
    grant = AccessGrant.objects.get(pk=cancelled.grant_id)
    assert grant.valid_until == cancelled.closed_at + actions.share_grace()
    ended = _grant_events(grant.pk)[-1]
    assert ended[:3] == ("enfermera_alta", Action.UPDATE, {"valid_until": None})


def test_the_sweep_expires_through_the_transition_as_the_system(cast, network, kid):
    referral = _refer(cast, kid)
    when = referral.acceptance_due + dt.timedelta(minutes=1)
    assert sweep(SYSTEM, when).expired == 1
    expired = Referral.unscoped.get(pk=referral.pk)
    assert (expired.state, expired.version, expired.closed_at) == (State.EXPIRED, referral.version + 1, when)
    event = AuditEvent.objects.filter(entity="referrals.referral", entity_id=referral.pk).order_by("pk").last()
    assert event is not None
    # The same event as any transition: who (the system), the state and the version before and after.
    assert (event.actor_username, event.before, event.after) == (
        "system",
        {"state": State.SENT, "version": referral.version},
        {"state": State.EXPIRED, "version": referral.version + 1},
    )
    grant = AccessGrant.objects.get(pk=expired.grant_id)
    assert grant.valid_until == when + actions.share_grace()
    assert _grant_events(grant.pk)[-1][:2] == ("system", Action.UPDATE)
    told = set(Notification.objects.filter(referral=referral, kind="expired").values_list("user__username", flat=True))
    assert told == {"enfermera_alta", "coord_alta"}


def test_sending_a_draft_later_is_the_same_as_sending_it_at_once(cast, network, kid, make_child, today):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    at_once = _refer(cast, kid)
    other = make_child(given_names="Tomás", birth_date=(today - dt.timedelta(days=300)).isoformat())
    draft = _refer(cast, other, send=False)
    later = actions.transition(nurse, draft, State.SENT, draft.version)

    def shape(r: Referral) -> tuple[Any, ...]:
        r.refresh_from_db()
        events = [
            (e.action, e.before, e.after)
            for e in AuditEvent.objects.filter(entity="referrals.referral", entity_id=r.pk).order_by("pk")
        ]
        return (
            r.state,
            r.version,
            r.acceptance_due - r.sent_at,  # type: ignore[operator]
            r.grant.categories if r.grant else None,
            Notification.objects.filter(referral=r, kind="received").count(),
            events[1:],  # after the creation
            len(_grant_events(r.grant_id)),  # type: ignore[arg-type]
        )

    assert shape(at_once) == shape(later)
