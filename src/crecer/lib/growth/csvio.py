"""Batch z-scores for a CSV file: read in chunks, compute vectorised, write in the same row order.

Input (comma-separated, header row, UTF-8 with or without BOM); column names are matched after
stripping spaces, case-insensitively:

``sex``        1/2 or M/F (required)
``age_days``   age in days (required column; an empty cell = unknown age)
``weight_kg``  weight in kg (required column; may be empty)
``length_cm``  length or height in cm (required column; may be empty)
``measure``    ``l`` lying / ``h`` standing / empty = by age (optional)
``oedema``     ``y``/``n`` (optional; empty = no)
``head_cm``, ``muac_cm``  (optional)

Every other column is carried through unchanged. The output has the input columns, then
``z_wfa, z_lhfa, z_wflh, z_bmi, z_hcfa`` (2 decimals, as WHO's software reports them; empty
where not computable), ``flag_wfa, flag_lhfa, flag_wflh, flag_bmi`` (1 = implausible, 0 otherwise,
empty where there is no z-score) and ``error``. A row with bad data gets no z-scores and a message
in ``error`` naming each bad field; it never stops the run. Input columns that have the name of an
output column are replaced.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compute import zscores

__all__ = ["INPUT_COLUMNS", "OUTPUT_COLUMNS", "REQUIRED_COLUMNS", "CsvSummary", "process_csv"]

REQUIRED_COLUMNS = ("sex", "age_days", "weight_kg", "length_cm")
OPTIONAL_COLUMNS = ("measure", "oedema", "head_cm", "muac_cm")
INPUT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
Z_COLUMNS = ("z_wfa", "z_lhfa", "z_wflh", "z_bmi", "z_hcfa")
FLAG_COLUMNS = ("flag_wfa", "flag_lhfa", "flag_wflh", "flag_bmi")
OUTPUT_COLUMNS = (*Z_COLUMNS, *FLAG_COLUMNS, "error")
_INDICATORS = ("wfa", "lhfa", "wflh", "bmi", "hcfa")

CHUNK_ROWS = 50_000

_SEX: dict[str, Any] = {"1": 1, "2": 2, "M": 1, "F": 2, "m": 1, "f": 2}
_MEASURE: dict[str, Any] = {"": "", "l": "l", "h": "h", "L": "l", "H": "h"}
_OEDEMA: dict[str, Any] = {"": False, "n": False, "y": True, "N": False, "Y": True, "1": True, "2": False}

# z-scores are written as 2-decimal strings through a lookup table of every value from -99.99 to
# 99.99: one numpy gather per column instead of a Python format call per cell.
_Z_LIMIT = 9999
_Z_TEXT = np.array([f"{k / 100:.2f}" for k in range(-_Z_LIMIT, _Z_LIMIT + 1)], dtype=object)
_Z_TEXT[_Z_LIMIT] = "0.00"  # never "-0.00"
_FLAG_TEXT = np.array(["0", "1"], dtype=object)


#: Row error messages (%-style, named placeholders). A caller may pass translated ones to
#: :func:`process_csv`; the keys are stable.
MESSAGES: dict[str, str] = {
    "not_a_number": "%(field)s: not a number (%(value)r)",
    "not_positive": "%(field)s: must be > 0 (%(value)r)",
    "negative": "%(field)s: must be >= 0 (%(value)r)",
    "unexpected": "%(field)s: %(value)r is not %(expected)s",
    "missing": "%(field)s: missing (expected %(expected)s)",
    "field_count": "row has %(got)s fields, the header has %(want)s",
}


@dataclass(frozen=True)
class CsvSummary:
    """What :func:`process_csv` did: data rows written and rows with an ``error``."""

    rows: int
    errors: int


def _format_z(z: np.ndarray) -> np.ndarray:
    out = np.full(z.shape, "", dtype=object)
    ok = ~np.isnan(z)
    hundredths = np.rint(z[ok] * 100.0)
    inside = np.abs(hundredths) <= _Z_LIMIT
    texts = np.empty(hundredths.shape, dtype=object)
    texts[inside] = _Z_TEXT[hundredths[inside].astype(np.int64) + _Z_LIMIT]
    for i in np.flatnonzero(~inside).tolist():  # absurd values (|z| >= 100): rare, format one by one
        texts[i] = f"{hundredths[i] / 100:.2f}"
    out[ok] = texts
    return out


_BAD = -np.inf  # sentinel for a cell that is not a number (any real -inf input is rejected anyway)


def _to_float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return np.nan if not cell.strip() else _BAD


def _parse_numbers(
    cells: Sequence[str], field: str, errors: dict[int, list[str]], positive: bool, messages: dict[str, str]
) -> np.ndarray:
    """Cells -> float array (NaN for empty); bad cells get a message in ``errors``."""
    n = len(cells)
    try:
        # Fast path: numbers and empty cells (the common case), converted in C.
        values = np.fromiter(map(float, [c or "nan" for c in cells]), dtype=np.float64, count=n)
    except ValueError:
        values = np.fromiter(map(_to_float, cells), dtype=np.float64, count=n)
    bad = np.isinf(values)
    for i in np.flatnonzero(np.isnan(values)).tolist():
        bad[i] = bool(cells[i].strip())  # "nan" typed in the cell is not an empty cell
    for i in np.flatnonzero(bad).tolist():
        errors.setdefault(i, []).append(messages["not_a_number"] % {"field": field, "value": cells[i]})
    values[bad] = np.nan
    with np.errstate(invalid="ignore"):
        wrong = values <= 0 if positive else values < 0
    for i in np.flatnonzero(wrong).tolist():
        key = "not_positive" if positive else "negative"
        errors.setdefault(i, []).append(messages[key] % {"field": field, "value": cells[i]})
    values[wrong] = np.nan
    return values


def _parse_codes(
    cells: Sequence[str],
    field: str,
    table: dict[str, Any],
    errors: dict[int, list[str]],
    expected: str,
    messages: dict[str, str],
) -> list[Any]:
    """Cells -> codes through ``table`` (vectorised for the listed spellings; others one by one)."""
    arr = np.array(cells, dtype=str)
    default = table.get("", 0)
    out = np.full(arr.shape, default, dtype=object)
    known = np.zeros(arr.shape, dtype=bool)
    for text, code in table.items():
        hit = arr == text
        out[hit] = code
        known |= hit
    for i in np.flatnonzero(~known).tolist():
        cell = cells[i].strip()
        code = table.get(cell, table.get(cell.lower(), table.get(cell.upper())))
        if code is not None:
            out[i] = code
        elif cell:
            errors.setdefault(i, []).append(
                messages["unexpected"] % {"field": field, "value": cells[i], "expected": expected}
            )
        else:
            errors.setdefault(i, []).append(messages["missing"] % {"field": field, "expected": expected})
    return out.tolist()


def _chunks(reader: Iterator[list[str]], size: int) -> Iterator[list[list[str]]]:
    rows = filter(None, reader)  # a blank line is not a data row
    while True:
        chunk = list(itertools.islice(rows, size))
        if not chunk:
            return
        yield chunk


def _process_chunk(
    rows: list[list[str]], index: dict[str, int], width: int, keep: list[int], messages: dict[str, str]
) -> tuple[Iterator[tuple[str, ...]], int]:
    n = len(rows)
    errors: dict[int, list[str]] = {}
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=n)
    for i in np.flatnonzero(lengths != width).tolist():
        errors[i] = [messages["field_count"] % {"got": lengths[i], "want": width}]
        rows[i] = (rows[i] + [""] * width)[:width]
    columns = list(zip(*rows, strict=True))  # transpose once, in C

    def column(name: str) -> tuple[str, ...] | None:
        j = index.get(name)
        return None if j is None else columns[j]

    def required(name: str) -> tuple[str, ...]:
        return columns[index[name]]  # presence checked by process_csv

    sex = np.array(_parse_codes(required("sex"), "sex", _SEX, errors, "1/2 or M/F", messages), dtype=np.int8)
    age = _parse_numbers(required("age_days"), "age_days", errors, False, messages)
    weight = _parse_numbers(required("weight_kg"), "weight_kg", errors, True, messages)
    length = _parse_numbers(required("length_cm"), "length_cm", errors, True, messages)
    measure_cells = column("measure")
    measure = (
        None
        if measure_cells is None
        else np.array(_parse_codes(measure_cells, "measure", _MEASURE, errors, "l, h or empty", messages), dtype="<U1")
    )
    oedema_cells = column("oedema")
    oedema = (
        None
        if oedema_cells is None
        else np.array(_parse_codes(oedema_cells, "oedema", _OEDEMA, errors, "y, n or empty", messages), dtype=bool)
    )
    head_cells = column("head_cm")
    head = None if head_cells is None else _parse_numbers(head_cells, "head_cm", errors, True, messages)
    muac_cells = column("muac_cm")
    if muac_cells is not None:
        # Not in this file's output contract, but a bad value is still reported.
        _parse_numbers(muac_cells, "muac_cm", errors, True, messages)

    bad = np.zeros(n, dtype=bool)
    bad[list(errors)] = True
    sex[bad] = 0  # sex 0: no z-score at all for a bad row
    res = zscores(sex, age, weight, length, measure, oedema, head, indicators=_INDICATORS)
    added: list[list[str]] = [_format_z(res[f"z_{name}"]).tolist() for name in _INDICATORS]
    for name in _INDICATORS[:4]:
        flags = _FLAG_TEXT[res[f"flag_{name}"]]
        flags[np.isnan(res[f"z_{name}"])] = ""
        added.append(flags.tolist())
    row_errors = [""] * n
    for i, errs in errors.items():
        row_errors[i] = "; ".join(errs)
    added.append(row_errors)
    carried = columns if len(keep) == width else [columns[j] for j in keep]
    return zip(*carried, *added, strict=True), len(errors)


def process_csv(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    progress: Callable[[int, int | None], None] | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    messages: dict[str, str] | None = None,
) -> CsvSummary:
    """Compute WHO z-scores for every row of ``in_path`` and write ``out_path`` (see the module doc).

    ``progress(rows_done, total)`` is called after each chunk (``total`` is None: the file is read
    once, in a stream). Raises ``ValueError`` if the header lacks a required column; bad rows never
    raise, they get an ``error`` message (``messages`` may override :data:`MESSAGES`, e.g. translated).
    """
    messages = {**MESSAGES, **(messages or {})}
    with (
        open(in_path, encoding="utf-8-sig", newline="") as fin,
        open(out_path, "w", encoding="utf-8", newline="") as fout,
    ):
        reader = csv.reader(fin)
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{in_path}: empty file, expected a header row") from None
        names = [h.strip().lower() for h in header]
        index: dict[str, int] = {}
        for j, name in enumerate(names):
            if name in INPUT_COLUMNS and name not in index:
                index[name] = j
        missing = [c for c in REQUIRED_COLUMNS if c not in index]
        if missing:
            raise ValueError(f"{in_path}: missing required column(s): {', '.join(missing)}")
        keep = [j for j, name in enumerate(names) if name not in OUTPUT_COLUMNS]
        writer = csv.writer(fout, lineterminator="\n")
        writer.writerow([header[j] for j in keep] + list(OUTPUT_COLUMNS))
        done = errors = 0
        for rows in _chunks(reader, chunk_rows):
            out, bad = _process_chunk(rows, index, len(header), keep, messages)
            writer.writerows(out)
            done += len(rows)
            errors += bad
            if progress is not None:
                progress(done, None)
    return CsvSummary(rows=done, errors=errors)
