"""Notifications are audited cheaply: each batch (the recipients of one urgent flag, or of one referral
event) writes one *create* event naming what was notified and who received it, by the actor whose write
caused it, in the same transaction."""

from __future__ import annotations

import datetime as dt

from crecer.access.models import DataCategory
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions as referral_actions
from crecer.referrals.models import Notification, State
from crecer.risks.models import RiskFlag
from crecer.tracking import actions as tracking_actions

SEVERE = {"weight_kg": 4.0, "length_cm": 58, "oedema": True}


def test_an_urgent_flags_notifications_are_one_audit_event_naming_the_flag_and_the_recipients(cast, make_child, today):
    child = make_child(
        given_names="Auditada", birth_date=(today - dt.timedelta(days=60)).isoformat(), facility_code="F-ALTA"
    )
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    tracking_actions.record_encounter(nurse, {"date": today.isoformat(), "measurement": SEVERE}, child=child)
    flag = RiskFlag.unscoped.get(child=child, rule_id="severe_acute_malnutrition")
    recipients = sorted(Notification.objects.filter(flag=flag).values_list("user__username", flat=True))
    assert recipients
    events = AuditEvent.objects.filter(entity=referral_actions.NOTIFICATION, child_id=child.pk)
    assert events.count() == 1
    event = events.get()
    assert event.action == Action.CREATE and event.actor == cast["nurse_alta"] and event.channel == Channel.WEB
    assert event.after["flag"] == flag.pk and event.after["rule"] == "severe_acute_malnutrition"
    assert event.after["kind"] == "urgent_result" and sorted(event.after["recipients"]) == recipients


def test_a_referrals_notifications_are_audited_too(cast, network, make_child, today):
    child = make_child(birth_date=(today - dt.timedelta(days=300)).isoformat(), facility_code="F-ALTA")
    referral = referral_actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        child=child,
        service_code="stimulation_session",
        reason="EEDP en riesgo",
        consent=[DataCategory.DEVELOPMENT],
    )
    assert referral.state == State.SENT
    event = AuditEvent.objects.get(entity=referral_actions.NOTIFICATION, child_id=child.pk)
    received = sorted(
        Notification.objects.filter(referral=referral, kind="received").values_list("user__username", flat=True)
    )
    assert event.after["referral"] == referral.pk and event.after["kind"] == "received"
    assert sorted(event.after["recipients"]) == received
    assert event.actor == cast["nurse_alta"] and len(received) == 2
