"""Imports through the web: keep the uploaded file, look at it, try its first rows, run it in the background.

The import itself is :func:`crecer.imports.framework.run_import`, exactly as on the command line; this
module adds what a web page needs around it:

* :func:`store` saves the upload under ``CRECER_UPLOAD_DIR`` with a random name, refuses what cannot
  be imported (size, type, encoding, empty) and reads the header;
* :func:`preview` reads the first rows again and runs the importer over them in a transaction that is
  always rolled back (a trial run: nothing is kept);
* :func:`launch` runs the import in a daemon thread with its own database connection (or within the
  request when ``CRECER_IMPORT_IN_BACKGROUND`` is false, as in the tests), keeping the progress on the
  :class:`~crecer.imports.models.ImportUpload`, and deletes the file at the end.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import (
    WEB_BATCH,
    FileError,
    Importer,
    Rejection,
    error,
    importer_for,
    read_table,
    run_import,
)
from crecer.imports.models import ImportBatch, ImportUpload, UploadStatus

log = logging.getLogger(__name__)

EXTENSIONS = (".csv", ".xlsx")
#: rows shown on the preview page, and rows of the trial run
PREVIEW_ROWS = 10
TRIAL_ROWS = 20
#: rows refused for touching another territory that are listed (all are counted)
REFUSALS_SHOWN = 100
#: an upload nobody confirmed is forgotten (its file deleted) after this long
ABANDONED_AFTER = dt.timedelta(days=1)
CHECK_BATCH = 5000


def upload_dir() -> Path:
    path = Path(getattr(settings, "CRECER_UPLOAD_DIR", Path(settings.DATA_DIR) / "uploads"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # the files hold personal data
    return path


def max_bytes() -> int:
    return int(getattr(settings, "CRECER_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def path_of(upload: ImportUpload) -> Path:
    return upload_dir() / upload.stored_name


def _delete(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# --- receiving a file ------------------------------------------------------------------------------


@dataclass
class Header:
    """The columns of a file compared with those of its kind."""

    columns: list[str]
    required: list[str]
    optional: list[str]
    missing: list[str]
    unknown: list[str]
    repeated: list[str]

    @property
    def blocking(self) -> bool:
        return bool(self.missing or self.repeated)


def compare_header(importer: Importer, header: list[str]) -> Header:
    return Header(
        columns=header,
        required=list(importer.required),
        optional=[c for c in importer.columns if c not in importer.required],
        missing=[c for c in importer.required if c not in header],
        unknown=[h for h in header if h not in importer.columns],
        repeated=sorted({h for h in header if header.count(h) > 1}),
    )


@dataclass
class Stored:
    path: Path
    original_name: str
    size: int
    header: Header
    rows: int


def _check_utf8(path: Path) -> None:
    """The whole file must be UTF-8 text (the reader checks only its beginning)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk[: exc.start].count(b"\n")
                raise FileError(
                    _("The file is not UTF-8 text (first problem on line %(line)s): save it as “CSV UTF-8”.")
                    % {"line": line}
                ) from exc
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise FileError(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from exc


def _count_rows(path: Path) -> int:
    """Rows below the header; reading them all also finds a CSV that breaks further down."""
    _header, rows, estimate = read_table(path)
    if path.suffix.lower() != ".csv" and estimate > 0:
        return estimate  # a workbook says how many rows it has; reading them all would take long
    return sum(1 for _row in rows)


def store(file: UploadedFile, kind: str) -> Stored:
    """Save ``file`` under a random name and read its header; FileError (nothing kept) if it cannot be imported."""
    name = Path(file.name or "").name
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise FileError(_("Old Excel files (.xls) cannot be read: save the workbook as .xlsx or as “CSV UTF-8”."))
    if suffix not in EXTENSIONS:
        raise FileError(_("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."))
    size = file.size or 0
    if size == 0:
        raise FileError(_("The file is empty."))
    if size > max_bytes():
        raise FileError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB. Split it into several files.")
            % {"size": round(size / 1048576, 1), "limit": round(max_bytes() / 1048576, 1)}
        )
    importer = importer_for(kind)
    path = upload_dir() / f"{secrets.token_hex(16)}{suffix}"
    try:
        with path.open("xb") as out:
            path.chmod(0o600)
            for chunk in file.chunks():
                out.write(chunk)
        if suffix == ".csv":
            _check_utf8(path)
        header, _rows, _estimate = read_table(path)
        rows = _count_rows(path)
    except FileError:
        _delete(path)
        raise
    except Exception as exc:  # a broken upload must not leave its file behind
        _delete(path)
        log.exception("could not store an uploaded file")
        raise FileError(_("The file could not be read.")) from exc
    if not any(header):
        _delete(path)
        raise FileError(_("The first row must name the columns, and it is empty."))
    if rows == 0:
        _delete(path)
        raise FileError(_("The file has no rows below the header."))
    return Stored(path, name[:255], size, compare_header(importer, header), rows)


def forget_abandoned() -> int:
    """Delete the files of uploads nobody confirmed within a day (they are marked cancelled)."""
    cutoff = timezone.now() - ABANDONED_AFTER
    stale = list(ImportUpload.objects.filter(status=UploadStatus.UPLOADED, created_at__lt=cutoff))
    for upload in stale:
        _delete(path_of(upload))
    ImportUpload.objects.filter(pk__in=[u.pk for u in stale], status=UploadStatus.UPLOADED).update(
        status=UploadStatus.CANCELLED, finished_at=timezone.now()
    )
    return len(stale)


# --- preview and trial run ---------------------------------------------------------------------------


@dataclass
class Trial:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    failed: bool = False


@dataclass
class Preview:
    header: Header
    rows: list[tuple[int, list[str]]]
    trial: Trial | None


def _first_rows(path: Path, count: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header, rows, _estimate = read_table(path)
    first: list[tuple[int, list[str]]] = []
    try:
        for item in rows:
            first.append(item)
            if len(first) >= count:
                break
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    return header, first


def field_count_error(got: int, want: int) -> dict[str, list[dict[str, str]]]:
    # The same check and message as run_import, so that the trial run rejects what the import would.
    return error(
        "row",
        "field_count",
        _("This row has %(got)s fields but the header has %(want)s.") % {"got": got, "want": want},
    )


def trial_run(kind: str, path: Path, user: Any, rows: int = TRIAL_ROWS) -> Trial:
    """The import of the file's first ``rows`` rows as a dry run (``run_import(dry_run=True)``): what the
    import would do with them, row by row, and nothing kept."""
    trial = Trial()
    try:
        result = run_import(kind, path, Actor(user, Channel.WEB), dry_run=True, max_rows=rows)
    except FileError:
        raise
    except Exception:  # the trial is a courtesy: the import reports its own errors row by row
        log.exception("trial run of a %s file failed", kind)
        trial.failed = True
        return trial
    trial.rows, trial.created, trial.updated = result.rows, result.created, result.updated
    trial.unchanged, trial.rejected = result.unchanged, result.rejected
    return trial


def preview(upload: ImportUpload, user: Any) -> Preview:
    return preview_file(path_of(upload), upload.kind, user)


def preview_file(path: Path, kind: str, user: Any) -> Preview:
    header, first = _first_rows(path, PREVIEW_ROWS)
    compared = compare_header(importer_for(kind), header)
    trial = None if compared.blocking else trial_run(kind, path, user)
    return Preview(compared, first, trial)


# --- running ------------------------------------------------------------------------------------------


def _update(upload_id: int, **values: Any) -> None:
    ImportUpload.objects.filter(pk=upload_id).update(heartbeat_at=timezone.now(), **values)


#: the code of an existence answer (``crecer.registry.existence.ELSEWHERE``; the framework imports no domain
#: package, so the code is written here as "other_territory" is, and a test keeps the two equal)
ELSEWHERE = "registered_elsewhere"


def touches_elsewhere(rejection: Rejection) -> bool:
    """The row would change or link a stored record living outside the user's territory (a child of another
    municipality named by its external id, a target of another region): code ``other_territory``, or the
    row's own key held by a record outside the user's scope (``registered_elsewhere`` under the key, an
    audited existence answer). A row that registers a new record in another territory (``out_of_scope``)
    is rejected by itself, as on the command line, and so is a row naming a record outside the user's scope
    by its external id: that is answered as an unknown external id."""
    return any(
        e["code"] == "other_territory" or (e["code"] == ELSEWHERE and field == "external_id")
        for field, errs in rejection.errors.items()
        for e in errs
    )


def territory_refusals(
    kind: str, path: Path, user: Any, progress: Callable[[int, int | None], None] | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """(how many rows, the first of them) would change or link a record outside the user's territory: the
    whole file imported as a dry run (``run_import(dry_run=True)``), nothing kept."""
    result = run_import(kind, path, Actor(user, Channel.WEB), progress, batch_rows=WEB_BATCH, dry_run=True)
    refused = [r for r in result.rejected if touches_elsewhere(r)]
    shown = [{"line": r.line, "reason": r.message()} for r in refused[:REFUSALS_SHOWN]]
    return len(refused), shown


def execute(upload_id: int) -> None:
    """Run the import of an upload (status queued) to its end; never raises."""
    upload = ImportUpload.objects.select_related("user", "user__territory").get(pk=upload_id)
    path = path_of(upload)
    report = path.with_name(path.name + ".rejected.csv")
    with translation.override(upload.language or settings.LANGUAGE_CODE):
        try:
            _update(upload_id, status=UploadStatus.CHECKING, rows_done=0)

            def checked(done: int, estimate: int | None) -> None:
                _update(upload_id, rows_done=done, rows_total=max(done, upload.rows_total, 0))

            refused, shown = territory_refusals(upload.kind, path, upload.user, checked)
            if refused:
                _update(
                    upload_id,
                    status=UploadStatus.FAILED,
                    finished_at=timezone.now(),
                    refusals=shown,
                    error=_(
                        "Nothing was imported: %(count)s rows would change or link records of a territory outside "
                        "the one you work in. Correct or remove them and upload the file again."
                    )
                    % {"count": refused},
                )
                return
            _update(upload_id, status=UploadStatus.RUNNING, rows_done=0)

            def progress(done: int, estimate: int | None) -> None:
                _update(upload_id, rows_done=done, rows_total=max(done, upload.rows_total, 0))

            result = run_import(
                upload.kind, path, Actor(upload.user, Channel.WEB), progress, report, batch_rows=WEB_BATCH
            )
            _name_batch(upload, result.batch_id)
            _update(
                upload_id,
                status=UploadStatus.DONE,
                batch_id=result.batch_id,
                rows_done=result.rows,
                rows_total=result.rows,
                finished_at=timezone.now(),
            )
        except FileError as exc:
            _fail(upload, str(exc))
        except Exception:
            log.exception("import of upload %s failed", upload_id)
            _fail(
                upload,
                _(
                    "The import stopped because of an unexpected error. Rows already imported are kept; importing "
                    "the same file again is safe and completes it."
                ),
            )
        finally:
            _delete(path, report)


def _name_batch(upload: ImportUpload, batch_id: int | None) -> None:
    # run_import names the batch after the stored (random) file; people know it by their own name.
    if batch_id is not None:
        ImportBatch.objects.filter(pk=batch_id).update(filename=upload.original_name)


def _fail(upload: ImportUpload, message: str) -> None:
    batch = ImportBatch.objects.filter(filename=upload.stored_name).first()
    if batch is not None:
        _name_batch(upload, batch.pk)
    _update(
        upload.pk,
        status=UploadStatus.FAILED,
        error=message,
        finished_at=timezone.now(),
        batch_id=batch.pk if batch else None,
    )


def _in_thread(upload_id: int) -> None:
    try:
        execute(upload_id)
    finally:
        connections.close_all()  # this thread's own connections


def in_background() -> bool:
    return bool(getattr(settings, "CRECER_IMPORT_IN_BACKGROUND", True))


def launch(upload_id: int) -> None:
    """Start the import of a confirmed upload: in a daemon thread, or right here when not in background."""
    if not in_background():
        execute(upload_id)
        return

    def start() -> None:
        threading.Thread(target=_in_thread, args=(upload_id,), name=f"import-{upload_id}", daemon=True).start()

    # The thread must see the confirmation: start it once the request's writes are committed.
    transaction.on_commit(start)
