"""Territorial scope, deny by default: who sees which children, in queries, pages, API, search and counts."""

from __future__ import annotations

import pytest
from django.test import Client

from crecer.access.models import DataCategory
from crecer.registry import actions, scope
from crecer.registry.models import Child
from crecer.registry.search import search
from tests.conftest import SYSTEM

# name -> which of the fixture children the user must see
EXPECTED = {
    "nurse_alta": {"alta", "baja"},  # lives in Alta, or attends the Alta health centre
    "nurse_baja": {"baja", "baja_local"},  # lives in Baja
    "coordinator_alta": {"alta", "baja"},
    "regional_norte": {"alta", "baja", "baja_local"},
    "national": {"alta", "baja", "baja_local", "austral"},
    # Auditors read the audit trail of their territory, not the records (CRECER_AUDITORS_READ_RECORDS).
    "auditor": set(),
    "auditor_sur": set(),
    "provider_opd": set(),  # nothing shared yet
    "provider_housing": set(),
    "inspector": set(),
    "admin": set(),
    "stranger": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_scoped_queryset(cast, children, who):
    visible = set(scope.children(cast[who]).values_list("pk", flat=True))
    assert visible == {children[name].pk for name in EXPECTED[who]}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_api_list_and_detail_follow_scope(cast, children, api_client, who):
    user = cast[who]
    if not user.is_active:
        # An inactive user's token does not authenticate at all.
        response = api_client(user).get("/api/v1/children")
        assert response.status_code == 401
        return
    client = api_client(user)
    listed = {row["id"] for row in client.get("/api/v1/children").json()["results"]}
    assert listed == {children[name].pk for name in EXPECTED[who]}
    assert client.get("/api/v1/children").json()["count"] == len(EXPECTED[who])
    for name, child in children.items():
        response = client.get(f"/api/v1/children/{child.pk}")
        assert response.status_code == (200 if name in EXPECTED[who] else 404), name


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_pages_follow_scope(cast, children, who):
    user = cast[who]
    client = Client()
    client.force_login(user)
    for name, child in children.items():
        response = client.get(f"/children/{child.pk}/")
        if not user.is_active:
            assert response.status_code == 302  # to the login page
        else:
            assert response.status_code == (200 if name in EXPECTED[who] else 404), name


def test_out_of_scope_and_missing_answer_the_same(cast, children, api_client):
    client = api_client(cast["nurse_baja"])
    hidden = client.get(f"/api/v1/children/{children['austral'].pk}")
    missing = client.get("/api/v1/children/99999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_search_is_scoped(cast, children):
    # "Tomás" lives in the south: the northern nurse's search finds nothing, the national manager finds him.
    assert not search(scope.children(cast["nurse_alta"]), "tomas").exists()
    assert list(search(scope.children(cast["national"]), "TOMÁS")) == [children["austral"]]


def test_counts_on_pages_are_scoped(cast, children):
    client = Client()
    client.force_login(cast["nurse_baja"])
    page = client.get("/territories/CL/")
    assert page.status_code == 200
    assert page.context["children_count"] == 2
    rows = {row["territory"].code: row["children"] for row in page.context["breakdown"]}
    assert rows == {"CL01": 2, "CL02": 0}


def test_sharing_with_an_organisation_opens_only_that_child(cast, children, api_client):
    actions.grant_access(
        SYSTEM, children["alta"], cast["provider_opd"].organisation, [DataCategory.CHILD_PROTECTION], "referral"
    )
    client = api_client(cast["provider_opd"])
    assert [r["id"] for r in client.get("/api/v1/children").json()["results"]] == [children["alta"].pk]
    assert client.get(f"/api/v1/children/{children['alta'].pk}").status_code == 200
    assert client.get(f"/api/v1/children/{children['baja'].pk}").status_code == 404
    # The other organisation still sees nothing.
    assert api_client(cast["provider_housing"]).get("/api/v1/children").json()["count"] == 0


def test_expired_or_revoked_share_closes_access(cast, children):
    from datetime import timedelta

    from django.utils import timezone

    organisation = cast["provider_opd"].organisation
    grant = actions.grant_access(SYSTEM, children["alta"], organisation, [], "referral")
    assert scope.children(cast["provider_opd"]).count() == 1
    actions.revoke_access(SYSTEM, grant)
    assert scope.children(cast["provider_opd"]).count() == 0
    actions.grant_access(
        SYSTEM, children["alta"], organisation, [], "referral", valid_until=timezone.now() - timedelta(minutes=1)
    )
    assert scope.children(cast["provider_opd"]).count() == 0


def test_voided_children_disappear_everywhere(cast, children):
    actions.void_child(SYSTEM, children["alta"], "registered twice")
    assert not scope.children(cast["national"]).filter(pk=children["alta"].pk).exists()
    assert Child.unscoped.filter(pk=children["alta"].pk).exists()  # kept for the audit


def test_person_tables_have_no_default_unscoped_manager():
    # Deny by default: reading people requires the scope layer or the explicit "unscoped" manager.
    assert not hasattr(Child, "objects")


def test_auditors_read_the_records_of_their_territory_where_the_setting_says_so(cast, children, settings):
    settings.CRECER_AUDITORS_READ_RECORDS = True
    assert set(scope.children(cast["auditor"]).values_list("pk", flat=True)) == {c.pk for c in children.values()}
    assert set(scope.children(cast["auditor_sur"]).values_list("pk", flat=True)) == {children["austral"].pk}


def test_the_audit_trail_has_its_own_scope(cast, children):
    """Auditors audit the children of their territory without reading their records; nobody else does."""
    assert set(scope.audited_children(cast["auditor"]).values_list("pk", flat=True)) == {
        c.pk for c in children.values()
    }
    assert set(scope.audited_children(cast["auditor_sur"]).values_list("pk", flat=True)) == {children["austral"].pk}
    for who in ("national", "coordinator_alta", "admin", "inspector", "stranger"):
        assert not scope.audited_children(cast[who]).exists(), who


def _decided_by_query(user, child_id):
    """The categories of a child as the scoped queries decide them (a fresh record: no decision kept)."""
    return scope.categories(user, Child.unscoped.get(pk=child_id))


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_one_child_is_decided_as_the_scoped_queries_decide(cast, children, who):
    """get_child_or_404 decides one child from its paths (no subquery): the same children as scope.children,
    and the categories it keeps on the child are those scope.categories computes by query."""
    from django.http import Http404

    user = cast[who]
    actions.grant_access(
        SYSTEM, children["austral"], cast["provider_opd"].organisation, [DataCategory.CHILD_PROTECTION], "referral"
    )
    visible = set(scope.children(user).values_list("pk", flat=True))
    for child in Child.unscoped.all():
        if child.pk in visible:
            found = scope.get_child_or_404(user, child.pk)
            assert scope.categories(user, found) == _decided_by_query(user, child.pk) != frozenset()
        else:
            with pytest.raises(Http404):
                scope.get_child_or_404(user, child.pk)
            assert _decided_by_query(user, child.pk) == frozenset()


def test_a_kept_decision_does_not_outlive_a_move_or_a_change_of_role(cast, children):
    from crecer.access.models import Role

    nurse = cast["nurse_alta"]
    child = scope.get_child_or_404(nurse, children["alta"].pk)
    assert DataCategory.HEALTH in scope.categories(nurse, child)
    # Moved to the south (as an action would, on the same object): decided again, out of her scope.
    child.territory_id = children["austral"].territory_id
    child.facility_id = children["austral"].facility_id
    child.save(update_fields=["territory", "facility"])
    assert scope.categories(nurse, child) == frozenset()
    child = scope.get_child_or_404(nurse, children["baja"].pk)
    assert scope.categories(nurse, child) != frozenset()
    nurse.role = Role.PROVIDER_STAFF  # no longer territorial: decided again, nothing shared
    assert scope.categories(nurse, child) == frozenset()
