"""API for the trajectory: encounters, measurements, screenings, deliveries, timeline, worklists."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from crecer.audit.models import Action, AuditEvent


@pytest.fixture
def baby(make_child, today):
    return make_child(birth_date=(today - dt.timedelta(days=70)).isoformat(), facility_code="F-ALTA")


def _post(client, path, data):
    return client.post(path, data=json.dumps(data), content_type="application/json")


def test_record_check_up_and_read_it_back(cast, baby, api_client, today):
    client = api_client(cast["nurse_alta"])
    response = _post(
        client,
        f"/api/v1/children/{baby.pk}/encounters",
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 5.3, "length_cm": 58.9},
            "screenings": [
                {
                    "instrument": "pauta_breve",
                    "inputs": {"items": [True, True, True, False]},
                    "confirm_reason": "Applied early, at the mother's request",
                }
            ],
            "deliveries": ["welcome_kit"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["contact_code"] == "m2"
    assert body["measurements"][0]["z_wfa"] is not None
    assert body["screenings"][0]["classification"] == "altered"
    assert [d["service"] for d in body["deliveries"]] == ["welcome_kit"]
    measurements = client.get(f"/api/v1/children/{baby.pk}/measurements").json()
    assert len(measurements) == 1 and measurements[0]["weight_kg"] == 5.3


def test_validation_errors_are_422_with_fields(cast, baby, api_client, today):
    response = _post(
        api_client(cast["nurse_alta"]),
        f"/api/v1/children/{baby.pk}/encounters",
        {"date": today.isoformat(), "measurement": {"weight_kg": 900}},
    )
    assert response.status_code == 422
    assert response.json()["errors"]["measurement.weight_kg"][0]["code"] == "out_of_range"


def test_timeline_is_ordered_scoped_and_logged(cast, baby, api_client, today):
    _post(api_client(cast["nurse_alta"]), f"/api/v1/children/{baby.pk}/encounters", {"date": today.isoformat()})
    items = api_client(cast["coordinator_alta"]).get(f"/api/v1/children/{baby.pk}/timeline").json()
    dates = [i["date"] for i in items]
    assert dates == sorted(dates) and items[0]["kind"] == "birth"
    assert any(i["kind"] == "contact" and i["state"] == "overdue" for i in items)  # the 1-month check-up
    assert api_client(cast["nurse_baja"]).get(f"/api/v1/children/{baby.pk}/timeline").status_code == 404
    assert AuditEvent.objects.filter(child_id=baby.pk, action=Action.READ, note="timeline").exists()


def test_schedule_states(cast, baby, api_client):
    states = {
        c["code"]: c["state"] for c in api_client(cast["nurse_alta"]).get(f"/api/v1/children/{baby.pk}/schedule").json()
    }
    assert states["m1"] == "overdue" and states["m2"] == "due" and states["m3"] == "upcoming"


def test_correction_through_the_api(cast, baby, api_client, today):
    client = api_client(cast["nurse_alta"])
    created = _post(
        client, f"/api/v1/children/{baby.pk}/encounters", {"date": today.isoformat(), "measurement": {"weight_kg": 3.3}}
    ).json()
    old_id = created["measurements"][0]["id"]
    fixed = _post(client, f"/api/v1/measurements/{old_id}/correct", {"changes": {"weight_kg": 5.3}, "reason": "typo"})
    assert fixed.status_code == 201 and fixed.json()["supersedes"] == old_id
    history = client.get(f"/api/v1/children/{baby.pk}/measurements", {"history": "true"}).json()
    assert [(m["weight_kg"], m["is_current"]) for m in history] == [(3.3, False), (5.3, True)]
    assert (
        api_client(cast["nurse_baja"])
        .post(
            f"/api/v1/measurements/{old_id}/correct",
            data=json.dumps({"changes": {}, "reason": "x"}),
            content_type="application/json",
        )
        .status_code
        == 404
    )


def test_worklist_api(cast, baby, api_client):
    body = api_client(cast["nurse_alta"]).get("/api/v1/worklists", {"tab": "week", "facility": "F-ALTA"}).json()
    assert body["count"] >= 1 and {r["contact"] for r in body["results"]} >= {"m2"}
    bad = api_client(cast["nurse_alta"]).get("/api/v1/worklists", {"tab": "someday"})
    assert bad.status_code == 422 and "tab" in bad.json()["errors"]


def test_deliveries_api(cast, baby, api_client, today):
    client = api_client(cast["nurse_alta"])
    created = _post(
        client, f"/api/v1/children/{baby.pk}/deliveries", {"service": "home_visit", "date": today.isoformat()}
    )
    assert created.status_code == 201
    assert [d["service"] for d in client.get(f"/api/v1/children/{baby.pk}/deliveries").json()] == ["home_visit"]
