"""Pages of the trajectory: the child page (schedule, growth charts, timeline), the check-up form,
worklists with export, and pregnancies with the prenatal contact form."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET  # parses our own SVG output

import pytest
from django.test import Client

from crecer.access.models import DataCategory
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import actions as registry_actions
from crecer.tracking import actions
from crecer.tracking.models import Encounter, Measurement, Screening
from tests.conftest import SYSTEM


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def baby(make_child, make_mother, today):
    make_mother()
    child = make_child(
        birth_date=(today - dt.timedelta(days=200)).isoformat(), facility_code="F-ALTA", mother_national_id="15432876-9"
    )
    return child


def test_child_page_shows_chart_schedule_and_timeline(cast, baby, today):
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": (today - dt.timedelta(days=140)).isoformat(), "measurement": {"weight_kg": 5.0, "length_cm": 58}},
        child=baby,
    )
    page = _client(cast["nurse_alta"]).get(f"/children/{baby.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") == 3
    svg = html[html.index("<svg") : html.index("</svg>") + 6]
    assert any(el.tag.endswith("circle") for el in ET.fromstring(svg).iter())  # noqa: S314 - the child's point
    assert any(s.state.value == "overdue" for s in page.context["schedule"])
    assert [i.kind for i in page.context["timeline"]][:1] == ["birth"]


def test_a_provider_sees_no_growth_charts_without_health_data_shared(cast, baby, today):
    actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": (today - dt.timedelta(days=140)).isoformat(), "measurement": {"weight_kg": 5.0, "length_cm": 58}},
        child=baby,
    )
    provider = _client(cast["provider_opd"])
    assert provider.get(f"/children/{baby.pk}/").status_code == 404  # nothing shared
    organisation = cast["provider_opd"].organisation
    registry_actions.grant_access(SYSTEM, baby, organisation, [DataCategory.CHILD_PROTECTION], "referral")
    page = provider.get(f"/children/{baby.pk}/")
    assert page.status_code == 200 and not page.context.get("charts") and "<svg" not in page.content.decode()
    registry_actions.grant_access(SYSTEM, baby, organisation, [DataCategory.HEALTH], "referral")
    assert len(provider.get(f"/children/{baby.pk}/").context["charts"]) == 3  # the same page, health shared


def test_check_up_form_records(cast, baby, today):
    client = _client(cast["nurse_alta"])
    form = client.get(f"/children/{baby.pk}/check-up/")
    assert form.status_code == 200
    assert "eedp" in {i["code"] for i in form.context["instruments"]}
    response = client.post(
        f"/children/{baby.pk}/check-up/",
        {
            "date": today.isoformat(),
            "m.weight_kg": "7,4",
            "m.length_cm": "66.5",
            "use.eedp": "on",
            "s.eedp.cd": "0.78",
            "d.home_visit": "on",
        },
    )
    assert response.status_code == 302
    encounter = Encounter.unscoped.get(child=baby)
    assert Measurement.unscoped.get(encounter=encounter).weight_kg == 7.4
    assert Screening.unscoped.get(encounter=encounter).classification == "risk"
    assert encounter.deliveries.get().service_code == "home_visit"


def test_check_up_form_errors_keep_nothing(cast, baby, today):
    response = _client(cast["nurse_alta"]).post(
        f"/children/{baby.pk}/check-up/",
        {"date": today.isoformat(), "m.weight_kg": "740", "use.eedp": "on", "s.eedp.cd": "9"},
    )
    assert response.status_code == 422
    assert set(response.context["errors"]) >= {"m.weight_kg", "s.eedp.cd"}  # beside their fields
    assert not Encounter.unscoped.exists()


def test_check_up_form_is_for_registering_roles(cast, baby):
    assert _client(cast["national"]).get(f"/children/{baby.pk}/check-up/").status_code == 403
    assert _client(cast["nurse_baja"]).get(f"/children/{baby.pk}/check-up/").status_code == 404


def test_worklist_page_and_export(cast, baby):
    client = _client(cast["nurse_alta"])
    page = client.get("/worklists/", {"tab": "overdue"})
    assert page.status_code == 200
    assert page.context["facility"].code == "F-ALTA"  # the nurse's own facility by default
    assert any(r.child.pk == baby.pk for r in page.context["rows"])
    csv_text = b"".join(client.get("/worklists/export.csv", {"tab": "overdue"}).streaming_content).decode()
    assert baby.registry_number in csv_text
    assert client.get("/worklists/export.xlsx", {"tab": "week"}).status_code == 200
    for tab in ("week", "missed", "risk"):
        assert client.get("/worklists/", {"tab": tab}).status_code == 200


def test_pregnancy_pages(cast, make_mother, today):
    make_mother(national_id="24965885-5", external_id="G2")
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM,
        {
            "mother_external_id": "G2",
            "lmp_date": (today - dt.timedelta(days=63)).isoformat(),
            "first_visit_date": today.isoformat(),
        },
    )
    client = _client(cast["nurse_alta"])
    listing = client.get("/pregnancies/")
    assert pregnancy in listing.context["page"].object_list
    response = client.post(
        f"/pregnancies/{pregnancy.pk}/",
        {"date": today.isoformat(), "use.epsa": "on", "s.epsa.adolescent": "on", "s.epsa.other": ""},
    )
    assert response.status_code == 302
    assert Screening.unscoped.get(pregnancy=pregnancy).classification == "positive"
    assert _client(cast["nurse_baja"]).get(f"/pregnancies/{pregnancy.pk}/").status_code == 404
