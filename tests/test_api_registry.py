"""API v1 for households, caregivers, their links to children and voided children: the registering roles
write inside their territory, others get 403 (or 404 for what they may not see), bad input is a 422 naming
the field and changes nothing; every write is audited and every answer about a person logs the read."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from crecer.audit.models import Action, AuditEvent
from crecer.lib.documents import run_check_digit
from crecer.registry import actions
from crecer.registry.inputs import add_years
from crecer.registry.models import Caregiver, CaregiverLink, Child, Household
from crecer.territories.models import Organisation
from tests.conftest import SYSTEM

API = "/api/v1"
REGISTERING = ["nurse_alta", "coordinator_alta"]
NOT_REGISTERING = ["national", "regional_norte", "auditor", "inspector", "admin", "provider_opd"]


def _run(body: int) -> str:
    return f"{body}-{run_check_digit(body)}"


def _send(client, method, path, data=None):
    return getattr(client, method)(f"{API}{path}", data=json.dumps(data or {}), content_type="application/json")


def _reads(user, **filters):
    return AuditEvent.objects.filter(action=Action.READ, actor=user, **filters)


CAREGIVER = {
    "given_names": "Javiera",
    "paternal_surname": "Soto",
    "maternal_surname": "Lagos",
    "sex": "F",
    "birth_date": "1993-09-14",
    "national_id": _run(17123456),
    "territory_code": "CL01001",
    "schooling_years": 12,
    "phone": "+56 9 5555 1234",
}


@pytest.fixture
def family(make_mother, make_child):
    """A mother in Alta with her child, a father in Alta not linked yet, a caregiver in Austral."""
    mother = make_mother()
    child = make_child(mother_national_id="15.432.876-9")
    father = make_mother(given_names="Pedro", sex="M", national_id=_run(14111222), birth_date="1990-01-01")
    austral = make_mother(given_names="Rosa", national_id=_run(13222333), territory_code="CL02001")
    return {"mother": mother, "child": child, "father": father, "austral": austral}


# --- households -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REGISTERING)
def test_a_registering_role_creates_a_household(cast, api_client, role):
    body = {"code": "H-1", "territory_code": "CL01001", "address": "Los Aromos 12", "vulnerability_percentile": 40}
    response = _send(api_client(cast[role]), "post", "/households", body)
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "id": Household.unscoped.get(code="H-1").pk,
        "code": "H-1",
        "territory_code": "CL01001",
        "address": "Los Aromos 12",
        "vulnerability_percentile": 40,
    }
    event = AuditEvent.objects.get(entity="registry.household", action=Action.CREATE)
    assert (event.actor_id, event.channel) == (cast[role].pk, "api")


@pytest.mark.parametrize("role", NOT_REGISTERING)
def test_other_roles_cannot_create_a_household(cast, api_client, role):
    response = _send(api_client(cast[role]), "post", "/households", {"code": "H-1", "territory_code": "CL01001"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Household.unscoped.exists()


def test_household_errors_name_each_field(cast, api_client):
    client = api_client(cast["nurse_alta"])
    response = _send(client, "post", "/households", {"territory_code": "XX", "vulnerability_percentile": 150})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["code"][0]["code"] == "required"
    assert errors["territory_code"][0]["code"] == "unknown"
    assert errors["vulnerability_percentile"][0]["code"] == "out_of_range"
    outside = _send(client, "post", "/households", {"code": "H-2", "territory_code": "CL02001"})
    assert outside.status_code == 422
    assert outside.json()["errors"]["territory_code"][0]["code"] == "out_of_scope"
    assert _send(client, "post", "/households", {"code": "H-3", "territory_code": "CL01001"}).status_code == 201
    again = _send(client, "post", "/households", {"code": "H-3", "territory_code": "CL01001"})
    assert again.status_code == 422 and again.json()["errors"]["code"][0]["code"] == "duplicate"
    assert list(Household.unscoped.values_list("code", flat=True)) == ["H-3"]


# --- caregivers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REGISTERING)
def test_a_registering_role_creates_a_caregiver(cast, api_client, role):
    response = _send(api_client(cast[role]), "post", "/caregivers", CAREGIVER)
    assert response.status_code == 201, response.json()
    body = response.json()
    caregiver = Caregiver.unscoped.get(pk=body["id"])
    assert body["registry_number"] == caregiver.registry_number
    assert (body["national_id"], body["schooling_years"], body["children"]) == (_run(17123456), 12, [])
    event = AuditEvent.objects.get(entity="registry.caregiver", entity_id=caregiver.pk)
    assert (event.action, event.actor_id, event.channel) == (Action.CREATE, cast[role].pk, "api")
    # Like registering a child: the CREATE event names the record, no read is logged.
    assert not _reads(cast[role]).exists()


@pytest.mark.parametrize("role", NOT_REGISTERING)
def test_other_roles_cannot_create_a_caregiver(cast, api_client, role):
    assert _send(api_client(cast[role]), "post", "/caregivers", CAREGIVER).status_code == 403
    assert not Caregiver.unscoped.exists()


def test_caregiver_errors_name_each_field(cast, api_client):
    client = api_client(cast["nurse_alta"])
    bad = {**CAREGIVER, "sex": "X", "national_id": "17.123.456-1", "birth_date": "2999-01-01"}
    response = _send(client, "post", "/caregivers", bad)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["sex"][0]["code"] == "invalid_choice"
    assert errors["national_id"][0]["code"] == "check_digit"
    assert errors["birth_date"][0]["code"] == "future"
    outside = _send(client, "post", "/caregivers", {**CAREGIVER, "territory_code": "CL02001"})
    assert outside.json()["errors"]["territory_code"][0]["code"] == "out_of_scope"
    assert not Caregiver.unscoped.exists()


def test_a_new_mother_gets_the_children_waiting_for_her_document(cast, api_client, make_child):
    waiting = make_child(mother_national_id=CAREGIVER["national_id"])
    response = _send(api_client(cast["nurse_alta"]), "post", "/caregivers", CAREGIVER)
    assert response.status_code == 201
    assert response.json()["children"] == [{"child": waiting.pk, "relationship": "mother"}]


def test_reading_a_caregiver_logs_it_with_the_children_linked(cast, api_client, family):
    nurse = cast["nurse_alta"]
    mother, child = family["mother"], family["child"]
    response = api_client(nurse).get(f"{API}/caregivers/{mother.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["given_names"], body["national_id"]) == (mother.pk, "Camila", "15432876-9")
    assert body["children"] == [{"child": child.pk, "relationship": "mother"}]
    events = _reads(nurse)
    assert [(e.entity, e.entity_id, e.child_id, e.channel) for e in events] == [
        ("registry.caregiver", mother.pk, child.pk, "api")
    ]


@pytest.mark.parametrize("role", ["national", "regional_norte", "coordinator_alta"])
def test_territorial_roles_above_read_the_caregiver(cast, api_client, family, role):
    assert api_client(cast[role]).get(f"{API}/caregivers/{family['mother'].pk}").status_code == 200


@pytest.mark.parametrize("role", ["inspector", "admin", "provider_opd", "nurse_baja", "auditor", "auditor_sur"])
def test_a_caregiver_out_of_scope_is_404_and_nothing_is_logged(cast, api_client, family, role):
    response = api_client(cast[role]).get(f"{API}/caregivers/{family['mother'].pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not _reads(cast[role]).exists()


def test_the_caregiver_lists_only_children_the_user_may_see(cast, api_client, family, make_child):
    nurse = cast["nurse_alta"]
    elsewhere = make_child(given_names="Lejos", territory_code="CL02001", mother_national_id="15.432.876-9")
    body = api_client(nurse).get(f"{API}/caregivers/{family['mother'].pk}").json()
    assert [c["child"] for c in body["children"]] == [family["child"].pk]
    # The read of the mother's record is in the history of each of her children.
    assert set(_reads(nurse).values_list("child_id", flat=True)) == {family["child"].pk, elsewhere.pk}


def test_patch_a_caregiver(cast, api_client, family):
    nurse, mother = cast["nurse_alta"], family["mother"]
    response = _send(api_client(nurse), "patch", f"/caregivers/{mother.pk}", {"phone": "+56 2 2222 3333"})
    assert response.status_code == 200, response.json()
    assert (response.json()["phone"], response.json()["given_names"]) == ("+56 2 2222 3333", "Camila")
    event = AuditEvent.objects.get(entity="registry.caregiver", entity_id=mother.pk, action=Action.UPDATE)
    assert (event.before, event.after) == ({"phone": ""}, {"phone": "+56 2 2222 3333"})
    assert _reads(nurse, entity="registry.caregiver", entity_id=mother.pk).exists()


def test_patch_a_caregiver_with_errors_changes_nothing(cast, api_client, family):
    mother = family["mother"]
    response = _send(
        api_client(cast["nurse_alta"]), "patch", f"/caregivers/{mother.pk}", {"sex": "Z", "given_names": "Otra"}
    )
    assert response.status_code == 422
    assert response.json()["errors"]["sex"][0]["code"] == "invalid_choice"
    mother.refresh_from_db()
    assert (mother.sex, mother.given_names) == ("F", "Camila")
    moved = _send(api_client(cast["nurse_alta"]), "patch", f"/caregivers/{mother.pk}", {"territory_code": "CL02001"})
    assert moved.json()["errors"]["territory_code"][0]["code"] == "out_of_scope"
    taken = _send(api_client(cast["nurse_alta"]), "patch", f"/caregivers/{mother.pk}", {"national_id": _run(14111222)})
    assert taken.json()["errors"]["national_id"][0]["code"] == "duplicate"
    assert not AuditEvent.objects.filter(entity="registry.caregiver", action=Action.UPDATE).exists()


def test_patch_a_caregiver_is_refused_to_readers_and_404_out_of_scope(cast, api_client, family):
    path = f"/caregivers/{family['mother'].pk}"
    assert _send(api_client(cast["national"]), "patch", path, {"phone": "+56 2 2111 2222"}).status_code == 403
    assert _send(api_client(cast["nurse_baja"]), "patch", path, {"phone": "+56 2 2111 2222"}).status_code == 404
    assert _send(api_client(cast["nurse_alta"]), "patch", f"/caregivers/{family['austral'].pk}", {}).status_code == 404
    family["mother"].refresh_from_db()
    assert family["mother"].phone == ""


# --- links between children and caregivers ---------------------------------------------------------------


def test_link_a_caregiver_to_a_child(cast, api_client, family):
    nurse, child, father = cast["nurse_alta"], family["child"], family["father"]
    response = _send(
        api_client(nurse),
        "post",
        f"/children/{child.pk}/caregivers",
        {"caregiver": father.pk, "relationship": "father", "reason": "reconoce al niño"},
    )
    assert response.status_code == 201, response.json()
    assert response.json() == [
        {"caregiver": family["mother"].pk, "relationship": "mother"},
        {"caregiver": father.pk, "relationship": "father"},
    ]
    link = CaregiverLink.unscoped.get(child=child, caregiver=father)
    event = AuditEvent.objects.get(entity="registry.caregiverlink", entity_id=link.pk)
    assert (event.action, event.child_id, event.actor_id) == (Action.CREATE, child.pk, nurse.pk)
    assert event.note == "reconoce al niño"
    assert _reads(nurse, child_id=child.pk, entity="registry.child").exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"relationship": "uncle", "reason": "x"}, "relationship", "invalid_choice"),
        ({"relationship": "mother", "reason": "x"}, "relationship", "duplicate"),  # a second mother
        ({"relationship": "father"}, "reason", "required"),  # people say why
        ({"relationship": "father", "reason": "  "}, "reason", "required"),
    ],
)
def test_link_errors_name_the_field(cast, api_client, family, body, field, code):
    child = family["child"]
    response = _send(
        api_client(cast["nurse_alta"]),
        "post",
        f"/children/{child.pk}/caregivers",
        {"caregiver": family["father"].pk, **body},
    )
    assert response.status_code == 422
    assert response.json()["errors"][field][0]["code"] == code
    assert CaregiverLink.unscoped.filter(child=child).count() == 1


def test_link_out_of_scope_is_404_and_readers_get_403(cast, api_client, family):
    child = family["child"]
    body = {"caregiver": family["austral"].pk, "relationship": "guardian", "reason": "x"}
    assert _send(api_client(cast["nurse_alta"]), "post", f"/children/{child.pk}/caregivers", body).status_code == 404
    body = {"caregiver": family["father"].pk, "relationship": "father", "reason": "x"}
    assert _send(api_client(cast["nurse_baja"]), "post", f"/children/{child.pk}/caregivers", body).status_code == 404
    assert _send(api_client(cast["national"]), "post", f"/children/{child.pk}/caregivers", body).status_code == 403
    assert CaregiverLink.unscoped.filter(child=child).count() == 1


def test_unlink_a_caregiver(cast, api_client, family):
    nurse, child, father = cast["nurse_alta"], family["child"], family["father"]
    link = actions.link_caregiver(SYSTEM, child, father, "father", reason=None)
    # People say why: without a reason nothing is removed.
    response = _send(api_client(nurse), "delete", f"/children/{child.pk}/caregivers/{father.pk}")
    assert response.status_code == 422 and response.json()["errors"]["reason"][0]["code"] == "required"
    assert CaregiverLink.unscoped.filter(pk=link.pk).exists()
    response = _send(api_client(nurse), "delete", f"/children/{child.pk}/caregivers/{father.pk}?reason=no+es+el+padre")
    assert response.status_code == 200
    assert response.json() == [{"caregiver": family["mother"].pk, "relationship": "mother"}]
    event = AuditEvent.objects.get(entity="registry.caregiverlink", entity_id=link.pk, action=Action.DELETE)
    assert event.before["relationship"] == "father" and event.actor_id == nurse.pk
    assert event.note == "no es el padre"
    assert not CaregiverLink.unscoped.filter(pk=link.pk).exists()
    # No such link (any more): 404; a reader cannot unlink.
    assert (
        _send(api_client(nurse), "delete", f"/children/{child.pk}/caregivers/{father.pk}?reason=x").status_code == 404
    )
    mother = family["mother"]
    assert (
        _send(
            api_client(cast["national"]), "delete", f"/children/{child.pk}/caregivers/{mother.pk}?reason=x"
        ).status_code
        == 403
    )
    assert CaregiverLink.unscoped.filter(child=child, caregiver=mother).exists()


# --- voiding a child -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REGISTERING)
def test_void_a_child_registered_in_error(cast, api_client, children, role):
    user, child = cast[role], children["alta"]
    client = api_client(user)
    response = _send(client, "post", f"/children/{child.pk}/void", {"reason": "registrado dos veces"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["registry_number"], body["void_reason"]) == (
        child.pk,
        child.registry_number,
        "registrado dos veces",
    )
    assert Child.unscoped.get(pk=child.pk).voided_at is not None
    event = AuditEvent.objects.get(entity="registry.child", entity_id=child.pk, action=Action.DELETE)
    assert (event.note, event.actor_id, event.channel) == ("registrado dos veces", user.pk, "api")
    assert _reads(user, child_id=child.pk).exists()
    # Hidden everywhere afterwards.
    assert client.get(f"{API}/children/{child.pk}").status_code == 404
    assert _send(client, "post", f"/children/{child.pk}/void", {"reason": "otra vez"}).status_code == 404


def test_voiding_needs_a_reason(cast, api_client, children):
    child = children["alta"]
    response = _send(api_client(cast["nurse_alta"]), "post", f"/children/{child.pk}/void", {"reason": "  "})
    assert response.status_code == 422
    assert response.json()["errors"]["reason"][0]["code"] == "required"
    missing = _send(api_client(cast["nurse_alta"]), "post", f"/children/{child.pk}/void", {})
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    assert Child.unscoped.get(pk=child.pk).voided_at is None


def test_voiding_is_refused_to_readers_and_404_out_of_scope(cast, api_client, children):
    child = children["alta"]
    actions.grant_access(SYSTEM, child, Organisation.objects.get(code="OPD-ALTA"), ["health"], "caso")
    for role, status in (("national", 403), ("auditor", 404), ("provider_opd", 403), ("nurse_baja", 404)):
        response = _send(api_client(cast[role]), "post", f"/children/{child.pk}/void", {"reason": "x"})
        assert response.status_code == status, role
    austral = children["austral"]
    assert (
        _send(api_client(cast["nurse_alta"]), "post", f"/children/{austral.pk}/void", {"reason": "x"}).status_code
        == 404
    )
    assert not Child.unscoped.filter(voided_at__isnull=False).exists()


def test_a_corrected_birth_date_of_a_mother_reaches_the_risks_of_her_pregnancy(cast, api_client, family, today):
    from crecer.risks.models import RiskFlag

    mother = family["mother"]
    pregnancy = actions.create_pregnancy(
        SYSTEM,
        {"mother_national_id": "15.432.876-9", "lmp_date": (today - dt.timedelta(days=60)).isoformat()},
    )
    assert not RiskFlag.unscoped.filter(pregnancy=pregnancy, rule_id="adolescent_pregnancy").exists()
    sixteen = add_years(today, -16) - dt.timedelta(days=40)
    response = _send(
        api_client(cast["nurse_alta"]), "patch", f"/caregivers/{mother.pk}", {"birth_date": sixteen.isoformat()}
    )
    assert response.status_code == 200, response.json()
    assert RiskFlag.unscoped.filter(pregnancy=pregnancy, rule_id="adolescent_pregnancy", resolved_at=None).exists()
