"""Table downloads: CSV streamed row by row, Excel built in memory (bounded) — and the one rule that makes
every cell of every table we write safe to open in a spreadsheet.

:func:`safe_cell` is that rule, used by the downloads here and by every file of rows we write (rejected
import rows, indicator and duplicate files):

- formula injection (OWASP "CSV injection"): a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return is prefixed with a single quote, so a spreadsheet shows it as text instead of running
  it. A number stays a number (a negative z-score is still numeric in Excel), and so does a text that is
  only a plain number ("-1.25"): no formula can hide in it;
- characters no spreadsheet file can hold (NUL and the other control characters, lone surrogates) are
  replaced by U+FFFD, so no value stored in the database can make an export fail;
- a whole number kept as a float (a count summed in SQL, ``12.0``) is written as the integer it is
  (``12``); other numbers stay as they are.

A header is a row like any other: the callers hand translated labels (lazy or not), and they are
written in the language of the request. A downloaded CSV starts with a UTF-8 byte-order mark
(:data:`BOM`), so a spreadsheet opens its accents right; our importers read files with or without it.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

#: the UTF-8 byte-order mark every downloaded CSV starts with
BOM = "\ufeff"
#: An Excel sheet is built in memory: larger tables go to CSV, which streams.
EXCEL_MAX_ROWS = 100_000

#: what a spreadsheet may take as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: control characters (tab, line feed and carriage return are text) and lone surrogates: Excel's XML
#: refuses them, and a surrogate cannot even be written as UTF-8
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def safe_text(text: str) -> str:
    """``text`` with the characters no file can hold replaced by U+FFFD."""
    return _UNWRITABLE.sub("\ufffd", text)


def safe_cell(value: Any) -> Any:
    """A cell as it may go into a CSV or Excel file (see the module's docstring); None becomes ''."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a count summed in SQL: 12, not 12.0
    if isinstance(value, bool | int | float | decimal.Decimal | dt.date | dt.time):
        return value
    text = safe_text(value if isinstance(value, str) else str(value))
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


class SafeWriter:
    """A ``csv.writer`` whose every cell goes through :func:`safe_cell`: the one way we write CSV rows."""

    def __init__(self, target: Any, **options: Any) -> None:
        self._writer = csv.writer(target, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))


class Echo:
    """A file-like target that hands back what is written: CSV lines to stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(header: list[str], rows: Iterator[Iterable[Any]], name: str) -> StreamingHttpResponse:
    writer = SafeWriter(Echo())
    lines = itertools.chain([BOM + writer.writerow(header)], (writer.writerow(row) for row in rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def xlsx_response(header: list[str], rows: Iterable[Iterable[Any]], name: str) -> HttpResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(safe_row(header))
    for row in rows:
        sheet.append(safe_row(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
