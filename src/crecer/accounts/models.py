"""Recovery codes (a django-otp device whose codes are stored hashed) and the counter of bad API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

#: how many recovery codes a user gets at a time
RECOVERY_CODES = 10


def normalise_code(raw: str) -> str:
    """A recovery code as typed (any case, with or without dashes and spaces) in its stored form."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())


def hash_code(raw: str) -> str:
    # 80 random bits per code: SHA-256 alone makes the stored value useless to a reader of the database.
    return hashlib.sha256(normalise_code(raw).encode()).hexdigest()


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """One-time recovery codes for a user who lost the authenticator app.

    Like django-otp's static device, but only the SHA-256 of each code is kept: the codes are shown
    once, when made, and never again."""

    class Meta:
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")

    def get_throttle_factor(self) -> int:
        return 1

    def new_codes(self) -> list[str]:
        """Replace the codes by RECOVERY_CODES new ones; returns them in the form shown to the user."""
        self.codes.all().delete()
        shown = []
        for _i in range(RECOVERY_CODES):
            raw = secrets.token_hex(10)  # 80 bits
            RecoveryCode.objects.create(device=self, code_hash=hash_code(raw))
            shown.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
        return shown

    def verify_token(self, token: str) -> bool:
        allowed, _data = self.verify_is_allowed()
        if not allowed:
            return False
        code = self.codes.filter(code_hash=hash_code(token)).first() if normalise_code(token) else None
        if code is None:
            self.throttle_increment()
            return False
        code.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"recovery code of {self.device.user_id}"


class ThrottleCounter(models.Model):
    """Hits of one throttled key within its current window (crecer.accounts.throttle): bad bearer tokens
    per client address, existence look-ups per user. A database row, so every worker process shares it."""

    key = models.CharField(max_length=100, unique=True)
    hits = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
