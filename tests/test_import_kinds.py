"""Every kind the import framework registers: good rows written, bad rows rejected naming the field,
rejected rows kept and written to the report, and the same file imported again changes nothing.

Then the web import: upload, preview, confirm, progress, report, rejected-rows download and who may
do what. The import runs within the request in these tests (``CRECER_IMPORT_IN_BACKGROUND = False``)
so that they are deterministic; one test runs it in the background thread as deployed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.utils import timezone

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.imports import permissions
from crecer.imports.framework import kinds, run_import
from crecer.imports.models import ImportBatch, ImportUpload, RejectedRow, UploadStatus
from crecer.monitoring.models import Target
from crecer.referrals.models import Provision, Service
from crecer.registry.models import Caregiver, CaregiverLink, Child, Household, Pregnancy
from crecer.territories.models import Facility, Organisation, Territory
from crecer.tracking.models import Delivery, Encounter, GroupMember, Measurement, ParentingGroup, Screening
from tests.conftest import SYSTEM

# --- the world the files refer to ------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _load(tmp_path: Path, kind: str, header: str, rows: list[str]) -> None:
    result = run_import(kind, _write(tmp_path, f"setup-{kind}", header, rows), SYSTEM, evaluate_risks=False)
    assert not result.rejected, [r.message() for r in result.rejected]


def _jsonable(value: dict[str, Any]) -> str:
    return '"' + json.dumps(value).replace('"', '""') + '"'


@pytest.fixture
def world(network, tmp_path, today) -> dict[str, Any]:
    """Caregivers G1 (mother) and G2 (father), child C1 (400 days old), pregnancy P1, encounters E1/E2 of
    C1, E3 of P1, E4 of C1 (no measurements yet), a parenting group GR1 that began 60 days ago."""
    birth = today - dt.timedelta(days=400)
    setup = tmp_path / "setup"
    setup.mkdir()
    _load(
        setup,
        "caregivers",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,territory_code",
        [
            "G1,Camila,Pérez,Rojas,F,1995-06-01,15.432.876-9,CL01001",
            "G2,Jorge,Muñoz,Soto,M,1990-02-03,,CL01001",
            "G3,Rosa,Díaz,Vera,F,1992-04-05,,CL02001",
        ],
    )
    _load(
        setup,
        "children",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,territory_code",
        [
            f"C1,Sofía,Muñoz,Pérez,F,{birth.isoformat()},,15.432.876-9,CL01001",
            "C2,Tomás,Díaz,Vera,M,2023-01-01,,,CL02001",
        ],
    )
    _load(
        setup,
        "pregnancies",
        "external_id,mother_external_id,lmp_date,edd_date",
        [f"P1,G1,{(today - dt.timedelta(days=100)).isoformat()},"],
    )
    _load(
        setup,
        "encounters",
        "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional",
        [
            f"E1,C1,,check_up,m2,{(birth + dt.timedelta(days=62)).isoformat()},F-ALTA,PROF-1",
            f"E2,C1,,check_up,m8,{(birth + dt.timedelta(days=245)).isoformat()},F-ALTA,PROF-1",
            f"E3,,P1,prenatal,anc1,{(today - dt.timedelta(days=95)).isoformat()},F-ALTA,PROF-2",
            f"E4,C1,,check_up,m12,{(birth + dt.timedelta(days=370)).isoformat()},F-ALTA,PROF-1",
        ],
    )
    _load(
        setup,
        "groups",
        "code,name,service_code,facility_code,start_date,planned_sessions,facilitator",
        [f"GR1,Nadie es Perfecto,parenting_programme,F-ALTA,{(today - dt.timedelta(days=60)).isoformat()},6,Ana"],
    )
    return {"birth": birth, "today": today}


# --- one case per kind ---------------------------------------------------------------------------------------


@dataclass
class Case:
    header: str
    good: list[str]
    #: (row, the field its rejection must name)
    bad: list[tuple[str, str]]
    #: the stored records of this kind (their number must grow by the good rows, then stay)
    stored: Callable[[], models.QuerySet[Any]]
    extra: dict[str, Any] = field(default_factory=dict)


def _day(w: dict[str, Any], days_after_birth: int) -> str:
    return (w["birth"] + dt.timedelta(days=days_after_birth)).isoformat()


def _ago(w: dict[str, Any], days: int) -> str:
    return (w["today"] - dt.timedelta(days=days)).isoformat()


EEDP = _jsonable({"cd": 0.72})


def _cases(w: dict[str, Any]) -> dict[str, Case]:
    return {
        "territories": Case(
            "code,name,level,parent_code",
            ["CL01003,Comuna Nueva,municipality,CL01", "CL03,Región Este,region,CL"],
            [("CL01004,Comuna Mal Puesta,municipality,CL", "parent_code"), ("CL09,Región X,province,CL", "level")],
            lambda: Territory.objects.all(),
        ),
        "facilities": Case(
            "code,name,kind,territory_code",
            ["F-NUEVA,CESFAM Nueva,health_centre,CL01001", "J-ALTA,Jardín Alta,childcare_centre,CL01001"],
            [("F-X,Algo,spaceport,CL01001", "kind"), ("F-Y,Algo,hospital,CL99", "territory_code")],
            lambda: Facility.objects.all(),
        ),
        "organisations": Case(
            "code,name,sector,territory_code",
            ["ORG-1,Oficina de Vivienda,housing,CL01001", "ORG-2,Oficina Laboral,employment,CL02001"],
            [("ORG-3,Algo,space,CL01001", "sector"), ("ORG-4,Algo,health,CL99", "territory_code")],
            lambda: Organisation.objects.all(),
        ),
        "households": Case(
            "code,territory_code,address,vulnerability_percentile",
            ["H1,CL01001,Calle Uno 123,40", "H2,CL01002,,"],
            [("H3,CL01001,,150", "vulnerability_percentile"), ("H4,CL99,,", "territory_code")],
            lambda: Household.unscoped.all(),
        ),
        "caregivers": Case(
            "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id_type,national_id,"
            "household_code,territory_code,schooling_years,phone",
            ["GX1,Ana María,Núñez,Soto,F,1990-01-01,,,,CL01001,12,", "GX2,Luis,Vega,,M,1985-07-08,,,,CL01002,,"],
            [
                ("GX3,Eva,Paz,Luna,F,2999-01-01,,,,CL01001,,", "birth_date"),
                ("GX4,Eva,Paz,Luna,X,1990-01-01,,,,CL01001,,", "sex"),
            ],
            lambda: Caregiver.unscoped.all(),
        ),
        "children": Case(
            "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,"
            "mother_national_id,territory_code",
            [
                "A1,Agustín,González,Muñoz,M,2023-05-01,12.345.678-5,,CL01001",
                "A2,María José,Núñez,,F,2024-11-30,,,CL01002",
            ],
            [
                ("B1,Pedro,Díaz,Silva,M,2023-01-01,12.345.678-9,,CL01001", "national_id"),
                ("B3,Luis,Vega,Mora,M,2023-01-01,,,CL77", "territory_code"),
            ],
            lambda: Child.unscoped.all(),
        ),
        "relationships": Case(
            "child_external_id,caregiver_external_id,relationship",
            ["C1,G2,father"],
            [("C1,G9,father", "caregiver_external_id"), ("C1,G2,uncle", "relationship")],
            lambda: CaregiverLink.unscoped.all(),
        ),
        "pregnancies": Case(
            "external_id,mother_external_id,lmp_date,edd_date,first_visit_date,first_visit_week,facility_code,"
            "outcome,outcome_date,child_external_id",
            [f"PX1,G3,{_ago(w, 60)},,{_ago(w, 50)},,F-AUSTRAL,ongoing,,"],
            [(f"PX2,G9,{_ago(w, 60)},,,,,,,", "mother_external_id"), ("PX3,G3,,,,,,,,", "edd_date")],
            lambda: Pregnancy.unscoped.all(),
        ),
        "encounters": Case(
            "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional",
            [f"EX1,C1,,check_up,m4,{_day(w, 122)},F-ALTA,PROF-1", f"EX2,,P1,prenatal,anc2,{_ago(w, 40)},F-ALTA,PROF-2"],
            [
                (f"EX3,C9,,check_up,,{_day(w, 90)},F-ALTA,", "child_external_id"),
                (f"EX4,C1,,check_up,,{_ago(w, -5)},,", "date"),
            ],
            lambda: Encounter.unscoped.all(),
        ),
        "measurements": Case(
            "encounter_external_id,weight_kg,length_cm,position,head_cm,muac_cm,oedema,haemoglobin_g_l",
            ["E1,5.4,58.5,,39.0,,n,", "E2,8.1,70.2,l,,,n,98"],
            [("E9,5.0,,,,,n,", "encounter_external_id"), ("E4,500,,,,,n,", "weight_kg")],
            lambda: Measurement.unscoped.all(),
        ),
        "screenings": Case(
            "external_id,encounter_external_id,instrument,inputs",
            [f"S1,E2,eedp,{EEDP}"],
            [("S4,E2,eedp,not json", "inputs"), (f"S5,E2,nope,{EEDP}", "instrument")],
            lambda: Screening.unscoped.all(),
        ),
        "deliveries": Case(
            "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,"
            "encounter_external_id,detail",
            [
                f"D1,welcome_kit,C1,,{_day(w, 62)},F-ALTA,E1,",
                f"D2,stimulation_session,C1,,{_day(w, 260)},F-ALTA,,sesión 1",
            ],
            [
                (f"D3,parenting_programme,C1,,{_day(w, 260)},F-ALTA,,", "caregiver_external_id"),
                (f"D4,nope,C1,,{_day(w, 260)},,,", "service_code"),
            ],
            lambda: Delivery.unscoped.all(),
        ),
        "groups": Case(
            "code,name,service_code,facility_code,start_date,planned_sessions,facilitator",
            [f"GRX,Taller de crianza,parenting_programme,F-ALTA,{_ago(w, 30)},6,Luis"],
            [
                (f"GRY,Otro,welcome_kit,F-ALTA,{_ago(w, 30)},6,", "service_code"),
                (f"GRZ,Otro,parenting_programme,F-NOPE,{_ago(w, 30)},6,", "facility_code"),
            ],
            lambda: ParentingGroup.unscoped.all(),
        ),
        "group_members": Case(
            "group_code,caregiver_external_id,child_external_id,attended",
            ["GR1,G1,C1,1;2;3", "GR1,G2,,1"],
            [("GR9,G1,,1", "group_code"), ("GR1,G3,,9", "attended")],
            lambda: GroupMember.unscoped.all(),
        ),
        "services": Case(
            "code,name_es,name_en,sector,axis,universal,eligibility_es,eligibility_en,acceptance_days,attention_days,active",
            ["cooking_workshop,Taller de alimentación,Feeding workshop,health,health_nutrition,no,,,4,20,yes"],
            [
                ("bad_sector,Malo,Bad,space,health_nutrition,no,,,4,20,yes", "sector"),
                ("bad_days,Malo,Bad,health,health_nutrition,no,,,400,20,yes", "acceptance_days"),
            ],
            lambda: Service.objects.all(),
        ),
        "providers": Case(
            "organisation_code,organisation_name,sector,territory_code,service_code,territories,monthly_capacity",
            ["ORG-NUT,Centro de Nutrición,health,CL01001,home_visit,CL01001;CL01002,40"],
            [
                ("ORG-X,Otra,health,CL01001,spa,CL01001,", "service_code"),
                ("ORG-Y,Otra,health,CL01001,home_visit,CL99,", "territories"),
            ],
            lambda: Provision.objects.all(),
        ),
        "targets": Case(
            "indicator,territory_code,period,baseline,target",
            ["welcome_kit,CL01001,2025,60,80", "welcome_kit,CL01,2025-Q2,55,75"],
            [("nope,CL01001,2025,1,2", "indicator"), ("welcome_kit,CL01001,2025-13,1,2", "period")],
            lambda: Target.objects.all(),
        ),
    }


def test_every_registered_kind_has_a_case_and_a_web_permission(world):
    assert set(_cases(world)) == set(kinds())
    assert set(permissions.KINDS) == set(kinds())


def _changes() -> int:
    return AuditEvent.objects.filter(action__in=(Action.CREATE, Action.UPDATE)).count()


@pytest.mark.parametrize("kind", kinds())
def test_kind_good_and_bad_rows_then_idempotent_reimport(kind, world, tmp_path):
    case = _cases(world)[kind]
    rows = case.good + [row for row, _field in case.bad]
    path = _write(tmp_path, kind, case.header, rows)
    report = tmp_path / f"{kind}.rejected.csv"
    before = case.stored().count()

    result = run_import(kind, path, SYSTEM, report_path=report)

    # Good rows written, bad rows rejected naming the field at fault.
    assert (result.created, result.updated, result.unchanged) == (len(case.good), 0, 0), [
        r.message() for r in result.rejected
    ]
    assert case.stored().count() == before + len(case.good)
    bad_lines = {2 + len(case.good) + i: wanted for i, (_row, wanted) in enumerate(case.bad)}
    assert sorted(r.line for r in result.rejected) == sorted(bad_lines)
    assert all(bad_lines[r.line] in r.errors for r in result.rejected), {r.line: r.message() for r in result.rejected}
    # Kept in the database with their batch …
    stored = RejectedRow.objects.filter(batch_id=result.batch_id).order_by("line")
    assert [r.line for r in stored] == sorted(bad_lines)
    assert all(bad_lines[r.line] in r.errors for r in stored)
    # … and written to the report, as they came plus line and error, ready to correct and import again.
    with report.open(encoding="utf-8") as fh:
        written = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in written] == sorted(bad_lines)
    header = case.header.split(",")
    for r, (raw, wanted) in zip(written, case.bad, strict=True):
        assert [r[h] for h in header] == next(csv.reader([raw]))
        assert f"{wanted}: " in r["error"]
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert (batch.rows, batch.created, batch.rejected) == (len(rows), len(case.good), len(case.bad))

    # The same file again: nothing created or changed, the good rows counted unchanged.
    changes, count = _changes(), case.stored().count()
    again = run_import(kind, path, SYSTEM, report_path=report)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(case.good)), [
        r.message() for r in again.rejected
    ]
    assert len(again.rejected) == len(case.bad)
    assert case.stored().count() == count
    assert _changes() == changes


# --- importers and the importing user's territory ------------------------------------------------------------
# Each row below is imported by the coordinator of Comuna Alta (CL01001) and touches a record of Comuna
# Austral (CL02001): it must be rejected and change nothing, by the importers themselves (the command
# line) and by the web import, which refuses the whole file before importing (see
# crecer.imports.permissions).

ENC_HEADER = "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional"
OUTSIDE: dict[str, tuple[str, str, Callable[[dict[str, Any]], list[str]], str]] = {
    # kind: (header, what the row would do, rows, the field the web refusal names)
    "children": (
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code",
        "moves C2 of Austral into Alta",
        lambda w: ["C2,Tomás,Díaz,Vera,M,2023-01-01,,,CL01001"],
        "external_id",
    ),
    "caregivers": (
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,territory_code",
        "moves G3 of Austral into Alta",
        lambda w: ["G3,Rosa,Díaz,Vera,F,1992-04-05,CL01001"],
        "external_id",
    ),
    "households": (
        "code,territory_code,address,vulnerability_percentile",
        "moves household HS of Austral into Alta",
        lambda w: ["HS,CL01001,Calle Sur 1,30"],
        "code",
    ),
    "relationships": (
        "child_external_id,caregiver_external_id,relationship",
        "links G3 of Austral to a child of Alta",
        lambda w: ["C1,G3,guardian"],
        "caregiver_external_id",
    ),
    "encounters": (
        ENC_HEADER,
        "changes ES1 of Austral's C2 by naming C1 of Alta",
        lambda w: [f"ES1,C1,,check_up,,{_day(w, 100)},F-ALTA,OTRA"],
        "external_id",
    ),
    "deliveries": (
        "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,encounter_external_id,detail",
        "gives G3 of Austral a caregiver service through a child of Alta",
        lambda w: [f"DX,parenting_programme,C1,G3,{_ago(w, 3)},,,"],
        "caregiver_external_id",
    ),
    "group_members": (
        "group_code,caregiver_external_id,child_external_id,attended",
        "adds G1 of Alta to a group that meets in Austral",
        lambda w: ["GRS,G1,,1"],
        "group_code",
    ),
    "pregnancies": (
        "external_id,mother_external_id,lmp_date,edd_date",
        "gives PS of Austral's G3 to G1 of Alta",
        lambda w: [f"PS,G1,{_ago(w, 40)},"],
        "external_id",
    ),
}


@pytest.fixture
def austral(world, tmp_path) -> dict[str, Any]:
    """Records of Comuna Austral: household HS, encounter ES1 of C2, group GRS, pregnancy PS of G3."""
    setup = tmp_path / "austral"
    setup.mkdir()
    _load(setup, "households", "code,territory_code,address,vulnerability_percentile", ["HS,CL02001,Calle Sur 1,30"])
    _load(setup, "encounters", ENC_HEADER, ["ES1,C2,,check_up,,2024-01-01,F-AUSTRAL,PROF-S"])
    _load(
        setup,
        "groups",
        "code,name,service_code,facility_code,start_date,planned_sessions,facilitator",
        [f"GRS,Grupo Sur,parenting_programme,F-AUSTRAL,{_ago(world, 30)},6,"],
    )
    _load(setup, "pregnancies", "external_id,mother_external_id,lmp_date,edd_date", [f"PS,G3,{_ago(world, 50)},"])
    return world


def _state() -> tuple[Any, ...]:
    return (
        list(Child.unscoped.order_by("pk").values_list("territory_id", "given_names")),
        list(Caregiver.unscoped.order_by("pk").values_list("territory_id", "given_names")),
        list(Household.unscoped.order_by("pk").values_list("territory_id", "address")),
        CaregiverLink.unscoped.count(),
        list(Encounter.unscoped.order_by("pk").values_list("child_id", "date", "professional_name")),
        Delivery.unscoped.count(),
        GroupMember.unscoped.count(),
        list(Pregnancy.unscoped.order_by("pk").values_list("mother_id", "lmp_date")),
    )


@pytest.mark.parametrize("kind", sorted(OUTSIDE))
def test_importers_refuse_records_of_another_territory(kind, austral, cast, tmp_path):
    header, _what, rows, _field = OUTSIDE[kind]
    before = _state()
    actor = Actor(cast["coordinator_alta"], Channel.CLI)
    result = run_import(kind, _write(tmp_path, kind, header, rows(austral)), actor)
    assert result.created + result.updated == 0
    assert _state() == before


def test_a_group_code_of_another_territory_is_refused_not_unchanged(austral, cast, tmp_path):
    """A groups file naming the code of a group meeting in Austral is refused beside the code (as a household
    of another territory is), not counted as unchanged; the same code imported by the system is unchanged."""
    header = "code,name,service_code,facility_code,start_date,planned_sessions,facilitator"
    row = f"GRS,Otro grupo,parenting_programme,F-ALTA,{_ago(austral, 10)},4,"
    result = run_import(
        "groups", _write(tmp_path, "groups", header, [row]), Actor(cast["coordinator_alta"], Channel.CLI)
    )
    assert (result.created, result.unchanged) == (0, 0)
    assert [r.errors["code"][0]["code"] for r in result.rejected] == ["other_territory"]
    assert ParentingGroup.unscoped.get(code="GRS").name == "Grupo Sur"
    assert run_import("groups", _write(tmp_path, "groups-system", header, [row]), SYSTEM).unchanged == 1


def test_reimported_encounter_keeps_its_assigned_contact(world, tmp_path):
    path = _write(tmp_path, "enc", ENC_HEADER, [f"EA1,C1,,check_up,,{_day(world, 182)},F-ALTA,PROF-1"])
    run_import("encounters", path, SYSTEM)
    assigned = Encounter.unscoped.get(external_id="EA1").contact_code
    again = run_import("encounters", path, SYSTEM)
    assert assigned and Encounter.unscoped.get(external_id="EA1").contact_code == assigned
    assert (again.updated, again.unchanged) == (0, 1)


def test_provider_without_organisation_name_is_rejected(network, tmp_path):
    header = "organisation_code,organisation_name,sector,territory_code,service_code,territories,monthly_capacity"
    result = run_import(
        "providers", _write(tmp_path, "p", header, ["NONAME,,health,CL01001,home_visit,CL01001,"]), SYSTEM
    )
    assert result.created == 0 and len(result.rejected) == 1
    assert set(result.rejected[0].errors) == {"organisation_name"}


# --- the web import ------------------------------------------------------------------------------------------

CHILD_HEADER = OUTSIDE["children"][0]


@pytest.fixture
def web(settings, tmp_path) -> Path:
    """The import runs within the confirming request (deterministic); uploads go to a temporary folder."""
    settings.CRECER_IMPORT_IN_BACKGROUND = False
    settings.CRECER_UPLOAD_DIR = tmp_path / "uploads"
    return tmp_path / "uploads"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _csv_file(name: str, header: str, rows: list[str], *, sep: str = ",", bom: bool = False) -> SimpleUploadedFile:
    text = "\n".join([header, *rows]) + "\n"
    if sep != ",":
        text = text.replace(",", sep)
    return SimpleUploadedFile(name, (("\ufeff" if bom else "") + text).encode("utf-8"), content_type="text/csv")


def _upload(client: Client, kind: str, file: SimpleUploadedFile) -> Any:
    return client.post("/imports/", {"kind": kind, "file": file})


def test_web_import_upload_preview_confirm_progress_report_download(web, world, cast, monkeypatch):
    from crecer.imports import uploads
    from crecer.imports.framework import WEB_BATCH

    calls = []
    real_run_import = uploads.run_import

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        return real_run_import(*args, **kwargs)

    monkeypatch.setattr(uploads, "run_import", spy)
    client = _client(cast["coordinator_alta"])
    page = client.get("/imports/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    assert [k for k, _label in page.context["kinds"]][:3] == ["households", "caregivers", "children"]
    rows = [
        "W1,Agustín,González,Muñoz,M,2023-05-01,12.345.678-5,,CL01001",
        "W2,María José,Núñez,,F,2024-11-30,,,CL01001",
        "W3,Pedro,Díaz,Silva,M,2023-01-01,12.345.678-9,,CL01001",  # check digit
        "W4,Ana,Soto,Vera,F,2023-01-01,,,CL01002",  # another municipality
    ]
    response = _upload(client, "children", _csv_file("niños de marzo.csv", CHILD_HEADER, rows))
    upload = ImportUpload.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{upload.pk}/"
    assert (upload.status, upload.rows_total, upload.original_name) == (UploadStatus.UPLOADED, 4, "niños de marzo.csv")
    stored = list(web.iterdir())
    assert [p.name for p in stored] == [upload.stored_name] and "marzo" not in upload.stored_name

    # Preview: columns, first rows, count, and a trial run that keeps nothing.
    before = (Child.unscoped.count(), AuditEvent.objects.count())
    preview = client.get(f"/imports/{upload.pk}/")
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "national_id" in html and "María José" in html
    trial = preview.context["preview"].trial
    assert (trial.rows, trial.created) == (4, 2)
    assert {r.line: set(r.errors) for r in trial.rejected} == {4: {"national_id"}, 5: {"territory_code"}}
    assert (Child.unscoped.count(), AuditEvent.objects.count()) == before

    # Confirm: the import runs (here within the request) and the page follows its progress.
    response = client.post(f"/imports/{upload.pk}/confirm/")
    assert response.status_code == 302 and response.url == f"/imports/{upload.pk}/progress/"
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE and upload.batch is not None
    # The preview's trial (20 rows) and the whole file's check are the same import run as dry runs; then the
    # import itself, in smaller batches so that the progress bar moves.
    assert [(c.get("dry_run", False), c.get("max_rows"), c.get("batch_rows")) for c in calls] == [
        (True, 20, None),
        (True, None, WEB_BATCH),
        (False, None, WEB_BATCH),
    ]
    assert list(web.iterdir()) == []  # the file is deleted after the import
    assert set(Child.unscoped.filter(external_id__startswith="W").values_list("external_id", flat=True)) == {"W1", "W2"}
    assert upload.batch.filename == "niños de marzo.csv" and upload.batch.actor == cast["coordinator_alta"]
    polled = client.get(f"/imports/{upload.pk}/progress/", HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and polled["HX-Redirect"] == f"/imports/{upload.pk}/report/"
    assert client.get(f"/imports/{upload.pk}/progress/").url == f"/imports/{upload.pk}/report/"
    # A second confirmation does not import again.
    client.post(f"/imports/{upload.pk}/confirm/")
    assert ImportBatch.objects.count() == 5 + 1  # the five setup files of the world, then this one

    report = client.get(f"/imports/{upload.pk}/report/")
    assert report.status_code == 200
    html = report.content.decode()
    assert report.context["rejected_count"] == 2
    assert [r["line"] for r in report.context["rejected"]] == [4, 5]
    assert "territory_code" in html and f"/imports/{upload.pk}/rejected.csv" in html
    assert report.context["history"][0][0] == upload

    download = client.get(f"/imports/{upload.pk}/rejected.csv")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "ni_os_de_marzo.rejected.csv" in download["Content-Disposition"]
    text = b"".join(download.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    written = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["external_id"], r["line"]) for r in written] == [("W3", "4"), ("W4", "5")]
    assert written[0]["error"].startswith("national_id: ")
    assert AuditEvent.objects.filter(action=Action.EXPORT, entity="imports.importbatch").count() == 1

    # The download, corrected, imports again as it is (extra line and error columns are ignored).
    fixed = text.replace("12.345.678-9", "24.965.885-5").replace("CL01002", "CL01001").encode("utf-8")
    _upload(client, "children", SimpleUploadedFile("corregido.csv", fixed, content_type="text/csv"))
    again = ImportUpload.objects.order_by("-pk").first()
    client.post(f"/imports/{again.pk}/confirm/")
    again.refresh_from_db()
    assert (again.batch.created, again.batch.rejected) == (2, 0)


def test_progress_bar_is_polled_until_the_end(web, cast):
    user = cast["coordinator_alta"]
    upload = ImportUpload.objects.create(
        user=user,
        kind="children",
        original_name="a.csv",
        stored_name="x.csv",
        status=UploadStatus.RUNNING,
        rows_total=200,
        rows_done=50,
        heartbeat_at=timezone.now(),
    )
    client = _client(user)
    partial = client.get(f"/imports/{upload.pk}/progress/", HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200 and "HX-Redirect" not in partial
    assert '<progress max="200" value="50">' in html
    assert f'hx-get="/imports/{upload.pk}/progress/"' in html and 'hx-trigger="every 2s"' in html
    assert "<html" not in html
    page = client.get(f"/imports/{upload.pk}/progress/")
    assert (
        page.status_code == 200
        and "<html" in page.content.decode()
        and 'hx-trigger="every 2s"' in page.content.decode()
    )
    assert "<script>" not in page.content.decode()  # strict CSP: htmx reads attributes, no inline script
    # The report waits for the end.
    assert client.get(f"/imports/{upload.pk}/report/").url == f"/imports/{upload.pk}/progress/"


def test_an_import_whose_server_stopped_is_shown_as_interrupted(web, cast):
    user = cast["coordinator_alta"]
    upload = ImportUpload.objects.create(
        user=user,
        kind="children",
        original_name="a.csv",
        stored_name="y.csv",
        status=UploadStatus.RUNNING,
        heartbeat_at=timezone.now() - dt.timedelta(hours=2),
    )
    response = _client(user).get(f"/imports/{upload.pk}/progress/")
    upload.refresh_from_db()
    assert response.url == f"/imports/{upload.pk}/report/" and upload.status == UploadStatus.FAILED
    assert upload.error


def test_a_file_without_required_columns_is_refused_at_preview(web, cast):
    client = _client(cast["coordinator_alta"])
    file = _csv_file("ninos.csv", "external_id,given_names,apellido,territory_code", ["X1,Ana,Soto,CL01001"])
    response = _upload(client, "children", file)
    assert response.status_code == 400
    html = response.content.decode()
    header = response.context["preview"].header
    assert header.missing == [
        "paternal_surname",
        "maternal_surname",
        "sex",
        "birth_date",
        "national_id",
        "mother_national_id",
    ]
    assert header.unknown == ["apellido"]
    assert "paternal_surname" in html and "apellido" in html and "Ana" in html  # columns and first rows shown
    assert "/confirm/" not in html
    assert not ImportUpload.objects.exists() and list(web.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content", "kind", "message"),
    [
        ("vacio.csv", b"", "children", "empty"),
        ("solo-encabezado.csv", (CHILD_HEADER + "\n").encode(), "children", "no rows"),
        ("latin1.csv", (CHILD_HEADER + "\nA1,Agustín,,,,,,,CL01001\n").encode("latin-1"), "children", "UTF-8"),
        ("notas.txt", b"a,b\n1,2\n", "children", ".csv"),
        ("viejo.xls", b"\xd0\xcf\x11\xe0", "children", ".xls"),
        ("libro.xlsx", b"not a workbook", "children", "Excel"),
        ("ninos.csv", (CHILD_HEADER + "\nA1,,,,,,,,CL01001\n").encode(), "territories", "Choose what the file holds"),
    ],
)
def test_files_that_cannot_be_imported_get_a_clear_error(web, cast, name, content, kind, message, settings):
    settings.LANGUAGE_CODE = "en"
    client = _client(cast["coordinator_alta"])
    response = client.post(
        "/imports/", {"kind": kind, "file": SimpleUploadedFile(name, content)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert message in response.context["error"]
    assert not ImportUpload.objects.exists() and list(web.glob("*")) == []


def test_file_size_limit(web, cast, settings):
    settings.CRECER_IMPORT_MAX_BYTES = 100
    rows = [f"A{i},Ana,Soto,Vera,F,2023-01-01,,,CL01001" for i in range(10)]
    response = _upload(_client(cast["coordinator_alta"]), "children", _csv_file("grande.csv", CHILD_HEADER, rows))
    assert response.status_code == 400 and "MB" in response.context["error"]
    assert not ImportUpload.objects.exists()


def test_a_body_larger_than_the_limit_is_refused_before_it_is_read(web, cast, settings):
    settings.CRECER_IMPORT_MAX_BYTES = 100
    big = SimpleUploadedFile("grande.csv", b"x" * 1_200_000)
    response = _client(cast["coordinator_alta"]).post("/imports/", {"kind": "children", "file": big})
    assert response.status_code == 400 and "MB" in response.context["error"]
    assert not ImportUpload.objects.exists() and list(web.glob("*")) == []


def test_semicolons_bom_and_excel_are_accepted(web, world, cast):
    from openpyxl import Workbook

    client = _client(cast["coordinator_alta"])
    _upload(
        client,
        "children",
        _csv_file("excel.csv", CHILD_HEADER, ["S1,Florencia,Tapia,Araya,F,2023-02-03,,,CL01001"], sep=";", bom=True),
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CHILD_HEADER.split(","))
    sheet.append(["X1", "Benjamín", "Rojas", "Soto", "M", dt.datetime(2022, 1, 15), "", "", "CL01001"])  # noqa: DTZ001
    buffer = io.BytesIO()
    workbook.save(buffer)
    _upload(client, "children", SimpleUploadedFile("ninos.xlsx", buffer.getvalue()))
    for upload in ImportUpload.objects.all():
        assert client.get(f"/imports/{upload.pk}/").status_code == 200
        client.post(f"/imports/{upload.pk}/confirm/")
        upload.refresh_from_db()
        assert (upload.status, upload.batch.created) == (UploadStatus.DONE, 1)
    assert str(Child.unscoped.get(external_id="X1").birth_date) == "2022-01-15"
    assert Child.unscoped.get(external_id="S1").paternal_surname == "Tapia"


def test_cancel_deletes_the_file(web, cast):
    client = _client(cast["coordinator_alta"])
    _upload(client, "children", _csv_file("a.csv", CHILD_HEADER, ["A1,Ana,Soto,Vera,F,2023-01-01,,,CL01001"]))
    upload = ImportUpload.objects.get()
    assert client.post(f"/imports/{upload.pk}/cancel/").url == "/imports/"
    upload.refresh_from_db()
    assert upload.status == UploadStatus.CANCELLED and list(web.iterdir()) == []
    assert client.post(f"/imports/{upload.pk}/confirm/").status_code == 302
    assert not Child.unscoped.exists()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("nurse_alta", []),
        ("provider_opd", []),
        ("inspector", []),
        ("auditor", []),
        ("stranger", []),
        ("coordinator_alta", ["households", "caregivers", "children", "relationships", "pregnancies"]),
        ("regional_norte", ["targets"]),
        ("national", ["targets", "territories", "facilities", "organisations", "services", "providers"]),
        ("admin", ["targets", "territories", "facilities", "organisations", "services", "providers"]),
    ],
)
def test_who_may_import_what(web, cast, who, expected):
    kinds_allowed = permissions.kinds_for(cast[who])
    assert kinds_allowed[: len(expected)] == expected
    if not expected:
        assert kinds_allowed == []
    if who == "stranger":
        return
    client = _client(cast[who])
    assert client.get("/imports/").status_code == (200 if expected else 403)
    assert ('href="/imports/"' in client.get("/").content.decode()) == bool(expected)


def test_someone_elses_upload_is_not_found(web, world, cast, make_user):
    from crecer.access.models import Role

    owner = _client(cast["coordinator_alta"])
    _upload(owner, "children", _csv_file("a.csv", CHILD_HEADER, ["A1,Ana,Soto,Vera,F,2023-01-01,,,CL01001"]))
    upload = ImportUpload.objects.get()
    other = _client(make_user("coord_baja", Role.MUNICIPAL_COORDINATOR, "CL01002"))
    for path in ("", "progress/", "report/", "rejected.csv"):
        assert other.get(f"/imports/{upload.pk}/{path}").status_code == 404
    assert other.post(f"/imports/{upload.pk}/confirm/").status_code == 404
    nurse = _client(cast["nurse_alta"])
    assert nurse.get(f"/imports/{upload.pk}/").status_code == 403
    assert (
        nurse.post("/imports/", {"kind": "children", "file": _csv_file("a.csv", CHILD_HEADER, [])}).status_code == 403
    )
    upload.refresh_from_db()
    assert upload.status == UploadStatus.UPLOADED


def test_a_coordinator_cannot_import_rows_of_another_municipality(web, world, cast):
    client = _client(cast["coordinator_alta"])
    rows = ["M1,Ana,Soto,Vera,F,2023-01-01,,,CL01001", "M2,Eva,Paz,Luna,F,2023-01-01,,,CL02001"]
    _upload(client, "children", _csv_file("a.csv", CHILD_HEADER, rows))
    upload = ImportUpload.objects.get()
    client.post(f"/imports/{upload.pk}/confirm/")
    upload.refresh_from_db()
    assert (upload.batch.created, upload.batch.rejected) == (1, 1)
    rejected = RejectedRow.objects.get(batch=upload.batch)
    assert rejected.line == 3 and rejected.errors["territory_code"][0]["code"] == "out_of_scope"
    assert not Child.unscoped.filter(external_id="M2").exists()


# A caregiver or child out of the importing user's scope is answered as an unknown external id, and a group
# meeting elsewhere as an unknown code (need-to-know, as in tests/test_existence_and_linking.py): that row is
# rejected by itself, like any unknown reference.
@pytest.mark.parametrize("kind", sorted(set(OUTSIDE) - {"relationships", "deliveries", "group_members"}))
def test_web_import_refuses_files_touching_records_of_another_territory(kind, web, austral, cast):
    header, _what, rows, field_name = OUTSIDE[kind]
    client = _client(cast["coordinator_alta"])
    good = {"children": "N1,Ana,Soto,Vera,F,2023-01-01,,,CL01001"}.get(kind)
    _upload(client, kind, _csv_file(f"{kind}.csv", header, [*rows(austral), *([good] if good else [])]))
    upload = ImportUpload.objects.get()
    preview = client.get(f"/imports/{upload.pk}/")
    trial = preview.context["preview"].trial
    assert trial.rejected[0].line == 2 and field_name in trial.rejected[0].errors
    before = _state()
    client.post(f"/imports/{upload.pk}/confirm/")
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED and upload.batch is None
    assert upload.refusals[0]["line"] == 2 and upload.refusals[0]["reason"].startswith(f"{field_name}: ")
    assert _state() == before  # nothing imported, not even the good row
    report = client.get(f"/imports/{upload.pk}/report/")
    assert report.status_code == 200 and upload.error in report.content.decode()


def test_regional_manager_imports_targets_of_their_region_only(web, world, cast):
    client = _client(cast["regional_norte"])
    header = "indicator,territory_code,period,baseline,target"
    _upload(client, "targets", _csv_file("metas.csv", header, ["welcome_kit,CL01001,2025,60,80"]))
    upload = ImportUpload.objects.get()
    client.post(f"/imports/{upload.pk}/confirm/")
    upload.refresh_from_db()
    assert upload.batch.created == 1
    _upload(client, "targets", _csv_file("metas-sur.csv", header, ["welcome_kit,CL02001,2025,60,80"]))
    south = ImportUpload.objects.order_by("-pk").first()
    client.post(f"/imports/{south.pk}/confirm/")
    south.refresh_from_db()
    assert south.status == UploadStatus.FAILED and Target.objects.count() == 1


def test_national_manager_imports_facilities(web, world, cast):
    client = _client(cast["national"])
    _upload(
        client,
        "facilities",
        _csv_file("f.csv", "code,name,kind,territory_code", ["F-WEB,CESFAM Web,health_centre,CL02001"]),
    )
    upload = ImportUpload.objects.get()
    assert client.get(f"/imports/{upload.pk}/").context["preview"].trial.created == 1
    assert not Facility.objects.filter(code="F-WEB").exists()  # the trial kept nothing
    client.post(f"/imports/{upload.pk}/confirm/")
    assert Facility.objects.get(code="F-WEB").territory.code == "CL02001"


def test_the_import_runs_in_a_background_thread(transactional_db, cast, settings, tmp_path):
    settings.CRECER_IMPORT_IN_BACKGROUND = True
    settings.CRECER_UPLOAD_DIR = tmp_path / "uploads"
    client = _client(cast["coordinator_alta"])
    _upload(client, "households", _csv_file("hogares.csv", "code,territory_code", ["HB1,CL01001", "HB2,CL01001"]))
    upload = ImportUpload.objects.get()
    response = client.post(f"/imports/{upload.pk}/confirm/")
    assert response.status_code == 302
    for thread in threading.enumerate():
        if thread.name == f"import-{upload.pk}":
            assert thread.daemon
            thread.join(timeout=60)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE and upload.batch.created == 2
    assert set(Household.unscoped.values_list("code", flat=True)) == {"HB1", "HB2"}
    assert list((tmp_path / "uploads").iterdir()) == []


def test_web_import_answers_an_out_of_scope_caregiver_as_unknown(web, austral, cast):
    header, _what, rows, field_name = OUTSIDE["relationships"]
    client = _client(cast["coordinator_alta"])
    _upload(client, "relationships", _csv_file("relationships.csv", header, rows(austral)))
    upload = ImportUpload.objects.get()
    before = _state()
    client.post(f"/imports/{upload.pk}/confirm/")
    upload.refresh_from_db()
    rejected = RejectedRow.objects.get(batch=upload.batch)
    assert [e["code"] for e in rejected.errors[field_name]] == ["unknown"]
    assert _state() == before
