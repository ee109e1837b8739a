"""Linking a caregiver on the child's record page: the rules are the registry's (relationship, document,
names, reason), and each of their errors comes back beside its field of the form; the mother's link is
shown without a way to remove it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from crecer.lib.documents import run_check_digit
from crecer.registry import actions
from crecer.registry.models import Caregiver, CaregiverLink
from tests.conftest import SYSTEM


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def child(make_child):
    return make_child(facility_code="F-ALTA")


FATHER = {
    "relationship": "father",
    "national_id_type": "CL-RUN",
    "national_id": "11.111.111-1",
    "given_names": "Pedro",
    "paternal_surname": "Muñoz",
    "sex": "M",
    "reason": "Recognised at the CESFAM",
}


def _link(user, child, **changes):
    return _client(user).post(f"/children/{child.pk}/caregivers/link/", {**FATHER, **changes})


def _beside(page, field):
    """The messages shown beside ``field`` of the link form (and present in the page)."""
    messages = [e["message"] for e in page.context["link_errors"].get(field, [])]
    html = page.content.decode()
    assert all(m in html for m in messages)
    return messages


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"national_id": "11.111.111-2"}, "national_id"),  # wrong check digit
        ({"national_id_type": "XX-CARD"}, "national_id_type"),
        ({"given_names": ""}, "given_names"),  # not registered yet: names needed
        ({"paternal_surname": ""}, "paternal_surname"),
        ({"sex": ""}, "sex"),
        ({"reason": "  "}, "reason"),
        ({"relationship": "uncle"}, "relationship"),
    ],
)
def test_each_error_comes_back_beside_its_field(cast, child, changes, field):
    page = _link(cast["nurse_alta"], child, **changes)
    assert page.status_code == 422
    assert _beside(page, field), page.context["errors"]
    assert not CaregiverLink.unscoped.filter(child=child).exists()
    assert not Caregiver.unscoped.exists()  # nothing registered either


def test_an_unknown_document_without_names_says_to_register_them(cast, child):
    page = _link(cast["nurse_alta"], child, given_names="", paternal_surname="", sex="")
    assert page.status_code == 422 and page.context["registering"]
    with translation.override("es"):
        hint = gettext("No caregiver with this document is registered here: give their names and sex to register them.")
    assert hint in page.content.decode()
    assert set(page.context["link_errors"]) >= {"given_names", "paternal_surname", "sex"}


def test_a_second_father_is_refused_beside_the_relationship(cast, child, make_mother):
    other = make_mother(given_names="Juan", sex="M", national_id=f"12222222-{run_check_digit(12222222)}")
    actions.link_caregiver(SYSTEM, child, other, "father", reason=None)
    page = _link(cast["nurse_alta"], child)
    assert page.status_code == 422
    assert _beside(page, "relationship")
    assert CaregiverLink.unscoped.filter(child=child).count() == 1


def test_a_registered_caregiver_found_by_passport(cast, child, make_mother):
    guardian = make_mother(national_id_type="PASSPORT", national_id="AB123456")
    done = _link(
        cast["nurse_alta"],
        child,
        relationship="guardian",
        national_id_type="PASSPORT",
        national_id="ab123456",
        given_names="",
        paternal_surname="",
        sex="",
    )
    assert done.status_code == 302
    assert CaregiverLink.unscoped.get(child=child).caregiver == guardian
    assert Caregiver.unscoped.count() == 1


def test_the_mothers_link_has_no_remove_button(cast, make_mother, make_child):
    mother = make_mother()
    child = make_child(mother_national_id=mother.national_id)
    father = make_mother(given_names="Juan", sex="M", national_id=f"12222222-{run_check_digit(12222222)}")
    father_link = actions.link_caregiver(SYSTEM, child, father, "father", reason=None)
    mother_link = CaregiverLink.unscoped.get(child=child, relationship="mother")
    html = _client(cast["nurse_alta"]).get(f"/children/{child.pk}/edit/").content.decode()
    assert f"/children/{child.pk}/caregivers/{father_link.pk}/unlink/" in html
    assert f"/children/{child.pk}/caregivers/{mother_link.pk}/unlink/" not in html
