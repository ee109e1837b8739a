"""Closed-loop referrals: the state machine by party, consent-bound sharing, deadlines and the sweep,
optimistic concurrency (409), provider suggestion, inboxes and reassignment."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from crecer.access.models import DataCategory
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.referrals import actions, machine
from crecer.referrals.models import Notification, Referral, State
from crecer.referrals.sweep import sweep
from crecer.registry import scope
from crecer.risks.models import RiskFlag
from crecer.validation import InputErrors
from tests.conftest import SYSTEM

COUNTER = {
    "outcome": "attended",
    "services_given": ["8 sesiones de estimulación"],
    "follow_up": "Reevaluar con EEDP en 3 meses",
}


@pytest.fixture
def kid(make_child, today):
    return make_child(
        birth_date=(today - dt.timedelta(days=300)).isoformat(), national_id="24.965.885-5", facility_code="F-ALTA"
    )


def _refer(cast, kid, **kw):
    args = {
        "service_code": "stimulation_session",
        "reason": "EEDP en riesgo",
        "consent": [DataCategory.DEVELOPMENT],
    } | kw
    return actions.create_referral(Actor(cast["nurse_alta"], Channel.WEB), child=kid, **args)


def _as(user):
    return Actor(user, Channel.WEB)


def test_sent_referral_has_deadlines_grant_and_notification(cast, network, kid):
    referral = _refer(cast, kid)
    assert referral.state == State.SENT and referral.organisation.code == "SALA-ALTA"  # the most local with capacity
    assert referral.acceptance_due - referral.sent_at == dt.timedelta(
        days=network["services"]["stimulation_session"].acceptance_days
    )
    assert referral.grant.categories == ["identity", "development"]
    assert Notification.objects.filter(referral=referral, kind="received").count() == 2  # both staff of the room


def test_happy_path_to_closed_with_counter_referral(cast, network, kid):
    receiver = network["staff"]["sala_alta"]
    r = _refer(cast, kid)
    r = actions.transition(_as(receiver), r, State.ACCEPTED, r.version)
    assert r.attention_due is not None
    r = actions.transition(_as(receiver), r, State.IN_PROGRESS, r.version)
    r = actions.transition(_as(receiver), r, State.COMPLETED, r.version, counter_referral=COUNTER)
    assert r.counter_referral["outcome"] == "attended"
    r = actions.transition(_as(cast["nurse_alta"]), r, State.CLOSED, r.version, note="Gracias")
    assert r.state == State.CLOSED
    states = [
        e.after["state"]
        for e in AuditEvent.objects.filter(entity="referrals.referral", entity_id=r.pk, action=Action.UPDATE).order_by(
            "pk"
        )
    ]
    assert states == ["sent", "accepted", "in_progress", "completed", "closed"]


LEGAL = [
    (State.SENT, State.ACCEPTED, "receiver"),
    (State.SENT, State.REJECTED, "receiver"),
    (State.SENT, State.CANCELLED, "sender"),
    (State.SENT, State.CANCELLED, "coordinator"),
    (State.ACCEPTED, State.IN_PROGRESS, "receiver"),
    (State.ACCEPTED, State.NOT_COMPLETED, "receiver"),
    (State.ACCEPTED, State.CANCELLED, "sender"),
    (State.IN_PROGRESS, State.COMPLETED, "receiver"),
    (State.IN_PROGRESS, State.NOT_COMPLETED, "receiver"),
    (State.COMPLETED, State.CLOSED, "sender"),
    (State.COMPLETED, State.CLOSED, "coordinator"),
    (State.NOT_COMPLETED, State.CLOSED, "sender"),
    (State.REJECTED, State.CLOSED, "coordinator"),
    (State.EXPIRED, State.CLOSED, "sender"),
    (State.DRAFT, State.SENT, "sender"),
    (State.DRAFT, State.CANCELLED, "coordinator"),
]
PATH = {
    State.DRAFT: [],
    State.SENT: [],
    State.ACCEPTED: [State.ACCEPTED],
    State.IN_PROGRESS: [State.ACCEPTED, State.IN_PROGRESS],
    State.COMPLETED: [State.ACCEPTED, State.IN_PROGRESS, State.COMPLETED],
    State.NOT_COMPLETED: [State.ACCEPTED, State.NOT_COMPLETED],
    State.REJECTED: [State.REJECTED],
}
EXTRA = {
    State.REJECTED: {"reason": "sin cupo"},
    State.NOT_COMPLETED: {"reason": "unreachable"},
    State.COMPLETED: {"counter_referral": COUNTER},
}


def _bring(cast, network, kid, state):
    r = _refer(cast, kid, send=state != State.DRAFT)
    if state == State.EXPIRED:
        sweep(SYSTEM, r.acceptance_due + dt.timedelta(minutes=1))
        return Referral.unscoped.get(pk=r.pk)
    for step in PATH[state]:
        r = actions.transition(_as(network["staff"]["sala_alta"]), r, step, r.version, **EXTRA.get(step, {}))
    return r


def _party(cast, network, who):
    return {
        "receiver": network["staff"]["sala_alta"],
        "sender": cast["nurse_alta"],
        "coordinator": cast["coordinator_alta"],
    }[who]


@pytest.mark.parametrize(("frm", "to", "who"), LEGAL)
def test_every_legal_transition_by_its_party(cast, network, kid, frm, to, who):
    r = _bring(cast, network, kid, frm)
    assert r.state == frm
    r = actions.transition(_as(_party(cast, network, who)), r, to, r.version, **EXTRA.get(to, {}))
    assert r.state == to


ILLEGAL = [
    (State.SENT, State.ACCEPTED, "sender"),  # only the receiver accepts
    (State.SENT, State.COMPLETED, "receiver"),  # not from sent
    (State.SENT, State.CANCELLED, "receiver"),
    (State.ACCEPTED, State.CLOSED, "coordinator"),
    (State.IN_PROGRESS, State.COMPLETED, "coordinator"),
    (State.COMPLETED, State.IN_PROGRESS, "receiver"),
    (State.REJECTED, State.ACCEPTED, "receiver"),
    (State.EXPIRED, State.ACCEPTED, "receiver"),
    (State.SENT, State.EXPIRED, "coordinator"),  # only the sweep expires
]


@pytest.mark.parametrize(("frm", "to", "who"), ILLEGAL)
def test_illegal_transitions_are_refused_with_the_allowed_ones(cast, network, kid, frm, to, who):
    r = _bring(cast, network, kid, frm)
    with pytest.raises(actions.TransitionRefused) as exc:
        actions.transition(_as(_party(cast, network, who)), r, to, r.version, **EXTRA.get(to, {}))
    assert exc.value.code == "illegal" and to not in exc.value.allowed
    assert Referral.unscoped.get(pk=r.pk).state == frm


def test_other_organisations_and_strangers_are_no_party(cast, network, kid):
    r = _refer(cast, kid)
    assert machine.parties(network["staff"]["sala_norte"], r) == set()
    assert machine.parties(cast["nurse_baja"], r) == set()
    assert machine.allowed_next(cast["provider_opd"], r) == []


def test_required_reason_and_counter_referral(cast, network, kid):
    receiver = network["staff"]["sala_alta"]
    r = _refer(cast, kid)
    with pytest.raises(InputErrors) as exc:
        actions.transition(_as(receiver), r, State.REJECTED, r.version)
    assert "reason" in exc.value.errors
    r = actions.transition(_as(receiver), r, State.ACCEPTED, r.version)
    r = actions.transition(_as(receiver), r, State.IN_PROGRESS, r.version)
    with pytest.raises(InputErrors) as exc:
        actions.transition(_as(receiver), r, State.COMPLETED, r.version, counter_referral={"outcome": "maybe"})
    assert {"counter_referral.outcome", "counter_referral.services_given"} <= set(exc.value.errors)
    assert Referral.unscoped.get(pk=r.pk).state == State.IN_PROGRESS


def test_stale_version_is_refused_and_nothing_is_lost(cast, network, kid):
    receiver = network["staff"]["sala_alta"]
    r = _refer(cast, kid)
    stale = r.version
    actions.transition(_as(receiver), r, State.ACCEPTED, stale)
    with pytest.raises(actions.TransitionRefused) as exc:
        actions.transition(_as(cast["nurse_alta"]), r, State.CANCELLED, stale)
    assert exc.value.code == "stale" and exc.value.referral.state == State.ACCEPTED
    assert Referral.unscoped.get(pk=r.pk).state == State.ACCEPTED


def test_second_open_referral_to_the_same_service_is_refused(cast, network, kid):
    _refer(cast, kid)
    with pytest.raises(InputErrors) as exc:
        _refer(cast, kid, organisation_code="SALA-NORTE")
    assert exc.value.errors["service"][0].code == "open_referral"
    assert Referral.unscoped.count() == 1


def test_suggestion_skips_a_full_provider(cast, network, make_child, today):
    chosen = []
    for i in range(3):
        child = make_child(given_names=f"Niño {i}", birth_date=(today - dt.timedelta(days=300)).isoformat())
        chosen.append(_refer(cast, child).organisation.code)
    assert chosen == ["SALA-ALTA", "SALA-ALTA", "SALA-NORTE"]  # Alta's capacity is 2 a month


def test_consent_limits_what_the_receiver_sees(cast, network, kid, api_client):
    from crecer.registry import actions as registry_actions

    registry_actions.add_case_note(SYSTEM, kid, DataCategory.CHILD_PROTECTION, "sospecha de negligencia")
    registry_actions.add_case_note(SYSTEM, kid, DataCategory.DEVELOPMENT, "lenguaje descendido")
    receiver = network["staff"]["sala_alta"]
    assert not scope.children(receiver).filter(pk=kid.pk).exists()  # nothing before the referral
    _refer(cast, kid)
    assert {n.category for n in scope.notes(receiver, kid)} == {"development"}
    body = api_client(receiver).get(f"/api/v1/children/{kid.pk}").json()
    assert body["data_categories"] == ["development", "identity"] and body["birth_weight_g"] is None


def test_access_ends_after_the_grace_period(cast, network, kid, settings):
    settings.CRECER_SHARE_GRACE_DAYS = 0
    receiver = network["staff"]["sala_alta"]
    r = _refer(cast, kid)
    actions.transition(_as(receiver), r, State.REJECTED, r.version, reason="sin cupo")
    assert not scope.children(receiver).filter(pk=kid.pk).exists()


def test_provider_sees_only_referrals_sent_to_it(cast, network, kid, make_child, today, api_client):
    _refer(cast, kid)
    other = make_child(given_names="Otra", birth_date=(today - dt.timedelta(days=300)).isoformat())
    _refer(cast, other, organisation_code="SALA-NORTE")
    alta = {
        r["organisation"]
        for r in api_client(network["staff"]["sala_alta"]).get("/api/v1/referrals", {"box": "inbox"}).json()["results"]
    }
    norte = api_client(network["staff"]["sala_norte"]).get("/api/v1/referrals", {"box": "inbox"}).json()["results"]
    assert alta == {"SALA-ALTA"} and [r["child"] for r in norte] == [other.pk]
    assert (
        api_client(network["staff"]["sala_norte"])
        .get(f"/api/v1/referrals/{Referral.unscoped.get(child=kid).pk}")
        .status_code
        == 404
    )


def test_completion_resolves_the_flag(cast, network, kid, today):
    from crecer.tracking import actions as tracking_actions

    tracking_actions.record_encounter(
        _as(cast["nurse_alta"]),
        {"date": today.isoformat(), "screenings": [{"instrument": "eedp", "inputs": {"cd": 0.6}}]},
        child=kid,
    )
    flag = RiskFlag.unscoped.get(child=kid, rule_id="development_delay")
    r = actions.create_referral(
        _as(cast["nurse_alta"]), child=kid, service_code="stimulation_session", reason="delay", consent=[], flag=flag
    )
    assert r.priority == "priority"  # from the rule's recommendation
    receiver = network["staff"]["sala_alta"]
    for step in (State.ACCEPTED, State.IN_PROGRESS):
        r = actions.transition(_as(receiver), r, step, r.version)
    actions.transition(_as(receiver), r, State.COMPLETED, r.version, counter_referral=COUNTER)
    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("resolved", "referral_closed")


def test_reassign_moves_access(cast, network, kid):
    r = _refer(cast, kid)
    r = actions.reassign(_as(cast["coordinator_alta"]), r, r.version, organisation_code="SALA-NORTE")
    assert r.organisation.code == "SALA-NORTE"
    assert not scope.children(network["staff"]["sala_alta"]).filter(pk=kid.pk).exists()
    assert scope.children(network["staff"]["sala_norte"]).filter(pk=kid.pk).exists()
    with pytest.raises(PermissionDenied):
        actions.reassign(_as(cast["nurse_alta"]), r, r.version, organisation_code="SALA-ALTA")


def test_bulk_reassign_when_staff_leaves(cast, network, make_child, today):
    for i in range(3):
        child = make_child(given_names=f"Niño {i}", birth_date=(today - dt.timedelta(days=300)).isoformat())
        _refer(cast, child, organisation_code="SALA-NORTE")
    from crecer.access.actions import create_user
    from tests.conftest import PASSWORD

    replacement = create_user(SYSTEM, "enfermera_nueva", "health_worker", "CL01001", PASSWORD, facility_code="F-ALTA")
    moved = actions.bulk_reassign(_as(cast["coordinator_alta"]), cast["nurse_alta"], replacement)
    assert moved == 3 and Referral.unscoped.filter(sender=replacement).count() == 3


def test_sweep_expires_escalates_and_reminds_once(cast, network, kid, make_child, today):
    expiring = _refer(cast, kid)
    late_child = make_child(given_names="Tarde", birth_date=(today - dt.timedelta(days=300)).isoformat())
    late = _refer(cast, late_child, organisation_code="SALA-NORTE")
    late = actions.transition(_as(network["staff"]["sala_norte"]), late, State.ACCEPTED, late.version)
    # A day before the answer is due: one reminder to each receiver, however often the sweep runs.
    soon = expiring.acceptance_due - dt.timedelta(hours=2)
    assert [sweep(SYSTEM, soon).reminded for _ in range(2)] == [1, 0]
    assert set(Notification.objects.filter(kind="reminder").values_list("user__username", flat=True)) == {
        "sala_alta",
        "sala_alta_2",
    }
    assert Notification.objects.filter(kind="reminder").count() == 2
    when = max(expiring.acceptance_due, late.attention_due) + dt.timedelta(hours=1)
    first = sweep(SYSTEM, when)
    second = sweep(SYSTEM, when)
    assert (first.expired, first.overdue) == (1, 1) and (second.expired, second.overdue) == (0, 0)
    assert Referral.unscoped.get(pk=expiring.pk).state == State.EXPIRED
    assert Notification.objects.filter(kind="overdue", user=cast["coordinator_alta"]).count() == 1


def test_reminder_by_email(cast, network, kid, django_capture_on_commit_callbacks):
    """A day before the answer is due, both staff of the room get a reminder in the application; the one
    with an e-mail address also gets it by e-mail, once the sweep's transaction commits."""
    staff = network["staff"]["sala_alta"]
    staff.email = "sala@example.org"
    staff.save()
    r = _refer(cast, kid)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sweep(SYSTEM, r.acceptance_due - dt.timedelta(hours=2))
    assert Notification.objects.filter(kind="reminder").count() == 2
    (sent,) = mail.outbox
    assert sent.to == ["sala@example.org"] and f"#{r.pk}" in sent.subject


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_change_each_referral_once(cast, network, make_child, today):
    refs = []
    for i in range(6):
        child = make_child(given_names=f"Niña {i}", birth_date=(today - dt.timedelta(days=300)).isoformat())
        refs.append(_refer(cast, child, organisation_code="SALA-NORTE"))
    when = max(r.acceptance_due for r in refs) + dt.timedelta(hours=1)
    results = []

    def run() -> None:
        try:
            results.append(sweep(SYSTEM, when))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.expired for r in results) == 6
    assert Referral.unscoped.filter(state=State.EXPIRED).count() == 6
    events = AuditEvent.objects.filter(entity="referrals.referral", after__state="expired")
    assert events.count() == 6 and events.values("entity_id").distinct().count() == 6


def test_api_create_transition_and_409(cast, network, kid, api_client):
    nurse, receiver = api_client(cast["nurse_alta"]), api_client(network["staff"]["sala_alta"])
    created = nurse.post(
        "/api/v1/referrals",
        data=json.dumps(
            {"child": kid.pk, "service": "stimulation_session", "reason": "riesgo", "consent": ["development"]}
        ),
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {"id", "child", "service", "organisation", "state", "version", "deadlines", "counter_referral"} <= set(body)
    path = f"/api/v1/referrals/{body['id']}/transition"
    ok = receiver.post(
        path, data=json.dumps({"to": "accepted", "version": body["version"]}), content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["state"] == "accepted"
    stale = nurse.post(
        path, data=json.dumps({"to": "cancelled", "version": body["version"]}), content_type="application/json"
    )
    assert (
        stale.status_code == 409 and stale.json()["code"] == "stale" and stale.json()["current"]["state"] == "accepted"
    )
    illegal = receiver.post(
        path, data=json.dumps({"to": "closed", "version": ok.json()["version"]}), content_type="application/json"
    )
    assert illegal.status_code == 409 and set(illegal.json()["allowed"]) == {"in_progress", "not_completed"}
    duplicate = nurse.post(
        "/api/v1/referrals",
        data=json.dumps({"child": kid.pk, "service": "stimulation_session", "reason": "x"}),
        content_type="application/json",
    )
    assert duplicate.status_code == 422 and duplicate.json()["errors"]["service"][0]["code"] == "open_referral"


def test_api_catalogue_and_directory(cast, network, api_client):
    client = api_client(cast["nurse_alta"])
    services = {s["code"] for s in client.get("/api/v1/services").json()}
    assert {"stimulation_session", "home_visit", "child_protection"} <= services
    orgs = client.get("/api/v1/organisations", {"service": "stimulation_session", "territory": "CL01001"}).json()
    assert [o["code"] for o in orgs] == ["SALA-ALTA", "SALA-NORTE"]
    assert "stimulation_session" in orgs[0]["services"] and "CL01001" in orgs[0]["territories"]


def test_network_board_overdue_first(cast, network, make_child, today, api_client):
    refs = []
    for i in range(3):
        child = make_child(given_names=f"Niño {i}", birth_date=(today - dt.timedelta(days=300)).isoformat())
        refs.append(_refer(cast, child, organisation_code="SALA-NORTE"))
    Referral.unscoped.filter(pk=refs[2].pk).update(overdue_at=timezone.now())
    board = api_client(cast["coordinator_alta"]).get("/api/v1/referrals", {"box": "network"}).json()
    assert board["results"][0]["id"] == refs[2].pk and board["count"] == 3
    assert api_client(cast["nurse_alta"]).get("/api/v1/referrals", {"box": "network"}).json()["count"] == 0


def test_flags_referrals_and_counter_referral_on_the_timeline(cast, network, kid, today):
    from crecer.tracking import timeline

    receiver = network["staff"]["sala_alta"]
    r = _refer(cast, kid)
    for step in (State.ACCEPTED, State.IN_PROGRESS):
        r = actions.transition(_as(receiver), r, step, r.version)
    actions.transition(_as(receiver), r, State.COMPLETED, r.version, counter_referral=COUNTER)
    kinds = [i.kind for i in timeline.build(cast["nurse_alta"], kid, today)]
    assert {"risk", "referral", "counter_referral"} <= set(kinds)
    counter = next(i for i in timeline.build(cast["nurse_alta"], kid, today) if i.kind == "counter_referral")
    assert "8 sesiones de estimulación" in counter.detail


def test_sweep_does_not_mark_attention_started_as_overdue(cast, network, kid):
    receiver = network["staff"]["sala_alta"]
    r = _refer(cast, kid)
    r = actions.transition(_as(receiver), r, State.ACCEPTED, r.version)
    r = actions.transition(_as(receiver), r, State.IN_PROGRESS, r.version)
    result = sweep(SYSTEM, r.attention_due + dt.timedelta(days=1))
    r.refresh_from_db()
    assert result.overdue == 0 and r.overdue_at is None
