"""`crecer token list USERNAME` and `crecer token revoke USERNAME`: a user's API tokens, listed and closed
from the command line, each revocation audited."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from crecer.access.actions import create_token, revoke_token
from crecer.access.models import ApiToken, User
from crecer.audit.models import Action, AuditEvent, Channel
from tests.conftest import SYSTEM


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def _works(raw: str) -> bool:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me").status_code == 200


def test_revoke_closes_every_token_of_the_user_and_no_other(cast):
    nurse, other = cast["nurse_alta"], cast["nurse_baja"]
    first, second = create_token(SYSTEM, nurse), create_token(SYSTEM, nurse)
    kept = create_token(SYSTEM, other)
    assert _works(first) and _works(second)

    out = _run("revoke", nurse.username)

    assert out.strip() == f"Revoked 2 token(s) of {nurse.username}."
    assert not _works(first) and not _works(second)
    assert _works(kept)
    assert not ApiToken.objects.filter(user=nurse, revoked_at__isnull=True).exists()
    events = AuditEvent.objects.filter(entity="access.apitoken", action=Action.UPDATE)
    assert sorted(events.values_list("entity_id", flat=True)) == sorted(
        ApiToken.objects.filter(user=nurse).values_list("pk", flat=True)
    )
    assert {(e.channel, e.actor_id, e.after["revoked"]) for e in events} == {(Channel.CLI, None, True)}


def test_revoke_again_revokes_nothing_and_writes_no_event(cast):
    nurse = cast["nurse_alta"]
    create_token(SYSTEM, nurse)
    _run("revoke", nurse.username)
    before = AuditEvent.objects.count()
    assert _run("revoke", nurse.username).strip() == f"Revoked 0 token(s) of {nurse.username}."
    assert AuditEvent.objects.count() == before


def test_a_deactivated_user_s_tokens_can_be_listed_and_revoked(cast):
    nurse = cast["nurse_alta"]
    create_token(SYSTEM, nurse)
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    assert "Revoked 1 token(s)" in _run("revoke", nurse.username)
    assert ApiToken.objects.get(user=nurse).revoked_at is not None


def test_list_shows_prefix_created_last_use_and_revocation(cast):
    nurse = cast["nurse_alta"]
    used, unused = create_token(SYSTEM, nurse), create_token(SYSTEM, nurse)
    assert _works(used)
    revoke_token(SYSTEM, ApiToken.objects.get(prefix=unused[4:12]))

    lines = _run("list", nurse.username).splitlines()

    assert lines[0].split("\t") == ["prefix", "created", "expires", "last used", "revoked"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert set(rows) == {used[4:12], unused[4:12]}
    # Used: a last use, not revoked; the other: never used, revoked.
    assert rows[used[4:12]][3] != "-" and rows[used[4:12]][4] == "-"
    assert rows[unused[4:12]][3] == "-" and rows[unused[4:12]][4] != "-"
    assert all(len(row[1]) == len("2026-01-01 10:00") for row in rows.values())
    # Expiry: the configured lifetime after creation.
    for token in ApiToken.objects.filter(user=nurse):
        assert token.expires_at - token.created_at == dt.timedelta(days=settings.CRECER_API_TOKEN_DAYS)
        assert rows[token.prefix][2] == timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")
    # The raw tokens are never printed.
    assert used not in "\n".join(lines) and unused not in "\n".join(lines)


def test_list_of_a_user_without_tokens_is_the_header(cast):
    assert _run("list", cast["auditor"].username).splitlines() == ["prefix\tcreated\texpires\tlast used\trevoked"]


@pytest.mark.parametrize("action", ["list", "revoke"])
def test_an_unknown_user_is_an_error(country, action):
    with pytest.raises(CommandError, match="No user named 'nadie'"):
        _run(action, "nadie")
