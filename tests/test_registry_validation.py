"""Bad input to the registry: a clear error naming the field, and nothing partially saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crecer.audit.models import AuditEvent
from crecer.registry import actions
from crecer.registry.models import CaregiverLink, Child
from crecer.validation import InputErrors
from tests.conftest import CHILD_DEFAULTS, SYSTEM


def _errors(raw):
    with pytest.raises(InputErrors) as exc:
        actions.create_child(SYSTEM, {**CHILD_DEFAULTS, **raw})
    return exc.value.as_dict()


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"national_id": "12.345.678-9"}, "national_id", "check_digit"),
        ({"national_id": "hola"}, "national_id", "format"),
        ({"birth_date": "2999-01-01"}, "birth_date", "future"),
        ({"birth_date": "10/03/2024"}, "birth_date", "invalid_date"),
        ({"territory_code": "CL99"}, "territory_code", "unknown"),
        ({"territory_code": ""}, "territory_code", "required"),
        ({"sex": "X"}, "sex", "invalid_choice"),
        ({"given_names": ""}, "given_names", "required"),
        ({"paternal_surname": ""}, "paternal_surname", "required"),
        ({"national_id_type": "SV-DUI", "national_id": "12345678-4"}, "national_id_type", "unknown_type"),
        ({"facility_code": "NOPE"}, "facility_code", "unknown"),
        ({"birth_weight_g": "9000"}, "birth_weight_g", "out_of_range"),
        ({"birth_date": "1990-01-01"}, "birth_date", "too_old"),
        ({"mother_national_id": "12"}, "mother_national_id", "invalid"),
    ],
)
def test_bad_child_input_names_the_field(country, raw, field, code):
    errors = _errors(raw)
    assert code in [e["code"] for e in errors[field]], errors
    assert all(e["message"] for e in errors[field])
    assert not Child.unscoped.exists()
    assert not AuditEvent.objects.filter(entity="registry.child").exists()


def test_every_problem_is_reported_at_once(country):
    errors = _errors({"national_id": "1-1", "birth_date": "2999-01-01", "sex": "?"})
    assert {"national_id", "birth_date", "sex"} <= set(errors)


def test_duplicate_document_is_refused(make_child):
    make_child(national_id="12.345.678-5")
    errors = _errors({"national_id": "12345678-5", "given_names": "Otra"})
    assert errors["national_id"][0]["code"] == "duplicate"
    assert Child.unscoped.count() == 1


def test_mother_younger_than_ten_at_birth(make_mother):
    make_mother(birth_date="2016-01-01")
    errors = _errors({"mother_national_id": "15432876-9", "birth_date": "2025-06-01"})
    assert errors["mother_national_id"][0]["code"] == "mother_too_young"
    assert not CaregiverLink.unscoped.exists()


def test_mother_born_on_29_february(make_mother):
    make_mother(birth_date="2008-02-29")
    errors = _errors({"mother_national_id": "15432876-9", "birth_date": "2018-02-27"})
    assert errors["mother_national_id"][0]["code"] == "mother_too_young"
    child = actions.create_child(
        SYSTEM, {**CHILD_DEFAULTS, "mother_national_id": "15432876-9", "birth_date": "2018-02-28"}
    )
    assert CaregiverLink.unscoped.filter(child=child).exists()


def test_mother_is_linked(make_mother):
    mother = make_mother()
    child = actions.create_child(SYSTEM, {**CHILD_DEFAULTS, "mother_national_id": "15.432.876-9"})
    assert CaregiverLink.unscoped.get(child=child).caregiver == mother


def test_unborn_child_needs_no_name_sex_or_document(country):
    child = actions.create_child(
        SYSTEM,
        {"paternal_surname": "Pérez", "territory_code": "CL01001", "given_names": "", "sex": "", "birth_date": ""},
    )
    assert child.birth_date is None and child.national_id is None


def test_newborn_without_document(country):
    child = actions.create_child(SYSTEM, {**CHILD_DEFAULTS, "birth_date": timezone.localdate().isoformat()})
    assert child.national_id is None
    assert child.registry_number.startswith("CL-")


def test_registry_numbers_are_unique_and_checked(make_child):
    from crecer.lib.documents import run_check_digit

    numbers = [make_child(given_names=f"Niño {i}").registry_number for i in range(5)]
    assert len(set(numbers)) == 5
    for number in numbers:
        prefix, body, check = number.split("-")
        assert prefix == "CL" and run_check_digit(int(body)) == check


def test_update_is_validated_as_a_whole(make_child):
    child = make_child()
    with pytest.raises(InputErrors) as exc:
        actions.update_child(SYSTEM, child, {"birth_date": "2999-01-01"}, reason=None)
    assert "birth_date" in exc.value.errors
    child.refresh_from_db()
    assert child.birth_date == dt.date(2024, 3, 10)


def test_update_rejects_unknown_fields(make_child):
    child = make_child()
    with pytest.raises(InputErrors) as exc:
        actions.update_child(SYSTEM, child, {"favourite_colour": "azul"}, reason=None)
    assert exc.value.errors["favourite_colour"][0].code == "unknown_field"


def test_health_worker_cannot_register_outside_their_territory(cast):
    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor

    with pytest.raises(InputErrors) as exc:
        actions.create_child(Actor(cast["nurse_alta"], Channel.WEB), {**CHILD_DEFAULTS, "territory_code": "CL02001"})
    assert exc.value.errors["territory_code"][0].code == "out_of_scope"
    assert not Child.unscoped.exists()


def test_roles_that_cannot_register(cast):
    from django.core.exceptions import PermissionDenied

    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor

    for who in ("national", "auditor", "provider_opd", "inspector", "admin"):
        with pytest.raises(PermissionDenied):
            actions.create_child(Actor(cast[who], Channel.API), dict(CHILD_DEFAULTS))


@pytest.mark.parametrize("phone", ["abc", "12", "+56 9 1234 5678 ext. 3", "9" * 31])
def test_a_caregiver_phone_must_be_a_phone_number(make_mother, phone):
    from crecer.registry.models import Caregiver

    with pytest.raises(InputErrors) as exc:
        make_mother(phone=phone)
    assert exc.value.as_dict()["phone"][0]["code"] == "invalid"
    assert not Caregiver.unscoped.exists()


@pytest.mark.parametrize("phone", ["+56 9 1234 5678", "(02) 2345-6789", "987654321", ""])
def test_phone_numbers_as_people_write_them_are_kept(make_mother, phone):
    assert make_mother(phone=phone).phone == phone
