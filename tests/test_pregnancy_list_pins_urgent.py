"""The pregnancy list, like every worklist, pins the urgent results awaiting action on top (and logs the
reads of the people they name), until someone records the action taken."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from crecer.audit.models import AuditEvent
from crecer.registry import actions as registry_actions
from crecer.risks.models import RiskFlag
from crecer.tracking import actions as tracking_actions
from tests.conftest import SYSTEM

SEVERE = {"weight_kg": 4.0, "length_cm": 58, "oedema": True}


def test_urgent_results_are_pinned_above_the_pregnancies(cast, make_child, make_mother, today, api_client):
    child = make_child(
        given_names="Urgente", birth_date=(today - dt.timedelta(days=60)).isoformat(), facility_code="F-ALTA"
    )
    tracking_actions.record_encounter(SYSTEM, {"date": today.isoformat(), "measurement": SEVERE}, child=child)
    flag = RiskFlag.unscoped.get(child=child, rule_id="severe_acute_malnutrition", urgent=True)
    mother = make_mother()
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_national_id": mother.national_id,
            "lmp_date": (today - dt.timedelta(days=60)).isoformat(),
            "first_visit_date": today.isoformat(),
        },
    )
    nurse = Client()
    nurse.force_login(cast["nurse_alta"])
    response = nurse.get("/pregnancies/")
    assert response.status_code == 200
    pinned = response.context["pinned"]
    assert [p.flag.pk for p in pinned] == [flag.pk]
    assert [p.pk for p in response.context["page"].object_list] == [pregnancy.pk]
    html = response.content.decode()
    assert "<table" in html and html.index(pinned[0].label) < html.index("<table")
    assert f"/urgent/{flag.pk}/" in html  # the nurse may record the action from here
    # The pinned child's read is logged with the listed pregnancies'.
    reads = AuditEvent.objects.filter(action="read", actor=cast["nurse_alta"], note="pregnancy list")
    assert reads.filter(entity="registry.child", child_id=child.pk).exists()
    assert reads.filter(entity="registry.pregnancy", entity_id=pregnancy.pk).exists()

    # A user who may not see it (another municipality) gets nothing pinned.
    other = Client()
    other.force_login(cast["nurse_baja"])
    assert not other.get("/pregnancies/").context["pinned"]

    done = api_client(cast["nurse_alta"]).post(
        f"/api/v1/urgent/{flag.pk}/action", {"action_taken": "Hospitalizado hoy"}, content_type="application/json"
    )
    assert done.status_code == 200
    assert not nurse.get("/pregnancies/").context["pinned"]
