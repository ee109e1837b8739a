"""The coordinator's tools on the referral network: the board opens on what needs action, reassignment
picks a person of the receiving organisation by name, and the history names each step in words."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions
from crecer.referrals.models import Referral, State


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def kids(make_child, network, today):
    return [
        make_child(
            given_names=name,
            birth_date=(today - dt.timedelta(days=300)).isoformat(),
            national_id="",
            facility_code="F-ALTA",
        )
        for name in ("Ana", "Berta", "Carla", "Diana", "Elena")
    ]


def _refer(cast, child, *, send=True):
    return actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        child=child,
        service_code="home_visit",
        reason="synthetic test",
        consent=[],
        send=send,
    )


def test_board_opens_on_what_needs_action_overdue_first(cast, network, kids, api_client):
    draft = _refer(cast, kids[0], send=False)
    sent_late = _refer(cast, kids[1])
    sent_soon = _refer(cast, kids[2])
    closed = _refer(cast, kids[3])
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    actions.transition(nurse, closed, State.CANCELLED, closed.version)
    sent_later = _refer(cast, kids[4])
    now = timezone.now()
    Referral.unscoped.filter(pk=sent_late.pk).update(overdue_at=now, acceptance_due=now + dt.timedelta(days=9))
    Referral.unscoped.filter(pk=sent_soon.pk).update(acceptance_due=now + dt.timedelta(days=1))
    Referral.unscoped.filter(pk=sent_later.pk).update(acceptance_due=now + dt.timedelta(days=3))

    coordinator = _client(cast["coordinator_alta"])
    board = coordinator.get("/referrals/")
    assert board.context["box"] == "network" and board.context["state"] == "action"
    # Overdue first, then open by the nearest deadline; drafts and finished ones are not there.
    assert [r.pk for r in board.context["page"].object_list] == [sent_late.pk, sent_soon.pk, sent_later.pk]

    drafts = coordinator.get("/referrals/", {"box": "network", "state": "draft"})
    assert [r.pk for r in drafts.context["page"].object_list] == [draft.pk]
    finished = coordinator.get("/referrals/", {"box": "network", "state": "closed"})
    assert [r.pk for r in finished.context["page"].object_list] == [closed.pk]
    everything = coordinator.get("/referrals/", {"box": "network", "state": "all"})
    assert everything.context["page"].paginator.count == 5
    api = api_client(cast["coordinator_alta"]).get("/api/v1/referrals", {"box": "network", "state": "action"})
    assert [r["id"] for r in api.json()["results"]] == [sent_late.pk, sent_soon.pk, sent_later.pk]
    # The filters are offered as words, with the current one marked.
    html = board.content.decode()
    assert "Por atender" in html and 'aria-current="page">Por atender' in html


def test_reassign_picks_staff_by_name_and_refuses_others(cast, network, kids):
    referral = _refer(cast, kids[0])
    staff = network["staff"]["sala_alta_2"]
    staff.first_name, staff.last_name = "Rosa", "Tapia"
    staff.save()
    coordinator = _client(cast["coordinator_alta"])
    page = coordinator.get(f"/referrals/{referral.pk}/")
    groups = dict((org.code, people) for org, people in page.context["staff"])
    assert {u.username for u in groups["SALA-ALTA"]} == {"sala_alta", "sala_alta_2"}
    html = page.content.decode()
    assert '<select name="assignee"' in html and ">Rosa Tapia</option>" in html

    # An unknown person, and one who works elsewhere, are refused beside the field; nothing changes.
    for name, code in (("nadie_asi", "unknown"), ("sala_norte", "not_staff")):
        refused = coordinator.post(
            f"/referrals/{referral.pk}/",
            {"action": "reassign", "version": referral.version, "organisation": "SALA-ALTA", "assignee": name},
        )
        assert refused.status_code == 422
        assert refused.context["errors"]["assignee"][0]["code"] == code
        assert 'class="field-error"' in refused.content.decode()
    referral.refresh_from_db()
    assert referral.assignee_id is None and referral.version == 2

    done = coordinator.post(
        f"/referrals/{referral.pk}/",
        {"action": "reassign", "version": referral.version, "organisation": "SALA-ALTA", "assignee": "sala_alta_2"},
    )
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.assignee == staff
    assert "Reasignada a Rosa Tapia en Sala de estimulación Alta" in coordinator.get(done.url).content.decode()


def test_reassign_api_refuses_unknown_and_outside_people(cast, network, kids, api_client):
    referral = _refer(cast, kids[0])
    client = api_client(cast["coordinator_alta"])
    for name, code in (("nadie_asi", "unknown"), ("opd_alta", "not_staff")):
        response = client.post(
            f"/api/v1/referrals/{referral.pk}/reassign",
            {"version": referral.version, "assignee": name},
            content_type="application/json",
        )
        assert response.status_code == 422, response.content
        assert [e["code"] for e in response.json()["errors"]["assignee"]] == [code]
    ok = client.post(
        f"/api/v1/referrals/{referral.pk}/reassign",
        {"version": referral.version, "assignee": "sala_alta"},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["assignee"] == "sala_alta"


def test_history_names_each_step(cast, network, kids):
    referral = _refer(cast, kids[0])
    receiver = Actor(network["staff"]["sala_alta"], Channel.WEB)
    referral = actions.transition(receiver, referral, State.ACCEPTED, referral.version)
    referral = actions.transition(receiver, referral, State.NOT_COMPLETED, referral.version, reason="moved")
    actions.transition(Actor(cast["nurse_alta"], Channel.WEB), referral, State.CLOSED, referral.version)
    page = _client(cast["coordinator_alta"]).get(f"/referrals/{referral.pk}/")
    texts = [step.text for step in page.context["history"]]
    assert texts == [
        "Derivación creada (borrador)",
        "Enviada a Sala de estimulación Alta",
        "Aceptada",
        "No completada: La familia se cambió de domicilio",
        "Cerrada",
    ]
    assert "Modificación" not in page.content.decode()


def test_comment_thread_between_the_parties(cast, network, kids, api_client):
    from crecer.audit.models import AuditEvent
    from crecer.referrals.models import Comment, Notification

    referral = _refer(cast, kids[0])
    nurse = _client(cast["nurse_alta"])
    sent = nurse.post(f"/referrals/{referral.pk}/", {"action": "comment", "text": "¿Pueden verla esta semana?"})
    assert sent.status_code == 302
    comment = Comment.objects.get(referral=referral)
    event = AuditEvent.objects.get(entity="referrals.comment", entity_id=comment.pk)
    assert event.action == "create" and event.child_id == kids[0].pk
    # The receivers hear of it; the author does not.
    told = set(Notification.objects.filter(kind="comment").values_list("user__username", flat=True))
    assert told == {"sala_alta", "sala_alta_2"}

    receiver = api_client(network["staff"]["sala_alta"])
    answer = receiver.post(
        f"/api/v1/referrals/{referral.pk}/comments", {"text": "Sí, el jueves."}, content_type="application/json"
    )
    assert answer.status_code == 201 and answer.json()["author"] == "sala_alta"
    thread = api_client(cast["coordinator_alta"]).get(f"/api/v1/referrals/{referral.pk}/comments").json()
    assert [c["text"] for c in thread] == ["¿Pueden verla esta semana?", "Sí, el jueves."]
    page = _client(cast["coordinator_alta"]).get(f"/referrals/{referral.pk}/").content.decode()
    assert "Sí, el jueves." in page

    empty = receiver.post(f"/api/v1/referrals/{referral.pk}/comments", {"text": "  "}, content_type="application/json")
    assert empty.status_code == 422 and empty.json()["errors"]["text"][0]["code"] == "required"

    # Not a party: another organisation's staff, and a manager who sees the referral but takes no part.
    for outsider in (network["staff"]["sala_norte"], cast["regional_norte"]):
        client = api_client(outsider)
        assert client.get(f"/api/v1/referrals/{referral.pk}/comments").status_code == 404
        refused = client.post(
            f"/api/v1/referrals/{referral.pk}/comments", {"text": "hola"}, content_type="application/json"
        )
        assert refused.status_code == 404
    regional_page = _client(cast["regional_norte"]).get(f"/referrals/{referral.pk}/")
    assert regional_page.status_code == 200 and "Sí, el jueves." not in regional_page.content.decode()
    assert Comment.objects.filter(referral=referral).count() == 2


def test_history_names_the_provider_of_each_step(cast, network, kids):
    draft = actions.create_referral(
        Actor(cast["nurse_alta"], Channel.WEB),
        child=kids[1],
        service_code="stimulation_session",
        reason="synthetic test",
        consent=[],
        send=False,
    )
    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    draft = actions.reassign(coordinator, draft, draft.version, organisation_code="SALA-NORTE")
    actions.transition(Actor(cast["nurse_alta"], Channel.WEB), draft, State.SENT, draft.version)
    page = _client(cast["coordinator_alta"]).get(f"/referrals/{draft.pk}/")
    assert [step.text for step in page.context["history"]] == [
        "Derivación creada (borrador)",
        "Reasignada a Sala regional Norte",
        "Enviada a Sala regional Norte",
    ]
