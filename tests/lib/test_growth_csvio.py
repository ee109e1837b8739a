"""crecer.lib.growth.csvio.process_csv: the batch z-score file contract."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from crecer.lib.growth import zscores
from crecer.lib.growth.csvio import OUTPUT_COLUMNS, CsvSummary, process_csv

HEADER = "id,sex,age_days,weight_kg,length_cm,measure,oedema,head_cm,note"
GOOD = [
    # WHO's anthro README example rows (z-scores 7.31/2.20/-2.39/-3.01 and -3.50/0.95/4.13/4.66 by WHO).
    '1,1,1001,18,120,,,,"plain, with a comma"',
    "2,2,1000,15,80,,,,",
    "3,F,400,9.5,74.2,l,n,45.1,",
    "4,m,3000,25,125,h,,,school age",
    "5,1,100,6,60,l,y,40,oedema",
    "6,2,,10,80,,,,no age",
]
BAD = [
    "7,1,300,abc,70,l,n,,",
    "8,X,300,8,70,l,n,,",
    "9,1,-3,8,70,l,n,,",
    "10,1,300,8,70,s,maybe,,",
    "11,,300,-8,0,,,,",
    "12,1,300,8",
]


def _write(path: Path, lines: list[str], bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def result(tmp_path: Path) -> tuple[CsvSummary, list[dict[str, str]], list[str]]:
    src = _write(tmp_path / "in.csv", [HEADER, *GOOD[:3], *BAD, *GOOD[3:]], bom=True)
    out = tmp_path / "out.csv"
    summary = process_csv(src, out)
    with out.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    return summary, _read(out), header


def test_columns_order_and_summary(result):
    summary, rows, header = result
    assert header == [*HEADER.split(","), *OUTPUT_COLUMNS]  # no BOM left on the first column name
    assert summary == CsvSummary(rows=12, errors=6)
    assert [r["id"] for r in rows] == ["1", "2", "3", "7", "8", "9", "10", "11", "12", "4", "5", "6"]


def test_carried_columns_are_unchanged(result):
    _, rows, _ = result
    assert rows[0]["note"] == "plain, with a comma"
    assert rows[9]["note"] == "school age"
    assert rows[2]["measure"] == "l" and rows[2]["head_cm"] == "45.1"


def test_values_are_who_values_with_two_decimals(result):
    _, rows, _ = result
    r1, r2 = rows[0], rows[1]
    assert (r1["z_lhfa"], r1["z_wfa"], r1["z_wflh"], r1["z_bmi"]) == ("7.31", "2.20", "-2.39", "-3.01")
    assert (r1["flag_lhfa"], r1["flag_wfa"], r1["flag_wflh"], r1["flag_bmi"]) == ("1", "0", "0", "0")
    assert (r2["z_lhfa"], r2["z_wfa"], r2["z_wflh"], r2["z_bmi"]) == ("-3.50", "0.95", "4.13", "4.66")
    assert r1["error"] == "" and r1["z_hcfa"] == ""


def test_rows_agree_with_the_library(result):
    _, rows, _ = result
    r3 = rows[2]
    lib = zscores("F", 400, 9.5, 74.2, measure="l", oedema="n", head_cm=45.1, decimals=2)
    for name in ("wfa", "lhfa", "wflh", "bmi", "hcfa"):
        assert float(r3[f"z_{name}"]) == pytest.approx(float(lib[f"z_{name}"]))


def test_missing_values_are_empty_not_zero(result):
    _, rows, _ = result
    school, oedema, no_age = rows[9], rows[10], rows[11]
    assert school["z_wflh"] == "" and school["flag_wflh"] == "" and school["z_lhfa"] != ""
    assert oedema["z_wfa"] == oedema["z_wflh"] == oedema["z_bmi"] == "" and oedema["z_lhfa"] != ""
    assert oedema["flag_wfa"] == "" and oedema["error"] == ""
    assert no_age["z_wfa"] == "" and no_age["z_wflh"] != ""  # weight-for-length needs no age


def test_bad_rows_get_a_message_naming_the_field(result):
    _, rows, _ = result
    errors = {r["id"]: r["error"] for r in rows if r["error"]}
    assert errors["7"] == "weight_kg: not a number ('abc')"
    assert errors["8"] == "sex: 'X' is not 1/2 or M/F"
    assert errors["9"] == "age_days: must be >= 0 ('-3')"
    assert errors["10"] == "measure: 's' is not l, h or empty; oedema: 'maybe' is not y, n or empty"
    assert "sex: missing" in errors["11"] and "weight_kg: must be > 0" in errors["11"]
    assert "length_cm: must be > 0" in errors["11"]
    assert errors["12"].startswith("row has 4 fields, the header has 9")
    for r in rows:
        if r["error"]:
            assert all(r[c] == "" for c in OUTPUT_COLUMNS if c != "error"), r["id"]


def test_chunking_does_not_change_the_output(tmp_path):
    lines = [HEADER, *GOOD, *BAD]
    src = _write(tmp_path / "in.csv", lines)
    whole, small = tmp_path / "whole.csv", tmp_path / "small.csv"
    calls: list[tuple[int, int | None]] = []
    process_csv(src, whole)
    process_csv(src, small, progress=lambda done, total: calls.append((done, total)), chunk_rows=5)
    assert whole.read_bytes() == small.read_bytes()
    assert calls == [(5, None), (10, None), (12, None)]


def test_optional_columns_may_be_absent_and_names_are_lenient(tmp_path):
    src = _write(tmp_path / "in.csv", [" Sex ,AGE_DAYS,weight_kg,length_cm", "1,1001,18,120", "2,500,,"])
    out = tmp_path / "out.csv"
    process_csv(src, out)
    rows = _read(out)
    assert rows[0]["z_lhfa"] == "7.31" and rows[0]["error"] == ""
    assert rows[1]["z_wfa"] == "" and rows[1]["error"] == ""  # empty measurements are not errors


def test_missing_required_column_is_a_file_error(tmp_path):
    src = _write(tmp_path / "in.csv", ["sex,age_days,weight_kg", "1,100,5"])
    with pytest.raises(ValueError, match="length_cm"):
        process_csv(src, tmp_path / "out.csv")


def test_existing_output_columns_are_replaced(tmp_path):
    src = _write(tmp_path / "in.csv", ["sex,age_days,weight_kg,length_cm,z_wfa,error", "1,1001,18,120,99,old"])
    process_csv(src, tmp_path / "out.csv")
    rows = _read(tmp_path / "out.csv")
    assert list(rows[0]) == ["sex", "age_days", "weight_kg", "length_cm", *OUTPUT_COLUMNS]
    assert rows[0]["z_wfa"] == "2.20" and rows[0]["error"] == ""


def test_extreme_and_blank_lines(tmp_path):
    src = _write(tmp_path / "in.csv", [HEADER, "1,2,10,10,,,,,", "", "2,1,300,8, 70 ,l,n,,"])
    summary = process_csv(src, tmp_path / "out.csv")
    rows = _read(tmp_path / "out.csv")
    assert summary.rows == 2  # the blank line is not a row
    assert rows[0]["z_wfa"] == "10.46" and rows[0]["flag_wfa"] == "1"  # WHO: 10.46, flagged
    assert rows[1]["error"] == "" and rows[1]["z_lhfa"] != ""  # spaces around a number are fine
    assert np.isfinite(float(rows[1]["z_lhfa"]))
