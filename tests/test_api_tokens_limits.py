"""API tokens expire (CRECER_API_TOKEN_DAYS; then 401) and repeated bad tokens from one client address
answer 429 with Retry-After, in the API's JSON error format, behind a trusted proxy as well."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from crecer.access.actions import create_token
from crecer.access.models import ApiToken
from crecer.audit.models import Action, AuditEvent, Channel
from tests.conftest import SYSTEM


def _get(raw: str, **meta: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me", **meta)


def _age(raw: str, days: float) -> None:
    ApiToken.objects.filter(prefix=raw[4:12]).update(created_at=timezone.now() - dt.timedelta(days=days))


def test_a_token_works_until_it_expires(cast, settings):
    raw = create_token(SYSTEM, cast["nurse_alta"])
    _age(raw, settings.CRECER_API_TOKEN_DAYS - 1)
    assert _get(raw).status_code == 200
    _age(raw, settings.CRECER_API_TOKEN_DAYS + 0.01)
    response = _get(raw)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_the_lifetime_is_a_setting(cast, settings):
    settings.CRECER_API_TOKEN_DAYS = 7
    raw = create_token(SYSTEM, cast["auditor"])
    _age(raw, 8)
    assert _get(raw).status_code == 401
    settings.CRECER_API_TOKEN_DAYS = 90
    assert _get(raw).status_code == 200


def test_bad_tokens_from_one_address_answer_429_with_retry_after(cast, settings):
    settings.CRECER_API_BAD_TOKEN_LIMIT = 3
    good = create_token(SYSTEM, cast["nurse_alta"])
    for n in range(3):
        assert _get(f"crc_wrong{n}", REMOTE_ADDR="203.0.113.9").status_code == 401
    refused = _get(good, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled" and refused.json()["message"] and refused.json()["errors"] == {}
    assert 0 < int(refused["Retry-After"]) <= settings.CRECER_API_BAD_TOKEN_WINDOW
    # Another address is not concerned.
    assert _get(good, REMOTE_ADDR="203.0.113.10").status_code == 200
    # Reaching the limit is a lockout in the audit trail, through the API.
    (event,) = AuditEvent.objects.filter(action=Action.LOCKOUT)
    assert (event.channel, event.after["address"]) == (Channel.API, "203.0.113.9")


def test_the_window_ends(cast, settings):
    settings.CRECER_API_BAD_TOKEN_LIMIT = 2
    good = create_token(SYSTEM, cast["nurse_alta"])
    for n in range(2):
        _get(f"crc_wrong{n}", REMOTE_ADDR="203.0.113.9")
    assert _get(good, REMOTE_ADDR="203.0.113.9").status_code == 429
    from crecer.accounts.models import ThrottleCounter

    ThrottleCounter.objects.update(
        window_start=timezone.now() - dt.timedelta(seconds=settings.CRECER_API_BAD_TOKEN_WINDOW + 1)
    )
    assert _get(good, REMOTE_ADDR="203.0.113.9").status_code == 200


def test_behind_a_trusted_proxy_the_client_is_throttled_not_the_proxy(cast, settings):
    settings.CRECER_API_BAD_TOKEN_LIMIT = 2
    settings.CRECER_TRUSTED_PROXIES = ["10.0.0.5"]
    good = create_token(SYSTEM, cast["nurse_alta"])
    for n in range(2):
        _get(f"crc_wrong{n}", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert _get(good, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.66").status_code == 429
    assert _get(good, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 200


def test_without_a_trusted_proxy_a_forged_header_does_not_reset_the_count(cast, settings):
    settings.CRECER_API_BAD_TOKEN_LIMIT = 2
    settings.CRECER_TRUSTED_PROXIES = []
    good = create_token(SYSTEM, cast["nurse_alta"])
    for n in range(2):
        _get(f"crc_wrong{n}", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert _get(good, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429


def test_a_revoked_or_deactivated_user_s_token_counts_as_bad(cast, settings):
    from crecer.access.actions import deactivate_user

    settings.CRECER_API_BAD_TOKEN_LIMIT = 100
    nurse = cast["nurse_alta"]
    raw = create_token(SYSTEM, nurse)
    deactivate_user(SYSTEM, nurse)
    assert _get(raw).status_code == 401
    from crecer.accounts.models import ThrottleCounter

    assert ThrottleCounter.objects.get(key="token:127.0.0.1").hits == 1
