"""Audit events of signing in, each written in its own transaction through the audit trail.

Sign-ins, sign-outs and failed sign-ins come from Django's auth signals, lockouts from django-axes'
``user_locked_out``: whatever view or form signs a user in, the event is written. A failed sign-in keeps
the user name that was tried (never the password) and the client's address; these events stay when a
later sign-in succeeds and django-axes resets its counter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from crecer.access.models import User
from crecer.accounts.addresses import client_address
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record


@dataclass(frozen=True)
class Anonymous(Actor):
    """Somebody not signed in (a failed sign-in, a bad API token): not the user whose name was tried."""

    @property
    def username(self) -> str:
        return "anonymous"


def _address(request: HttpRequest | None) -> str:
    return client_address(request) if request is not None else ""


def _user_named(username: str) -> User | None:
    return User.objects.filter(username=username).first() if username else None


def signed_in(request: HttpRequest | None, user: User) -> None:
    with transaction.atomic():
        record(Actor(user, Channel.WEB), Action.LOGIN, user, after={"address": _address(request)})


def signed_out(request: HttpRequest | None, user: User | None) -> None:
    if user is None or not user.is_authenticated:
        return
    with transaction.atomic():
        record(Actor(user, Channel.WEB), Action.LOGOUT, user, after={"address": _address(request)})


def failed(request: HttpRequest | None, username: str, step: str = "password", channel: str = Channel.WEB) -> None:
    """A failed sign-in: the password (``step="password"``) or the second factor (``"second_factor"``)."""
    target = _user_named(username)
    with transaction.atomic():
        record(
            Anonymous(None, channel),
            Action.LOGIN_FAILED,
            entity="access.user",
            entity_id=target.pk if target is not None else None,
            after={"username": username[:150], "step": step, "address": _address(request)},
        )


def locked_out(request: HttpRequest | None, username: str, address: str, channel: str = Channel.WEB) -> None:
    target = _user_named(username)
    with transaction.atomic():
        record(
            Anonymous(None, channel),
            Action.LOCKOUT,
            entity="access.user" if username else "access.apitoken",
            entity_id=target.pk if target is not None else None,
            after={"username": username[:150], "address": address},
        )


# --- signal receivers -------------------------------------------------------------------------------


def _on_logged_in(sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any) -> None:
    if user is not None:
        signed_in(request, user)


def _on_logged_out(sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any) -> None:
    signed_out(request, user)


def _on_login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    failed(request, str((credentials or {}).get("username") or ""))


def _on_locked_out(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    locked_out(request, str(username or ""), str(ip_address or _address(request)))


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(_on_logged_in, dispatch_uid="crecer.accounts.logged_in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="crecer.accounts.logged_out")
    user_login_failed.connect(_on_login_failed, dispatch_uid="crecer.accounts.login_failed")
    user_locked_out.connect(_on_locked_out, dispatch_uid="crecer.accounts.locked_out")
