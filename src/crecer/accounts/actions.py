"""Writes of the account pages that are not a user's fields (those are in crecer.access.actions)."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from crecer.access.models import User
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record


def password_reset_link(actor: Actor, user: User, request: HttpRequest) -> str:
    """A one-time link by which ``user`` sets a new password (Django's token generator: it stops working
    once the password changes, and after ``PASSWORD_RESET_TIMEOUT``). Issuing it is audited."""
    path = reverse(
        "password-reset",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    with transaction.atomic():
        record(actor, Action.PASSWORD, user, after={"event": "reset_link_issued"})
    return request.build_absolute_uri(path)
