"""Pregnancies: registered for a mother with LMP and/or expected date; the outcome links the child."""

from __future__ import annotations

import datetime as dt

import pytest

from crecer.audit.models import Action, AuditEvent
from crecer.registry import actions
from crecer.registry.models import CaregiverLink, Pregnancy
from crecer.validation import InputErrors
from tests.conftest import SYSTEM


def test_expected_date_derived_from_lmp_and_week_from_first_visit(make_mother):
    mother = make_mother()
    pregnancy = actions.create_pregnancy(
        SYSTEM,
        {
            "mother_external_id": "",
            "mother_national_id": "15432876-9",
            "lmp_date": "2025-01-01",
            "first_visit_date": "2025-03-01",
        },
    )
    assert pregnancy.mother == mother
    assert pregnancy.edd_date == dt.date(2025, 10, 8)
    assert pregnancy.first_visit_week == 8
    assert AuditEvent.objects.filter(entity="registry.pregnancy", action=Action.CREATE).exists()


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({}, "edd_date", "required"),
        ({"lmp_date": "2999-01-01"}, "lmp_date", "future"),
        ({"lmp_date": "2025-01-01", "first_visit_date": "2024-12-01"}, "first_visit_date", "before_pregnancy"),
        ({"lmp_date": "2025-01-01", "outcome": "live_birth"}, "outcome_date", "required"),
        ({"lmp_date": "2025-01-01", "outcome": "twins"}, "outcome", "invalid_choice"),
    ],
)
def test_bad_pregnancy_input(make_mother, raw, field, code):
    make_mother()
    with pytest.raises(InputErrors) as exc:
        actions.create_pregnancy(SYSTEM, {"mother_national_id": "15432876-9", **raw})
    assert code in [e.code for e in exc.value.errors[field]]
    assert not Pregnancy.unscoped.exists()


def test_mother_too_young(make_mother):
    make_mother(birth_date="2017-05-01")
    with pytest.raises(InputErrors) as exc:
        actions.create_pregnancy(SYSTEM, {"mother_national_id": "15432876-9", "lmp_date": "2025-01-01"})
    assert exc.value.errors["mother_external_id"][0].code == "mother_too_young"


def test_birth_links_child_and_mother(make_mother, make_child):
    make_mother()
    pregnancy = actions.create_pregnancy(SYSTEM, {"mother_national_id": "15432876-9", "lmp_date": "2023-06-03"})
    child = make_child(birth_date="2024-03-10")
    actions.record_birth(SYSTEM, pregnancy, child)
    pregnancy.refresh_from_db()
    child.refresh_from_db()
    assert (pregnancy.outcome, pregnancy.outcome_date, child.pregnancy_id) == (
        "live_birth",
        child.birth_date,
        pregnancy.pk,
    )
    assert CaregiverLink.unscoped.get(child=child, relationship="mother").caregiver_id == pregnancy.mother_id
