"""Rules that the import path once implemented a second time, and got wrong: each test here failed on the
importers that re-implemented them, and holds now that both paths call the same rules."""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import run_import
from crecer.registry import actions as registry_actions
from crecer.registry.models import Child, Pregnancy
from crecer.territories.models import Facility
from crecer.tracking import actions as tracking_actions
from crecer.tracking.models import Delivery, Encounter, GroupMember, Measurement, Screening
from tests.conftest import SYSTEM

SRC = Path(__file__).resolve().parents[1] / "src" / "crecer"


def _import(tmp_path: Path, kind: str, header: str, rows: list[str], actor: Actor = SYSTEM) -> Any:
    path = tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return run_import(kind, path, actor)


@pytest.fixture
def family(cast: dict[str, Any], make_mother: Any, today: dt.date) -> dict[str, Any]:
    mother = make_mother(external_id="G1")
    child = registry_actions.create_child(
        SYSTEM,
        {
            "external_id": "C1",
            "given_names": "Sofía",
            "paternal_surname": "Muñoz",
            "sex": "F",
            "birth_date": (today - dt.timedelta(days=400)).isoformat(),
            "mother_national_id": "15.432.876-9",
            "territory_code": "CL01001",
        },
    )
    encounter = tracking_actions.record_encounter(
        SYSTEM, {"date": (today - dt.timedelta(days=300)).isoformat()}, child=child
    )
    Encounter.unscoped.filter(pk=encounter.pk).update(external_id="E1")
    return {"mother": mother, "child": child, "encounter": encounter, "today": today}


# --- the right to record a data category -----------------------------------------------------------------


def test_importing_a_screening_or_a_delivery_needs_the_right_to_record_its_category(family, cast, settings, tmp_path):
    """A coordinator without mental health imported an EPDS screening, stored as mental health."""
    settings.CRECER_ROLE_SENSITIVE_CATEGORIES = {"municipal_coordinator": ["child_protection"]}
    coordinator = Actor(cast["coordinator_alta"], Channel.CLI)
    epds = '"' + json.dumps({"items": [0] * 10}).replace('"', '""') + '"'
    screenings = _import(
        tmp_path,
        "screenings",
        "external_id,encounter_external_id,instrument,inputs",
        [f"S1,E1,epds,{epds}"],
        coordinator,
    )
    assert [r.errors["row"][0]["code"] for r in screenings.rejected] == ["forbidden_category"]
    assert not Screening.unscoped.filter(instrument="epds").exists()
    day = (family["today"] - dt.timedelta(days=3)).isoformat()
    deliveries = _import(
        tmp_path,
        "deliveries",
        "external_id,service_code,child_external_id,caregiver_external_id,date",
        [f"D1,mental_health_care,,G1,{day}", f"D2,stimulation_session,C1,,{day}"],
        coordinator,
    )
    assert [r.line for r in deliveries.rejected] == [2]
    assert list(Delivery.unscoped.values_list("service_code", flat=True)) == ["stimulation_session"]


# --- scheduled contacts --------------------------------------------------------------------------------------


def test_an_uncoded_home_visit_fulfils_no_scheduled_contact_on_either_path(family, tmp_path):
    child = family["child"]
    day = child.birth_date + dt.timedelta(days=122)  # when the 4-month check-up is due
    by_page = tracking_actions.record_encounter(SYSTEM, {"kind": "home_visit", "date": day.isoformat()}, child=child)
    _import(
        tmp_path,
        "encounters",
        "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date",
        [f"V1,C1,,home_visit,,{day.isoformat()}"],
    )
    assert by_page.contact_code == ""
    assert Encounter.unscoped.get(external_id="V1").contact_code == ""


# --- parenting groups ---------------------------------------------------------------------------------------


@pytest.fixture
def group(family, cast: dict[str, Any], today: dt.date) -> Any:
    return tracking_actions.create_group(
        SYSTEM,
        code="GR1",
        name="Nadie es Perfecto",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=60),
        planned_sessions=6,
    )


def test_completion_is_the_day_of_the_last_session_needed_on_both_paths(group, family, make_mother, tmp_path):
    """Sessions held two days after their planned day: an imported attendance completes the programme on the
    day the fourth session was held (the profile's minimum), as the page does, not on its planned day."""
    father = registry_actions.create_caregiver(
        SYSTEM,
        {
            "external_id": "G2",
            "given_names": "Jorge",
            "paternal_surname": "Muñoz",
            "sex": "M",
            "birth_date": "1990-02-03",
            "territory_code": "CL01001",
        },
    )
    member = tracking_actions.record_attendance(SYSTEM, group, father, [])
    held = {n: group.start_date + dt.timedelta(days=7 * (n - 1) + 2) for n in range(1, 5)}
    for n, day in held.items():
        tracking_actions.record_session(SYSTEM, group, n, day, [member])
    member.refresh_from_db()
    assert member.completed_on == held[4]
    result = _import(tmp_path, "group_members", "group_code,caregiver_external_id,attended", ["GR1,G1,1;2;3;4"])
    assert not result.rejected
    imported = GroupMember.unscoped.get(caregiver=family["mother"])
    assert (imported.sessions_attended, imported.completed_on) == (4, held[4])


def test_reimported_attendance_is_one_member_created_then_changed(group, family, tmp_path):
    header = "group_code,caregiver_external_id,attended"
    _import(tmp_path, "group_members", header, ["GR1,G1,1;2"])
    _import(tmp_path, "group_members", header, ["GR1,G1,1;2;3"])
    member = GroupMember.unscoped.get(caregiver=family["mother"])
    events = AuditEvent.objects.filter(entity="tracking.groupmember", entity_id=member.pk).order_by("pk")
    assert [e.action for e in events] == [Action.CREATE, Action.UPDATE, Action.UPDATE]
    assert (events[2].before["attended"], events[2].after["attended"]) == ([1, 2], [1, 2, 3])
    assert member.sessions_attended == 3


# --- corrections ---------------------------------------------------------------------------------------------


def test_a_measurement_changed_by_a_new_import_is_a_correction_audited_on_both_rows(family, tmp_path):
    header = "encounter_external_id,weight_kg"
    _import(tmp_path, "measurements", header, ["E1,7.0"])
    old = Measurement.unscoped.get(encounter=family["encounter"])
    _import(tmp_path, "measurements", header, ["E1,7.4"])
    new = Measurement.unscoped.get(encounter=family["encounter"], is_current=True)
    old.refresh_from_db()
    assert (old.is_current, new.supersedes_id, new.weight_kg) == (False, old.pk, 7.4)
    superseded = AuditEvent.objects.get(entity="tracking.measurement", entity_id=old.pk, action=Action.UPDATE)
    assert (superseded.before, superseded.after) == ({"is_current": True}, {"is_current": False})
    assert AuditEvent.objects.filter(entity="tracking.measurement", entity_id=new.pk, action=Action.CREATE).exists()


def test_of_two_corrections_of_the_same_value_one_wins(family):
    from crecer.tracking.actions import MeasurementIn, supersede_measurements

    child = family["child"]
    encounter = tracking_actions.record_encounter(
        SYSTEM, {"date": family["today"].isoformat(), "measurement": {"weight_kg": 9.0}}, child=child
    )
    old = encounter.measurements.get()

    def item(weight: float) -> MeasurementIn:
        return MeasurementIn(
            encounter.pk, child.pk, child.sex, old.measured_on, old.age_days, {**_values(old), "weight_kg": weight}, old
        )

    first, lost_first = supersede_measurements(SYSTEM, [item(9.2)])
    second, lost_second = supersede_measurements(SYSTEM, [item(9.4)])  # read the same row before the first won
    assert (len(first), lost_first, second, len(lost_second)) == (1, [], [], 1)
    assert list(
        Measurement.unscoped.filter(child=child, is_current=True, encounter=encounter).values_list(
            "weight_kg", flat=True
        )
    ) == [9.2]


def _values(m: Measurement) -> dict[str, Any]:
    from crecer.tracking.inputs import MEASUREMENT_FIELDS

    return {f: getattr(m, f) for f in MEASUREMENT_FIELDS}


# --- births ------------------------------------------------------------------------------------------------------


def test_an_imported_birth_is_refused_for_a_child_of_another_mother_and_audited_otherwise(
    family, make_mother, tmp_path
):
    make_mother(external_id="G3", national_id="", given_names="Rosa")
    born = family["child"].birth_date.isoformat()
    lmp = (family["child"].birth_date - dt.timedelta(days=270)).isoformat()
    for key, mother in (("P1", "G1"), ("P3", "G3")):
        registry_actions.create_pregnancy(SYSTEM, {"external_id": key, "mother_external_id": mother, "lmp_date": lmp})
    header = "external_id,mother_external_id,lmp_date,edd_date,outcome,outcome_date,child_external_id"
    # C1 is G1's child: a pregnancy of G3 cannot have given birth to her.
    result = _import(tmp_path, "pregnancies", header, [f"P3,G3,{lmp},,live_birth,{born},C1"])
    assert [(r.line, set(r.errors)) for r in result.rejected] == [(2, {"child_external_id"})]
    assert Child.unscoped.get(pk=family["child"].pk).pregnancy_id is None
    result = _import(tmp_path, "pregnancies", header, [f"P1,G1,{lmp},,live_birth,{born},C1"])
    assert not result.rejected
    pregnancy = Pregnancy.unscoped.get(external_id="P1")
    assert Child.unscoped.get(pk=family["child"].pk).pregnancy_id == pregnancy.pk
    link = AuditEvent.objects.get(entity="registry.child", entity_id=family["child"].pk, action=Action.UPDATE)
    assert (link.before, link.after) == ({"pregnancy_id": None}, {"pregnancy_id": pregnancy.pk})


# --- pregnancy dating -----------------------------------------------------------------------------------------


def test_the_280_day_rule_lives_in_one_place():
    """The days from the last menstrual period to the expected delivery: crecer.lib.pregnancy, nowhere else."""
    found = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or path == SRC / "lib" / "pregnancy.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == 280 and not isinstance(node.value, bool):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == []
