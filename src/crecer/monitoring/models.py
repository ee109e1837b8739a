"""Frozen indicator snapshots (what a payment was based on) and targets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crecer.territories.models import Territory


class SnapshotImmutable(Exception):
    """Raised on any attempt to change a frozen snapshot."""


class FrozenQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise SnapshotImmutable("snapshots are frozen")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise SnapshotImmutable("snapshots are frozen")


class Snapshot(models.Model):
    """Every figure of a period, frozen. A recomputation is a new revision, never an edit."""

    period = models.CharField(_("period"), max_length=10)
    revision = models.PositiveIntegerField(_("revision"))
    profile = models.CharField(max_length=20)
    profile_version = models.CharField(max_length=20)
    # indicator code -> version, for every indicator in the snapshot
    definitions = models.JSONField(default=dict)
    # SHA-256 of the data the figures came from (see monitoring.snapshots.fingerprint)
    fingerprint = models.CharField(max_length=64)
    data_marker = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    seconds = models.FloatField(default=0)

    objects = FrozenQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator snapshot")
        verbose_name_plural = _("indicator snapshots")
        constraints = [models.UniqueConstraint(fields=["period", "revision"], name="snapshot_revision_once")]
        ordering = ["-period", "-revision"]

    def __str__(self) -> str:
        return f"{self.period} r{self.revision}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise SnapshotImmutable("snapshots are frozen")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SnapshotImmutable("snapshots are frozen")


class SnapshotValue(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="values")
    indicator = models.CharField(max_length=60)
    version = models.PositiveIntegerField()
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    group = models.CharField(max_length=60, blank=True)
    numerator = models.FloatField()
    denominator = models.FloatField()
    value = models.FloatField(null=True)

    objects = FrozenQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["snapshot", "indicator", "territory"]),
            models.Index(fields=["snapshot", "territory"]),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.territory_id} {self.group}"


class Target(models.Model):
    """Baseline and target of an indicator for a territory and period (e.g. a transfer agreement)."""

    indicator = models.CharField(_("indicator"), max_length=60)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=10)
    baseline = models.FloatField(_("baseline"))
    target = models.FloatField(_("target"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [models.UniqueConstraint(fields=["indicator", "territory", "period"], name="target_once")]

    def __str__(self) -> str:
        return f"{self.indicator} {self.territory_id} {self.period}"

    def progress(self, value: float | None) -> float | None:
        """Share of the way from baseline to target (1.0 = reached; can exceed 1 or be negative)."""
        if value is None or self.target == self.baseline:
            return None
        return round((value - self.baseline) / (self.target - self.baseline), 3)
