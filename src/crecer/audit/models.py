"""The audit trail: who created, changed, deleted or read what, when, through which channel.

Events are append-only. The model refuses updates and deletes, the query set refuses bulk
updates and deletes, and on the database side triggers (see the migration) reject UPDATE (and,
on PostgreSQL, DELETE) so that not even a raw SQL statement from the application rewrites history.

Events are also chained (:mod:`crecer.audit.chain`): each carries the hash of the one before it, and
a :class:`ChainHead` row per lane the id and hash of the lane's last, so that a deleted, changed or truncated
event is detected by ``crecer audit verify`` even where the triggers were bypassed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditImmutable(Exception):
    """Raised on any attempt to change or delete an audit event."""


class Action(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    READ = "read", _("Viewed")
    SEARCH = "search", _("Searched")
    EXPORT = "export", _("Exported")
    IMPORT = "import", _("Imported")
    LOGIN = "login", _("Logged in")
    LOGOUT = "logout", _("Logged out")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOCKOUT = "lockout", _("Locked out")
    PASSWORD = "password", _("Password changed")
    TWO_FACTOR = "two_factor", _("Two-factor sign-in")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    SYSTEM = "system", _("System")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditImmutable("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("audit events cannot be deleted")

    def about_child(self, child_id: int, merged: Iterable[int] = ()) -> AuditEventQuerySet:
        """Events about a child, and about the records merged into it (their history is its history)."""
        return self.filter(child_id__in=[child_id, *merged])


class AuditEvent(models.Model):
    # Set by the chain before the event is hashed (not auto_now_add, which would set it after).
    at = models.DateTimeField(_("when"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=False
    )
    # Kept as typed at the time: the event stays readable even if the user is renamed.
    actor_username = models.CharField(_("user"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SYSTEM)
    entity = models.CharField(_("record type"), max_length=60)
    entity_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    # The child the event concerns, so "who accessed or changed this child" is one indexed query.
    child_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    note = models.TextField(_("note"), blank=True)
    # The hash chain (crecer.audit.chain): the hash of the event before, and this event's own hash
    # (sha256 of the previous hash and the canonical form of the fields above).
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")
    # The chain (lane) the event belongs to, set by the chain when it is appended (a row written around
    # the chain lands in lane 0, where it breaks the chain).
    lane = models.PositiveSmallIntegerField(default=0, db_default=0)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["entity", "entity_id"]),
            models.Index(fields=["lane", "id"], name="audit_event_lane"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.entity}#{self.entity_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditImmutable("audit events cannot be changed")
        from crecer.audit import chain

        # Every new event joins the chain, whichever code creates it.
        chain.append_instance(self, lambda: super(AuditEvent, self).save(*args, **kwargs))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutable("audit events cannot be deleted")


class ChainHead(models.Model):
    """The end of one lane of the audit chain: a row per lane (id = lane + 1) with the id and hash of the
    lane's last event.

    Appending events locks the lane's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE
    transactions already serialise writers), so concurrent writers to a lane extend it one after the
    other. It also lets ``crecer audit verify`` notice events deleted from the end of a lane."""

    last_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return f"{self.last_id} {self.last_hash}"
