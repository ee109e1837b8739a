"""`crecer import children FILE`: valid rows stored, bad rows rejected with reasons, idempotent re-import."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crecer.audit.models import Action, AuditEvent
from crecer.imports.models import ImportBatch, RejectedRow
from crecer.registry.models import CaregiverLink, Child

HEADER = "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,territory_code"
GOOD_ROWS = [
    "A1,Agustín,González,Muñoz,M,2023-05-01,12.345.678-5,,CL01001",
    "A2,María José,Núñez,,F,2024-11-30,,,CL01002",
    "A3,Benjamín,Rojas,Soto,M,2022-01-15,10000013-K,15.432.876-9,CL02001",
]
BAD_ROWS = [
    "B1,Pedro,Díaz,Silva,M,2023-01-01,12.345.678-9,,CL01001",  # check digit
    "B2,Ana,Soto,Vera,F,2999-01-01,,,CL01001",  # future birth date
    "B3,Luis,Vega,Mora,M,2023-01-01,,,CL77",  # unknown territory
    "B4,,Vega,Mora,M,2023-01-01,,,CL01001",  # no given names
    "A1,Agustín,González,Muñoz,M,2023-05-01,12.345.678-5,,CL01001",  # external id repeated in the file
    "B6,Rosa,Paz,Luna,F,2023-01-01,12.345.678-5,,CL01001",  # document already used by A1
    "B7,Eva,Paz,Luna,F,2023-01-01,,12,CL01001",  # the mother's document is no document at all
    "B8,too,few,fields",
]


def _write(tmp_path: Path, rows: list[str], name: str = "children.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _run(path: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import", "children", str(path), "--quiet", *extra, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def mother(make_mother):
    return make_mother()


def test_good_file_loads_with_exit_zero(tmp_path, mother):
    code, out = _run(_write(tmp_path, GOOD_ROWS))
    assert code == 0
    assert Child.unscoped.count() == 3
    a3 = Child.unscoped.get(external_id="A3")
    assert CaregiverLink.unscoped.get(child=a3, relationship="mother").caregiver == mother
    assert Child.unscoped.get(external_id="A2").given_names == "María José"
    assert AuditEvent.objects.filter(action=Action.CREATE, entity="registry.child").count() == 3
    assert "3" in out


def test_bad_rows_are_rejected_and_the_rest_loads(tmp_path, mother):
    path = _write(tmp_path, GOOD_ROWS + BAD_ROWS)
    code, out = _run(path)
    assert code == 3
    assert set(Child.unscoped.values_list("external_id", flat=True)) == {"A1", "A2", "A3"}
    rejected = {r.line: r for r in RejectedRow.objects.all()}
    assert len(rejected) == len(BAD_ROWS)
    fields = {line: set(r.errors) for line, r in rejected.items()}
    assert fields[5] == {"national_id"}
    assert fields[6] == {"birth_date"}
    assert fields[7] == {"territory_code"}
    assert fields[8] == {"given_names"}
    assert fields[9] == {"external_id"}
    assert rejected[10].errors["national_id"][0]["code"] == "duplicate"
    assert fields[11] == {"mother_national_id"}
    assert fields[12] == {"row"}
    # The command lists each rejected row with its line and reason.
    assert "line 5" in out or "línea 5" in out
    report = path.with_name("children.rejected.csv")
    with report.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["external_id"] for r in rows][:2] == ["B1", "B2"]
    assert all(r["error"] for r in rows)
    batch = ImportBatch.objects.get()
    assert (batch.rows, batch.created, batch.rejected) == (len(GOOD_ROWS + BAD_ROWS), 3, len(BAD_ROWS))


def test_reimport_creates_no_duplicates(tmp_path, mother):
    path = _write(tmp_path, GOOD_ROWS)
    assert _run(path)[0] == 0
    numbers = dict(Child.unscoped.values_list("external_id", "registry_number"))
    assert _run(path)[0] == 0
    assert Child.unscoped.count() == 3
    assert dict(Child.unscoped.values_list("external_id", "registry_number")) == numbers
    second = ImportBatch.objects.order_by("-pk").first()
    assert (second.created, second.unchanged) == (0, 3)


def test_reimport_with_a_change_updates_and_audits(tmp_path, mother):
    _run(_write(tmp_path, GOOD_ROWS))
    changed = [GOOD_ROWS[0].replace("Agustín", "Agustín Ignacio"), *GOOD_ROWS[1:]]
    assert _run(_write(tmp_path, changed, "v2.csv"))[0] == 0
    child = Child.unscoped.get(external_id="A1")
    assert child.given_names == "Agustín Ignacio"
    event = AuditEvent.objects.get(child_id=child.pk, action=Action.UPDATE)
    # The same event as a change made on the child's page: every column that changed, the search name too.
    assert event.before == {"given_names": "Agustín", "search_name": "agustin gonzalez munoz"}
    assert event.after == {"given_names": "Agustín Ignacio", "search_name": "agustin ignacio gonzalez munoz"}


def test_corrected_report_can_be_imported_again(tmp_path, mother):
    path = _write(tmp_path, GOOD_ROWS + BAD_ROWS[:1])
    assert _run(path)[0] == 3
    report = path.with_name("children.rejected.csv")
    text = report.read_text(encoding="utf-8").replace("12.345.678-9", "24.965.885-5")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text, encoding="utf-8")
    assert _run(fixed)[0] == 0
    assert Child.unscoped.get(external_id="B1").national_id == "24965885-5"


def test_missing_columns_stop_the_import(tmp_path, country):
    path = tmp_path / "bad.csv"
    path.write_text("external_id,given_names\nX1,Ana\n", encoding="utf-8")
    with pytest.raises(CommandError, match="paternal_surname"):
        call_command("import", "children", str(path), "--quiet")
    assert not Child.unscoped.exists()


def test_not_utf8_is_a_clear_error(tmp_path, country):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nA1,Agustín,González,Muñoz,M,2023-05-01,,,CL01001\n").encode("latin-1"))
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("import", "children", str(path), "--quiet")
    assert not Child.unscoped.exists()


def test_semicolon_csv_and_bom(tmp_path, country):
    path = tmp_path / "excel.csv"
    path.write_text(
        "\ufeff" + "\n".join(line.replace(",", ";") for line in [HEADER, GOOD_ROWS[1]]) + "\n", encoding="utf-8"
    )
    assert _run(path)[0] == 0
    assert Child.unscoped.get(external_id="A2").paternal_surname == "Núñez"


def test_excel_file(tmp_path, country):
    import datetime as dt

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    born = dt.datetime(2023, 2, 3)  # noqa: DTZ001 - Excel cells carry no time zone
    sheet.append(["X1", "Florencia", "Tapia", "Araya", "F", born, "", "", "CL01001"])
    path = tmp_path / "children.xlsx"
    workbook.save(path)
    assert _run(path)[0] == 0
    assert str(Child.unscoped.get(external_id="X1").birth_date) == "2023-02-03"


def test_import_as_a_user_is_limited_to_their_territory(tmp_path, cast, mother):
    code, _ = _run(_write(tmp_path, GOOD_ROWS), "--as-user", "coord_alta")
    assert code == 3
    # A1 (Alta) loads; A2 (Baja) and A3 (Austral) are outside the coordinator's municipality.
    assert list(Child.unscoped.values_list("external_id", flat=True)) == ["A1"]
    assert {r.errors["territory_code"][0]["code"] for r in RejectedRow.objects.all()} == {"out_of_scope"}


def test_batches_can_be_made_smaller_for_a_moving_progress_bar(tmp_path, mother):
    """The web imports in batches of WEB_BATCH rows (the command line in larger ones): the progress
    callback runs after each batch, and a document used in an earlier batch is still caught."""
    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor
    from crecer.imports.framework import LARGE_BATCH, WEB_BATCH, run_import

    assert WEB_BATCH < LARGE_BATCH
    rows = [*GOOD_ROWS, "B6,Rosa,Paz,Luna,F,2023-01-01,12.345.678-5,,CL01001"]  # A1's document, batch 2
    calls = []
    result = run_import(
        "children",
        _write(tmp_path, rows),
        Actor(None, Channel.CLI),
        progress=lambda done, estimate: calls.append(done),
        batch_rows=2,
    )
    assert calls == [2, 4, 4]  # after each batch of two rows, then once at the end
    assert result.created == 3 and [r.line for r in result.rejected] == [5]
