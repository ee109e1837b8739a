"""The client's address behind a reverse proxy: X-Forwarded-For is believed only when the peer is a
trusted proxy (CRECER_TRUSTED_PROXIES), so sign-in throttling locks the real client, and a client
cannot escape a lockout (or lock out somebody else) by writing the header itself."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from crecer.accounts.addresses import client_address
from crecer.audit.models import Action, AuditEvent
from tests.conftest import PASSWORD


def _address(remote: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No trusted proxy: the header is the client's own writing, ignored.
        ([], "203.0.113.9", "198.51.100.1", "203.0.113.9"),
        # The peer is not one of ours: ignored too.
        (["10.0.0.5"], "203.0.113.9", "198.51.100.1", "203.0.113.9"),
        # Our proxy: the address it appended.
        (["10.0.0.5"], "10.0.0.5", "198.51.100.1", "198.51.100.1"),
        # A client that forges a first entry: our proxy appended the true one at the right.
        (["10.0.0.5"], "10.0.0.5", "1.2.3.4, 198.51.100.1", "198.51.100.1"),
        # Two proxies of ours in a row (a network given as CIDR), the client before them.
        (["10.0.0.0/24"], "10.0.0.5", "1.2.3.4, 198.51.100.1, 10.0.0.7", "198.51.100.1"),
        # IPv6 and a port.
        (["::1"], "::1", "[2001:db8::7]:4431", "2001:db8::7"),
        (["10.0.0.5"], "10.0.0.5", "198.51.100.1:5050", "198.51.100.1"),
        # Our proxy passed on garbage: believe nothing beyond it.
        (["10.0.0.5"], "10.0.0.5", "<script>", "10.0.0.5"),
        # Our proxy without the header.
        (["10.0.0.5"], "10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.CRECER_TRUSTED_PROXIES = proxies
    assert _address(remote, forwarded) == expected


def _fail(client: Client, username: str, **meta: str) -> None:
    client.post("/login/", {"username": username, "password": "equivocada-123"}, **meta)


def test_without_a_proxy_a_forged_header_does_not_escape_the_lockout(cast, settings):
    settings.CRECER_TRUSTED_PROXIES = []
    nurse = cast["nurse_alta"]
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, nurse.username, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    attempt = AccessAttempt.objects.get(username=nurse.username)
    assert attempt.ip_address == "203.0.113.9" and attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    # A "new" forwarded address is still the same client: locked.
    client.post(
        "/login/",
        {"username": nurse.username, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert "_auth_user_id" not in client.session


def test_behind_a_trusted_proxy_each_client_is_locked_on_its_own(cast, settings):
    settings.CRECER_TRUSTED_PROXIES = ["10.0.0.5"]
    nurse = cast["nurse_alta"]
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(attacker, nurse.username, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert AccessAttempt.objects.get(username=nurse.username).ip_address == "198.51.100.66"
    lockout = AuditEvent.objects.get(action=Action.LOCKOUT)
    assert lockout.after["address"] == "198.51.100.66"
    # The nurse at her own address, through the same proxy, still signs in.
    nurse_client = Client()
    response = nurse_client.post(
        "/login/",
        {"username": nurse.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert response.status_code == 302 and "_auth_user_id" in nurse_client.session
    login = AuditEvent.objects.get(action=Action.LOGIN)
    assert login.after == {"address": "198.51.100.20"}
    # The attacker stays locked out even with the right password.
    attacker.post(
        "/login/",
        {"username": nurse.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert "_auth_user_id" not in attacker.session
