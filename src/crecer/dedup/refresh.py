"""Refreshing the duplicates queue from its page: the batch runs in the background, one run at a time,
its progress persisted in a job row (:class:`crecer.dedup.models.RefreshJob`).

How it runs: :func:`start` (the action: right checked, job row written and audited in one transaction)
asks, once the transaction commits, for :func:`launch`, which starts a thread in the web server's
process (under ``crecer serve``'s gunicorn, in the worker that took the request; it goes on after the
answer is sent) running :func:`run_job`. ``run_job`` moves the row through its stages (reading,
training, scoring, saving) as the batch reports them, then marks it finished with the run it made (or
failed, with the reason). The database allows one queued or running job at a time (a partial unique
constraint), so two clicks, two workers or two coordinators never start two runs. A job whose row has
not moved for :func:`stale_after` (the worker was restarted mid-run) counts as interrupted, and a new one
may start. Tests call :func:`run_job` directly, in their own transaction."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.dedup import batch
from crecer.dedup.merging import may_merge
from crecer.dedup.models import ACTIVE_JOB_STATES, JobState, RefreshJob
from crecer.validation import FieldError, InputErrors

logger = logging.getLogger(__name__)

#: The batch's stages, in order, with how far along each one starts (percent) and its words.
STAGES = {
    "queued": (0, gettext_lazy("Waiting to start…")),
    "reading": (10, gettext_lazy("Reading the registry…")),
    "training": (30, gettext_lazy("Estimating the model…")),
    "scoring": (60, gettext_lazy("Scoring pairs…")),
    "saving": (90, gettext_lazy("Saving the review queue…")),
    "done": (100, gettext_lazy("Finished")),
}


def stale_after() -> dt.timedelta:
    """How long a running job may go without moving before it counts as interrupted
    (``CRECER_DEDUP_STALE_MINUTES``, 60 by default)."""
    return dt.timedelta(minutes=getattr(settings, "CRECER_DEDUP_STALE_MINUTES", 60))


def current() -> RefreshJob | None:
    """The job to show: the one going now, else the latest."""
    return RefreshJob.objects.filter(state__in=ACTIVE_JOB_STATES).first() or RefreshJob.objects.order_by("-pk").first()


def _close_stale(now: dt.datetime) -> None:
    for job in RefreshJob.objects.filter(state__in=ACTIVE_JOB_STATES, updated_at__lt=now - stale_after()):
        RefreshJob.objects.filter(pk=job.pk, state=job.state).update(
            state=JobState.FAILED, finished_at=now, message="interrupted", updated_at=now
        )


def start(actor: Actor) -> RefreshJob:
    """Ask for a refresh of the queue (coordinators and managers: those who merge). Refused beside the
    button while another one is going."""
    if not may_merge(actor.user):
        raise PermissionDenied(_("Only coordinators and managers merge records."))
    _close_stale(timezone.now())
    busy = InputErrors(
        {"refresh": [FieldError("running", _("The queue is already being refreshed: wait until it finishes."))]}
    )
    if RefreshJob.objects.filter(state__in=ACTIVE_JOB_STATES).exists():
        raise busy
    try:
        with transaction.atomic():
            job = RefreshJob.objects.create(  # type: ignore[misc]
                requested_by=actor.user, stage="queued", stages=[["queued", 0]]
            )
            record(actor, Action.CREATE, job, after={"state": job.state})
            transaction.on_commit(lambda: launch(job.pk))
    except IntegrityError:
        raise busy from None
    return job


def launch(job_id: int) -> threading.Thread:
    """Run the job in a thread of this process (the web worker that took the request)."""
    thread = threading.Thread(target=_in_thread, args=(job_id,), name=f"dedup-refresh-{job_id}", daemon=True)
    thread.start()
    return thread


def _in_thread(job_id: int) -> None:
    try:
        run_job(job_id)
    finally:
        connection.close()  # the thread's own database connection


def _move(job: RefreshJob, stage: str, started: float) -> None:
    job.stage = stage
    job.percent = STAGES.get(stage, (job.percent, ""))[0]
    job.stages = [*job.stages, [stage, round(time.perf_counter() - started, 2)]]
    RefreshJob.objects.filter(pk=job.pk).update(
        stage=job.stage, percent=job.percent, stages=job.stages, updated_at=timezone.now()
    )


def run_job(job_id: int, threads: int | None = None) -> RefreshJob:
    """Run a queued job: the batch, with its progress written to the job row as it goes."""
    now = timezone.now()
    if not RefreshJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started_at=now, updated_at=now
    ):
        return RefreshJob.objects.get(pk=job_id)  # taken by another worker, or already over
    job = RefreshJob.objects.select_related("requested_by").get(pk=job_id)
    started = time.perf_counter()
    try:
        outcome = batch.run(
            Actor(job.requested_by, Channel.WEB),
            progress=lambda stage: _move(job, stage, started),
            threads=threads,
        )
    except Exception as exc:  # the job tells it failed; the details go to the log
        logger.exception("refresh of the duplicates queue %s failed", job_id)
        RefreshJob.objects.filter(pk=job_id).update(
            state=JobState.FAILED, finished_at=timezone.now(), message=type(exc).__name__[:300]
        )
    else:
        _move(job, "done", started)
        RefreshJob.objects.filter(pk=job_id).update(state=JobState.DONE, finished_at=timezone.now(), run=outcome.run)
    return RefreshJob.objects.get(pk=job_id)


def status(job: RefreshJob | None) -> dict[str, Any]:
    """The job as the page and its small JSON endpoint show it."""
    if job is None:
        return {"state": None, "active": False}
    run = job.run
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "active": job.state in ACTIVE_JOB_STATES,
        "stage": job.stage,
        "stage_label": str(STAGES.get(job.stage, (0, job.stage))[1]),
        "percent": job.percent,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "interrupted": job.message == "interrupted",
        "matches": run.matches if run else None,
        "reviews": run.reviews if run else None,
    }
