"""Pages of the referral network: boxes, a referral and its moves, the form from a risk flag,
reassignment, the catalogue, the directory and notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions
from crecer.referrals.models import Referral, Service, State
from crecer.risks.models import RiskFlag
from crecer.tracking import actions as tracking_actions


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def flagged(cast, network, make_child, today):
    child = make_child(
        birth_date=(today - dt.timedelta(days=300)).isoformat(), national_id="24.965.885-5", facility_code="F-ALTA"
    )
    tracking_actions.record_encounter(
        Actor(cast["nurse_alta"], Channel.WEB),
        {"date": today.isoformat(), "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}]},
        child=child,
    )
    return child


def test_child_page_lists_flags_with_a_refer_link(cast, flagged):
    page = _client(cast["nurse_alta"]).get(f"/children/{flagged.pk}/")
    labels = [label for _flag, label in page.context["flags"]]
    assert "Retraso del desarrollo" in labels
    assert f"/children/{flagged.pk}/refer/?flag=" in page.content.decode()


def test_referral_form_from_a_flag_is_prefilled_and_sends(cast, network, flagged):
    flag = RiskFlag.unscoped.get(child=flagged, rule_id="development_delay")
    client = _client(cast["nurse_alta"])
    form = client.get(f"/children/{flagged.pk}/refer/", {"flag": flag.pk})
    assert form.context["service"].code == "stimulation_session"
    assert form.context["priority"] == "priority" and form.context["consent"] == ["development"]
    assert next(org.code for org, _free in form.context["providers"]) == "SALA-ALTA"
    response = client.post(
        f"/children/{flagged.pk}/refer/",
        {
            "service": "stimulation_session",
            "flag": flag.pk,
            "reason": form.context["reason"],
            "priority": "priority",
            "consent": ["development"],
        },
    )
    referral = Referral.unscoped.get(child=flagged)
    assert response.status_code == 302 and referral.flag == flag and referral.state == State.SENT
    # The page names the consented category, the priority and the history's records in words, not codes.
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Desarrollo" in page and ">development<" not in page
    assert "Prioritaria" in page
    assert "Derivación #" in page and "referrals.referral" not in page


def test_the_child_page_reads_its_referrals_once_for_the_section_and_the_timeline(cast, network, flagged):
    """The referrals section and the timeline show the same visible referrals, read in one query."""
    nurse = cast["nurse_alta"]
    actor = Actor(nurse, Channel.WEB)
    at = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
    first = actions.create_referral(
        actor, child=flagged, service_code="stimulation_session", reason="Primera", consent=["development"], at=at
    )
    second = actions.create_referral(
        actor,
        child=flagged,
        service_code="home_visit",
        reason="Segunda",
        consent=["development"],
        at=at + dt.timedelta(days=1),
    )
    client = _client(nurse)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/children/{flagged.pk}/")
    assert [r.pk for r in page.context["referrals"]] == [second.pk, first.pk]  # newest first
    on_timeline = [i.data["id"] for i in page.context["timeline"] if i.kind == "referral"]
    assert sorted(on_timeline) == sorted([first.pk, second.pk])
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "referrals_referral"' in q["sql"]]
    assert len(reads) == 1, reads


def test_the_kept_referrals_follow_the_user_and_the_timeline_reads_them_oldest_first(cast, network, flagged):
    from crecer.referrals import scope
    from crecer.registry.models import Child
    from crecer.tracking import timeline

    nurse = cast["nurse_alta"]
    actor = Actor(nurse, Channel.WEB)
    at = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    made = [
        actions.create_referral(
            actor, child=flagged, service_code=code, reason="x", consent=["development"], at=at + dt.timedelta(hours=n)
        )
        for n, code in enumerate(("stimulation_session", "home_visit"))
    ]
    child = Child.unscoped.get(pk=flagged.pk)
    with CaptureQueriesContext(connection) as queries:
        assert [r.pk for r in scope.of_child(nurse, child)] == [made[1].pk, made[0].pk]
        assert [r.pk for r in scope.of_child(nurse, child)] == [made[1].pk, made[0].pk]
    assert len([q for q in queries.captured_queries if 'FROM "referrals_referral"' in q["sql"]]) == 1
    # the same day on the timeline: in the order they were made
    items = [i.data["id"] for i in timeline.build(nurse, child) if i.kind == "referral"]
    assert items == [made[0].pk, made[1].pk]
    # what the list was kept for changes: read again (a deactivated user sees none)
    nurse.is_active = False
    assert scope.of_child(nurse, child) == []


def test_referral_form_errors(cast, network, flagged):
    response = _client(cast["nurse_alta"]).post(
        f"/children/{flagged.pk}/refer/", {"service": "stimulation_session", "reason": ""}
    )
    assert response.status_code == 422 and "reason" in response.context["errors"]
    assert not Referral.unscoped.exists()


def test_moves_on_the_referral_page_and_conflict(cast, network, flagged):
    referral = actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        child=flagged,
        service_code="stimulation_session",
        reason="x",
        consent=[],
    )
    receiver = _client(network["staff"]["sala_alta"])
    page = receiver.get(f"/referrals/{referral.pk}/")
    assert set(page.context["allowed"]) == {"accepted", "rejected"}
    assert (
        receiver.post(f"/referrals/{referral.pk}/", {"to": "accepted", "version": referral.version}).status_code == 302
    )
    stale = _client(cast["nurse_alta"]).post(
        f"/referrals/{referral.pk}/", {"to": "cancelled", "version": referral.version}
    )
    assert stale.status_code == 409 and stale.context["conflict"]
    referral.refresh_from_db()
    receiver.post(f"/referrals/{referral.pk}/", {"to": "in_progress", "version": referral.version})
    referral.refresh_from_db()
    done = receiver.post(
        f"/referrals/{referral.pk}/",
        {
            "to": "completed",
            "version": referral.version,
            "outcome": "attended",
            "services_given": "6 sesiones\nPauta de estimulación en casa",
            "follow_up": "Control en 3 meses",
        },
    )
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.counter_referral["services_given"] == ["6 sesiones", "Pauta de estimulación en casa"]


def test_boxes(cast, network, flagged):
    actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        child=flagged,
        service_code="stimulation_session",
        reason="x",
        consent=[],
    )
    assert _client(network["staff"]["sala_alta"]).get("/referrals/").context["page"].paginator.count == 1  # inbox
    assert _client(network["staff"]["sala_norte"]).get("/referrals/").context["page"].paginator.count == 0
    assert _client(cast["nurse_alta"]).get("/referrals/", {"box": "outbox"}).context["page"].paginator.count == 1
    assert _client(cast["coordinator_alta"]).get("/referrals/").context["box"] == "network"


def test_notifications_badge_and_page(cast, network, flagged):
    actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        child=flagged,
        service_code="stimulation_session",
        reason="x",
        consent=[],
    )
    client = _client(network["staff"]["sala_alta"])
    assert client.get("/").context["unread_notifications"] == 1
    client.post("/notifications/")
    assert client.get("/").context["unread_notifications"] == 0


def test_services_page_edit_by_coordinator_only(cast, network):
    data = {"code": "home_visit", "acceptance_days": "2", "attention_days": "9", "eligibility_es": "x", "active": "on"}
    assert _client(cast["nurse_alta"]).post("/services/", data).status_code == 403
    assert _client(cast["coordinator_alta"]).post("/services/", data).status_code == 302
    assert Service.objects.get(code="home_visit").acceptance_days == 2


def test_directory_and_reassign_pages(cast, network):
    page = _client(cast["nurse_alta"]).get("/providers/", {"service": "stimulation_session"})
    assert {p.organisation.code for p in page.context["provisions"]} == {"SALA-ALTA", "SALA-NORTE"}
    assert _client(cast["nurse_alta"]).get("/referrals/reassign-staff/").status_code == 403
    assert _client(cast["coordinator_alta"]).get("/referrals/reassign-staff/").status_code == 200
