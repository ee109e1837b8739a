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
import io
import itertools
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .compute import zscores

__all__ = [
    "INPUT_COLUMNS",
    "OUTPUT_COLUMNS",
    "REQUIRED_COLUMNS",
    "CsvSummary",
    "process_csv",
    "process_csv_reference",
]

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


def _layout(header: list[str], in_path: str | os.PathLike[str]) -> tuple[dict[str, int], list[int]]:
    """Where each input column is (first match wins) and which columns are carried through."""
    names = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in INPUT_COLUMNS and name not in index:
            index[name] = j
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if missing:
        raise ValueError(f"{in_path}: missing required column(s): {', '.join(missing)}")
    return index, [j for j, name in enumerate(names) if name not in OUTPUT_COLUMNS]


def _read_header(reader: Iterator[list[str]], in_path: str | os.PathLike[str]) -> list[str]:
    try:
        return next(reader)
    except StopIteration:
        raise ValueError(f"{in_path}: empty file, expected a header row") from None


def process_csv_reference(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    progress: Callable[[int, int | None], None] | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    messages: dict[str, str] | None = None,
) -> CsvSummary:
    """The plain implementation of :func:`process_csv`: Python's ``csv`` module, cell by cell.

    It defines the output: :func:`process_csv` writes the same bytes, and hands any file its fast
    reader cannot read exactly as ``csv`` does (a row with the wrong number of fields, a stray
    space-only line, bytes that are not UTF-8...) to this function.
    """
    messages = {**MESSAGES, **(messages or {})}
    with (
        open(in_path, encoding="utf-8-sig", newline="") as fin,
        open(out_path, "w", encoding="utf-8", newline="") as fout,
    ):
        reader = csv.reader(fin)
        header = _read_header(reader, in_path)
        index, keep = _layout(header, in_path)
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


# --------------------------------------------------------------------------- the fast path
#
# pyarrow's CSV reader splits the file into cells (in C++, in a reading thread); each column is then
# dictionary-encoded, so the Python validation above (_parse_numbers, _parse_codes) runs once per
# *distinct* cell text (a few thousand per chunk) and its results are gathered back to the rows.
# The output lines are joined by arrow too, from lookup tables of the z-score, flag and error texts
# and either the cells as read (re-quoted exactly as csv.writer would) or, in a file without
# quotes, each line's own bytes. Every step reuses the functions of the plain path on the distinct
# texts, so both paths give the same bytes; the tests compare them.

_ARROW_BLOCK_BYTES = 4 << 20  # arrow's streaming reader (files with quotes)
_PLAIN_BLOCK_BYTES = 4 << 20  # reads of files without quotes
_WORKERS = 2
_NEEDS_QUOTES = r'[,"\r\n]'  # csv.writer (QUOTE_MINIMAL) quotes a cell only if it has one of these


class _NotForArrow(Exception):
    """The file is not one that arrow reads exactly as ``csv`` does: use the plain path."""


class _CsvCell:
    """The text csv.writer writes for one cell (quoted and escaped if needed), for the rare cells
    that need quotes: by csv.writer itself, so the rule is Python's, whatever its version."""

    def __init__(self) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\n")

    def __call__(self, text: str) -> str:
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.writerow([text, ""])  # a second, empty cell: a lone "" is written as '""'
        return self._buf.getvalue()[:-2]


# Texts of the z-score columns: index 2 * _Z_LIMIT + 1 is "no z-score"; as written inside a line
# (plain, the separator added by the join) or with their separator (",") already attached.
_Z_EMPTY = 2 * _Z_LIMIT + 1
_Z_ARROW = {sep: pa.array([t + sep for t in [*_Z_TEXT.tolist(), ""]], type=pa.string()) for sep in ("", ",")}
# The end of a line without error: the four flags ("0", "1" or "" each, 3**4 combinations), then an
# empty error column and the line end. Rows with an error have no flags: ",,,," + error + "\n".
_FLAG_TEXT_BY_CODE = ("0", "1", "")
_TAIL_ARROW = pa.array(
    [",".join(_FLAG_TEXT_BY_CODE[(k // 3**i) % 3] for i in range(4)) + ",\n" for k in range(3**4)],
    type=pa.string(),
)


def _positions(a: np.ndarray) -> pa.Array:
    """Row numbers as an arrow int32 array, sharing the memory (``pa.array`` would import numpy.ma)."""
    a = np.ascontiguousarray(a, dtype=np.int32)
    return pa.Array.from_buffers(pa.int32(), len(a), [None, pa.py_buffer(a)])


def _has_special_bytes(cells: pa.Array) -> bool:
    """Whether any cell of the column has a byte that csv.writer would quote (one scan of the bytes)."""
    offsets = np.frombuffer(cells.buffers()[1], dtype=np.int32, count=len(cells) + 1, offset=cells.offset * 4)
    data = memoryview(cells.buffers()[2])[int(offsets[0]) : int(offsets[-1])].tobytes()
    return any(special in data for special in (b",", b'"', b"\r", b"\n"))


def _z_column(z: np.ndarray, sep: str) -> pa.Array:
    """The texts of :func:`_format_z` (followed by ``sep``), as an arrow column."""
    hundredths = np.rint(z * 100.0)
    with np.errstate(invalid="ignore"):
        inside = np.abs(hundredths) <= _Z_LIMIT  # False for NaN
    idx = np.where(inside, hundredths, _Z_EMPTY - _Z_LIMIT)
    idx += _Z_LIMIT
    idx = idx.astype(np.int32)
    table = _Z_ARROW[sep]
    if np.count_nonzero(inside) + np.count_nonzero(np.isnan(z)) < len(z):
        # absurd values (|z| >= 100): rare, formatted one by one as _format_z does
        outside = np.flatnonzero(~inside & ~np.isnan(z))
        extra = [f"{hundredths[i] / 100:.2f}{sep}" for i in outside.tolist()]
        idx[outside] = np.arange(len(table), len(table) + len(extra), dtype=np.int32)
        table = pa.concat_arrays([table, pa.array(extra, type=pa.string())])
    return table.take(_positions(idx))


def _distinct(column: pa.Array) -> tuple[np.ndarray, list[str]]:
    """(per row: the number of its distinct text, the distinct texts)."""
    enc = column.dictionary_encode()
    return enc.indices.to_numpy(zero_copy_only=False), enc.dictionary.to_pylist()


def _row_errors(which: np.ndarray, found: dict[int, list[str]], errors: dict[int, list[str]]) -> None:
    """Add the messages found for distinct texts (``found``) to the rows holding them."""
    if not found:
        return
    bad = np.zeros(max(found) + 1, dtype=bool)
    bad[list(found)] = True
    hit = which < bad.size
    hit[hit] = bad[which[hit]]
    for i in np.flatnonzero(hit).tolist():
        errors.setdefault(i, []).extend(found[int(which[i])])


_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def _numbers(
    column: pa.Array, field: str, positive: bool, errors: dict[int, list[str]], messages: dict[str, str]
) -> np.ndarray:
    """:func:`_parse_numbers` for an arrow column, run once per distinct text.

    Plain decimals (``-12.5``) are converted by arrow: both arrow and Python's ``float`` round the
    decimal to the nearest double, so the values are the same. Any other text, and any plain value
    that is out of range, goes through :func:`_parse_numbers` itself, which also writes the messages.
    """
    enc = column.dictionary_encode()
    which = enc.indices.to_numpy(zero_copy_only=False)
    texts = enc.dictionary
    plain = pc.match_substring_regex(texts, _PLAIN_NUMBER).to_numpy(zero_copy_only=False)
    values = np.full(len(texts), np.nan)
    values[plain] = pc.cast(texts.take(_positions(np.flatnonzero(plain))), pa.float64()).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        # Not plain, beyond the largest double (inf: "not a number"), or out of range.
        other = ~plain | ~np.isfinite(values) | ((values <= 0) if positive else (values < 0))
    slow = np.flatnonzero(other)
    if slow.size:
        found: dict[int, list[str]] = {}
        values[slow] = _parse_numbers(texts.take(_positions(slow)).to_pylist(), field, found, positive, messages)
        _row_errors(which, {int(slow[k]): msgs for k, msgs in found.items()}, errors)
    return values[which]


def _codes(
    column: pa.Array,
    field: str,
    table: dict[str, Any],
    expected: str,
    dtype: Any,
    errors: dict[int, list[str]],
    messages: dict[str, str],
) -> np.ndarray:
    which, texts = _distinct(column)
    found: dict[int, list[str]] = {}
    codes = np.array(_parse_codes(texts, field, table, found, expected, messages), dtype=dtype)
    _row_errors(which, found, errors)
    return codes[which]


@dataclass
class _Chunk:
    """Rows as read by arrow: ``columns[j]`` the cells of column j (None where not needed), and in
    the plain-file mode ``lines``: each row's bytes as in the file, the line end replaced by ","."""

    columns: list[pa.Array | None]
    lines: pa.Array | None

    def __len__(self) -> int:
        return len(self.lines) if self.lines is not None else len(next(c for c in self.columns if c is not None))


def _arrow_chunk(
    chunk: _Chunk, index: dict[str, int], keep: list[int], messages: dict[str, str]
) -> tuple[pa.Array, int]:
    """One chunk of rows -> its output lines (one string, ``\n``-terminated lines) and its error count."""
    n = len(chunk)
    cell = _CsvCell()
    errors: dict[int, list[str]] = {}

    def column(name: str) -> pa.Array | None:
        j = index.get(name)
        return None if j is None else chunk.columns[j]

    def required(name: str) -> pa.Array:
        cells = column(name)
        assert cells is not None
        return cells

    # Same fields in the same order as _process_chunk, so a row's messages come in the same order.
    sex = _codes(required("sex"), "sex", _SEX, "1/2 or M/F", np.int8, errors, messages)
    age = _numbers(required("age_days"), "age_days", False, errors, messages)
    weight = _numbers(required("weight_kg"), "weight_kg", True, errors, messages)
    length = _numbers(required("length_cm"), "length_cm", True, errors, messages)
    measure_cells = column("measure")
    measure = (
        None
        if measure_cells is None
        else _codes(measure_cells, "measure", _MEASURE, "l, h or empty", "<U1", errors, messages)
    )
    oedema_cells = column("oedema")
    oedema = (
        None
        if oedema_cells is None
        else _codes(oedema_cells, "oedema", _OEDEMA, "y, n or empty", bool, errors, messages)
    )
    head_cells = column("head_cm")
    head = None if head_cells is None else _numbers(head_cells, "head_cm", True, errors, messages)
    muac_cells = column("muac_cm")
    if muac_cells is not None:
        _numbers(muac_cells, "muac_cm", True, errors, messages)

    if errors:
        sex[list(errors)] = 0  # sex 0: no z-score at all for a bad row
    res = zscores(sex, age, weight, length, measure, oedema, head, indicators=_INDICATORS)

    # The line's end: flags, error and "\n" in one lookup (see _TAIL_ARROW).
    code = np.zeros(n, dtype=np.int32)
    for i, name in enumerate(_INDICATORS[:4]):
        flag = res[f"flag_{name}"].astype(np.int32)
        flag[np.isnan(res[f"z_{name}"])] = 2
        code += flag * 3**i
    tail = _TAIL_ARROW
    if errors:
        texts: dict[str, int] = {}
        for i, errs in errors.items():
            code[i] = len(_TAIL_ARROW) + texts.setdefault("; ".join(errs), len(texts))
        tail = pa.concat_arrays([tail, pa.array([",,,," + cell(t) + "\n" for t in texts], type=pa.string())])
    ends = tail.take(_positions(code))

    if chunk.lines is not None:  # the row as written in the file, then the z-scores (each with its ",")
        zs = [_z_column(res[f"z_{name}"], ",") for name in _INDICATORS]
        return pc.binary_join_element_wise(chunk.lines, *zs, ends, ""), len(errors)
    out: list[pa.Array] = []
    for j in keep:
        cells = chunk.columns[j]
        assert cells is not None
        if _has_special_bytes(cells):
            quote = pc.match_substring_regex(cells, _NEEDS_QUOTES)
            rows = _positions(np.flatnonzero(quote.to_numpy(zero_copy_only=False)))
            quoted = pa.array([cell(t) for t in cells.take(rows).to_pylist()], type=pa.string())
            cells = pc.replace_with_mask(cells, quote, quoted)
        out.append(cells)
    out.extend(_z_column(res[f"z_{name}"], "") for name in _INDICATORS)
    return pc.binary_join_element_wise(*out, ends, ","), len(errors)


_T = TypeVar("_T")


def _in_background(items: Iterator[_T], ahead: int) -> Iterator[_T]:
    """``items``, produced by a thread up to ``ahead`` items in advance (its exceptions re-raised here).

    arrow's reader releases the GIL while it parses, so the next chunk is read while this one is
    computed.
    """
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(ahead)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((False, exc))

    thread = threading.Thread(target=run, name="zscores-reader", daemon=True)
    thread.start()
    try:
        while True:
            more, item = box.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _string_columns(width: int, needed: Sequence[int] | None = None) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types={f"f{j}": pa.string() for j in range(width)},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        include_columns=None if needed is None else [f"f{j}" for j in needed],
    )


def _read_options(width: int, block_size: int | None = None) -> pacsv.ReadOptions:
    # Named columns: arrow then checks every row against that count, the first one included.
    return pacsv.ReadOptions(
        use_threads=True,
        block_size=block_size or _ARROW_BLOCK_BYTES,
        column_names=[f"f{j}" for j in range(width)],
    )


_PARSE = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True)


def _rechunk(pieces: Iterator[_Chunk], rows: int) -> Iterator[_Chunk]:
    """The same rows in chunks of ``rows`` rows (the last, and the last before a change of mode,
    may be shorter)."""
    pending: list[_Chunk] = []
    count = 0

    def take(n: int) -> _Chunk:
        nonlocal pending, count
        if len(pending) == 1 and n == count:  # a piece of the right size (the plain mode's are)
            count, whole = 0, pending.pop()
            return whole
        parts: list[list[pa.Array | None]] = [[*p.columns, p.lines] for p in pending]
        merged = []
        for k in range(len(parts[0])):
            arrays = [part[k] for part in parts]
            merged.append(None if arrays[0] is None else pa.concat_arrays(arrays))
        head = [None if a is None else a.slice(0, n) for a in merged]
        rest = [None if a is None else a.slice(n) for a in merged]
        count -= n
        pending = [_Chunk(rest[:-1], rest[-1])] if count else []
        return _Chunk(head[:-1], head[-1])

    for piece in pieces:
        if len(piece):
            if pending and (piece.lines is None) != (pending[0].lines is None):
                yield take(count)  # where the mode changes: a shorter chunk
            pending.append(piece)
            count += len(piece)
        while count >= rows:
            yield take(rows)
    if count:
        yield take(count)


def _arrow_pieces(in_path: str | os.PathLike[str], header: list[str], start: int | None) -> Iterator[_Chunk]:
    """All columns, by arrow's streaming reader, from byte ``start`` (a row's start) or, if None, from
    the top: then the header comes first and must read as csv read it."""
    width = len(header)
    with pa.OSFile(str(in_path)) as source:
        source.seek(start or 0)
        reader = pacsv.open_csv(
            source, read_options=_read_options(width), parse_options=_PARSE, convert_options=_string_columns(width)
        )
        first = start is None
        for batch in reader:
            if first:
                first = False
                if batch.num_rows == 0 or [batch.column(j)[0].as_py() for j in range(width)] != header:
                    raise _NotForArrow
                batch = batch.slice(1)
            yield _Chunk([batch.column(j) for j in range(width)], None)


def _plain_lines(block: bytes, ends: np.ndarray) -> pa.Array:
    """The non-empty lines of ``block`` (no quotes; ``ends``: the positions of all its "\n", the
    last byte among them), each ending in "," instead of "\n"."""
    data = np.frombuffer(block, dtype=np.uint8).copy()
    data[ends] = 44
    offsets = np.empty(len(ends) + 1, dtype=np.int32)
    offsets[0] = 0
    offsets[1:] = ends + 1
    lines = pa.StringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    empty = np.diff(offsets) == 1
    if empty.any():  # blank lines are not rows
        lines = lines.take(_positions(np.flatnonzero(~empty)))
    return lines


def _plain_pieces(
    in_path: str | os.PathLike[str], header: list[str], needed: list[int], raw_header: bytes, rows: int
) -> Iterator[_Chunk]:
    """Fast mode for files without quotes (checked block by block) whose line ends are "\n" or
    "\r\n": rows are the lines, arrow reads only the ``needed`` columns, ``rows`` lines at a time,
    and each row is copied to the output as it is written in the file, without its line end
    (csv.writer would write it the same: no cell has a quote, a comma or a line break). From the
    first block that has a quote or a "\r" that does not end a line, the rest of the file is read
    by :func:`_arrow_pieces`."""
    width = len(header)
    convert = _string_columns(width, needed)

    def piece(block: bytes, ends: np.ndarray) -> _Chunk:
        lines = _plain_lines(block, ends)
        # One arrow block for the piece: it is parsed in the reading thread, while others compute.
        read = _read_options(width, len(block) + 1)
        table = pacsv.read_csv(pa.py_buffer(block), read_options=read, parse_options=_PARSE, convert_options=convert)
        if table.num_rows != len(lines):
            raise _NotForArrow
        columns: list[pa.Array | None] = [None] * width
        for j in needed:
            columns[j] = table.column(f"f{j}").combine_chunks()
        return _Chunk(columns, lines)

    with open(in_path, "rb") as fh:
        if fh.read(len(raw_header)) != raw_header:
            raise _NotForArrow
        start = len(raw_header)  # where `carry + data` starts in the file
        carry = pending = b""  # an unfinished line; lines read but not yet in a chunk
        ends = np.empty(0, dtype=np.int64)  # where the lines of `pending` end
        rows_ends = ends  # which of them end a non-empty line
        while True:
            data = fh.read(_PLAIN_BLOCK_BYTES)
            block = carry + data
            cut = block.rfind(b"\n") + 1 if data else len(block)
            if data and cut == 0:  # a line longer than a block
                carry = block
                continue
            block, carry = block[:cut], block[cut:]
            if b'"' in block or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")):
                rest = True  # a quote, or a "\r" inside a line (a line end for csv, not for this mode)
                break
            if b"\r" in block:  # (`in` is a fast scan; count and replace are not)
                block = block.replace(b"\r\n", b"\n")
            if not data and block and not block.endswith(b"\n"):
                block += b"\n"  # the last line has no line end
            try:
                block.decode("utf-8")  # as csv would read it; the columns arrow skips are checked too
            except UnicodeDecodeError:
                raise _NotForArrow from None
            ends = np.concatenate((ends, len(pending) + np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)))
            pending += block
            rows_ends = np.flatnonzero(np.diff(ends, prepend=-1) > 1)  # which "\n" end a non-empty line
            while len(rows_ends) >= rows:
                last = int(rows_ends[rows - 1])  # the piece ends with the rows-th non-empty line
                cut_at = int(ends[last]) + 1
                yield piece(pending[:cut_at], ends[: last + 1])
                pending, ends = pending[cut_at:], ends[last + 1 :] - cut_at
                rows_ends = rows_ends[rows:] - (last + 1)
            start += cut
            if not data:
                rest = False
                break
    if len(rows_ends):
        yield piece(pending, ends)
    if rest:
        yield from _arrow_pieces(in_path, header, start)


def _plain_header(in_path: str | os.PathLike[str], header: list[str]) -> bytes | None:
    """The header line's bytes if it is plain (no quote, ends in "\n" or "\r\n") and reads as ``header``."""
    with open(in_path, "rb") as fh:
        first = fh.readline(1 << 20)
    names_end = len(first) - (2 if first.endswith(b"\r\n") else 1)
    if not first.endswith(b"\n") or b'"' in first or b"\r" in first[:names_end]:
        return None
    try:
        names = first[:names_end].decode("utf-8-sig").split(",")
    except UnicodeDecodeError:
        return None
    return first if names == header else None


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

    The output is byte for byte that of :func:`process_csv_reference`; a file that arrow's reader
    cannot read exactly as Python's ``csv`` does is handed over to it (from the start; progress
    does not go back).
    """
    messages = {**MESSAGES, **(messages or {})}
    reported = 0

    def report(done: int, total: int | None) -> None:
        nonlocal reported
        if progress is not None and done > reported:
            reported = done
            progress(done, total)

    try:
        with open(in_path, encoding="utf-8-sig", newline="") as fin, open(out_path, "wb") as fout:
            header = _read_header(csv.reader(fin), in_path)
            index, keep = _layout(header, in_path)
            head = io.StringIO()
            csv.writer(head, lineterminator="\n").writerow([header[j] for j in keep] + list(OUTPUT_COLUMNS))
            fout.write(head.getvalue().encode())
            done = errors = 0

            def write(job: Future[tuple[pa.Array, int]]) -> None:
                nonlocal done, errors
                lines, bad = job.result()
                offsets = np.frombuffer(
                    lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4
                )
                fout.write(memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
                done += len(lines)
                errors += bad
                report(done, None)

            # The rows as written can be copied when every column is carried, in order.
            raw_header = _plain_header(in_path, header) if keep == list(range(len(header))) else None
            if raw_header is None:
                pieces = _arrow_pieces(in_path, header, None)
            else:
                pieces = _plain_pieces(in_path, header, sorted(index.values()), raw_header, chunk_rows)
            # Two chunks are computed at a time (numpy and arrow release the GIL), written in order.
            with ThreadPoolExecutor(_WORKERS, thread_name_prefix="zscores") as pool:
                jobs: deque[Future[tuple[pa.Array, int]]] = deque()
                for chunk in _in_background(_rechunk(pieces, chunk_rows), 2):
                    jobs.append(pool.submit(_arrow_chunk, chunk, index, keep, messages))
                    if len(jobs) > _WORKERS:
                        write(jobs.popleft())
                while jobs:
                    write(jobs.popleft())
    except (_NotForArrow, pa.ArrowException):
        return process_csv_reference(in_path, out_path, report, chunk_rows=chunk_rows, messages=messages)
    return CsvSummary(rows=done, errors=errors)
