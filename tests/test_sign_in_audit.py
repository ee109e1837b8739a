"""Sign-ins, failed sign-ins, sign-outs and lockouts are audit events; failures stay in the record when a
later sign-in succeeds (django-axes resets its own counter); a password never reaches the trail."""

from __future__ import annotations

import json

from axes.models import AccessAttempt
from django.test import Client

from crecer.audit.models import Action, AuditEvent, Channel
from tests.conftest import PASSWORD


def _events(*actions: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__in=actions).order_by("id"))


def test_a_sign_in_and_a_sign_out_are_events_of_the_user(cast):
    nurse = cast["nurse_alta"]
    client = Client()
    assert client.post("/login/", {"username": nurse.username, "password": PASSWORD}).status_code == 302
    client.post("/logout/")
    login, logout = _events(Action.LOGIN, Action.LOGOUT)
    assert (login.action, login.actor_id, login.channel, login.entity_id) == (
        Action.LOGIN,
        nurse.pk,
        Channel.WEB,
        nurse.pk,
    )
    assert login.after == {"address": "127.0.0.1"}
    assert (logout.action, logout.actor_id) == (Action.LOGOUT, nurse.pk)


def test_a_failed_sign_in_keeps_the_name_tried_and_never_the_password(cast):
    nurse = cast["nurse_alta"]
    client = Client()
    client.post("/login/", {"username": nurse.username, "password": "no-es-la-clave-9"})
    client.post("/login/", {"username": "nadie_con_ese_nombre", "password": "otra-clave-mala-9"})
    first, second = _events(Action.LOGIN_FAILED)
    assert (first.actor_id, first.actor_username, first.entity, first.entity_id) == (
        None,
        "anonymous",
        "access.user",
        nurse.pk,
    )
    assert first.after == {"username": nurse.username, "step": "password", "address": "127.0.0.1"}
    assert second.entity_id is None and second.after["username"] == "nadie_con_ese_nombre"
    stored = json.dumps([e.after for e in AuditEvent.objects.all()]) + "".join(e.note for e in AuditEvent.objects.all())
    assert "no-es-la-clave-9" not in stored and "otra-clave-mala-9" not in stored


def test_failures_stay_in_the_record_after_a_success(cast):
    nurse = cast["nurse_alta"]
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": nurse.username, "password": "equivocada-123"})
    assert AccessAttempt.objects.get(username=nurse.username).failures_since_start == 3
    assert client.post("/login/", {"username": nurse.username, "password": PASSWORD}).status_code == 302
    # django-axes forgets its counter at a success; the audit trail does not.
    assert not AccessAttempt.objects.filter(username=nurse.username).exists()
    assert [e.action for e in _events(Action.LOGIN_FAILED, Action.LOGIN)] == [Action.LOGIN_FAILED] * 3 + [Action.LOGIN]


def test_a_lockout_is_an_event_and_the_right_password_is_then_refused(cast, settings):
    auditor = cast["auditor"]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": auditor.username, "password": "equivocada-123"})
    (lockout,) = _events(Action.LOCKOUT)
    assert lockout.entity_id == auditor.pk
    assert lockout.after == {"username": auditor.username, "address": "127.0.0.1"}
    refused = client.post("/login/", {"username": auditor.username, "password": PASSWORD})
    assert refused.status_code in (200, 403, 429)
    assert "_auth_user_id" not in client.session
    assert not _events(Action.LOGIN)


def test_signing_in_and_out_does_not_invalidate_the_cached_indicator_figures(cast):
    from crecer.monitoring.reading import write_marker

    before = write_marker()
    client = Client()
    client.post("/login/", {"username": cast["national"].username, "password": "equivocada-123"})
    client.post("/login/", {"username": cast["national"].username, "password": PASSWORD})
    client.post("/logout/")
    assert AuditEvent.objects.filter(action__in=(Action.LOGIN, Action.LOGOUT, Action.LOGIN_FAILED)).count() == 3
    assert write_marker() == before
