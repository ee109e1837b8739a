"""Every CSV and Excel file we write is safe to open: formula injection is neutralised (OWASP: a text
cell starting with =, +, -, @, tab or carriage return gets a leading single quote; numbers stay numbers),
and no stored value — NUL, other control characters, a lone surrogate — can make an export fail. Each
export path is tried with such data: the children's list, the worklists, the indicator ranking, the
rejected rows (web download and the file the command writes); the duplicates file in test_dedup_runs.py."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from crecer.core.downloads import safe_cell
from crecer.imports.models import ImportBatch, ImportUpload, UploadStatus
from crecer.registry.models import Child
from crecer.territories.models import Territory

#: what a record may hold (stored before names were checked, or arriving through a path that does not check)
EVIL = '=HYPERLINK("http://x","y")'
# A lone surrogate cannot be stored (both databases refuse it), nor can NUL on PostgreSQL: SQLite keeps it.
NASTY = "Ana{nul}\x01\x1b María\x0b"


def _nul() -> str:
    return "\x00" if connection.vendor == "sqlite" else "\x02"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+56 9 1234", "'+56 9 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("María", "María"),
        ("a=b", "a=b"),
        ("-1.25", "-1.25"),  # a plain number written as text holds no formula
        ("+3", "+3"),
        ("Ana\x00B", "Ana\ufffdB"),
        ("x\ud800", "x\ufffd"),
        ("line\nbreak", "line\nbreak"),
        (None, ""),
    ],
)
def test_a_cell_is_made_safe(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize("value", [-2.5, -3, 0, decimal.Decimal("-1.5"), dt.date(2024, 1, 2), True])
def test_numbers_and_dates_stay_as_they_are(value):
    assert safe_cell(value) == value


def test_an_aware_datetime_goes_to_excel_as_local_time():
    value = dt.datetime(2024, 1, 2, 12, 0, tzinfo=dt.UTC)
    assert safe_cell(value).tzinfo is None


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _csv(response):
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(response):
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def _cells(rows):
    return [c for row in rows for c in row if isinstance(c, str)]


def _assert_safe(cells):
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell.lstrip("+-").replace(".", "").isdigit()
        assert "\x00" not in cell and "\x01" not in cell


@pytest.fixture
def tainted(make_child, today):
    """Two children whose stored names hold a formula and control characters (written past the checks)."""
    a = make_child(given_names="Agustín", facility_code="F-ALTA", birth_date=(today - dt.timedelta(days=4)).isoformat())
    b = make_child(given_names="Rosa", facility_code="F-ALTA", birth_date=(today - dt.timedelta(days=4)).isoformat())
    Child.unscoped.filter(pk=a.pk).update(given_names=EVIL)
    Child.unscoped.filter(pk=b.pk).update(given_names=NASTY.format(nul=_nul()), paternal_surname="-Muñoz")
    return a, b


@pytest.mark.parametrize("who", ["nurse_alta", "coordinator_alta", "regional_norte", "national"])
def test_the_children_exports(cast, tainted, who):
    client = _client(cast[who])
    rows = _csv(client.get("/children/export.csv"))
    sheet = _xlsx(client.get("/children/export.xlsx"))
    for table in (rows, sheet):
        given = {r[1] for r in table[1:]}
        assert given == {"'" + EVIL, "Ana\ufffd\ufffd\ufffd María\ufffd"}
        assert {r[2] for r in table[1:]} == {"Muñoz", "'-Muñoz"}
        _assert_safe(_cells(table))


def test_the_worklist_exports(cast, tainted):
    client = _client(cast["nurse_alta"])
    for tab in ("week", "due", "overdue", "upcoming"):
        rows = _csv(client.get("/worklists/export.csv", {"tab": tab}))
        sheet = _xlsx(client.get("/worklists/export.xlsx", {"tab": tab}))
        if len(rows) > 1:
            break
    names = {r[1] for r in rows[1:]}
    assert any(n.startswith("'=HYPERLINK") for n in names), names
    assert any("\ufffd" in n for n in names), names
    assert {r[1] for r in sheet[1:]} == names
    _assert_safe(_cells(rows) + _cells(sheet))


def test_the_indicator_ranking_exports(cast, country):
    Territory.objects.filter(code="CL01001").update(name="=cmd|' /C calc'!A0")
    Territory.objects.filter(code="CL01002").update(name=f"Baja{_nul()}\x07")
    client = _client(cast["regional_norte"])
    rows = _csv(client.get("/monitoring/stunting_u5/export.csv", {"period": "2025"}))
    sheet = _xlsx(client.get("/monitoring/stunting_u5/export.xlsx", {"period": "2025"}))
    for table in (rows, sheet):
        assert {r[2] for r in table[1:]} == {"'=cmd|' /C calc'!A0", "Baja\ufffd\ufffd"}
        _assert_safe(_cells(table))


REJECTED = (
    "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,"
    "mother_national_id,territory_code\n"
    '=1+2,"=HYPERLINK(""http://x"")",@Paz,-Luna,F,2999-01-01,,,CL01001\n'
    "B2,Rosa\u200b,Paz,,F,2023-01-01,,,CL01001\n"
)


def test_the_rejected_rows_file_of_the_command(tmp_path, country):
    path = tmp_path / "children.csv"
    path.write_text(REJECTED, encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("import", "children", str(path), "--quiet", stdout=io.StringIO())
    with (tmp_path / "children.rejected.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][:4] == ["'=1+2", '\'=HYPERLINK("http://x")', "'@Paz", "'-Luna"]
    _assert_safe(_cells(rows))


def test_the_rejected_rows_download(cast, tmp_path, country):
    path = tmp_path / "children.csv"
    path.write_text(REJECTED, encoding="utf-8")
    with pytest.raises(SystemExit):
        call_command("import", "children", str(path), "--quiet", "--as-user", "coord_alta", stdout=io.StringIO())
    batch = ImportBatch.objects.get()
    header = REJECTED.splitlines()[0].split(",")
    upload = ImportUpload.objects.create(
        user=cast["coordinator_alta"],
        kind="children",
        original_name="children.csv",
        stored_name="x.csv",
        columns=header,
        status=UploadStatus.DONE,
        batch=batch,
    )
    rows = _csv(_client(cast["coordinator_alta"]).get(f"/imports/{upload.pk}/rejected.csv"))
    assert rows[1][:4] == ["'=1+2", '\'=HYPERLINK("http://x")', "'@Paz", "'-Luna"]
    _assert_safe(_cells(rows))
