"""Two-factor sign-in: a TOTP authenticator app (django-otp's TOTP device) plus one-time recovery codes.

Required for the roles in ``settings.CRECER_TWO_FACTOR_ROLES``, optional for everyone else. A session
is *verified* once a code was accepted in it (django-otp keeps the device in the session); the
middleware (:mod:`crecer.accounts.middleware`) leads an unverified user with a device to the code page
and a user of a required role without one to enrolment."""

from __future__ import annotations

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from crecer.access import permissions
from crecer.access.models import User
from crecer.accounts import events
from crecer.accounts.models import RecoveryCodeDevice
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record

#: the session key remembering whether the signed-in user has a confirmed second factor
SESSION_KEY = "crecer_second_factor"


def required(user: User) -> bool:
    return bool(user.is_authenticated and user.role in settings.CRECER_TWO_FACTOR_ROLES)


def authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def codes_left(user: User) -> int:
    device = RecoveryCodeDevice.objects.filter(user=user).first()
    return device.codes.count() if device is not None else 0


def pending_enrolment(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (made on first call): its secret is shown until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Crecer", confirmed=False)


def qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// address of ``device`` as an inline SVG QR code (made on the server, no script)."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, title="otpauth")
    return mark_safe(svg)  # noqa: S308 — segno writes the SVG; the only data in it is the encoded address


def secret_base32(device: TOTPDevice) -> str:
    import base64

    raw = base64.b32encode(device.bin_key).decode()
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _session_verified(request: HttpRequest, device: TOTPDevice | RecoveryCodeDevice) -> None:
    django_otp.login(request, device)
    request.session[SESSION_KEY] = True


def confirm(request: HttpRequest, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it; returns the new recovery codes (shown once)
    or None if the code is wrong."""
    user = request.user
    assert isinstance(user, User)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None or not device.verify_token(code.strip().replace(" ", "")):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        recovery, _created = RecoveryCodeDevice.objects.get_or_create(user=user, defaults={"name": "recovery"})
        codes = recovery.new_codes()
        record(Actor(user, Channel.WEB), Action.TWO_FACTOR, user, after={"event": "enrolled"})
    _session_verified(request, device)
    return codes


def verify(request: HttpRequest, code: str) -> tuple[bool, int | None]:
    """Check a code from the authenticator or a recovery code for the signed-in user.

    Returns (accepted, seconds to wait): a wrong code makes the next try wait (1, 2, 4 … seconds,
    django-otp's throttling); a failure is a failed sign-in in the audit trail, a recovery code used an
    event of its own."""
    user = request.user
    assert isinstance(user, User)
    token = code.strip().replace(" ", "")
    with transaction.atomic():
        totp = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if totp is not None:
            allowed, data = totp.verify_is_allowed()
            if not allowed:
                return False, _wait(data)
            if token.isdigit() and totp.verify_token(token):
                record(Actor(user, Channel.WEB), Action.TWO_FACTOR, user, after={"event": "verified"})
                _session_verified(request, totp)
                return True, None
        recovery = RecoveryCodeDevice.objects.select_for_update().filter(user=user).first()
        if recovery is not None and not token.isdigit() and recovery.verify_token(token):
            record(
                Actor(user, Channel.WEB),
                Action.TWO_FACTOR,
                user,
                after={"event": "recovery_code_used", "codes_left": recovery.codes.count()},
            )
            _session_verified(request, recovery)
            return True, None
        if totp is not None and token.isdigit() is False:
            # A wrong recovery code also slows the authenticator down.
            totp.throttle_increment()
    events.failed(request, user.username, step="second_factor")
    return False, None


def _wait(data: dict | None) -> int | None:
    from django.utils import timezone

    until = (data or {}).get("locked_until")
    if until is None:
        return None
    return max(1, int((until - timezone.now()).total_seconds()) + 1)


def regenerate_codes(request: HttpRequest) -> list[str]:
    """New recovery codes for the signed-in, verified user; the old ones stop working."""
    user = request.user
    assert isinstance(user, User)
    with transaction.atomic():
        recovery, _created = RecoveryCodeDevice.objects.get_or_create(user=user, defaults={"name": "recovery"})
        codes = recovery.new_codes()
        record(Actor(user, Channel.WEB), Action.TWO_FACTOR, user, after={"event": "recovery_codes_renewed"})
    return codes


def disable(actor: Actor, user: User) -> bool:
    """Remove the user's authenticator and recovery codes (by the user, or by an administrator for a user
    who lost both). True if there was something to remove."""
    if actor.user is not None and actor.user.pk != user.pk:
        permissions.check(actor.user, permissions.MANAGE_USERS, _("Your role cannot manage users."))
    with transaction.atomic():
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        removed += RecoveryCodeDevice.objects.filter(user=user).delete()[0]
        if removed:
            record(actor, Action.TWO_FACTOR, user, after={"event": "disabled"})
    return bool(removed)
