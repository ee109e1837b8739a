"""Saving a prenatal contact says what was saved, in plain words: the scheduled contact and the EPsA,
as the check-up's message does."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import translation

from crecer import conf
from crecer.registry import actions as registry_actions
from crecer.tracking import inputs
from crecer.tracking.models import Encounter
from tests.conftest import SYSTEM


def test_the_message_names_the_contact_and_the_epsa(cast, make_mother, today):
    make_mother(national_id="24965885-5", external_id="G2")
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM, {"mother_external_id": "G2", "lmp_date": (today - dt.timedelta(days=63)).isoformat()}
    )
    client = Client()
    client.force_login(cast["nurse_alta"])
    response = client.post(
        f"/pregnancies/{pregnancy.pk}/", {"date": today.isoformat(), "use.epsa": "on", "s.epsa.other": ""}
    )
    assert response.status_code == 302
    encounter = Encounter.unscoped.get(pregnancy=pregnancy)
    assert encounter.contact_code  # assigned from the prenatal schedule
    [message] = [str(m) for m in client.get(response.url).context["messages"]]
    with translation.override("es"):
        epsa = str(inputs.instrument_name("epsa"))
        contact = next(c for c in conf.profile().prenatal_schedule if c.code == encounter.contact_code).name("es")
    assert epsa in message and contact in message
    assert "epsa" not in message and encounter.contact_code not in message  # names, not codes
