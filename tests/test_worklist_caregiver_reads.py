"""A worklist shows the caregiver's phone: every path that sends it (the worklist page, the health worker's
home page, the API and the CSV and Excel exports) logs that caregiver's read, besides the child's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer.audit.models import AuditEvent
from crecer.registry.models import CaregiverLink


@pytest.fixture
def family(make_child, make_mother, today):
    """A child due this week whose mother has a phone, and one whose mother has none."""
    with_phone = make_mother(phone="+56 9 4444 1111")
    child = make_child(
        given_names="Telefonia",
        birth_date=(today - dt.timedelta(days=70)).isoformat(),
        facility_code="F-ALTA",
        mother_national_id=with_phone.national_id,
    )
    return child, with_phone


def _caregiver_reads(user, note):
    return set(
        AuditEvent.objects.filter(action="read", entity="registry.caregiver", actor=user, note=note).values_list(
            "entity_id", "child_id"
        )
    )


@pytest.mark.parametrize(
    ("url", "note"),
    [
        ("/worklists/?tab=week", "worklist week"),
        ("/", "worklist week"),
        ("/worklists/export.csv?tab=week", "worklist export csv week"),
        ("/worklists/export.xlsx?tab=week", "worklist export xlsx week"),
    ],
)
def test_pages_and_exports_log_the_caregiver_whose_phone_they_show(cast, family, url, note):
    child, mother = family
    assert CaregiverLink.unscoped.filter(child=child, caregiver=mother).exists()
    nurse = cast["nurse_alta"]
    client = Client()
    client.force_login(nurse)
    response = client.get(url)
    assert response.status_code == 200
    if url.endswith("week") and "export" not in url:
        shown = [r for r in response.context["rows"] if r.child.pk == child.pk]
        assert shown and shown[0].phone == "+56 9 4444 1111" and shown[0].caregiver_id == mother.pk
    assert (mother.pk, child.pk) in _caregiver_reads(nurse, note)
    assert AuditEvent.objects.filter(action="read", entity="registry.child", child_id=child.pk, note=note).exists()


def test_the_api_logs_the_caregiver_whose_phone_it_sends(cast, family, api_client):
    child, mother = family
    nurse = cast["nurse_alta"]
    body = api_client(nurse).get("/api/v1/worklists", {"tab": "week"}).json()
    assert any(r["child"] == child.pk and r["phone"] == "+56 9 4444 1111" for r in body["results"])
    assert (mother.pk, child.pk) in _caregiver_reads(nurse, "worklist week")


def test_no_caregiver_read_when_no_phone_is_shown(cast, make_child, make_mother, today):
    silent = make_mother(phone="")
    child = make_child(
        given_names="Sinfono",
        birth_date=(today - dt.timedelta(days=70)).isoformat(),
        facility_code="F-ALTA",
        mother_national_id=silent.national_id,
    )
    nurse = cast["nurse_alta"]
    client = Client()
    client.force_login(nurse)
    rows = client.get("/worklists/?tab=week").context["rows"]
    assert any(r.child.pk == child.pk and r.phone == "" for r in rows)
    assert not AuditEvent.objects.filter(action="read", entity="registry.caregiver", entity_id=silent.pk).exists()
