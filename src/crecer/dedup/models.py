"""Deduplication: runs of the linkage model, the pairs they propose (the review queue) and merges,
which keep everything needed to undo them exactly."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crecer.registry.models import Child


class DedupRun(models.Model):
    started_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    records = models.PositiveIntegerField(default=0)
    compared = models.PositiveBigIntegerField(default=0)
    matches = models.PositiveIntegerField(default=0)
    reviews = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("deduplication run")

    def __str__(self) -> str:
        return f"run {self.pk}"


class Decision(models.TextChoices):
    MATCH = "match", _("likely the same child")
    REVIEW = "review", _("to review")


class PairStatus(models.TextChoices):
    OPEN = "open", _("to review")
    MERGED = "merged", _("merged")
    DISTINCT = "distinct", _("not the same child")


class DuplicatePair(models.Model):
    """Two records the model thinks may be the same child (``child_a`` has the lower id)."""

    run = models.ForeignKey(DedupRun, on_delete=models.PROTECT, related_name="pairs")
    child_a = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+")
    child_b = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField(_("probability"))
    weight = models.FloatField(default=0)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    status = models.CharField(_("status"), max_length=10, choices=PairStatus.choices, default=PairStatus.OPEN)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["child_a", "child_b"], name="duplicate_pair_once"),
            models.CheckConstraint(condition=models.Q(child_a__lt=models.F("child_b")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-probability"])]

    def __str__(self) -> str:
        return f"{self.child_a_id}~{self.child_b_id} {self.probability:.3f}"


class MergeRecord(models.Model):
    """One merge: ``merged`` folded into ``survivor``, with what moved and what changed, to undo it."""

    survivor = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="merges_folded")
    pair = models.ForeignKey(DuplicatePair, on_delete=models.PROTECT, null=True, blank=True, related_name="merges")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=300)
    # {model label: [ids moved from merged to survivor]}
    moved = models.JSONField(default=dict)
    # the two children's fields before the merge, and other rows the merge changed, as they were
    before = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undo_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        constraints = [
            models.UniqueConstraint(
                fields=["merged"], condition=models.Q(undone_at__isnull=True), name="merge_active_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} -> {self.survivor_id}"


class JobState(models.TextChoices):
    QUEUED = "queued", _("waiting to start")
    RUNNING = "running", _("running")
    DONE = "done", _("finished")
    FAILED = "failed", _("failed")


#: States of a refresh that is still going: only one such job at a time (a constraint of the database).
ACTIVE_JOB_STATES = (JobState.QUEUED, JobState.RUNNING)


class RefreshJob(models.Model):
    """A refresh of the duplicates queue asked for from its page: the batch (:func:`crecer.dedup.batch.run`)
    run in the background, its progress persisted here so any page (or worker) can show it."""

    kind = models.CharField(max_length=20, default="dedup", editable=False)
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    stage = models.CharField(_("stage"), max_length=20, blank=True)
    percent = models.PositiveSmallIntegerField(_("progress"), default=0)
    # [[stage, seconds since the start], ...]: how the progress moved.
    stages = models.JSONField(default=list)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(DedupRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("refresh of the duplicates queue")
        verbose_name_plural = _("refreshes of the duplicates queue")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(state__in=["queued", "running"]), name="refresh_job_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"refresh {self.pk} {self.state}"
