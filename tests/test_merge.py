"""Merging two records of one child keeps everything of both on the survivor; unmerging restores the
exact prior state. Both need a coordinator and are audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from crecer.access.models import DataCategory
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.dedup import merging
from crecer.dedup.models import MergeRecord
from crecer.referrals import actions as referral_actions
from crecer.registry import actions as registry_actions
from crecer.registry.models import CaregiverLink, Child
from crecer.tracking import actions as tracking_actions
from crecer.validation import InputErrors
from tests.conftest import SYSTEM


def _state(*ids: int) -> dict[str, Any]:
    """Every row of the two children and of everything that points to them, as plain values."""
    state: dict[str, Any] = {"children": sorted(Child.unscoped.filter(pk__in=ids).values(), key=lambda r: r["id"])}
    for model, field in merging._related():
        rows = model._default_manager.filter(**{f"{field}__in": ids}).values()
        state[model._meta.label_lower] = sorted(rows, key=lambda r: r["id"])
    return state


@pytest.fixture
def pair(cast, network, make_mother, today):
    """The same boy registered twice in Alta: once with his document at the health centre, once without
    at a home visit; both with the same mother, check-ups, growth and an open stimulation referral."""
    mother = make_mother()
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    birth = (today - dt.timedelta(days=200)).isoformat()
    kept = registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Tomás",
            "paternal_surname": "Soto",
            "maternal_surname": "",
            "sex": "M",
            "birth_date": birth,
            "territory_code": "CL01001",
            "facility_code": "F-ALTA",
            "mother_national_id": mother.national_id,
        },
    )
    other = registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Tomas",
            "paternal_surname": "Soto",
            "maternal_surname": "Pérez",
            "sex": "M",
            "birth_date": birth,
            "territory_code": "CL01001",
            "national_id": "24.965.885-5",
            "birth_weight_g": "3100",
            "mother_national_id": mother.national_id,
        },
    )
    for child, days in ((kept, 30), (other, 35), (other, 62)):
        tracking_actions.record_encounter(
            nurse,
            {
                "date": (today - dt.timedelta(days=200 - days)).isoformat(),
                "facility_code": "F-ALTA",
                "measurement": {"weight_kg": 4.5 + days / 30, "length_cm": 54 + days / 10},
            },
            child=child,
        )
    tracking_actions.record_delivery(SYSTEM, "welcome_kit", today - dt.timedelta(days=190), child=other)
    for child in (kept, other):
        referral_actions.create_referral(
            nurse, child=child, service_code="stimulation_session", reason="riesgo", consent=[DataCategory.DEVELOPMENT]
        )
    referral_actions.create_referral(nurse, child=other, service_code="home_visit", reason="visita", consent=[])
    registry_actions.add_case_note(nurse, other, "social", "Familia numerosa")
    return kept, other


def test_merge_keeps_everything_on_the_survivor_and_unmerge_restores_exactly(cast, pair):
    kept, other = pair
    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    before = _state(kept.pk, other.pk)
    moving = {
        label: [r["id"] for r in rows if r.get("child_id") == other.pk]
        for label, rows in before.items()
        if label != "children"
    }

    record = merging.merge(coordinator, kept.pk, other.pk, "Mismo niño: misma madre y fecha")
    kept.refresh_from_db()
    other.refresh_from_db()
    assert other.voided_at is not None and kept.registry_number in other.void_reason
    # The survivor took the document, the maternal surname and the birth weight it lacked.
    assert (kept.national_id, kept.maternal_surname, kept.birth_weight_g) == ("24965885-5", "Pérez", 3100)
    assert other.national_id is None
    # Every encounter, measurement, delivery and case note moved; the second check-up for the same
    # contact lost its contact code; the duplicate mother link and the second open referral to the
    # same service stayed with the voided record.
    for label in ("tracking.encounter", "tracking.measurement", "tracking.delivery", "registry.casenote"):
        assert sorted(record.moved.get(label, [])) == sorted(moving[label]), label
    assert "registry.caregiverlink" in record.before["kept"]
    kept_referrals = record.before["kept"]["referrals.referral"]
    assert len(kept_referrals) == 1 and len(record.moved["referrals.referral"]) == 1
    assert CaregiverLink.unscoped.filter(child=kept, relationship="mother").count() == 1
    assert record.before.get("contact_code")
    # Audited, with the survivor's history showing the merged record's events.
    assert (
        AuditEvent.objects.filter(
            entity="dedup.mergerecord", action=Action.CREATE, actor=cast["coordinator_alta"]
        ).count()
        == 1
    )
    assert merging.merged_into(kept.pk) == [other.pk]
    others_events = set(AuditEvent.objects.filter(child_id=other.pk).values_list("pk", flat=True))
    history = set(AuditEvent.objects.about_child(kept.pk, merging.merged_into(kept.pk)).values_list("pk", flat=True))
    assert others_events and others_events <= history

    merging.unmerge(coordinator, record, "Eran gemelos")
    assert _state(kept.pk, other.pk) == before
    assert MergeRecord.objects.get(pk=record.pk).undone_at is not None
    assert merging.merged_into(kept.pk) == []
    # The undoing is audited too, and the survivor's history no longer holds the other record's events.
    undone = AuditEvent.objects.get(entity="dedup.mergerecord", entity_id=record.pk, action=Action.UPDATE)
    assert (undone.actor_username, undone.after, undone.note) == ("coord_alta", {"undone": True}, "Eran gemelos")
    assert not AuditEvent.objects.about_child(kept.pk, merging.merged_into(kept.pk)).filter(child_id=other.pk)


def test_merge_needs_a_coordinator_a_reason_and_scope(cast, pair):
    kept, other = pair
    with pytest.raises(PermissionDenied):
        merging.merge(Actor(cast["nurse_alta"], Channel.WEB), kept.pk, other.pk, "x")
    with pytest.raises(InputErrors) as exc:
        merging.merge(Actor(cast["coordinator_alta"], Channel.WEB), kept.pk, kept.pk, " ")
    assert set(exc.value.errors) == {"merged", "reason"}
    from crecer.access.actions import create_user
    from tests.conftest import PASSWORD

    south = create_user(SYSTEM, "coord_sur", "municipal_coordinator", "CL02001", PASSWORD)
    with pytest.raises(Http404):
        merging.merge(Actor(south, Channel.WEB), kept.pk, other.pk, "x")
    record = merging.merge(Actor(cast["coordinator_alta"], Channel.WEB), kept.pk, other.pk, "mismo")
    with pytest.raises(Http404):  # the merged record is voided: no longer visible, not mergeable again
        merging.merge(Actor(cast["coordinator_alta"], Channel.WEB), kept.pk, other.pk, "otra vez")
    merging.unmerge(Actor(cast["coordinator_alta"], Channel.WEB), record, "error")
    with pytest.raises(InputErrors):
        merging.unmerge(Actor(cast["coordinator_alta"], Channel.WEB), record, "error")
