"""Territory tree of any depth from configuration; loading from CSV (code,name,level,parent_code)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from crecer.imports.models import RejectedRow
from crecer.territories.models import Territory

TREE = """code,name,level,parent_code
CL01001,Comuna Alta,municipality,CL01
CL,Chile sintético,nation,
CL01,Región Norte,region,CL
CL01002,Comuna Baja,municipality,CL01
"""


def _import(tmp_path, text, name="territories.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    try:
        call_command("import", "territories", str(path), "--quiet", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_rows_in_any_order_build_the_tree(tmp_path, db):
    assert _import(tmp_path, TREE)[0] == 0
    alta = Territory.objects.get(code="CL01001")
    assert alta.path == "CL/CL01/CL01001/" and alta.depth == 2 and alta.parent.code == "CL01"
    assert list(Territory.objects.subtree(Territory.objects.get(code="CL01")).values_list("code", flat=True)) == [
        "CL01",
        "CL01001",
        "CL01002",
    ]
    assert [t.code for t in alta.ancestors()] == ["CL", "CL01"]


def test_reimport_is_idempotent_and_renames(tmp_path, db):
    _import(tmp_path, TREE)
    assert _import(tmp_path, TREE.replace("Comuna Baja", "Comuna Baja Sur"), "v2.csv")[0] == 0
    assert Territory.objects.count() == 4
    assert Territory.objects.get(code="CL01002").name == "Comuna Baja Sur"


@pytest.mark.parametrize(
    ("row", "field", "code"),
    [
        ("CL09,Región X,province,CL", "level", "unknown"),
        ("CL09,Región X,region,", "parent_code", "required"),
        ("CL09,Región X,region,CL99", "parent_code", "unknown"),
        ("CL01009,Comuna X,municipality,CL", "parent_code", "wrong_level"),
        ("CL09,,region,CL", "name", "required"),
        ("CL2,Otro país,nation,", "level", "second_root"),
    ],
)
def test_bad_rows(tmp_path, db, row, field, code):
    _import(tmp_path, TREE)
    status, _ = _import(tmp_path, "code,name,level,parent_code\n" + row + "\n", "bad.csv")
    assert status == 3
    errors = RejectedRow.objects.get().errors
    assert code in [e["code"] for e in errors[field]]
    assert Territory.objects.count() == 4


def test_level_names_come_from_the_profile(tmp_path, db):
    with override_settings(CRECER_PROFILE="pe"):
        status, _ = _import(
            tmp_path,
            "code,name,level,parent_code\nPE,Perú,nation,\nPE15,Lima,region,PE\nPE1501,Lima,province,PE15\nPE150101,Lima,district,PE1501\n",
        )
        assert status == 0
        district = Territory.objects.get(code="PE150101")
        assert district.depth == 3 and district.level_name in ("Distrito", "District")


def test_facilities_and_organisations(tmp_path, db):
    _import(tmp_path, TREE)
    path = tmp_path / "facilities.csv"
    path.write_text(
        "code,name,kind,territory_code\nF1,CESFAM Uno,health_centre,CL01001\nF2,Jardín,daycare,CL01001\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exc:
        call_command("import", "facilities", str(path), "--quiet", stdout=io.StringIO())
    assert exc.value.code == 3
    assert RejectedRow.objects.get().errors["kind"][0]["code"] == "invalid_choice"
    org = tmp_path / "organisations.csv"
    org.write_text("code,name,sector,territory_code\nOPD1,OPD Alta,child_protection,CL01001\n", encoding="utf-8")
    call_command("import", "organisations", str(org), "--quiet", stdout=io.StringIO())
    from crecer.territories.models import Organisation

    assert Organisation.objects.get(code="OPD1").territory.code == "CL01001"
