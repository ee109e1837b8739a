"""One domain core, two speeds: the same input through an action (a page, the API) and through an
importer stores the same rows (ids aside) and the same audit events, for every kind that has both.

Each case runs the action inside a savepoint that is rolled back, then the import inside another, and
compares everything both wrote: the records (foreign keys to records created by the run are compared by
their rank, not their id, so PostgreSQL's sequences, which never roll back, do not matter) and the audit
events (actor, action, record, child, before and after; the note differs: an import notes its batch).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import models, transaction

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import run_import
from crecer.referrals import actions as referral_actions
from crecer.referrals.models import Provision, Service
from crecer.registry import actions as registry_actions
from crecer.registry.models import Caregiver, CaregiverLink, Child, Household, PendingMother, Pregnancy
from crecer.risks.models import RiskFlag
from crecer.territories.models import Facility, Organisation, Territory
from crecer.tracking import actions as tracking_actions
from crecer.tracking.importers import REIMPORT_REASON
from crecer.tracking.models import (
    Delivery,
    Encounter,
    GroupMember,
    GroupSession,
    Measurement,
    ParentingGroup,
    Screening,
)
from tests.conftest import SYSTEM

#: every table a registry or trajectory write can touch
TABLES: tuple[type[models.Model], ...] = (
    Household,
    Caregiver,
    Child,
    CaregiverLink,
    PendingMother,
    Pregnancy,
    Encounter,
    Measurement,
    Screening,
    Delivery,
    ParentingGroup,
    GroupMember,
    GroupSession,
    GroupSession.attendees.through,
    Provision,
    Provision.territories.through,
    Organisation,
    RiskFlag,
)
#: columns that hold the moment of the write, not its content
MOMENTS = {"created_at", "updated_at", "recorded_at", "raised_at", "at"}
#: ids: the row's own, and the one the sending system gives (a page or the API records without one)
IDS = {"id", "external_id"}


def _baseline() -> dict[type[models.Model], int]:
    return {
        m: (m._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0) for m in (*TABLES, AuditEvent)
    }


def _dump(base: dict[type[models.Model], int]) -> dict[str, Any]:
    """The rows of every table (those created since ``base`` identified by their rank, the others by
    their id, so changes to existing rows count too) and the audit events written since ``base``."""
    ranks: dict[type[models.Model], dict[int, int]] = {}
    all_rows: dict[type[models.Model], list[dict[str, Any]]] = {}
    for model in TABLES:
        rows = list(model._default_manager.order_by("pk").values())
        ranks[model] = {r["id"]: i for i, r in enumerate(r for r in rows if r["id"] > base[model])}
        all_rows[model] = rows
    by_label = {m._meta.label_lower: m for m in TABLES}

    def ref(model: type[models.Model] | None, value: Any) -> Any:
        if model is not None and value in ranks.get(model, {}):
            return ("new", ranks[model][value])
        return value

    out: dict[str, Any] = {}
    for model, rows in all_rows.items():
        fks = {f.attname: f.related_model for f in model._meta.concrete_fields if f.is_relation}
        normalised = []
        for row in rows:
            clean = {"identity": ref(model, row["id"])}
            for name, value in row.items():
                if name in IDS or name in MOMENTS:
                    continue
                clean[name] = ref(fks.get(name), value) if name in fks else value
            normalised.append(json.dumps(clean, sort_keys=True, default=str))
        out[model._meta.label_lower] = sorted(normalised)
    events = []
    for e in AuditEvent.objects.filter(pk__gt=base[AuditEvent]).exclude(action__in=(Action.IMPORT, Action.READ)):
        events.append(
            json.dumps(
                {
                    "actor": e.actor_username,
                    "channel": e.channel,
                    "action": e.action,
                    "entity": e.entity,
                    "entity_id": ref(by_label.get(e.entity), e.entity_id),
                    "child": ref(Child, e.child_id),
                    "before": e.before,
                    "after": _refs_in(e.after, ref),
                },
                sort_keys=True,
                default=str,
            )
        )
    out["audit"] = sorted(events)
    return out


#: keys of an event's values that name a row of these tables (a notification's flag or pregnancy)
VALUE_REFS = {"flag": RiskFlag, "pregnancy": Pregnancy}


def _refs_in(values: Any, ref: Callable[[Any, Any], Any]) -> Any:
    """An event's values with the rows they name identified by rank, like the rows' own ids (PostgreSQL
    does not give ids back when a transaction is rolled back, so the two paths' ids differ)."""
    if not isinstance(values, dict):
        return values
    return {k: ref(VALUE_REFS[k], v) if k in VALUE_REFS else v for k, v in values.items()}


def _rolled_back(run: Callable[[], None]) -> dict[str, Any]:
    base = _baseline()
    with transaction.atomic():
        run()
        written = _dump(base)
        transaction.set_rollback(True)
    return written


@dataclass
class Case:
    #: the action path
    action: Callable[[Actor, dict[str, Any]], None]
    #: the import path: (kind, header, rows) files imported in order
    files: Callable[[dict[str, Any]], list[tuple[str, str, list[str]]]]


def _import(actor: Actor, tmp_path: Path, files: list[tuple[str, str, list[str]]]) -> None:
    for i, (kind, header, rows) in enumerate(files):
        path = tmp_path / f"{i}-{kind}.csv"
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        result = run_import(kind, path, actor)
        assert not result.rejected, [r.message() for r in result.rejected]


# --- the world both paths refer to -----------------------------------------------------------------------

MOTHER_DOC = "15.432.876-9"


@pytest.fixture
def w(network: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """A mother (G1) and a father (G2), a child C1 of G1 born 400 days ago, a pregnancy P1 of G1 (ongoing,
    100 days), an encounter E1 of C1 at two months with a measurement, a parenting group GR1 begun 60 days
    ago whose first two sessions were held two days late."""
    birth = today - dt.timedelta(days=400)
    mother = registry_actions.create_caregiver(
        SYSTEM,
        {
            "external_id": "G1",
            "given_names": "Camila",
            "paternal_surname": "Pérez",
            "maternal_surname": "Rojas",
            "sex": "F",
            "birth_date": "1995-06-01",
            "national_id": MOTHER_DOC,
            "territory_code": "CL01001",
        },
    )
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
    child = registry_actions.create_child(
        SYSTEM,
        {
            "external_id": "C1",
            "given_names": "Sofía",
            "paternal_surname": "Muñoz",
            "maternal_surname": "Pérez",
            "sex": "F",
            "birth_date": birth.isoformat(),
            "mother_national_id": MOTHER_DOC,
            "territory_code": "CL01001",
        },
    )
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM,
        {"external_id": "P1", "mother_external_id": "G1", "lmp_date": (today - dt.timedelta(days=252)).isoformat()},
    )
    encounter = tracking_actions.record_encounter(
        SYSTEM,
        {
            "date": (birth + dt.timedelta(days=62)).isoformat(),
            "facility_code": "F-ALTA",
            "measurement": {"weight_kg": 5.4},
        },
        child=child,
    )
    Encounter.unscoped.filter(pk=encounter.pk).update(external_id="E1")
    group = tracking_actions.create_group(
        SYSTEM,
        code="GR1",
        name="Nadie es Perfecto",
        facility=Facility.objects.get(code="F-ALTA"),
        start_date=today - dt.timedelta(days=60),
        planned_sessions=6,
    )
    early = tracking_actions.record_attendance(SYSTEM, group, father, [])
    for n in (1, 2):
        tracking_actions.record_session(
            SYSTEM, group, n, group.start_date + dt.timedelta(days=7 * (n - 1) + 2), [early]
        )
    return {
        "today": today,
        "birth": birth,
        "mother": mother,
        "father": father,
        "child": child,
        "pregnancy": pregnancy,
        "encounter": Encounter.unscoped.get(pk=encounter.pk),
        "group": group,
    }


def _ago(w: dict[str, Any], days: int) -> str:
    return (w["today"] - dt.timedelta(days=days)).isoformat()


def _after_birth(w: dict[str, Any], days: int) -> str:
    return (w["birth"] + dt.timedelta(days=days)).isoformat()


EPDS = {"items": [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]}
CHILD_HEADER = (
    "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
    "territory_code,facility_code,birth_weight_g,gestational_weeks"
)
ENC_HEADER = "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional"


def _csv_json(value: dict[str, Any]) -> str:
    return '"' + json.dumps(value).replace('"', '""') + '"'


def _child_raw(**extra: Any) -> dict[str, Any]:
    return {
        "given_names": "Tomás",
        "paternal_surname": "Muñoz",
        "maternal_surname": "Pérez",
        "sex": "M",
        "birth_date": "2025-09-01",
        "territory_code": "CL01001",
        "facility_code": "F-ALTA",
        "birth_weight_g": "2400",
        "gestational_weeks": "36",
        **extra,
    }


CASES: dict[str, Case] = {
    "households": Case(
        lambda a, w: registry_actions.create_household(
            a, {"code": "H1", "territory_code": "CL01001", "address": "Calle Uno 1", "vulnerability_percentile": "30"}
        ),
        lambda w: [
            ("households", "code,territory_code,address,vulnerability_percentile", ["H1,CL01001,Calle Uno 1,30"])
        ],
    ),
    "caregivers": Case(
        lambda a, w: registry_actions.create_caregiver(
            a,
            {
                "external_id": "GX",
                "given_names": "Ana María",
                "paternal_surname": "Núñez",
                "maternal_surname": "Soto",
                "sex": "F",
                "birth_date": "1990-01-01",
                "territory_code": "CL01001",
                "schooling_years": "12",
                "phone": "+56 9 1234 5678",
            },
        ),
        lambda w: [
            (
                "caregivers",
                "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,territory_code,"
                "schooling_years,phone",
                ["GX,Ana María,Núñez,Soto,F,1990-01-01,CL01001,12,+56 9 1234 5678"],
            )
        ],
    ),
    "children (with a registered mother)": Case(
        lambda a, w: registry_actions.create_child(a, _child_raw(external_id="CX", mother_national_id=MOTHER_DOC)),
        lambda w: [
            ("children", CHILD_HEADER, [f"CX,Tomás,Muñoz,Pérez,M,2025-09-01,,{MOTHER_DOC},CL01001,F-ALTA,2400,36"])
        ],
    ),
    "children (mother not registered yet)": Case(
        lambda a, w: registry_actions.create_child(a, _child_raw(external_id="CY", mother_national_id="9.876.543-3")),
        lambda w: [
            ("children", CHILD_HEADER, ["CY,Tomás,Muñoz,Pérez,M,2025-09-01,,9.876.543-3,CL01001,F-ALTA,2400,36"])
        ],
    ),
    "relationships": Case(
        lambda a, w: registry_actions.link_caregiver(a, w["child"], w["father"], "father", reason=None),
        lambda w: [("relationships", "child_external_id,caregiver_external_id,relationship", ["C1,G2,father"])],
    ),
    "pregnancies": Case(
        lambda a, w: registry_actions.create_pregnancy(
            a,
            {
                "external_id": "PX",
                "mother_external_id": "G1",
                "lmp_date": _ago(w, 60),
                "first_visit_date": _ago(w, 50),
                "facility_code": "F-ALTA",
            },
        ),
        lambda w: [
            (
                "pregnancies",
                "external_id,mother_external_id,lmp_date,edd_date,first_visit_date,first_visit_week,facility_code",
                [f"PX,G1,{_ago(w, 60)},,{_ago(w, 50)},,F-ALTA"],
            )
        ],
    ),
    "births": Case(
        lambda a, w: registry_actions.record_birth(
            a,
            w["pregnancy"],
            registry_actions.create_child(a, _child_raw(external_id="CB", birth_date=w["today"].isoformat())),
        ),
        lambda w: [
            ("children", CHILD_HEADER, [f"CB,Tomás,Muñoz,Pérez,M,{w['today'].isoformat()},,,CL01001,F-ALTA,2400,36"]),
            (
                "pregnancies",
                "external_id,mother_external_id,lmp_date,edd_date,outcome,outcome_date,child_external_id",
                [f"P1,G1,{_ago(w, 252)},,live_birth,{w['today'].isoformat()},CB"],
            ),
        ],
    ),
    "encounters (check-up without a contact code)": Case(
        lambda a, w: tracking_actions.record_encounter(
            a, {"kind": "check_up", "date": _after_birth(w, 122), "facility_code": "F-ALTA"}, child=w["child"]
        ),
        lambda w: [("encounters", ENC_HEADER, [f"EX,C1,,check_up,,{_after_birth(w, 122)},F-ALTA,"])],
    ),
    "encounters (home visit without a contact code)": Case(
        lambda a, w: tracking_actions.record_encounter(
            a, {"kind": "home_visit", "date": _after_birth(w, 122)}, child=w["child"]
        ),
        lambda w: [("encounters", ENC_HEADER, [f"EX,C1,,home_visit,,{_after_birth(w, 122)},,"])],
    ),
    "encounters (prenatal)": Case(
        lambda a, w: tracking_actions.record_encounter(
            a,
            {"date": _ago(w, 40), "facility_code": "F-ALTA", "professional": "Matrona Soto"},
            pregnancy=w["pregnancy"],
        ),
        lambda w: [("encounters", ENC_HEADER, [f"EX,,P1,prenatal,,{_ago(w, 40)},F-ALTA,Matrona Soto"])],
    ),
    "measurements": Case(
        lambda a, w: tracking_actions.record_encounter(
            a,
            {
                "date": _after_birth(w, 245),
                "contact_code": "m8",
                "measurement": {"weight_kg": "6.1", "length_cm": "64.0", "position": "l", "haemoglobin_g_l": "98"},
            },
            child=w["child"],
        ),
        lambda w: [
            ("encounters", ENC_HEADER, [f"EX,C1,,check_up,m8,{_after_birth(w, 245)},,"]),
            (
                "measurements",
                "encounter_external_id,weight_kg,length_cm,position,head_cm,muac_cm,oedema,haemoglobin_g_l",
                ["EX,6.1,64.0,l,,,n,98"],
            ),
        ],
    ),
    "measurements (a correction)": Case(
        lambda a, w: tracking_actions.correct_measurement(
            a, w["encounter"].measurements.get(), {"weight_kg": 5.9}, REIMPORT_REASON
        ),
        lambda w: [("measurements", "encounter_external_id,weight_kg", ["E1,5.9"])],
    ),
    "screenings": Case(
        lambda a, w: tracking_actions.record_encounter(
            a,
            {"date": _after_birth(w, 61), "screenings": [{"instrument": "epds", "inputs": EPDS}]},
            child=w["child"],
        ),
        lambda w: [
            ("encounters", ENC_HEADER, [f"EX,C1,,check_up,,{_after_birth(w, 61)},,"]),
            ("screenings", "external_id,encounter_external_id,instrument,inputs", [f"SX,EX,epds,{_csv_json(EPDS)}"]),
        ],
    ),
    "deliveries": Case(
        lambda a, w: tracking_actions.record_delivery(
            a, "stimulation_session", _ago(w, 3), child=w["child"], facility_code="F-ALTA", detail="sesión 1"
        ),
        lambda w: [
            (
                "deliveries",
                "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,detail",
                [f"DX,stimulation_session,C1,,{_ago(w, 3)},F-ALTA,sesión 1"],
            )
        ],
    ),
    "deliveries (to a caregiver, at the recorder's facility)": Case(
        lambda a, w: tracking_actions.record_delivery(a, "parenting_programme", _ago(w, 3), caregiver=w["mother"]),
        lambda w: [
            (
                "deliveries",
                "external_id,service_code,child_external_id,caregiver_external_id,date",
                [f"DX,parenting_programme,,G1,{_ago(w, 3)}"],
            )
        ],
    ),
    "groups": Case(
        lambda a, w: tracking_actions.create_group(
            a,
            code="GRX",
            name="Taller de crianza",
            facility=Facility.objects.get(code="F-ALTA"),
            start_date=w["today"] - dt.timedelta(days=30),
            planned_sessions=6,
        ),
        lambda w: [
            (
                "groups",
                "code,name,service_code,facility_code,start_date,planned_sessions",
                [f"GRX,Taller de crianza,parenting_programme,F-ALTA,{_ago(w, 30)},6"],
            )
        ],
    ),
    "group members and attendance": Case(
        lambda a, w: tracking_actions.record_attendance(a, w["group"], w["mother"], [1, 2, 3, 4], w["child"]),
        lambda w: [
            ("group_members", "group_code,caregiver_external_id,child_external_id,attended", ["GR1,G1,C1,1;2;3;4"])
        ],
    ),
    "group attendance added to a member's": Case(
        lambda a, w: tracking_actions.record_attendance(a, w["group"], w["father"], [3, 4]),
        lambda w: [("group_members", "group_code,caregiver_external_id,attended", ["GR1,G2,1;2;3;4"])],
    ),
}


def _providers_action(a: Actor, w: dict[str, Any]) -> None:
    territories = list(Territory.objects.filter(code__in=["CL01001", "CL01002"]).order_by("code"))
    referral_actions.save_provision(
        a, Organisation.objects.get(code="SALA-ALTA"), Service.objects.get(code="childcare_enrolment"), territories, 40
    )


PROVIDERS = Case(
    _providers_action,
    lambda w: [
        (
            "providers",
            "organisation_code,organisation_name,sector,territory_code,service_code,territories,monthly_capacity",
            ["SALA-ALTA,Sala de estimulación Alta,health,CL01001,childcare_enrolment,CL01001;CL01002,40"],
        )
    ],
)


@pytest.fixture(params=["coordinator", "nurse"])
def recorder(request: pytest.FixtureRequest, cast: dict[str, Any]) -> Actor:
    """A coordinator (no facility: records nothing as the professional) and a health worker (a facility)."""
    user = cast["coordinator_alta"] if request.param == "coordinator" else cast["nurse_alta"]
    return Actor(user, Channel.CLI)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_action_and_import_store_the_same_rows_and_events(case, w, recorder, tmp_path):
    spec = CASES[case]
    by_action = _rolled_back(lambda: spec.action(recorder, w))
    by_import = _rolled_back(lambda: _import(recorder, tmp_path, spec.files(w)))
    assert by_action["audit"], "the action wrote nothing"
    for table in by_action:
        assert by_import[table] == by_action[table], table


def test_providers_action_and_import_are_the_same(w, cast, tmp_path):
    national = Actor(cast["national"], Channel.CLI)
    by_action = _rolled_back(lambda: PROVIDERS.action(national, w))
    by_import = _rolled_back(lambda: _import(national, tmp_path, PROVIDERS.files(w)))
    assert by_action["audit"]
    for table in by_action:
        assert by_import[table] == by_action[table], table


def test_every_kind_with_an_action_has_a_parity_case():
    covered = {
        spec.files({"today": dt.date(2026, 1, 1), "birth": dt.date(2025, 1, 1)})[-1][0] for spec in CASES.values()
    }
    covered.add("providers")
    assert covered == {
        "households",
        "caregivers",
        "children",
        "relationships",
        "pregnancies",
        "encounters",
        "measurements",
        "screenings",
        "deliveries",
        "groups",
        "group_members",
        "providers",
    }
