"""Refreshing the duplicates queue from its page: the batch runs in the background with its progress in
a job row, one run at a time, and the queue is refreshed when it finishes."""

from __future__ import annotations

import pytest
from django.test import Client

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.dedup import refresh
from crecer.dedup.models import DedupRun, DuplicatePair, JobState, RefreshJob
from crecer.validation import InputErrors


def _client(user):
    client = Client()
    client.force_login(user)
    return client


PEOPLE = (
    ("Agustín", "González", "M", "2023-05-01"),
    ("Isidora", "Rojas", "F", "2022-11-30"),
    ("Tomás", "Fuentes", "M", "2021-02-14"),
    ("Martina", "Araya", "F", "2024-07-09"),
)


def _children(make_child):
    return [
        make_child(given_names=g, paternal_surname=s, sex=x, birth_date=b, national_id="", territory_code="CL01001")
        for g, s, x, b in PEOPLE
    ]


@pytest.fixture
def registry(cast, make_child):
    """Four synthetic children, unlike each other, and a stale open pair of an earlier run."""
    kids = _children(make_child)
    old_run = DedupRun.objects.create(actor=None)
    stale = DuplicatePair.objects.create(
        run=old_run, child_a=kids[0], child_b=kids[1], probability=0.5, decision="review"
    )
    return {"kids": kids, "stale": stale}


def test_refresh_from_the_page_runs_with_progress_and_refreshes_the_queue(
    cast, registry, django_capture_on_commit_callbacks
):
    coordinator = _client(cast["coordinator_alta"])
    page = coordinator.get("/duplicates/")
    assert 'action="/duplicates/refresh/"' in page.content.decode()
    assert page.context["page"].paginator.count == 1  # the stale pair

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = coordinator.post("/duplicates/refresh/")
    assert started.status_code == 302 and len(callbacks) == 1  # the background run, asked once committed
    job = RefreshJob.objects.get()
    assert job.state == JobState.QUEUED and job.requested_by == cast["coordinator_alta"]
    assert AuditEvent.objects.filter(entity="dedup.refreshjob", entity_id=job.pk, action=Action.CREATE).exists()

    # While it waits or runs, the page shows its progress and polls the small status endpoint.
    waiting = coordinator.get("/duplicates/").content.decode()
    assert 'hx-get="/duplicates/refresh/status/?was=active"' in waiting and "<progress" in waiting
    assert coordinator.get("/duplicates/refresh/status/").json()["state"] == "queued"

    # Only one run at a time: a second click is refused beside the button, and the action refuses too.
    again = coordinator.post("/duplicates/refresh/")
    assert again.status_code == 409 and "ya se está actualizando" in again.content.decode()
    with pytest.raises(InputErrors):
        refresh.start(Actor(cast["regional_norte"], Channel.WEB))
    assert RefreshJob.objects.count() == 1

    done = refresh.run_job(job.pk, threads=1)  # what the background thread runs
    assert done.state == JobState.DONE and done.percent == 100 and done.run is not None
    # The progress moved through the batch's stages, in order, and is kept in the row.
    stages = [stage for stage, _seconds in done.stages]
    assert stages[:2] == ["queued", "reading"] and stages[-2:] == ["saving", "done"]
    assert set(stages) <= set(refresh.STAGES)
    seconds = [t for _stage, t in done.stages]
    assert seconds == sorted(seconds)
    # The queue is refreshed: the earlier run's open pair (not proposed again) is gone.
    assert not DuplicatePair.objects.filter(pk=registry["stale"].pk).exists()
    status = coordinator.get("/duplicates/refresh/status/").json()
    assert status["state"] == "done" and status["active"] is False and status["matches"] == 0
    # The page that was polling reloads itself to show the refreshed queue.
    fragment = coordinator.get("/duplicates/refresh/status/", {"was": "active"}, HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true"
    assert coordinator.get("/duplicates/").context["page"].paginator.count == 0
    # Now a new refresh may start.
    with django_capture_on_commit_callbacks(execute=False):
        assert refresh.start(Actor(cast["coordinator_alta"], Channel.WEB)).state == JobState.QUEUED


def test_refresh_is_for_those_who_merge_and_an_interrupted_run_gives_way(cast, registry, settings):
    assert _client(cast["nurse_alta"]).post("/duplicates/refresh/").status_code == 404
    assert _client(cast["nurse_alta"]).get("/duplicates/refresh/status/").status_code == 404
    assert not RefreshJob.objects.exists()
    job = RefreshJob.objects.create(requested_by=cast["coordinator_alta"], state=JobState.RUNNING, stage="scoring")
    settings.CRECER_DEDUP_STALE_MINUTES = 0  # the worker running it was restarted long ago
    new = refresh.start(Actor(cast["coordinator_alta"], Channel.WEB))
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.message == "interrupted" and new.state == JobState.QUEUED


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_runs_the_job(cast, monkeypatch):
    """As under ``crecer serve``: the committed request starts a thread, with its own database connection,
    that runs the job to the end (the batch itself is the previous test's; here a quick stand-in that
    reports its stages, so the thread's mechanics are what is tested)."""
    from crecer.dedup import batch

    def quick_run(actor, out=None, progress=None, threads=None):
        for stage in ("reading", "training", "scoring", "saving"):
            progress(stage)
        return batch.Outcome(run=DedupRun.objects.create(actor=actor.user), result=None, written=0, skipped_reviewed=0)

    monkeypatch.setattr(batch, "run", quick_run)
    threads = []
    original = refresh.launch

    def launch(job_id):
        threads.append(original(job_id))
        return threads[-1]

    refresh.launch = launch
    try:
        job = refresh.start(Actor(cast["coordinator_alta"], Channel.WEB))
    finally:
        refresh.launch = original
    assert len(threads) == 1
    threads[0].join(timeout=60)
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.run is not None and job.percent == 100
    assert [stage for stage, _t in job.stages] == ["queued", "reading", "training", "scoring", "saving", "done"]
