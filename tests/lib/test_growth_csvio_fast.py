"""process_csv (arrow reader, per-distinct-text validation, threads) writes exactly the bytes of
process_csv_reference (Python's csv module, cell by cell) and hands it the files arrow reads otherwise."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from crecer.lib.growth import csvio
from crecer.lib.growth.csvio import process_csv, process_csv_reference

HEADER = "id,sex,age_days,weight_kg,length_cm,measure,oedema,head_cm,muac_cm,note"


@pytest.fixture
def fallbacks(monkeypatch) -> list[Path]:
    """The input files process_csv handed to the plain path."""
    seen: list[Path] = []

    def spy(in_path, *args, **kwargs):
        seen.append(Path(in_path))
        return process_csv_reference(in_path, *args, **kwargs)

    monkeypatch.setattr(csvio, "process_csv_reference", spy)
    return seen


def _both(tmp_path: Path, data: bytes, **kwargs) -> tuple[bytes, bytes, list[tuple[int, int | None]]]:
    src = tmp_path / "in.csv"
    src.write_bytes(data)
    fast, ref = tmp_path / "fast.csv", tmp_path / "ref.csv"
    calls: list[tuple[int, int | None]] = []
    got = process_csv(src, fast, progress=lambda done, total: calls.append((done, total)), **kwargs)
    want = process_csv_reference(src, ref, **kwargs)
    assert got == want
    return fast.read_bytes(), ref.read_bytes(), calls


TRICKY_ROWS = [
    '1,1,1001,18,120,,,,,"plain, with a comma"',
    '2,2,1000,15,80,,,,,"she said ""hi"""',
    '3,F,400,9.5,74.2,l,n,45.1,14.2,"two\nlines"',
    "4,m,3000,25,125,h,,,,Ñuñoa – café ☕",
    "5,1,100,6,60,l,y,40,,oedema",
    "6,2,,10,80,,,,,no age",
    "7,1,300,abc,70,l,n,,,bad weight",
    "8,X,300,8,70,l,n,,,bad sex",
    "9,1,-3,8,70,l,n,,,negative age",
    "10,1,300,8,70,s,maybe,,,bad codes",
    "11,,300,-8,0,,,,,several",
    "12,1,300,nan,inf,L,Y,-inf,0,typed nan and inf",
    "13, M ,300, 8 ,1e2, h ,N,4_5,.5,spaces exponents underscores",
    "14,2,-0,0,-0,,2,00045.50,5.,zeros",
    "15,f,1826.5,12.3456789012345678901,88.88888888888888888,,1,,,long decimals",
    "16,2,١٠٠,٨,٧٠,,,,,arabic-indic digits",
    "17,1,10,10,,,,,,extreme weight: z beyond 10",
    "18,1,20,900,50,,,,,absurd weight: z beyond 100",
    '19,1,400,9,75,,,,," leading space, and ""quotes"""',
    '"20",1,400,9,75,,,,,quoted id',
    "21,1,400,9,75,,,,,tab\there",
    '22,1,400,9,75,,,,,"carriage\rreturn"',
    "23,2,7000,50,165,,,,,teenager",
    "24,2,6000,,140,h,,,,no weight",
    '25,1,400,9,75,,,,,x"y stray quote',
    f"26,1,400,1{'0' * 400},75,,,,,a weight beyond the largest double",
    f"27,1,400,9,0.{'0' * 400}1,,,,,a length below the smallest double",
]


def test_tricky_cells_give_the_same_bytes_without_fallback(tmp_path, fallbacks):
    data = ("\ufeff" + "\n".join([HEADER, *TRICKY_ROWS]) + "\n").encode()
    fast, ref, calls = _both(tmp_path, data)
    assert fast == ref
    assert fallbacks == []  # arrow read this file: the comparison is not the plain path against itself
    assert calls == [(len(TRICKY_ROWS), None)]
    assert b"weight_kg: not a number ('abc')" in fast and b'"she said ""hi"""' in fast


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("crlf", (HEADER + "\r\n" + "\r\n".join(TRICKY_ROWS[:6]) + "\r\n").encode()),
        ("cr only", (HEADER + "\r" + "\r".join(r for r in TRICKY_ROWS[:6] if "\n" not in r) + "\r").encode()),
        ("blank lines, no final newline", ("\n".join([HEADER, "", TRICKY_ROWS[0], "", "", TRICKY_ROWS[1]])).encode()),
        ("bom inside a cell", (HEADER + "\n\ufeff1,1,100,5,55,,,,,x\n").encode()),
        ("lenient header", b" Sex ,AGE_DAYS,Weight_kg,length_cm,extra\n1,1001,18,120,e\n2,500,,,\n"),
        ("output columns replaced", b"z_wfa,sex,age_days,weight_kg,length_cm,error,flag_bmi\n9,1,1001,18,120,old,x\n"),
        ("duplicated input column", b"sex,age_days,weight_kg,length_cm,sex\n1,1001,18,120,2\n"),
        ("header only", (HEADER + "\n").encode()),
        ("quoted header", b'"sex","age_days",weight_kg,"length,cm",length_cm\n1,100,5,x,55\n'),
    ],
)
def test_file_shapes_give_the_same_bytes_without_fallback(tmp_path, fallbacks, name, data):
    fast, ref, _ = _both(tmp_path, data)
    assert fast == ref, name
    assert fallbacks == [], name


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("short row", (HEADER + "\n1,1,100,5,55\n2,2,100,5,55,,,,,ok\n").encode()),
        ("long row", (HEADER + "\n1,1,100,5,55,,,,,,,\n").encode()),
        ("space-only line", (HEADER + "\n1,1,100,5,55,,,,,a\n  \n2,1,100,5,55,,,,,b\n").encode()),
        ("empty quoted line", (HEADER + '\n1,1,100,5,55,,,,,a\n""\n').encode()),
    ],
)
def test_rows_arrow_reads_otherwise_go_to_the_plain_path(tmp_path, fallbacks, name, data):
    fast, ref, calls = _both(tmp_path, data)
    assert fast == ref, name
    assert len(fallbacks) == 1, name
    assert b"the header has 10" in fast or name != "short row"
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})  # progress never goes back


def test_bytes_that_are_not_utf8_fail_as_before(tmp_path, fallbacks):
    src = tmp_path / "in.csv"
    good = "\n".join(f"{i},1,100,5,55,,,,,ok" for i in range(3000))  # past the header's read buffer
    src.write_bytes((HEADER + "\n" + good + "\n1,1,100,5,55,,,,,caf").encode() + b"\xe9\n")
    with pytest.raises(UnicodeDecodeError):
        process_csv_reference(src, tmp_path / "ref.csv")
    with pytest.raises(UnicodeDecodeError):
        process_csv(src, tmp_path / "out.csv")
    assert len(fallbacks) == 1  # arrow refused the bytes; the plain path raised as it always did


def test_chunks_and_blocks_do_not_change_the_bytes(tmp_path, fallbacks, monkeypatch):
    rows = [r for r in TRICKY_ROWS] * 7
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    whole, ref, _ = _both(tmp_path, data)
    monkeypatch.setattr(csvio, "_ARROW_BLOCK_BYTES", 1024)  # quoted line breaks across arrow's blocks
    small, _, calls = _both(tmp_path, data, chunk_rows=10)
    assert whole == small == ref
    assert fallbacks == []
    assert calls == [(done, None) for done in (*range(10, len(rows), 10), len(rows))]


def test_random_files_give_the_same_bytes(tmp_path, fallbacks):
    cells = {
        "sex": ["1", "2", "M", "F", "m", "f", "", "x", " 1", "2 "],
        "age_days": ["0", "1", "365", "730", "731", "1856", "1857", "3000", "6939", "", "-1", "abc", "12.5"],
        "weight_kg": ["3.2", "9.75", "12", "30", "0", "-1", "", "x", "1e1", "200"],
        "length_cm": ["45", "49.9", "70.05", "86.99", "87", "110", "120.1", "150", "", "0"],
        "measure": ["", "l", "h", "L", "H", "s"],
        "oedema": ["", "n", "y", "N", "Y", "1", "2", "?"],
        "head_cm": ["", "35", "45.5", "0", "k"],
        "note": ["", "a", "a,b", 'q"q', "línea\nnueva", "ü"],
    }

    def quote(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text

    for seed in range(3):
        rng = random.Random(seed)
        lines = [",".join(cells)]
        lines += [",".join(quote(rng.choice(options)) for options in cells.values()) for _ in range(400)]
        fast, ref, _ = _both(tmp_path, ("\n".join(lines) + "\n").encode(), chunk_rows=97)
        assert fast == ref, seed
    assert fallbacks == []


PLAIN_ROWS = [r for r in TRICKY_ROWS if '"' not in r and "\r" not in r]


@pytest.mark.parametrize("block", [64, 300, 4 << 20])
def test_files_without_quotes_are_copied_line_by_line(tmp_path, fallbacks, monkeypatch, block):
    """Plain files (no quote, no carriage return): each row's bytes are copied from the file."""
    monkeypatch.setattr(csvio, "_PLAIN_BLOCK_BYTES", block)  # 64: most lines straddle two blocks
    modes: list[str] = []
    real_arrow = csvio._arrow_pieces
    monkeypatch.setattr(csvio, "_arrow_pieces", lambda *a: modes.append("arrow") or real_arrow(*a))
    long_note = "x" * 500  # longer than a block
    rows = [*PLAIN_ROWS, "", f"30,1,400,9,75,,,,,{long_note}", "", "", *PLAIN_ROWS]
    data = ("\ufeff" + "\n".join([HEADER, *rows * 3])).encode()  # no final line end
    fast, ref, calls = _both(tmp_path, data, chunk_rows=7)
    assert fast == ref
    assert fallbacks == [] and modes == []
    total = len([r for r in rows * 3 if r])
    assert calls == [(done, None) for done in (*range(7, total, 7), total)]


def test_a_quote_later_in_the_file_hands_the_rest_to_arrows_reader(tmp_path, fallbacks, monkeypatch):
    monkeypatch.setattr(csvio, "_PLAIN_BLOCK_BYTES", 256)
    starts: list[int | None] = []
    real_arrow = csvio._arrow_pieces
    monkeypatch.setattr(
        csvio, "_arrow_pieces", lambda path, header, start: starts.append(start) or real_arrow(path, header, start)
    )
    rows = PLAIN_ROWS * 4 + TRICKY_ROWS + PLAIN_ROWS * 2 + ['40,1,400,9,75,,,,,"a\r\nb"'] + PLAIN_ROWS
    fast, ref, _ = _both(tmp_path, ("\n".join([HEADER, *rows]) + "\n").encode(), chunk_rows=11)
    assert fast == ref
    assert fallbacks == []
    assert len(starts) == 1 and starts[0] is not None and starts[0] > 256  # plain blocks first, then arrow


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("short row", [*PLAIN_ROWS, "50,1,100,5,55", *PLAIN_ROWS]),
        ("long row first", ["50,1,100,5,55,,,,,,extra", *PLAIN_ROWS]),
        ("space-only line", [*PLAIN_ROWS, "   ", *PLAIN_ROWS]),
    ],
)
def test_plain_files_with_bad_rows_go_to_the_plain_path(tmp_path, fallbacks, monkeypatch, name, rows):
    monkeypatch.setattr(csvio, "_PLAIN_BLOCK_BYTES", 128)
    fast, ref, _ = _both(tmp_path, ("\n".join([HEADER, *rows]) + "\n").encode(), chunk_rows=5)
    assert fast == ref, name
    assert len(fallbacks) == 1, name


def test_bytes_that_are_not_utf8_in_a_carried_column_fail_as_before(tmp_path, fallbacks):
    src = tmp_path / "in.csv"
    good = "\n".join(f"{i},1,100,5,55,,,,,ok" for i in range(3000))
    src.write_bytes((HEADER + "\n" + good + "\n1,1,100,5,55,,,,,caf").encode() + b"\xe9\n")
    with pytest.raises(UnicodeDecodeError):
        process_csv(src, tmp_path / "out.csv")
    assert len(fallbacks) == 1  # the note column is not parsed in the fast mode, but it is checked


@pytest.mark.parametrize(
    ("name", "data", "plain"),
    [
        ("crlf", (HEADER + "\r\n" + "\r\n".join(PLAIN_ROWS * 5) + "\r\n").encode(), True),
        (
            "crlf, blank lines, no final line end",
            (HEADER + "\r\n\r\n" + "\r\n\r\n".join(PLAIN_ROWS * 5)).encode(),
            True,
        ),
        (
            "crlf and lf mixed",
            (HEADER + "\r\n" + "\n".join(PLAIN_ROWS * 3) + "\r\n" + "\r\n".join(PLAIN_ROWS)).encode(),
            True,
        ),
        (
            "a lone carriage return later",
            (HEADER + "\r\n" + "\r\n".join(PLAIN_ROWS * 5) + "\r" + "\r\n".join(PLAIN_ROWS)).encode(),
            False,
        ),
        (
            "carriage return then crlf",
            (HEADER + "\n" + "\n".join(PLAIN_ROWS * 5) + "\r\r\n" + "\n".join(PLAIN_ROWS)).encode(),
            False,
        ),
    ],
)
def test_windows_line_ends_are_plain_lines(tmp_path, fallbacks, monkeypatch, name, data, plain):
    monkeypatch.setattr(csvio, "_PLAIN_BLOCK_BYTES", 200)
    starts: list[int | None] = []
    real_arrow = csvio._arrow_pieces
    monkeypatch.setattr(
        csvio, "_arrow_pieces", lambda path, header, start: starts.append(start) or real_arrow(path, header, start)
    )
    fast, ref, _ = _both(tmp_path, data, chunk_rows=6)
    assert fast == ref, name
    assert fallbacks == [], name
    assert (starts == []) == plain, (name, starts)
    if not plain:
        assert starts[0] is not None and starts[0] > 200  # the blocks before the "\r" were plain


@pytest.mark.parametrize("block", [128, 4 << 20])
def test_a_quote_on_the_last_line_without_line_end(tmp_path, fallbacks, monkeypatch, block):
    monkeypatch.setattr(csvio, "_PLAIN_BLOCK_BYTES", block)
    data = ("\n".join([HEADER, *PLAIN_ROWS * 3, '99,1,400,9,75,,,,,"last, quoted"'])).encode()
    fast, ref, calls = _both(tmp_path, data, chunk_rows=10)
    assert fast == ref
    assert fallbacks == []
    assert calls[-1] == (len(PLAIN_ROWS) * 3 + 1, None)
