"""The service catalogue, the provider directory, closed-loop referrals and notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crecer.registry.models import AccessGrant, Child, Pregnancy
from crecer.risks.models import RiskFlag
from crecer.territories.models import Facility, Organisation, Territory


class Service(models.Model):
    """A service of the catalogue. Seeded from the country profile, then editable by coordinators."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    sector = models.CharField(_("sector"), max_length=40)
    axis = models.CharField(_("axis"), max_length=40)
    universal = models.BooleanField(_("universal"), default=False)
    eligibility_es = models.CharField(_("eligibility (Spanish)"), max_length=300, blank=True)
    eligibility_en = models.CharField(_("eligibility (English)"), max_length=300, blank=True)
    acceptance_days = models.PositiveSmallIntegerField(_("days to accept"), default=5)
    attention_days = models.PositiveSmallIntegerField(_("days to first attention"), default=30)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def name(self, language: str) -> str:
        return self.name_en if language.startswith("en") else self.name_es


class Provision(models.Model):
    """An organisation offers a service in some territories, with a monthly capacity."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="provisions")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="provisions")
    territories = models.ManyToManyField(Territory, related_name="+", verbose_name=_("territories served"))
    monthly_capacity = models.PositiveIntegerField(_("monthly capacity"), null=True, blank=True)

    class Meta:
        verbose_name = _("service offered")
        verbose_name_plural = _("services offered")
        constraints = [models.UniqueConstraint(fields=["organisation", "service"], name="provision_once")]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.service_id}"


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    NOT_COMPLETED = "not_completed", _("Not completed")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


#: States in which a referral is open: one per child and service, and the receiver may see the child.
OPEN_STATES = (State.DRAFT, State.SENT, State.ACCEPTED, State.IN_PROGRESS)


class NotCompletedReason(models.TextChoices):
    DECLINED = "declined", _("The family declined")
    UNREACHABLE = "unreachable", _("The family could not be reached")
    MOVED = "moved", _("The family moved away")
    OTHER = "other", _("Other reason")


class Priority(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    PRIORITY = "priority", pgettext_lazy("a referral's priority level", "Priority")
    URGENT = "urgent", _("Urgent")


class Referral(models.Model):
    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals")
    pregnancy = models.ForeignKey(
        Pregnancy, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals", db_index=False
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="referrals_received")
    flag = models.ForeignKey(RiskFlag, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_sent")
    sender_facility = models.ForeignKey(Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals_assigned"
    )
    # The child's territory when referred: the municipal network that coordinates it.
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    consent = models.JSONField(_("data shared with consent"), default=list)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acceptance_due = models.DateTimeField(_("answer due"), null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    attention_due = models.DateTimeField(_("attention due"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejecting"), max_length=300, blank=True)
    not_completed_reason = models.CharField(max_length=20, choices=NotCompletedReason.choices, blank=True)
    counter_referral = models.JSONField(_("counter-referral"), null=True, blank=True)
    grant = models.OneToOneField(AccessGrant, on_delete=models.SET_NULL, null=True, blank=True, related_name="referral")

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=False, pregnancy__isnull=True)
                | Q(child__isnull=True, pregnancy__isnull=False),
                name="referral_child_or_pregnancy",
            ),
            # One open referral per child (or pregnancy) and service.
            models.UniqueConstraint(
                fields=["child", "service"],
                condition=Q(state__in=["draft", "sent", "accepted", "in_progress"], child__isnull=False),
                name="referral_open_once_child",
            ),
            models.UniqueConstraint(
                fields=["pregnancy", "service"],
                condition=Q(state__in=["draft", "sent", "accepted", "in_progress"], pregnancy__isnull=False),
                name="referral_open_once_pregnancy",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "state"]),
            models.Index(fields=["territory", "state"]),
            models.Index(fields=["state", "acceptance_due"]),
            models.Index(fields=["state", "attention_due"]),
            models.Index(fields=["sender", "state"]),
            # Most referrals are a child's: over an index of mostly empty values SQLite's statistics
            # make every lookup by pregnancy look like a whole-table match, and it scans instead.
            models.Index(fields=["pregnancy"], condition=Q(pregnancy__isnull=False), name="referral_by_pregnancy"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.service_id} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Notification(models.Model):
    """An in-app notification (also e-mailed when the user has an address): about a referral, or about an
    urgent risk flag (``kind`` ``urgent_result``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    flag = models.ForeignKey(RiskFlag, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    kind = models.CharField(max_length=30)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}"


class Comment(models.Model):
    """A message in a referral's thread between its parties: the sender, the receiver and the
    municipality's coordinator (:func:`crecer.referrals.machine.parties`)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral comment")
        verbose_name_plural = _("referral comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["referral", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.referral_id} {self.author_id}"
