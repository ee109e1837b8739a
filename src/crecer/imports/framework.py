"""Bulk import of CSV and Excel files, one kind of record at a time.

Each kind has an importer (registered with :func:`register`) that knows its columns and natural
key and validates with the same rules as the API. The framework reads the file in batches, runs
each batch in one transaction, keeps every rejected row with its reasons (in the database and in a
report file with an ``error`` column, ready to be corrected and imported again) and records the
batch in the audit trail. Re-importing a file is idempotent: rows already stored by natural key are
compared and only real changes are written.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.audit import outlasting
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.core.bulk import refresh_statistics
from crecer.core.downloads import SafeWriter
from crecer.core.signals import facts_changed
from crecer.imports.models import ImportBatch, ImportPart, RejectedRow

Row = dict[str, str]
#: refresh the planner's statistics after an import that wrote at least this many rows
STATISTICS_AFTER_ROWS = 1000
Progress = Callable[[int, int | None], None]


class FileError(ValueError):
    """The file as a whole cannot be imported (unreadable, wrong header); nothing was stored."""


@dataclass
class Rejection:
    line: int
    row: Row
    errors: dict[str, list[dict[str, str]]]

    def message(self) -> str:
        return "; ".join(f"{f}: {e['message']}" for f, errs in self.errors.items() for e in errs)


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    batch_id: int | None = None
    report_path: Path | None = None
    seconds: float = 0.0
    #: subjects whose facts the file changed: the risk rules run for them at the end of the import
    touched_children: set[int] = field(default_factory=set)
    touched_pregnancies: set[int] = field(default_factory=set)
    risk_flags_raised: int = 0
    #: earlier imports of the same file that were interrupted, completed by this one
    resumed: list[int] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every row loaded, 3 when some were rejected."""
        return 3 if self.rejected else 0

    def reject(self, line: int, row: Row, errors: dict[str, list[dict[str, str]]]) -> None:
        self.rejected.append(Rejection(line, row, errors))


class Importer(Protocol):
    kind: str
    #: documented columns, in the order a template file has them
    columns: tuple[str, ...]
    #: columns the header must have
    required: tuple[str, ...]
    batch_size: int

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None: ...


#: rows per batch (one transaction each) of the importers of large files. Every commit writes the index
#: pages the batch touched; on SQLite a batch of 25,000 children costs about as much to commit as one of
#: 5,000, so large batches cut the time of a million-row import by a fifth (bench/bench_import.py).
LARGE_BATCH = 25_000
#: rows per batch of an import started from the web, whose progress bar moves once per batch
WEB_BATCH = 5_000

_IMPORTERS: dict[str, Callable[[], Any]] = {}


def register(kind: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Class decorator (or factory wrapper) making an importer available as ``kind``."""

    def wrap(factory: Callable[[], Any]) -> Callable[[], Any]:
        _IMPORTERS[kind] = factory
        return factory

    return wrap


def kinds() -> list[str]:
    return sorted(_IMPORTERS)


def importer_for(kind: str) -> Importer:
    if kind not in _IMPORTERS:
        raise FileError(
            _("Unknown kind “%(kind)s”; use one of: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(kinds())}
        )
    importer: Importer = _IMPORTERS[kind]()
    return importer


def error(field_name: str, code: str, message: str) -> dict[str, list[dict[str, str]]]:
    return {field_name: [{"code": code, "message": message}]}


def batch_note(result: ImportResult) -> str:
    """The audit note of records created by an import.

    Creates by import carry no copy of the values: the record holds them until its first change,
    whose audit event has the before and after, so the history stays complete at a fraction of the
    size (a national load writes millions of rows).
    """
    return f"import batch {result.batch_id}"


def repeated_message(first_line: int) -> str:
    return _("The same key already appears on line %(line)s of this file.") % {"line": first_line}


# --- reading -------------------------------------------------------------------------------------


def _count_csv_rows(path: Path) -> int:
    with path.open("rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return max(lines - 1, 0)


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
        sample = fh.read(8192)
    except UnicodeDecodeError as exc:
        raise FileError(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from exc
    fh.seek(0)
    # The header line decides (cells may hold semicolons, e.g. a list of session numbers).
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(fh, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FileError(_("The file is empty.")) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileError(_("The file cannot be read as CSV: %(error)s") % {"error": exc}) from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for values in reader:
                if "".join(values).strip():  # not a blank line
                    yield reader.line_num, values
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FileError(
                _("The file cannot be read as CSV near line %(line)s: %(error)s")
                % {"line": reader.line_num, "error": exc}
            ) from exc
        finally:
            fh.close()

    return header, rows()


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], int]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise FileError(_("The file cannot be read as an Excel workbook: %(error)s") % {"error": exc}) from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [str(v or "").strip() for v in next(iterator)]
    except StopIteration:
        raise FileError(_("The file is empty.")) from None

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if hasattr(value, "date") and hasattr(value, "hour"):
            return value.date().isoformat()
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(iterator, start=2):
            cells = [cell(v) for v in values]
            if any(c.strip() for c in cells):
                yield number, cells
        workbook.close()

    return header, rows(), max((sheet.max_row or 1) - 1, 0)


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], int]:
    """(header, rows as (line number, values), row count estimate) of a CSV or .xlsx file."""
    if not path.is_file():
        raise FileError(_("File not found: %(path)s") % {"path": path})
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _xlsx_rows(path)
    header, rows = _csv_rows(path)
    return [h.strip().lstrip("\ufeff") for h in header], rows, _count_csv_rows(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_header(importer: Importer, header: list[str]) -> None:
    missing = [c for c in importer.required if c not in header]
    if missing:
        raise FileError(
            _("Missing columns: %(missing)s. The file for “%(kind)s” needs: %(columns)s.")
            % {"missing": ", ".join(missing), "kind": importer.kind, "columns": ",".join(importer.columns)}
        )
    if len(set(header)) != len(header):
        raise FileError(_("A column name appears twice in the header."))


# --- running ---------------------------------------------------------------------------------------


def id_ranges(ids: set[int]) -> list[list[int]]:
    """``[[first, last], …]``: a set of ids as inclusive ranges (new records of an import are consecutive)."""
    ranges: list[list[int]] = []
    for i in sorted(ids):
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ranges


def _expand(ranges: list[list[int]]) -> set[int]:
    return {i for first, last in ranges for i in range(first, last + 1)}


def unfinished(kind: str | None = None, sha256: str | None = None) -> list[ImportBatch]:
    """Imports that started and never finished (the process was killed, the server stopped): their committed
    parts are kept; importing the same file again completes them."""
    batches = ImportBatch.objects.filter(finished_at__isnull=True)
    if kind is not None:
        batches = batches.filter(kind=kind)
    if sha256 is not None:
        batches = batches.filter(sha256=sha256)
    return list(batches.order_by("started_at"))


def run_import(
    kind: str,
    path: Path | str,
    actor: Actor,
    progress: Progress | None = None,
    report_path: Path | None = None,
    evaluate_risks: bool = True,
    batch_rows: int | None = None,
    *,
    dry_run: bool = False,
    max_rows: int | None = None,
) -> ImportResult:
    """Import ``path`` as records of ``kind``; see the module docstring.

    The risk rules run at the end for the children and pregnancies the file touched, unless the caller
    (loading a whole folder) runs them once after every file (``evaluate_risks=False``). ``batch_rows``
    overrides the importer's batch size (the web asks for smaller batches, so its progress bar moves).

    Each committed part records the subjects it touched. An earlier import of the same file (same kind and
    content) that never finished is completed by this one: the rules also run for the subjects its parts
    touched — rows it committed are "unchanged" now — and it is marked as resumed by this batch.

    ``dry_run`` runs the very same import inside a transaction that is rolled back: the result says what
    would be created, updated, left unchanged or rejected, and nothing is kept (no report file, no risk
    rules). The web's trial run of a file's first rows (``max_rows``) and its check of a whole file are
    dry runs."""
    if dry_run:
        # What the trial told the user (an existence answer) is audited and counted although it is undone.
        with outlasting.block(), transaction.atomic():
            result = _run(kind, Path(path), actor, progress, None, False, batch_rows, max_rows, dry_run=True)
            transaction.set_rollback(True)
        result.batch_id = None
        return result
    return _run(kind, Path(path), actor, progress, report_path, evaluate_risks, batch_rows, max_rows)


def _run(
    kind: str,
    path: Path,
    actor: Actor,
    progress: Progress | None,
    report_path: Path | None,
    evaluate_risks: bool,
    batch_rows: int | None,
    max_rows: int | None,
    dry_run: bool = False,
) -> ImportResult:
    started = time.perf_counter()
    importer = importer_for(kind)
    header, rows, estimate = read_table(path)
    check_header(importer, header)
    result = ImportResult(kind=kind)
    digest = _sha256(path)
    interrupted = [] if dry_run else unfinished(kind, digest)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=kind, filename=path.name, sha256=digest, actor=actor.user, channel=actor.channel
        )
    result.batch_id = batch.pk
    result.resumed = [b.pk for b in interrupted]
    width = len(header)
    batch_size = min(batch_rows or importer.batch_size, importer.batch_size)
    pending: list[tuple[int, Row]] = []
    saved = 0  # rejections already stored
    touched_children: set[int] = set()
    touched_pregnancies: set[int] = set()
    parts = 0
    for part in ImportPart.objects.filter(batch__in=interrupted):
        touched_children |= _expand(part.children)
        touched_pregnancies |= _expand(part.pregnancies)

    def flush() -> None:
        nonlocal saved, parts
        # The subjects of this part alone, recorded with its rows in one transaction.
        result.touched_children, result.touched_pregnancies = set(), set()
        with outlasting.block(), transaction.atomic():
            if pending:
                importer.import_batch(pending, actor, result)
            RejectedRow.objects.bulk_create(
                [RejectedRow(batch=batch, line=r.line, data=r.row, errors=r.errors) for r in result.rejected[saved:]]
            )
            parts += 1
            ImportPart.objects.create(
                batch=batch,
                number=parts,
                rows=len(pending),
                children=id_ranges(result.touched_children),
                pregnancies=id_ranges(result.touched_pregnancies),
            )
            outlasting.write_held()  # the part's existence answers commit with it
        touched_children.update(result.touched_children)
        touched_pregnancies.update(result.touched_pregnancies)
        saved = len(result.rejected)
        pending.clear()
        if progress:
            progress(result.rows, estimate)

    for line, values in rows:
        if max_rows is not None and result.rows >= max_rows:
            close = getattr(rows, "close", None)
            if close:
                close()
            break
        result.rows += 1
        if len(values) != width:
            row = dict(zip(header, values, strict=False))
            result.reject(
                line,
                row,
                error(
                    "row",
                    "field_count",
                    _("This row has %(got)s fields but the header has %(want)s.") % {"got": len(values), "want": width},
                ),
            )
            continue
        pending.append((line, dict(zip(header, values, strict=True))))
        if len(pending) >= batch_size:
            flush()
    flush()
    result.touched_children, result.touched_pregnancies = touched_children, touched_pregnancies
    result.rejected.sort(key=lambda r: r.line)
    if dry_run:
        result.seconds = time.perf_counter() - started
        return result
    if evaluate_risks and result.created + result.updated >= STATISTICS_AFTER_ROWS:
        refresh_statistics()
    if evaluate_risks:
        result.risk_flags_raised = facts_changed(actor, result.touched_children, result.touched_pregnancies)

    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(
            rows=result.rows,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=len(result.rejected),
        )
        record(
            actor,
            Action.IMPORT,
            batch,
            after={
                "kind": kind,
                "file": path.name,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": len(result.rejected),
                **({"resumed": result.resumed} if result.resumed else {}),
            },
        )
    if evaluate_risks:
        finish([result])
    if result.rejected:
        result.report_path = report_path or path.with_name(path.stem + ".rejected.csv")
        write_report(result, header, result.report_path)
    result.seconds = time.perf_counter() - started
    return result


def finish(results: list[ImportResult]) -> None:
    """Mark imports finished once their rows are stored and the risk rules ran for what they touched (an
    import whose rules were left to its caller, a folder load, is finished by it); the interrupted imports
    they completed are marked as resumed by them."""
    now = timezone.now()
    with transaction.atomic():
        for result in results:
            ImportBatch.objects.filter(pk__in=result.resumed).update(finished_at=now, resumed_by_id=result.batch_id)
            ImportBatch.objects.filter(pk__in=[result.batch_id]).update(finished_at=now)


def write_report(result: ImportResult, header: list[str], out: Path) -> None:
    """The rejected rows as they came, plus an ``error`` column: fix them and import this file again."""
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = SafeWriter(fh)
        writer.writerow([*header, "line", "error"])
        for r in result.rejected:
            writer.writerow([*(r.row.get(h, "") for h in header), r.line, r.message()])
