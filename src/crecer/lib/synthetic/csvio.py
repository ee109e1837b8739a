"""Column formatting and chunked CSV writing for large synthetic files.

Columns are built whole (numpy arrays turned into lists of ``str``) and written in chunks with
``str.join`` (quoting only the values that need it), so a million rows take about a second and
progress can be reported per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

Progress = Callable[[str, int, int], None]
CHUNK_ROWS = 100_000


def iso_dates(days: np.ndarray, missing: np.ndarray | None = None) -> list[str]:
    """ISO dates ("2024-03-01") of epoch-day numbers; "" where ``missing`` is true."""
    days = np.asarray(days, dtype=np.int64)
    if missing is not None:
        days = np.where(missing, days[~missing].min() if (~missing).any() else 0, days)
    if days.size == 0:
        return []
    low, high = int(days.min()), int(days.max())
    # a lookup table over the (few thousand) distinct days is much faster than formatting each value
    table = np.datetime_as_string(np.arange(low, high + 1).astype("datetime64[D]"), unit="D").astype(object)
    text = table[days - low]
    if missing is not None:
        text[missing] = ""
    return text.tolist()


def int_strings(values: np.ndarray, missing: np.ndarray | None = None) -> list[str]:
    """Decimal strings of integers (a lookup table when the range is small); "" where ``missing``."""
    values = np.asarray(values, dtype=np.int64)
    if missing is not None:
        values = np.where(missing, 0, values)
    if values.size == 0:
        return []
    low, high = int(values.min()), int(values.max())
    if high - low <= 200_000:
        table = np.array([str(v) for v in range(low, high + 1)], dtype=object)
        text = table[values - low]
    else:
        text = np.array([str(v) for v in values.tolist()], dtype=object)
    if missing is not None:
        text[missing] = ""
    return text.tolist()


def sequential_codes(prefix: str, count: int, width: int = 7) -> list[str]:
    """``prefix`` followed by 1..count zero-padded to ``width`` digits ("C0000001")."""
    return list(map(f"{prefix}%0{width}d".__mod__, range(1, count + 1)))


_SPECIAL = (",", '"', "\n", "\r")


def _quoted(column: Sequence[str]) -> Sequence[str]:
    """``column`` with CSV quoting (RFC 4180) where a value holds a comma, quote or line break."""
    joined = "\x00".join(column)
    if not any(ch in joined for ch in _SPECIAL):
        return column
    return ['"' + v.replace('"', '""') + '"' if any(ch in v for ch in _SPECIAL) else v for v in column]


def write_csv(
    path: Path, header: Sequence[str], columns: Sequence[Sequence[str]], progress: Progress, stage: str
) -> int:
    """Write ``columns`` (equal-length sequences of strings) under ``header``; returns the row count.

    Output is what ``csv.writer`` writes with minimal quoting and "\\n" line ends, but built with
    ``str.join`` per chunk, which is several times faster for millions of rows.
    """
    if len(header) != len(columns):
        raise ValueError(f"{path.name}: {len(header)} header fields for {len(columns)} columns")
    rows = len(columns[0]) if columns else 0
    for name, column in zip(header, columns, strict=True):
        if len(column) != rows:
            raise ValueError(f"{path.name}: column {name} has {len(column)} values, expected {rows}")
    return write_csv_chunks(path, header, rows, lambda start, stop: [c[start:stop] for c in columns], progress, stage)


ChunkBuilder = Callable[[int, int], Sequence[Sequence[str]]]


def write_csv_chunks(
    path: Path,
    header: Sequence[str],
    rows: int,
    build: ChunkBuilder,
    progress: Progress,
    stage: str,
    verbatim: Sequence[int] = (),
) -> int:
    """Write ``rows`` rows whose columns ``build(start, stop)`` makes one chunk at a time.

    Only one chunk of strings is alive at a time, so files of tens of millions of rows are written
    from numpy arrays without holding every value as a Python string. Columns whose index is in
    ``verbatim`` are written as given: the builder has already quoted them as CSV fields.
    """
    progress(stage, 0, rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(_quoted(list(header))) + "\n")
        for start in range(0, rows, CHUNK_ROWS):
            stop = min(rows, start + CHUNK_ROWS)
            columns = build(start, stop)
            if len(columns) != len(header):
                raise ValueError(f"{path.name}: {len(header)} header fields for {len(columns)} columns")
            for name, column in zip(header, columns, strict=True):
                if len(column) != stop - start:
                    raise ValueError(f"{path.name}: column {name} has {len(column)} values, expected {stop - start}")
            chunk = [column if i in verbatim else _quoted(column) for i, column in enumerate(columns)]
            fh.write("\n".join(map(",".join, zip(*chunk, strict=True))))
            fh.write("\n")
            progress(stage, stop, rows)
    return rows


def decimal_strings(scaled: np.ndarray, decimals: int, missing: np.ndarray | None = None) -> list[str]:
    """Fixed-point strings of non-negative integers scaled by ``10 ** decimals`` (1234, 2 -> "12.34");
    "" where ``missing``. A lookup table over the range keeps millions of values fast."""
    values = np.asarray(scaled, dtype=np.int64)
    if missing is not None:
        values = np.where(missing, 0, values)
    if values.size == 0:
        return []
    if int(values.min()) < 0:
        raise ValueError("decimal_strings takes non-negative values")
    high = int(values.max())
    unit = 10**decimals

    def text_of(v: int) -> str:
        return f"{v // unit}.{v % unit:0{decimals}d}" if decimals else str(v)

    if high <= 1_000_000:
        text = np.array([text_of(v) for v in range(high + 1)], dtype=object)[values]
    else:
        text = np.array([text_of(v) for v in values.tolist()], dtype=object)
    if missing is not None:
        text[missing] = ""
    return text.tolist()


def decimal_table(high: int, decimals: int) -> np.ndarray:
    """Object array whose item ``v`` is the fixed-point text of ``v / 10 ** decimals`` for 0 <= v <= high,
    plus a last item "" (so index -1 gives an empty value)."""
    unit = 10**decimals
    text = [f"{v // unit}.{v % unit:0{decimals}d}" if decimals else str(v) for v in range(max(high, 0) + 1)]
    return np.array([*text, ""], dtype=object)
