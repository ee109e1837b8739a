"""Import batches and the rows they rejected (kept, with their reasons, for correction and retry)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    kind = models.CharField(_("kind"), max_length=40)
    filename = models.CharField(_("file"), max_length=500)
    sha256 = models.CharField(max_length=64)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    channel = models.CharField(max_length=10)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    #: the later import of the same file that completed this one after it was interrupted
    resumed_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename} ({self.started_at:%Y-%m-%d %H:%M})"


class ImportPart(models.Model):
    """One committed part of an import (a transaction of up to ``LARGE_BATCH`` rows), written in that same
    transaction with the children and pregnancies whose facts it changed (as ranges of ids). An import
    killed midway leaves exactly its committed parts: importing the file again reads them, so the risk
    rules run for every subject the whole file touched."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    rows = models.PositiveIntegerField(default=0)
    #: ``[[first, last], …]`` inclusive ranges of ids
    children = models.JSONField(default=list)
    pregnancies = models.JSONField(default=list)
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="import_part_once")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.number}"


class RejectedRow(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rejected_rows")
    line = models.PositiveIntegerField(_("line"))
    data = models.JSONField(_("row"))
    errors = models.JSONField(_("errors"))

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["batch", "line"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line}"


#: a running import that has written no progress for this long is taken as interrupted
INTERRUPTED_AFTER = dt.timedelta(minutes=30)


class UploadStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded, waiting for confirmation")
    QUEUED = "queued", _("Waiting to start")
    CHECKING = "checking", _("Checking the file")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportUpload(models.Model):
    """A file uploaded through the web: preview, confirmation, progress of the import, its batch.

    The import itself is an :class:`ImportBatch` created by ``run_import``; this record exists before
    it (upload, preview, queue) and after a failure that left no batch, and carries the progress the
    page polls. The file is kept under ``CRECER_UPLOAD_DIR`` with a random name until the import ends.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=40)
    original_name = models.CharField(_("file"), max_length=255)
    stored_name = models.CharField(max_length=80, unique=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    #: the header as read from the file (the rejected-rows download repeats it)
    columns = models.JSONField(default=list)
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=UploadStatus.choices, default=UploadStatus.UPLOADED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    #: rows refused before the import started (records of another territory): [{"line", "field", "message"}]
    refusals = models.JSONField(default=list, blank=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    #: written at every step of the import: a running import whose heartbeat stops was interrupted
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (UploadStatus.DONE, UploadStatus.FAILED, UploadStatus.CANCELLED)

    @property
    def interrupted(self) -> bool:
        """Queued or running, but silent for long: the server stopped during the import."""
        if self.status not in (UploadStatus.QUEUED, UploadStatus.CHECKING, UploadStatus.RUNNING):
            return False
        last = self.heartbeat_at or self.created_at
        return last is not None and timezone.now() - last > INTERRUPTED_AFTER
