"""Users: an administrator creates, edits and deactivates users and gives a one-time link to set a password;
everybody changes their own password; `crecer user deactivate` and `crecer user add` (password from a
prompt or standard input, never the command line). Each change is an audit event."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from crecer.access.actions import create_token
from crecer.access.models import ApiToken, Role, User
from crecer.audit.models import Action, AuditEvent, Channel
from tests.conftest import PASSWORD, SYSTEM

NEW_PASSWORD = "otra-clave-segura-2027"


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


USER_PAGES = [
    ("get", "/users/"),
    ("get", "/users/new/"),
    ("get", "/users/{id}/"),
    ("post", "/users/{id}/deactivate/"),
    ("post", "/users/{id}/reset-link/"),
    ("post", "/users/{id}/two-factor/remove/"),
]


@pytest.mark.parametrize(
    "key",
    ["nurse_alta", "coordinator_alta", "regional_norte", "national", "provider_opd", "inspector", "auditor"],
)
def test_only_administrators_manage_users(cast, key):
    target = cast["nurse_baja"]
    client = _as(cast[key])
    for method, path in USER_PAGES:
        response = getattr(client, method)(path.format(id=target.pk))
        assert response.status_code == 403, (key, path)
    target.refresh_from_db()
    assert target.is_active
    assert not AuditEvent.objects.filter(entity="access.user", entity_id=target.pk, action=Action.PASSWORD).exists()


def test_an_administrator_creates_a_user_who_sets_a_password_by_a_one_time_link(cast):
    admin = _as(cast["admin"])
    assert "enfermera_alta" in admin.get("/users/").content.decode()
    response = admin.post(
        "/users/new/",
        {
            "username": "matrona_nueva",
            "first_name": "Rosa",
            "last_name": "Soto",
            "role": Role.HEALTH_WORKER,
            "territory": "CL01001",
            "facility": "F-ALTA",
        },
    )
    assert response.status_code == 200
    user = User.objects.get(username="matrona_nueva")
    assert (user.role, user.facility.code, user.has_usable_password()) == (Role.HEALTH_WORKER, "F-ALTA", False)
    link = response.context["link"]
    assert link.startswith("http://testserver/password/reset/")
    created = AuditEvent.objects.get(action=Action.CREATE, entity="access.user", entity_id=user.pk)
    assert created.actor_id == cast["admin"].pk and "password" not in created.after

    # The link sets a password once.
    newcomer = Client()
    form_page = newcomer.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = newcomer.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == "/login/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    events = AuditEvent.objects.filter(action=Action.PASSWORD, entity_id=user.pk).order_by("id")
    assert [e.after["event"] for e in events] == ["reset_link_issued", "reset"]
    assert events[1].actor_id == user.pk
    again = Client().get(link, follow=True)
    assert not again.context["validlink"]


def test_a_user_form_with_errors_names_the_field_and_changes_nothing(cast):
    admin = _as(cast["admin"])
    response = admin.post("/users/new/", {"username": "sin_centro", "role": Role.HEALTH_WORKER, "territory": "CL01001"})
    assert response.status_code == 200
    assert response.context["form"].errors["facility"]
    assert 'class="field-error"' in response.content.decode()
    assert not User.objects.filter(username="sin_centro").exists()
    taken = admin.post("/users/new/", {"username": "admin", "role": Role.AUDITOR, "territory": "CL"})
    assert taken.context["form"].errors["username"]


def test_an_administrator_edits_a_user_and_the_change_is_audited(cast):
    nurse = cast["nurse_alta"]
    admin = _as(cast["admin"])
    page = admin.get(f"/users/{nurse.pk}/")
    assert page.status_code == 200 and page.context["form"].initial["facility"] == "F-ALTA"
    response = admin.post(
        f"/users/{nurse.pk}/",
        {
            "username": "someone_else",  # disabled: ignored
            "role": Role.MUNICIPAL_COORDINATOR,
            "territory": "CL01002",
            "extra_categories": ["child_protection"],
        },
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert (nurse.username, nurse.role, nurse.territory.code, nurse.facility) == (
        "enfermera_alta",
        Role.MUNICIPAL_COORDINATOR,
        "CL01002",
        None,
    )
    assert nurse.extra_categories == ["child_protection"]
    event = AuditEvent.objects.filter(action=Action.UPDATE, entity="access.user", entity_id=nurse.pk).get()
    assert event.before["role"] == Role.HEALTH_WORKER and event.after["role"] == Role.MUNICIPAL_COORDINATOR


def test_deactivation_ends_sign_in_sessions_and_tokens(cast):
    nurse = cast["nurse_alta"]
    raw = create_token(SYSTEM, nurse)
    session = _as(nurse)
    assert session.get("/").status_code == 200
    admin = _as(cast["admin"])
    assert admin.post(f"/users/{nurse.pk}/deactivate/").status_code == 302
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert session.get("/").status_code == 302  # back to the login page
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.filter(user=nurse, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action=Action.UPDATE, entity="access.apitoken").count() == 1
    event = AuditEvent.objects.get(action=Action.UPDATE, entity="access.user", entity_id=nurse.pk)
    assert event.after == {"is_active": False} and event.actor_id == cast["admin"].pk
    refused = Client()
    refused.post("/login/", {"username": nurse.username, "password": PASSWORD})
    assert "_auth_user_id" not in refused.session


def test_an_administrator_cannot_deactivate_themselves(cast):
    admin = cast["admin"]
    assert _as(admin).post(f"/users/{admin.pk}/deactivate/").status_code == 403
    admin.refresh_from_db()
    assert admin.is_active


@pytest.mark.parametrize("key", ["nurse_alta", "provider_opd", "inspector", "auditor", "admin"])
def test_everybody_changes_their_own_password(cast, key):
    user = cast[key]
    client = Client()
    client.post("/login/", {"username": user.username, "password": PASSWORD})
    other = _as(user)
    wrong = client.post(
        "/account/password/",
        {"old_password": "no-la-se-1234", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and wrong.context["form"].errors["old_password"]
    weak = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.context["form"].errors["new_password2"]
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get("/account/").status_code == 200  # this session stays
    assert other.get("/account/").status_code == 302  # other sessions end
    event = AuditEvent.objects.get(action=Action.PASSWORD, entity_id=user.pk)
    assert (event.actor_id, event.channel, event.after) == (user.pk, Channel.WEB, {"event": "changed"})
    assert NEW_PASSWORD not in str(event.after) + event.note


def test_user_deactivate_command(cast):
    nurse = cast["nurse_alta"]
    raw = create_token(SYSTEM, nurse)
    out = io.StringIO()
    call_command("user", "deactivate", nurse.username, stdout=out)
    assert "deactivated" in out.getvalue()
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me").status_code == 401
    event = AuditEvent.objects.get(action=Action.UPDATE, entity="access.user", entity_id=nurse.pk)
    assert (event.channel, event.actor_id) == (Channel.CLI, None)
    again = io.StringIO()
    call_command("user", "deactivate", nurse.username, stdout=again)
    assert "already" in again.getvalue()
    with pytest.raises(CommandError, match="nadie"):
        call_command("user", "deactivate", "nadie")


def test_user_add_has_no_password_argument(country):
    with pytest.raises(CommandError):
        call_command("user", "add", "con_clave", "--role", "auditor", "--territory", "CL", "--password", PASSWORD)
    assert not User.objects.filter(username="con_clave").exists()


def test_user_add_reads_the_password_from_standard_input(country):
    call_command(
        "user", "add", "desde_stdin", "--role", "auditor", "--territory", "CL",
        stdin=io.StringIO(PASSWORD + "\n"), stdout=io.StringIO(),
    )  # fmt: skip
    assert User.objects.get(username="desde_stdin").check_password(PASSWORD)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_user_add_prompts_twice_on_a_terminal(country, monkeypatch):
    answers: list[Any] = [PASSWORD, PASSWORD]
    monkeypatch.setattr("getpass.getpass", lambda prompt="": answers.pop(0))
    call_command(
        "user", "add", "con_prompt", "--role", "auditor", "--territory", "CL", stdin=_Terminal(), stdout=io.StringIO()
    )
    assert User.objects.get(username="con_prompt").check_password(PASSWORD)
    answers[:] = [PASSWORD, "distinta-2026-xx"]
    with pytest.raises(CommandError, match="differ"):
        call_command(
            "user", "add", "otra", "--role", "auditor", "--territory", "CL", stdin=_Terminal(), stdout=io.StringIO()
        )


def test_the_reset_link_page_tells_a_used_link(cast):
    nurse = cast["nurse_alta"]
    admin = _as(cast["admin"])
    link = admin.post(f"/users/{nurse.pk}/reset-link/").context["link"]
    assert re.match(r"http://testserver/password/reset/[^/]+/[^/]+/$", link)
    client = Client()
    page = client.get(link, follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    used = Client().get(link, follow=True)
    assert used.status_code == 200 and not used.context["validlink"]
    nurse.refresh_from_db()
    assert nurse.check_password(NEW_PASSWORD)
