"""Permissions in one place: the matrix of crecer.access.permissions is the one in docs/permissions.md,
and actions, importers, pages and the API all follow it — change the matrix and every path changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from crecer.access import permissions
from crecer.access.categories import FIXED, category_of, of_instrument, of_service
from crecer.access.models import DataCategory, Role
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import run_import
from crecer.imports.permissions import kinds_for
from crecer.referrals import actions as referral_actions
from crecer.registry import actions as registry_actions
from crecer.tracking import actions as tracking_actions
from tests.conftest import CHILD_DEFAULTS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"


def test_the_matrix_is_the_documented_one():
    table = permissions.matrix_markdown()
    print("\n" + table)  # the matrix, for whoever runs the suite with -s
    assert table in DOCS.read_text(encoding="utf-8")


def test_the_matrix_covers_every_role_right_category_and_kind():
    from crecer.imports.framework import kinds

    rows = dict(permissions.matrix())
    assert all(len(marks) == len(Role.values) for marks in rows.values())
    assert {r for r in rows if r in permissions.RIGHTS} == set(permissions.RIGHTS)
    assert {r.removeprefix("category ") for r in rows if r.startswith("category ")} == set(DataCategory.values)
    assert {r.removeprefix("import ") for r in rows if r.startswith("import ")} == set(kinds())


@pytest.fixture
def no_registering_nurses(monkeypatch: pytest.MonkeyPatch) -> None:
    rights = dict(permissions.ROLE_RIGHTS)
    rights[Role.HEALTH_WORKER] = rights[Role.HEALTH_WORKER] - {permissions.REGISTER, permissions.SEND_REFERRALS}
    monkeypatch.setattr(permissions, "ROLE_RIGHTS", rights)


def test_every_path_follows_the_matrix(no_registering_nurses, cast, make_child, network, api_client, tmp_path, today):
    """With registration taken from health workers in the one module, the action, the importer, the page
    and the API all refuse a nurse."""
    nurse = cast["nurse_alta"]
    with pytest.raises(PermissionDenied):
        registry_actions.create_child(Actor(nurse, Channel.WEB), dict(CHILD_DEFAULTS))
    child = make_child()
    with pytest.raises(PermissionDenied):
        tracking_actions.record_encounter(Actor(nurse, Channel.WEB), {"date": today.isoformat()}, child=child)
    with pytest.raises(PermissionDenied):
        referral_actions.create_referral(
            Actor(nurse, Channel.WEB), child=child, service_code="stimulation_session", reason="x", consent=[]
        )
    path = tmp_path / "households.csv"
    path.write_text("code,territory_code\nH1,CL01001\n", encoding="utf-8")
    result = run_import("households", path, Actor(nurse, Channel.CLI))
    assert [r.errors["row"][0]["code"] for r in result.rejected] == ["forbidden"]
    response = api_client(nurse).post("/api/v1/children", dict(CHILD_DEFAULTS), content_type="application/json")
    assert response.status_code == 403
    page = Client()
    page.force_login(nurse)
    assert page.get(f"/children/{child.pk}/check-up/").status_code in (403, 404)


def test_importable_kinds_come_from_the_matrix(cast, monkeypatch: pytest.MonkeyPatch):
    assert kinds_for(cast["nurse_alta"]) == []
    assert "children" in kinds_for(cast["coordinator_alta"])
    monkeypatch.setitem(permissions.IMPORT_ROLES, "children", frozenset({Role.HEALTH_WORKER}))
    assert kinds_for(cast["nurse_alta"]) == ["children"]
    assert "children" not in kinds_for(cast["coordinator_alta"])


def test_sensitive_categories_come_from_the_settings(cast, settings):
    assert permissions.may_record(cast["nurse_alta"], DataCategory.MENTAL_HEALTH)
    settings.CRECER_ROLE_SENSITIVE_CATEGORIES = {}
    assert not permissions.may_record(cast["nurse_alta"], DataCategory.MENTAL_HEALTH)
    assert permissions.may_record(cast["nurse_alta"], DataCategory.HEALTH)
    assert not permissions.may_record(cast["stranger"], DataCategory.HEALTH)  # inactive


def test_one_function_decides_the_category_of_a_record(cast, make_child, network, today):
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    child = make_child(birth_date=(today - dt.timedelta(days=70)).isoformat())
    encounter = tracking_actions.record_encounter(
        nurse,
        {
            "date": today.isoformat(),
            "measurement": {"weight_kg": 5.0},
            "screenings": [{"instrument": "epds", "inputs": {"items": [0] * 10}}],
            "deliveries": ["welcome_kit"],
        },
        child=child,
    )
    referral = referral_actions.create_referral(
        nurse, child=child, service_code="child_protection", reason="x", consent=[]
    )
    assert category_of(child) == DataCategory.IDENTITY
    assert category_of(encounter) == category_of(encounter.measurements.get()) == DataCategory.HEALTH
    assert category_of(encounter.screenings.get()) == of_instrument("epds") == DataCategory.MENTAL_HEALTH
    assert category_of(encounter.deliveries.get()) == of_service("welcome_kit") == DataCategory.HEALTH
    assert category_of(referral) == DataCategory.CHILD_PROTECTION
    assert of_service("not-in-the-catalogue") == DataCategory.SOCIAL
    assert FIXED["tracking.groupmember"] == DataCategory.DEVELOPMENT


def test_the_one_category_function_hides_records_on_every_path(cast, make_child, network, api_client, today):
    """A child-protection referral is out of sight of a user without that category on the timeline (as
    the pages and the API serve it) and in FHIR — all through category_of."""
    from crecer.interop.fhir_export import child_bundle
    from crecer.tracking import timeline

    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    child = make_child(birth_date=(today - dt.timedelta(days=70)).isoformat(), facility_code="F-ALTA")
    referral_actions.create_referral(coordinator, child=child, service_code="child_protection", reason="x", consent=[])
    nurse: Any = cast["nurse_alta"]
    assert not [i for i in timeline.build(nurse, child, today) if i.kind == "referral"]
    assert [i for i in timeline.build(cast["coordinator_alta"], child, today) if i.kind == "referral"]

    def api_timeline(user: Any) -> list[str]:
        response = api_client(user).get(f"/api/v1/children/{child.pk}/timeline")
        assert response.status_code == 200
        return [i["kind"] for i in response.json()]

    assert "referral" not in api_timeline(nurse) and "referral" in api_timeline(cast["coordinator_alta"])
    bundle = child_bundle(nurse, child, "https://crecer.example")
    assert not [e for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    coordinators = child_bundle(cast["coordinator_alta"], child, "https://crecer.example")
    assert [e for e in coordinators["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]


def test_a_referral_of_a_category_one_may_not_read_is_not_shown_by_id(cast, make_child, network, api_client, today):
    coordinator = Actor(cast["coordinator_alta"], Channel.WEB)
    child = make_child(birth_date=(today - dt.timedelta(days=70)).isoformat(), facility_code="F-ALTA")
    referral = referral_actions.create_referral(
        coordinator, child=child, service_code="child_protection", reason="Sospecha de negligencia", consent=[]
    )
    page = Client()
    page.force_login(cast["nurse_alta"])
    assert api_client(cast["nurse_alta"]).get(f"/api/v1/referrals/{referral.pk}").status_code == 404
    assert page.get(f"/referrals/{referral.pk}/").status_code == 404
