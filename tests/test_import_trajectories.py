"""Importing encounters, measurements, screenings, deliveries and parenting groups: good and bad rows,
validation shared with the API, idempotent re-import."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from crecer.imports.models import RejectedRow
from crecer.tracking.models import Delivery, Encounter, GroupMember, Measurement, Screening


def _csv(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _import(kind: str, path: Path) -> int:
    try:
        call_command("import", kind, str(path), "--quiet", stdout=io.StringIO())
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def registered(make_child, make_mother, today):
    from crecer.registry import actions
    from tests.conftest import SYSTEM

    mother = make_mother(external_id="G1")
    child = make_child(
        external_id="C1", birth_date=(today - dt.timedelta(days=400)).isoformat(), mother_national_id="15432876-9"
    )
    pregnancy = actions.create_pregnancy(
        SYSTEM,
        {"external_id": "P1", "mother_external_id": "G1", "lmp_date": (today - dt.timedelta(days=100)).isoformat()},
    )
    return {"mother": mother, "child": child, "pregnancy": pregnancy}


ENC_HEADER = "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional"


def test_full_trajectory_import(tmp_path, registered, today):
    birth = registered["child"].birth_date
    d = lambda days: (birth + dt.timedelta(days=days)).isoformat()  # noqa: E731
    encounters = _csv(
        tmp_path,
        "encounters",
        ENC_HEADER,
        [
            f"E1,C1,,check_up,m2,{d(62)},F-ALTA,PROF-1",
            f"E2,C1,,check_up,,{d(245)},F-ALTA,PROF-1",  # assigned from the age: the 8-month contact
            f"E3,,P1,prenatal,,{(today - dt.timedelta(days=95)).isoformat()},F-ALTA,PROF-2",
            f"E4,C1,,check_up,m2,{d(70)},F-ALTA,PROF-1",  # m2 already in this file
            f"E5,C1,,check_up,,{(today + dt.timedelta(days=3)).isoformat()},F-ALTA,PROF-1",  # future
            f"E6,C9,,check_up,,{d(90)},F-ALTA,PROF-1",  # unknown child
            f"E7,C1,P1,check_up,,{d(90)},F-ALTA,PROF-1",  # two subjects
        ],
    )
    assert _import("encounters", encounters) == 3
    assert dict(Encounter.unscoped.values_list("external_id", "contact_code")) == {"E1": "m2", "E2": "m8", "E3": "anc1"}
    reasons = {r.line: set(r.errors) for r in RejectedRow.objects.all()}
    assert reasons == {5: {"contact_code"}, 6: {"date"}, 7: {"child_external_id"}, 8: {"child_external_id"}}

    measurements = _csv(
        tmp_path,
        "measurements",
        "encounter_external_id,weight_kg,length_cm,position,head_cm,muac_cm,oedema,haemoglobin_g_l",
        [
            "E1,5.4,58.5,,39.0,,n,",
            "E2,8.1,70.2,l,,,n,98",
            "E3,60,,,,,n,",  # a prenatal encounter
        ],
    )
    assert _import("measurements", measurements) == 3
    m = Measurement.unscoped.get(encounter__external_id="E2")
    assert m.z_wfa is not None and m.anaemia is True and m.age_days == 245

    eedp = json.dumps({"cd": 0.72}).replace('"', '""')
    epsa = json.dumps(
        {
            "late_entry": False,
            "low_schooling": False,
            "adolescent": False,
            "rejection": True,
            "low_support": False,
            "depressive_symptoms": False,
            "substance_use": False,
            "gender_violence": False,
            "other": "",
        }
    ).replace('"', '""')
    screenings = _csv(
        tmp_path,
        "screenings",
        "external_id,encounter_external_id,instrument,inputs",
        [
            f'S1,E2,eedp,"{eedp}"',
            f'S2,E3,epsa,"{epsa}"',
            'S3,E2,tepsi,"{""t_total"": 50}"',  # TEPSI is for 2-5 years: out of the age band
            "S4,E2,eedp,not json",
        ],
    )
    assert _import("screenings", screenings) == 3
    assert dict(Screening.unscoped.values_list("external_id", "classification")) == {"S1": "risk", "S2": "positive"}
    assert Screening.unscoped.get(external_id="S2").caregiver == registered["mother"]

    deliveries = _csv(
        tmp_path,
        "deliveries",
        "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,encounter_external_id,detail",
        [
            f"D1,welcome_kit,C1,,{d(62)},F-ALTA,E1,",
            f"D2,stimulation_session,C1,,{d(260)},F-ALTA,,sesión 1",
            f"D3,parenting_programme,C1,,{d(260)},F-ALTA,,",  # a caregiver service given to a child
        ],
    )
    assert _import("deliveries", deliveries) == 3
    assert set(Delivery.unscoped.values_list("external_id", flat=True)) == {"D1", "D2"}

    groups = _csv(
        tmp_path,
        "groups",
        "code,name,service_code,facility_code,start_date,planned_sessions,facilitator",
        [f"GR1,Nadie es Perfecto,parenting_programme,F-ALTA,{(today - dt.timedelta(days=60)).isoformat()},6,Ana"],
    )
    assert _import("groups", groups) == 0
    members = _csv(
        tmp_path, "group_members", "group_code,caregiver_external_id,child_external_id,attended", ["GR1,G1,C1,1;2;3;5"]
    )
    assert _import("group_members", members) == 0
    member = GroupMember.unscoped.get()
    assert member.sessions_attended == 4 and member.completed_on is not None

    # Everything again: nothing new.
    for kind, path in (
        ("encounters", encounters),
        ("measurements", measurements),
        ("screenings", screenings),
        ("deliveries", deliveries),
    ):
        _import(kind, path)
    assert Encounter.unscoped.count() == 3 and Measurement.unscoped.count() == 2 and Screening.unscoped.count() == 2


def test_changed_measurement_on_reimport_is_a_correction(tmp_path, registered):
    birth = registered["child"].birth_date
    _import(
        "encounters",
        _csv(tmp_path, "e", ENC_HEADER, [f"E1,C1,,check_up,m2,{(birth + dt.timedelta(days=62)).isoformat()},F-ALTA,"]),
    )
    header = "encounter_external_id,weight_kg,length_cm,position,head_cm,muac_cm,oedema,haemoglobin_g_l"
    _import("measurements", _csv(tmp_path, "m1", header, ["E1,5.4,58.5,,,,n,"]))
    _import("measurements", _csv(tmp_path, "m2", header, ["E1,5.6,58.5,,,,n,"]))
    current = Measurement.unscoped.get(is_current=True)
    assert current.weight_kg == 5.6 and current.supersedes.weight_kg == 5.4
