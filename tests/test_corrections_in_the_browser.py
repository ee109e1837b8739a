"""Corrections in the browser: a measurement or a screening corrected with a reason, the earlier value
kept and shown in the history; the same rules as the API (reason required, doubtful values confirmed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.tracking import actions
from crecer.tracking.models import Measurement, Screening


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def infant(make_child, today):
    return make_child(birth_date=(today - dt.timedelta(days=250)).isoformat(), facility_code="F-ALTA")


@pytest.fixture
def recorded(cast, infant, today):
    encounter = actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 8.1, "length_cm": 69},
            "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.9}}],
        },
        child=infant,
    )
    return Measurement.unscoped.get(encounter=encounter), Screening.unscoped.get(encounter=encounter)


def test_the_history_lists_records_with_correct_links(cast, infant, recorded):
    measurement, screening = recorded
    page = _client(cast["nurse_alta"]).get(f"/children/{infant.pk}/records/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/measurements/{measurement.pk}/correct/" in html and f"/screenings/{screening.pk}/correct/" in html
    # a manager sees the history but may not correct
    page = _client(cast["regional_norte"]).get(f"/children/{infant.pk}/records/")
    assert page.status_code == 200 and "/correct/" not in page.content.decode()


def test_a_measurement_is_corrected_with_a_reason_and_the_history_kept(cast, infant, recorded):
    measurement, _s = recorded
    client = _client(cast["nurse_alta"])
    form = client.get(f"/measurements/{measurement.pk}/correct/")
    assert form.status_code == 200
    assert form.context["fields"][0]["value"] == "8.1"  # starts from the recorded values
    post = {"m.weight_kg": "8.4", "m.length_cm": "69", "m.position": ""}
    refused = client.post(f"/measurements/{measurement.pk}/correct/", post)
    assert refused.status_code == 422 and "reason" in refused.context["errors"]
    assert Measurement.unscoped.get(pk=measurement.pk).is_current  # nothing changed
    done = client.post(f"/measurements/{measurement.pk}/correct/", {**post, "reason": "Scale was not zeroed"})
    assert done.status_code == 302 and done.url == f"/children/{infant.pk}/records/"
    new = Measurement.unscoped.get(child=infant, is_current=True)
    assert new.weight_kg == 8.4 and new.supersedes_id == measurement.pk
    assert new.correction_reason == "Scale was not zeroed"
    history = client.get(done.url).content.decode()
    assert "Scale was not zeroed" in history and history.count('class="superseded"') == 1
    assert AuditEvent.objects.filter(action=Action.UPDATE, entity="tracking.measurement").exists()


def test_a_corrected_value_who_flags_needs_its_own_confirmation(cast, infant, recorded):
    measurement, _s = recorded
    client = _client(cast["nurse_alta"])
    post = {"m.weight_kg": "28", "m.length_cm": "69", "reason": "Typed again"}
    page = client.post(f"/measurements/{measurement.pk}/correct/", post)
    assert page.status_code == 422
    assert [e["code"] for e in page.context["errors"]["m.weight_kg"]] == ["needs_confirmation"]
    assert 'name="m.confirm_reason"' in page.content.decode()
    page = client.post(f"/measurements/{measurement.pk}/correct/", {**post, "m.confirm_reason": "Weighed twice"})
    assert page.status_code == 302
    assert Measurement.unscoped.get(child=infant, is_current=True).confirmation_reason == "Weighed twice"


def test_a_screening_is_corrected_with_a_reason(cast, infant, recorded):
    _m, screening = recorded
    client = _client(cast["nurse_alta"])
    form = client.get(f"/screenings/{screening.pk}/correct/")
    assert form.status_code == 200 and form.context["fields"][0]["value"] == "0.9"
    page = client.post(f"/screenings/{screening.pk}/correct/", {"s.eedp.cd": "1.9", "reason": "Typo"})
    assert page.status_code == 422
    assert [e["code"] for e in page.context["errors"]["s.eedp.cd"]] == ["needs_confirmation"]
    page = client.post(f"/screenings/{screening.pk}/correct/", {"s.eedp.cd": "0.72", "reason": "Typo"})
    assert page.status_code == 302
    new = Screening.unscoped.get(child=infant, is_current=True)
    assert new.score == 0.72 and new.classification == "risk" and new.supersedes_id == screening.pk


def test_out_of_scope_is_404_and_a_role_that_cannot_record_is_refused(cast, recorded):
    measurement, screening = recorded
    outsider = _client(cast["nurse_baja"])
    for url in (f"/measurements/{measurement.pk}/correct/", f"/screenings/{screening.pk}/correct/"):
        assert outsider.get(url).status_code == 404
        assert outsider.post(url, {"reason": "x"}).status_code == 404
        assert _client(cast["regional_norte"]).post(url, {"reason": "x"}).status_code == 403
    assert Measurement.unscoped.get(pk=measurement.pk).is_current and Screening.unscoped.get(pk=screening.pk).is_current
