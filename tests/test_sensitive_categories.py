"""Sensitive data categories (violence, abuse, mental health, child protection) are visible only to
roles granted them, and to organisations only when the family consented to share them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from crecer.access.models import DataCategory, Role
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.registry import actions, scope
from tests.conftest import SYSTEM


@pytest.fixture
def noted(children):
    child = children["alta"]
    for category, text in (
        (DataCategory.HEALTH, "control sano al día"),
        (DataCategory.MENTAL_HEALTH, "madre con síntomas depresivos"),
        (DataCategory.CHILD_PROTECTION, "sospecha de negligencia"),
        (DataCategory.VIOLENCE, "violencia intrafamiliar"),
    ):
        actions.add_case_note(SYSTEM, child, category, text)
    return child


EXPECTED = {
    "nurse_alta": {"health", "mental_health"},
    "coordinator_alta": {"health", "mental_health", "child_protection", "violence"},
    "regional_norte": {"health"},
    "national": {"health"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_notes_by_role(cast, noted, who):
    assert {n.category for n in scope.notes(cast[who], noted)} == EXPECTED[who]


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_profile_page_shows_only_allowed_notes(cast, noted, who):
    client = Client()
    client.force_login(cast[who])
    page = client.get(f"/children/{noted.pk}/").content.decode()
    assert ("sospecha de negligencia" in page) == ("child_protection" in EXPECTED[who])
    assert ("madre con síntomas depresivos" in page) == ("mental_health" in EXPECTED[who])
    assert "control sano al día" in page


def test_a_user_can_be_granted_a_category(make_user, noted):
    officer = make_user(
        "oficial_proteccion",
        Role.HEALTH_WORKER,
        "CL01001",
        facility_code="F-ALTA",
        extra_categories=["child_protection"],
    )
    assert "child_protection" in {n.category for n in scope.notes(officer, noted)}


def test_out_of_scope_users_see_no_notes(cast, noted):
    # Auditors read the audit trail, not the records (CRECER_AUDITORS_READ_RECORDS).
    for who in ("nurse_baja", "provider_opd", "inspector", "admin", "stranger", "auditor"):
        assert not scope.notes(cast[who], noted).exists(), who


def test_organisation_sees_only_consented_categories(cast, noted):
    actions.grant_access(SYSTEM, noted, cast["provider_opd"].organisation, [DataCategory.CHILD_PROTECTION], "referral")
    assert {n.category for n in scope.notes(cast["provider_opd"], noted)} == {"child_protection"}
    assert scope.categories(cast["provider_opd"], noted) == {"identity", "child_protection"}


def test_cannot_write_a_category_one_cannot_read(cast, children):
    with pytest.raises(PermissionDenied):
        actions.add_case_note(Actor(cast["nurse_alta"], Channel.WEB), children["alta"], DataCategory.VIOLENCE, "x")


def test_household_data_is_social(cast, make_child, api_client):
    """The household (address, vulnerability) is shown to whoever may read the social category: the
    housing office the family shared it with, not the child protection office it did not."""
    actions.create_household(SYSTEM, {"code": "H-77", "territory_code": "CL01001", "address": "Pasaje Los Aromos 1234"})
    child = make_child(birth_weight_g="2400", household_code="H-77")
    actions.grant_access(SYSTEM, child, cast["provider_housing"].organisation, [DataCategory.SOCIAL], "housing")
    actions.grant_access(SYSTEM, child, cast["provider_opd"].organisation, [DataCategory.CHILD_PROTECTION], "opd")
    body = api_client(cast["provider_housing"]).get(f"/api/v1/children/{child.pk}").json()
    assert body["birth_weight_g"] is None  # health was not shared
    assert "social" in body["data_categories"]
    pages = {}
    for who in ("provider_housing", "provider_opd"):
        client = Client()
        client.force_login(cast[who])
        pages[who] = client.get(f"/children/{child.pk}/")
        assert pages[who].status_code == 200, who
    assert "Pasaje Los Aromos 1234" in pages["provider_housing"].content.decode()
    assert "Pasaje Los Aromos 1234" not in pages["provider_opd"].content.decode()
