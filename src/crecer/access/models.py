"""Users, their role and territorial binding, data categories and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crecer.core.prepared import Lookup
from crecer.territories.models import Facility, Organisation, Territory


class Role(models.TextChoices):
    HEALTH_WORKER = "health_worker", _("Health worker")
    MUNICIPAL_COORDINATOR = "municipal_coordinator", _("Municipal network coordinator")
    PROVIDER_STAFF = "provider_staff", _("Service provider staff")
    REGIONAL_MANAGER = "regional_manager", _("Regional manager")
    NATIONAL_MANAGER = "national_manager", _("National manager")
    INSPECTOR = "inspector", _("Inspector")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")
    OPERATOR = "operator", _("Childcare centre operator")


class DataCategory(models.TextChoices):
    IDENTITY = "identity", _("Identity and contact")
    HEALTH = "health", _("Health")
    DEVELOPMENT = "development", _("Development")
    SOCIAL = "social", _("Social situation")
    VIOLENCE = "violence", _("Violence")
    ABUSE = "abuse", _("Abuse")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    CHILD_PROTECTION = "child_protection", _("Child protection")


SENSITIVE_CATEGORIES = frozenset(
    {DataCategory.VIOLENCE, DataCategory.ABUSE, DataCategory.MENTAL_HEALTH, DataCategory.CHILD_PROTECTION}
)
ORDINARY_CATEGORIES = frozenset(set(DataCategory) - SENSITIVE_CATEGORIES)


# django-otp's devices (an untyped package) add reverse managers the plugin cannot resolve.
class Language(models.TextChoices):
    """The interface languages; Spanish unless the user picks another (``User.language``)."""

    SPANISH = "es", _("Spanish")
    ENGLISH = "en", _("English")


class User(AbstractUser):  # type: ignore[django-manager-missing]
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("territory")
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("facility")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("organisation"),
    )
    # An inspector's institution (a code of the profile's ``centres.toml``): the reviews they may decide.
    institution = models.CharField(_("institution"), max_length=40, blank=True, default="")
    # Sensitive categories granted to this user beyond the role's defaults (e.g. a child-protection officer).
    extra_categories = models.JSONField(_("extra data categories"), default=list, blank=True)
    # The interface language this user picked (pages and the API's messages), whatever the browser asks;
    # empty until they pick one: the site's language (LANGUAGE_CODE, Spanish).
    language = models.CharField(_("interface language"), max_length=8, choices=Language.choices, blank=True, default="")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def has_territorial_access(self) -> bool:
        """Reads the people of a territory subtree (:func:`crecer.access.permissions.is_territorial`)."""
        from crecer.access import permissions

        return permissions.is_territorial(self)

    def data_categories(self) -> frozenset[str]:
        """Every data category this user may see for people in their scope
        (:func:`crecer.access.permissions.readable_categories`)."""
        from crecer.access import permissions

        return permissions.readable_categories(self)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_lifetime() -> dt.timedelta:
    """How long an API token works after its creation."""
    return dt.timedelta(days=settings.CRECER_API_TOKEN_DAYS)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def authenticate(self, raw: str) -> User | None:
        """The active user of a token that is neither revoked nor expired (``CRECER_API_TOKEN_DAYS``)."""
        now = timezone.now()
        lookup, values = self.lookup(raw, now)
        return self.user_of(lookup.first(*values), now)

    def lookup(self, raw: str, now: dt.datetime) -> tuple[Lookup, tuple[Any, ...]]:
        """The look-up of the token ``raw`` if neither revoked nor expired at ``now``: one query by the unique
        hash, the user and their territory with it (scope needs its path), in SQL written once per process
        (crecer.core.prepared: this runs on every API request)."""
        return _TOKEN, (_hash(raw), now - token_lifetime())

    def user_of(self, token: ApiToken | None, now: dt.datetime) -> User | None:
        """The user of a token found by :meth:`lookup`, if active; notes when the token was last used."""
        if token is None or not token.user.is_active:
            return None
        # Compare-and-set keeps a busy client from writing on every call.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the raw value is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"

    @property
    def expires_at(self) -> dt.datetime:
        return self.created_at + token_lifetime()

    @staticmethod
    def new_raw() -> tuple[str, str]:
        raw = "crc_" + secrets.token_urlsafe(32)
        return raw, _hash(raw)


#: an unrevoked token by its hash, created after a moment, with its user and the user's territory
_TOKEN = Lookup(ApiToken, ["user__territory"], [("key_hash", "="), ("revoked_at", "isnull"), ("created_at", ">")])
