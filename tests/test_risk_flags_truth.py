"""A risk flag resolves only when its facts no longer hold, or when a referral to the service its rule
recommends is completed — never because some other referral of the child was completed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions
from crecer.referrals.models import State
from crecer.risks.models import RiskFlag
from crecer.tracking import actions as tracking_actions
from crecer.tracking import worklists

COUNTER = {"outcome": "attended", "services_given": ["visitas"], "follow_up": ""}


def _complete(referral: Any, receiver: Any) -> Any:
    for step in (State.ACCEPTED, State.IN_PROGRESS):
        referral = actions.transition(Actor(receiver, Channel.WEB), referral, step, referral.version)
    return actions.transition(
        Actor(receiver, Channel.WEB), referral, State.COMPLETED, referral.version, counter_referral=COUNTER
    )


def test_completing_another_service_leaves_the_flag_open_until_its_own_referral_completes(
    cast, network, make_child, today
):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    child = make_child(birth_date=(today - dt.timedelta(days=300)).isoformat(), facility_code="F-ALTA")
    tracking_actions.record_encounter(
        nurse, {"date": today.isoformat(), "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.78}}]}, child=child
    )
    flag = RiskFlag.unscoped.get(child=child, rule_id="development_risk", status="open")
    assert flag.recommendation["service"] == "stimulation_session"
    # The development risk, referred (from its flag) to child protection, and to stimulation.
    protection = actions.create_referral(
        nurse, child=child, service_code="child_protection", reason="sospecha", consent=[], flag=flag
    )
    stimulation = actions.create_referral(
        nurse, child=child, service_code="stimulation_session", reason="EEDP", consent=[]
    )
    _complete(protection, cast["provider_opd"])
    flag.refresh_from_db()
    assert flag.status == "open"  # the stimulation referral is only sent
    at_risk = worklists.worklist(cast["nurse_alta"], "risk", today)
    assert child.pk in {c.pk for c in at_risk}  # and the child stays on the risk worklist
    _complete(stimulation, network["staff"]["sala_alta"])
    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("resolved", "referral_closed")
    event = AuditEvent.objects.get(entity="risks.riskflag", entity_id=flag.pk, action=Action.UPDATE)
    assert event.after == {"status": "resolved", "resolution": "referral_closed"}
