"""Risk flags raised by the country profile's rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crecer.registry.models import Child, Pregnancy


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Resolution(models.TextChoices):
    FACTS_CHANGED = "facts_changed", _("The facts changed")
    REFERRAL_CLOSED = "referral_closed", _("Attended through a referral")
    RULE_RETIRED = "rule_retired", _("The rule no longer applies")


class RiskFlag(models.Model):
    """A risk found by a rule (id and version recorded) on a child or a pregnancy."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, null=True, blank=True, related_name="risk_flags")
    pregnancy = models.ForeignKey(Pregnancy, on_delete=models.PROTECT, null=True, blank=True, related_name="risk_flags")
    rule_id = models.CharField(_("rule"), max_length=60)
    rule_version = models.PositiveIntegerField(_("rule version"))
    category = models.CharField(_("category"), max_length=20)
    axis = models.CharField(_("axis"), max_length=40)
    severity = models.CharField(_("severity"), max_length=10)
    data_category = models.CharField(max_length=30)
    # The recommended referral (service, priority, deadline_days), if the rule has one.
    recommendation = models.JSONField(null=True, blank=True)
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    # An urgent result (the rule says ``urgent = true``) acts at once: it is notified, shown in a banner
    # and kept on top of every worklist until someone records the action taken (whatever the flag's
    # status meanwhile: a human closes every urgent alert).
    urgent = models.BooleanField(_("urgent"), default=False)
    action_taken = models.TextField(_("action taken"), blank=True)
    acted_at = models.DateTimeField(_("action recorded"), null=True, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    unscoped = models.Manager()

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=False, pregnancy__isnull=True)
                | Q(child__isnull=True, pregnancy__isnull=False),
                name="flag_child_or_pregnancy",
            ),
            models.UniqueConstraint(
                fields=["child", "rule_id"],
                condition=Q(status="open", child__isnull=False),
                name="flag_open_once_child",
            ),
            models.UniqueConstraint(
                fields=["pregnancy", "rule_id"],
                condition=Q(status="open", pregnancy__isnull=False),
                name="flag_open_once_pregnancy",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "category"]),
            models.Index(fields=["rule_id", "status"]),
            # the urgent results awaiting an action (few): the top of every worklist
            models.Index(fields=["child"], condition=Q(urgent=True, acted_at__isnull=True), name="flag_urgent_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}@{self.rule_version} ({self.status})"

    @property
    def awaiting_action(self) -> bool:
        return self.urgent and self.acted_at is None
