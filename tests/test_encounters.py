"""Encounters: a check-up with measurements (WHO z-scores), screenings and deliveries, fulfilling a
scheduled contact; corrections keep history; prenatal contacts on pregnancies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.lib import growth
from crecer.registry import actions as registry_actions
from crecer.tracking import actions
from crecer.tracking.models import Delivery, Encounter, Measurement, Screening
from crecer.validation import InputErrors
from tests.conftest import SYSTEM


@pytest.fixture
def baby(make_child, make_mother, today):
    make_mother()
    return make_child(birth_date=(today - dt.timedelta(days=70)).isoformat(), mother_national_id="15432876-9", sex="F")


def _nurse(cast):
    return Actor(cast["nurse_alta"], Channel.WEB)


def test_check_up_with_measurement_assigns_the_due_contact(cast, baby, today):
    encounter = actions.record_encounter(
        _nurse(cast),
        {"date": today.isoformat(), "measurement": {"weight_kg": "5.2", "length_cm": "58.4", "head_cm": "39"}},
        child=baby,
    )
    assert encounter.contact_code == "m2"  # 70 days old: the 2-month check-up is due
    assert encounter.facility.code == "F-ALTA" and encounter.professional == cast["nurse_alta"]
    m = Measurement.unscoped.get(encounter=encounter)
    expected = growth.zscores(2, 70, 5.2, 58.4, head_cm=39.0)
    assert m.z_wfa == round(float(expected["z_wfa"]), 2)
    assert m.z_lhfa == round(float(expected["z_lhfa"]), 2)
    assert m.stunting == 0 and m.age_days == 70
    assert AuditEvent.objects.filter(child_id=baby.pk, entity="tracking.measurement", action=Action.CREATE).exists()


def test_late_contact_is_caught_up_and_not_recorded_twice(cast, baby, today):
    first = actions.record_encounter(_nurse(cast), {"date": (today - dt.timedelta(days=35)).isoformat()}, child=baby)
    assert first.contact_code == "m1"
    with pytest.raises(InputErrors) as exc:
        actions.record_encounter(_nurse(cast), {"date": today.isoformat(), "contact_code": "m1"}, child=baby)
    assert exc.value.errors["contact_code"][0].code == "done"


def test_bad_encounter_input(cast, baby, today):
    with pytest.raises(InputErrors) as exc:
        actions.record_encounter(
            _nurse(cast),
            {
                "date": (today + dt.timedelta(days=1)).isoformat(),
                "measurement": {"weight_kg": "52", "length_cm": "abc", "position": "x"},
                "screenings": [{"instrument": "nope", "inputs": {}}],
                "deliveries": ["unknown_service"],
            },
            child=baby,
        )
    errors = exc.value.errors
    assert {
        "date",
        "measurement.length_cm",
        "measurement.position",
        "screenings[0].instrument",
        "deliveries[0]",
    } <= set(errors)
    assert errors["date"][0].code == "future"
    assert not Encounter.unscoped.exists() and not Measurement.unscoped.exists()


def test_encounter_before_birth_is_refused(cast, baby):
    with pytest.raises(InputErrors) as exc:
        actions.record_encounter(
            _nurse(cast), {"date": (baby.birth_date - dt.timedelta(days=1)).isoformat()}, child=baby
        )
    assert exc.value.errors["date"][0].code == "before_origin"


def test_screenings_are_scored_with_the_profile(cast, baby, today):
    epds = {"instrument": "epds", "inputs": {"items": [1, 1, 2, 1, 2, 1, 1, 1, 1, 0]}}
    actions.record_encounter(_nurse(cast), {"date": today.isoformat(), "screenings": [epds]}, child=baby)
    s = Screening.unscoped.get()
    assert (s.instrument, s.score, s.classification, s.data_category) == ("epds", 11.0, "positive", "mental_health")
    assert s.caregiver is not None and s.caregiver.paternal_surname == "Pérez"  # the mother


def test_screening_input_errors_name_the_item(cast, baby, today):
    with pytest.raises(InputErrors) as exc:
        actions.record_encounter(
            _nurse(cast),
            {"date": today.isoformat(), "screenings": [{"instrument": "epds", "inputs": {"items": [1, 9] + [0] * 8}}]},
            child=baby,
        )
    (field,) = exc.value.errors
    assert field == "screenings[0].inputs.items.2" and exc.value.errors[field][0].code == "out_of_range"


def test_sensitive_screening_needs_the_category(make_user, baby, today):
    from crecer.access.models import Role

    nurse = make_user("sin_salud_mental", Role.HEALTH_WORKER, "CL01001", facility_code="F-ALTA")
    nurse.refresh_from_db()
    from django.test import override_settings

    with override_settings(CRECER_ROLE_SENSITIVE_CATEGORIES={}), pytest.raises(PermissionDenied):
        actions.record_encounter(
            Actor(nurse, Channel.WEB),
            {"date": today.isoformat(), "screenings": [{"instrument": "epds", "inputs": {"items": [0] * 10}}]},
            child=baby,
        )


def test_correction_keeps_history(cast, baby, today):
    actions.record_encounter(_nurse(cast), {"date": today.isoformat(), "measurement": {"weight_kg": "3.1"}}, child=baby)
    wrong = Measurement.unscoped.get()
    fixed = actions.correct_measurement(_nurse(cast), wrong, {"weight_kg": 5.1}, "typed 3.1 for 5.1")
    wrong.refresh_from_db()
    assert (wrong.is_current, fixed.is_current, fixed.supersedes_id) == (False, True, wrong.pk)
    assert fixed.z_wfa > wrong.z_wfa
    with pytest.raises(InputErrors):
        actions.correct_measurement(_nurse(cast), wrong, {"weight_kg": 5.0}, "again")  # only the latest
    assert Measurement.unscoped.count() == 2


def test_screening_correction(cast, baby, today):
    actions.record_encounter(
        _nurse(cast),
        {"date": today.isoformat(), "screenings": [{"instrument": "epds", "inputs": {"items": [3] * 9 + [0]}}]},
        child=baby,
    )
    old = Screening.unscoped.get()
    new = actions.correct_screening(_nurse(cast), old, {"items": [0] * 10}, "wrong form")
    assert (old.classification, new.classification, new.supersedes_id) == ("positive", "negative", old.pk)


def test_deliveries_with_the_encounter_and_alone(cast, baby, today):
    actions.record_encounter(_nurse(cast), {"date": today.isoformat(), "deliveries": ["welcome_kit"]}, child=baby)
    actions.record_delivery(_nurse(cast), "stimulation_session", today.isoformat(), child=baby, detail="sesión 1")
    assert set(Delivery.unscoped.values_list("service_code", flat=True)) == {"welcome_kit", "stimulation_session"}
    with pytest.raises(InputErrors):
        actions.record_delivery(
            _nurse(cast), "parenting_programme", today.isoformat(), child=baby
        )  # a caregiver service


def test_prenatal_contact(cast, make_mother, today):
    make_mother()
    pregnancy = registry_actions.create_pregnancy(
        SYSTEM, {"mother_national_id": "15432876-9", "lmp_date": (today - dt.timedelta(days=70)).isoformat()}
    )
    epsa = {
        "late_entry": False,
        "low_schooling": False,
        "adolescent": True,
        "rejection": False,
        "low_support": False,
        "depressive_symptoms": False,
        "substance_use": False,
        "gender_violence": False,
        "other": "",
    }
    encounter = actions.record_encounter(
        _nurse(cast),
        {"date": today.isoformat(), "screenings": [{"instrument": "epsa", "inputs": epsa}]},
        pregnancy=pregnancy,
    )
    assert (encounter.kind, encounter.contact_code, encounter.gestational_weeks) == ("prenatal", "anc1", 10)
    assert Screening.unscoped.get(pregnancy=pregnancy).classification == "positive"
    with pytest.raises(InputErrors):
        actions.record_encounter(
            _nurse(cast), {"date": today.isoformat(), "measurement": {"weight_kg": 3}}, pregnancy=pregnancy
        )


def test_out_of_territory_nurse_cannot_record(cast, baby, today):
    with pytest.raises(InputErrors) as exc:
        actions.record_encounter(Actor(cast["nurse_baja"], Channel.WEB), {"date": today.isoformat()}, child=baby)
    assert exc.value.errors["territory_code"][0].code == "out_of_scope"
