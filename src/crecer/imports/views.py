"""Importing a file through the web: upload → preview → confirm → progress → report.

Coordinators, managers and administrators import the kinds their role may (:mod:`.permissions`);
everybody else gets 403. An upload belongs to the person who sent it: anyone else gets 404. The
import is the same as ``crecer import`` (rows outside the user's territory are rejected), run in
the background (:mod:`.uploads`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import BOM, Echo, SafeWriter
from crecer.imports import permissions, uploads
from crecer.imports.framework import FileError, Rejection, importer_for
from crecer.imports.models import ImportUpload, RejectedRow, UploadStatus

#: rejected rows listed on the report page (the download has them all)
REJECTED_SHOWN = 200
HISTORY = 30


def _allowed_kinds(request: HttpRequest) -> list[str]:
    kinds = permissions.kinds_for(request.user)
    if not kinds:
        raise PermissionDenied(_("Your role cannot import files."))
    return kinds


def _own(request: HttpRequest, upload_id: int) -> ImportUpload:
    """The user's own upload; 404 for anybody else's (existence is not revealed)."""
    _allowed_kinds(request)
    user: Any = request.user
    upload = ImportUpload.objects.select_related("batch").filter(pk=upload_id, user=user).first()
    if upload is None:
        raise Http404
    return upload


def _kind_columns(kinds: list[str]) -> list[dict[str, Any]]:
    described = []
    for kind in kinds:
        importer = importer_for(kind)
        described.append(
            {
                "kind": kind,
                "label": permissions.label(kind),
                "columns": [(c, c in importer.required) for c in importer.columns],
            }
        )
    return described


def _history(request: HttpRequest) -> list[tuple[ImportUpload, str]]:
    """The user's last imports through the web, newest first, with the label of their kind."""
    user: Any = request.user
    recent = ImportUpload.objects.filter(user=user).select_related("batch")[:HISTORY]
    return [(u, permissions.label(u.kind)) for u in recent]


def _index_context(request: HttpRequest, kinds: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "kinds": [(k, permissions.label(k)) for k in kinds],
        "described": _kind_columns(kinds),
        "history": _history(request),
        "max_mb": round(uploads.max_bytes() / 1048576),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The upload form and the user's past imports; a POST receives a file."""
    kinds = _allowed_kinds(request)
    if request.method == "GET":
        return render(request, "imports/index.html", _index_context(request, kinds, chosen=request.GET.get("kind")))
    limit = uploads.max_bytes()
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 1_000_000:
        # Refused before the body is read: the limit is the file's, with room for the form around it.
        message = _("The file is too large; the limit is %(limit)s MB. Split it into several files.") % {
            "limit": round(limit / 1048576)
        }
        return render(request, "imports/index.html", _index_context(request, kinds, error=message), status=400)
    kind = request.POST.get("kind", "")
    file = request.FILES.get("file")
    problem = ""
    if kind not in kinds:
        problem = _("Choose what the file holds.")
    elif not isinstance(file, UploadedFile):
        problem = _("Choose a file to upload.")
    if problem:
        context = _index_context(request, kinds, error=problem, chosen=kind)
        return render(request, "imports/index.html", context, status=400)
    assert isinstance(file, UploadedFile)
    uploads.forget_abandoned()
    try:
        stored = uploads.store(file, kind)
    except FileError as exc:
        context = _index_context(request, kinds, error=str(exc), chosen=kind)
        return render(request, "imports/index.html", context, status=400)
    if stored.header.blocking:
        # Nothing can be imported from this file: show what is wrong and keep nothing.
        try:
            shown = uploads.preview_file(stored.path, kind, request.user)
        finally:
            stored.path.unlink(missing_ok=True)
        context = _preview_context(kind, stored.original_name, stored.size, stored.rows, shown)
        return render(request, "imports/preview.html", context, status=400)
    user: Any = request.user
    upload = ImportUpload.objects.create(
        user=user,
        kind=kind,
        original_name=stored.original_name,
        stored_name=stored.path.name,
        size=stored.size,
        columns=stored.header.columns,
        rows_total=stored.rows,
        language=get_language() or "",
    )
    return redirect("import-preview", upload.pk)


def _preview_context(kind: str, name: str, size: int, total: int, shown: uploads.Preview) -> dict[str, Any]:
    columns = shown.header.columns
    return {
        "kind": kind,
        "label": permissions.label(kind),
        "name": name,
        "size": size,
        "total": total,
        "estimated": not name.lower().endswith(".csv"),
        "preview": shown,
        "rows": [(line, list(itertools.zip_longest(columns, values, fillvalue=""))) for line, values in shown.rows],
        "blocked": shown.header.blocking,
    }


@login_required
@require_GET
def preview(request: HttpRequest, upload_id: int) -> HttpResponse:
    """The detected columns, the first rows, the row count and a trial run of the first rows."""
    upload = _own(request, upload_id)
    if upload.status != UploadStatus.UPLOADED:
        return redirect("import-report" if upload.finished else "import-progress", upload.pk)
    if not uploads.path_of(upload).is_file():
        ImportUpload.objects.filter(pk=upload.pk, status=UploadStatus.UPLOADED).update(
            status=UploadStatus.CANCELLED, finished_at=timezone.now()
        )
        raise Http404
    shown = uploads.preview(upload, request.user)
    context = _preview_context(upload.kind, upload.original_name, upload.size, upload.rows_total, shown)
    context["upload"] = upload
    return render(request, "imports/preview.html", context)


@login_required
@require_POST
def confirm(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = _own(request, upload_id)
    if upload.kind not in permissions.kinds_for(request.user):
        raise PermissionDenied(_("Your role cannot import files of this kind."))
    # Compare-and-set: a second click (or a second tab) does not start the import twice.
    started = ImportUpload.objects.filter(pk=upload.pk, status=UploadStatus.UPLOADED).update(
        status=UploadStatus.QUEUED, heartbeat_at=timezone.now(), language=get_language() or upload.language
    )
    if started:
        uploads.launch(upload.pk)
    return redirect("import-progress", upload.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = _own(request, upload_id)
    if ImportUpload.objects.filter(pk=upload.pk, status=UploadStatus.UPLOADED).update(
        status=UploadStatus.CANCELLED, finished_at=timezone.now()
    ):
        uploads.path_of(upload).unlink(missing_ok=True)
    return redirect("imports")


def _stop_if_interrupted(upload: ImportUpload) -> ImportUpload:
    if upload.interrupted and ImportUpload.objects.filter(
        pk=upload.pk, status=upload.status, heartbeat_at=upload.heartbeat_at
    ).update(
        status=UploadStatus.FAILED,
        finished_at=timezone.now(),
        error=_(
            "The import was interrupted (the server stopped). Rows already imported are kept; upload the file "
            "again to complete it: importing the same rows twice changes nothing."
        ),
    ):
        uploads.path_of(upload).unlink(missing_ok=True)
        upload.refresh_from_db()
    return upload


@login_required
@require_GET
def progress(request: HttpRequest, upload_id: int) -> HttpResponse:
    """The progress bar; htmx polls this every 2 seconds and is sent to the report at the end."""
    upload = _stop_if_interrupted(_own(request, upload_id))
    if upload.status == UploadStatus.UPLOADED:
        return redirect("import-preview", upload.pk)
    done = upload.finished
    context = {
        "upload": upload,
        "label": permissions.label(upload.kind),
        "percent": min(100, round(100 * upload.rows_done / upload.rows_total)) if upload.rows_total else 0,
    }
    if getattr(request, "htmx", False):
        response = render(request, "imports/_progress.html", context)
        if done:
            response["HX-Redirect"] = reverse("import-report", args=[upload.pk])
        return response
    if done:
        return redirect("import-report", upload.pk)
    return render(request, "imports/progress.html", context)


@login_required
@require_GET
def report(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Counts, the rejected rows with line and reason, and the user's past imports."""
    upload = _stop_if_interrupted(_own(request, upload_id))
    if not upload.finished:
        return redirect("import-progress" if upload.status != UploadStatus.UPLOADED else "import-preview", upload.pk)
    batch = upload.batch
    rejected: list[dict[str, Any]] = []
    rejected_count = 0
    if batch is not None:
        rows = RejectedRow.objects.filter(batch=batch).order_by("line")
        rejected_count = rows.count()
        for r in rows[:REJECTED_SHOWN]:
            data = r.data or {}
            rejected.append(
                {
                    "line": r.line,
                    "message": Rejection(r.line, data, r.errors).message(),
                    # the first columns say which row it is (usually its key and names)
                    "summary": " · ".join(str(data.get(c, "")) for c in upload.columns[:4]),
                }
            )
    context = {
        "upload": upload,
        "batch": batch,
        "label": permissions.label(upload.kind),
        "rejected": rejected,
        "rejected_count": rejected_count,
        "history": _history(request),
    }
    return render(request, "imports/report.html", context)


def _download_name(upload: ImportUpload) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.original_name).stem).strip("._") or "import"
    return f"{stem[:80]}.rejected.csv"


@login_required
@require_GET
def rejected_csv(request: HttpRequest, upload_id: int) -> HttpResponseBase:
    """The rejected rows as they came, plus ``line`` and ``error``: correct them and upload this file again."""
    upload = _own(request, upload_id)
    if upload.batch_id is None:
        raise Http404
    header = [str(c) for c in upload.columns]
    rows = RejectedRow.objects.filter(batch_id=upload.batch_id).order_by("line")
    with transaction.atomic():
        record(
            Actor(request.user, Channel.WEB),  # type: ignore[arg-type]
            Action.EXPORT,
            entity="imports.importbatch",
            entity_id=upload.batch_id,
            note="rejected rows",
            after={"count": rows.count()},
        )
    writer = SafeWriter(Echo())

    def lines() -> Iterator[str]:
        for r in rows.iterator(chunk_size=2000):
            data = r.data or {}
            yield writer.writerow(
                [*(data.get(h, "") for h in header), r.line, Rejection(r.line, data, r.errors).message()]
            )

    # A byte-order mark lets Excel open the accents right; the importer reads files with or without it.
    body = itertools.chain([BOM + writer.writerow([*header, "line", "error"])], lines())
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(upload)}"'
    return response
