"""Need-to-know on registration (issue 12, points 1 and 2), on every path (API, page, import, FHIR):

* a mother, father or guardian is linked only from the user's scope: an out-of-scope caregiver gets the
  answer of an unknown document (a health worker of Alta cannot link a mother of Baja, then read her
  pregnancy);
* a registration's facility lies in the child's territory and the user's;
* a document registered outside the user's scope is answered without any data of the person, counted per
  user per hour (429 past the limit) and audited, with a transfer that the record's coordinator decides;
* the worklists' professional filter knows no username outside the user's territory."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from crecer.access.models import Role
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import run_import
from crecer.registry import actions
from crecer.registry.models import CaregiverLink, Child, PendingMother, TransferRequest
from tests.conftest import CHILD_DEFAULTS

SYSTEM = Actor(None, Channel.SYSTEM)
BAJA_MOTHER = "15.432.876-9"
UNKNOWN_MOTHER = "11.111.111-1"
ZETA_DOCUMENT = "24.987.654-2"


@pytest.fixture
def baja_mother(make_mother: Any, today: dt.date) -> Any:
    """A mother living in Baja with a pregnancy there: out of every Alta user's scope."""
    mother = make_mother(national_id=BAJA_MOTHER, territory_code="CL01002", external_id="M-BAJA")
    actions.create_pregnancy(
        SYSTEM,
        {"lmp_date": (today - dt.timedelta(days=100)).isoformat(), "first_visit_date": today.isoformat()},
        mother=mother,
    )
    return mother


@pytest.fixture
def zeta(make_child: Any) -> Child:
    """A child of the far south with a document: out of scope of everyone in the north."""
    return make_child(
        given_names="Zenón",
        paternal_surname="Pichihueche",
        national_id=ZETA_DOCUMENT,
        territory_code="CL02001",
        facility_code="F-AUSTRAL",
    )


def _page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _csv(tmp_path: Path, name: str, header: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# --- linking caregivers ---------------------------------------------------------------------------------


def test_api_an_out_of_scope_mother_is_answered_as_an_unknown_document(cast, baja_mother, api_client):
    nurse = api_client(cast["nurse_alta"])
    answers = {}
    for document in (BAJA_MOTHER, UNKNOWN_MOTHER):
        response = nurse.post(
            "/api/v1/children",
            {**CHILD_DEFAULTS, "given_names": f"Hija {document}", "mother_national_id": document},
            content_type="application/json",
        )
        assert response.status_code == 201, response.json()
        child = Child.unscoped.get(pk=response.json()["id"])
        assert not CaregiverLink.unscoped.filter(child=child).exists()
        # both wait for a mother of that document, as any child registered before its mother
        assert PendingMother.unscoped.filter(child=child, linked_at__isnull=True).exists()
        answers[document] = {
            k: v for k, v in response.json().items() if k not in ("id", "registry_number", "given_names")
        }
    assert answers[BAJA_MOTHER] == answers[UNKNOWN_MOTHER]
    assert "Camila" not in json.dumps(answers[BAJA_MOTHER], ensure_ascii=False)
    # so her pregnancy stays out of reach
    pregnancy = baja_mother.pregnancies.get() if hasattr(baja_mother, "pregnancies") else None
    from crecer.registry.models import Pregnancy

    pregnancy = Pregnancy.unscoped.get(mother=baja_mother)
    assert nurse.get(f"/api/v1/pregnancies/{pregnancy.pk}").status_code == 404
    # the API's link by id: the same 404 as an id nobody has
    child = Child.unscoped.filter(given_names__startswith="Hija").first()
    assert child is not None
    for caregiver_id in (baja_mother.pk, 999999):
        linked = nurse.post(
            f"/api/v1/children/{child.pk}/caregivers",
            {"caregiver": caregiver_id, "relationship": "mother", "reason": "x"},
            content_type="application/json",
        )
        assert linked.status_code == 404


def test_api_an_in_scope_mother_is_still_linked(cast, make_mother, api_client):
    alta = make_mother(national_id="16.111.222-4", territory_code="CL01001")
    response = api_client(cast["nurse_alta"]).post(
        "/api/v1/children", {**CHILD_DEFAULTS, "mother_national_id": "16.111.222-4"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert CaregiverLink.unscoped.filter(child_id=response.json()["id"], caregiver=alta).exists()


def test_page_link_form_does_not_link_or_show_an_out_of_scope_caregiver(cast, baja_mother, make_child):
    child = make_child(facility_code="F-ALTA")
    page = _page(cast["nurse_alta"]).post(
        f"/children/{child.pk}/caregivers/link/",
        {
            "relationship": "mother",
            "reason": "La madre llegó",
            "given_names": "Otra",
            "paternal_surname": "Persona",
            "sex": "F",
            "national_id": BAJA_MOTHER,
        },
    )
    assert page.status_code in (200, 400, 422)
    text = page.content.decode()
    assert "Camila" not in text and "Rojas" not in text
    assert not CaregiverLink.unscoped.filter(child=child).exists()
    assert "otro territorio" in text  # the answer "registered elsewhere", beside the document


def test_import_links_only_caregivers_in_scope(cast, baja_mother, make_mother, tmp_path):
    coordinator = Actor(cast["coordinator_alta"], Channel.CLI)
    make_mother(national_id="16.111.222-4", territory_code="CL01001", external_id="M-ALTA")
    children = _csv(
        tmp_path,
        "children.csv",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code",
        f"C1,Uno,Muñoz,Pérez,F,2024-03-10,,{BAJA_MOTHER},CL01001",
        f"C2,Dos,Muñoz,Pérez,F,2024-03-10,,{UNKNOWN_MOTHER},CL01001",
    )
    result = run_import("children", children, coordinator)
    assert result.created == 2 and not result.rejected
    assert not CaregiverLink.unscoped.filter(child__external_id__in=["C1", "C2"]).exists()
    relationships = _csv(
        tmp_path,
        "relationships.csv",
        "child_external_id,caregiver_external_id,relationship",
        "C1,M-BAJA,mother",
        "C2,M-NADIE,mother",
        "C1,M-ALTA,guardian",
    )
    result = run_import("relationships", relationships, coordinator)
    codes = [r.errors["caregiver_external_id"][0]["code"] for r in result.rejected]
    assert codes == ["unknown", "unknown"]  # out of scope answered as nobody
    messages = [r.errors["caregiver_external_id"][0]["message"] for r in result.rejected]
    assert messages[0].replace("M-BAJA", "?") == messages[1].replace("M-NADIE", "?")
    assert result.created == 1
    pregnancies = _csv(
        tmp_path,
        "pregnancies.csv",
        "external_id,mother_external_id,lmp_date,edd_date,first_visit_date",
        "P1,M-BAJA,2026-09-01,,2026-11-01",
    )
    result = run_import("pregnancies", pregnancies, coordinator)
    assert [r.errors["mother_external_id"][0]["code"] for r in result.rejected] == ["unknown"]


@pytest.fixture
def households(country: Any) -> dict[str, Any]:
    """A household of Alta and one of the far south (out of scope of everyone in the north)."""
    return {
        code: actions.create_household(
            SYSTEM, {"code": code, "territory_code": territory, "address": address, "vulnerability_percentile": 12}
        )
        for code, territory, address in (
            ("H-ALTA", "CL01001", "Pasaje Alto 1"),
            ("H-SUR", "CL02001", "Calle del Sur 99"),
        )
    }


def test_a_household_out_of_scope_is_answered_as_an_unknown_code(cast, households, api_client, tmp_path):
    """A household is linked only from the user's scope (the API and the import here; the pages call the same
    actions): linking a child of Alta to a household of the south would show its address and vulnerability
    on the child's page."""
    nurse = api_client(cast["nurse_alta"])
    answers = {}
    for code in ("H-SUR", "H-NADIE"):
        response = nurse.post(
            "/api/v1/children", {**CHILD_DEFAULTS, "household_code": code}, content_type="application/json"
        )
        assert response.status_code == 422
        answers[code] = json.dumps(response.json()["errors"], ensure_ascii=False).replace(code, "?")
    assert answers["H-SUR"] == answers["H-NADIE"]
    assert "household_code" in answers["H-SUR"] and "Calle del Sur" not in answers["H-SUR"]
    assert not Child.unscoped.filter(household=households["H-SUR"]).exists()
    # a household of her territory is linked, and an update cannot move a child into the south's one
    response = nurse.post(
        "/api/v1/children", {**CHILD_DEFAULTS, "household_code": "H-ALTA"}, content_type="application/json"
    )
    assert response.status_code == 201
    child = Child.unscoped.get(pk=response.json()["id"])
    assert child.household == households["H-ALTA"]
    moved = nurse.patch(
        f"/api/v1/children/{child.pk}", {"household_code": "H-SUR", "reason": "x"}, content_type="application/json"
    )
    assert moved.status_code == 422
    child.refresh_from_db()
    assert child.household == households["H-ALTA"]
    # the import answers the same as for a code nobody has
    coordinator = Actor(cast["coordinator_alta"], Channel.CLI)
    rows = _csv(
        tmp_path,
        "children.csv",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code,household_code",
        "C1,Uno,Muñoz,Pérez,F,2024-03-10,,,CL01001,H-SUR",
        "C2,Dos,Muñoz,Pérez,F,2024-03-10,,,CL01001,H-NADIE",
        "C3,Tres,Muñoz,Pérez,F,2024-03-10,,,CL01001,H-ALTA",
    )
    result = run_import("children", rows, coordinator)
    assert result.created == 1 and Child.unscoped.get(external_id="C3").household == households["H-ALTA"]
    errors = [r.errors["household_code"][0] for r in result.rejected]
    assert [e["code"] for e in errors] == ["unknown", "unknown"]
    assert errors[0]["message"].replace("H-SUR", "?") == errors[1]["message"].replace("H-NADIE", "?")
    # the system (a national load) still sees every household
    system_rows = _csv(
        tmp_path,
        "system.csv",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code,household_code",
        "C4,Cuatro,Muñoz,Pérez,F,2024-03-10,,,CL02001,H-SUR",
    )
    assert run_import("children", system_rows, SYSTEM).created == 1


def test_a_household_linked_from_elsewhere_does_not_block_other_changes(cast, households, api_client, tmp_path):
    """A household kept as it was is not checked again (like a facility): a child that a country load linked
    to a household the nurse does not see can still be corrected by her, on the API and by import; moving
    it to another such household is still refused."""
    child = actions.create_child(
        SYSTEM, {**CHILD_DEFAULTS, "household_code": "H-SUR", "external_id": "C-LEJOS", "facility_code": "F-ALTA"}
    )
    assert child.household == households["H-SUR"]
    nurse = api_client(cast["nurse_alta"])
    fixed = nurse.patch(
        f"/api/v1/children/{child.pk}", {"given_names": "Sofía Andrea", "reason": "x"}, content_type="application/json"
    )
    assert fixed.status_code == 200, fixed.json()
    child.refresh_from_db()
    assert (child.given_names, child.household) == ("Sofía Andrea", households["H-SUR"])
    header = (
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code,household_code,facility_code"
    )
    again = _csv(tmp_path, "again.csv", header, "C-LEJOS,Sofía Inés,Muñoz,Pérez,F,2024-03-10,,,CL01001,H-SUR,F-ALTA")
    result = run_import("children", again, Actor(cast["coordinator_alta"], Channel.CLI))
    assert (result.updated, result.rejected) == (1, [])
    actions.create_household(SYSTEM, {"code": "H-SUR-2", "territory_code": "CL02001"})
    moved = nurse.patch(
        f"/api/v1/children/{child.pk}", {"household_code": "H-SUR-2", "reason": "x"}, content_type="application/json"
    )
    assert moved.status_code == 422 and "household_code" in moved.json()["errors"]


def test_fhir_does_not_link_an_out_of_scope_mother(cast, baja_mother, api_client, today):
    from tests.test_fhir import _incoming, _post

    bundle = _incoming(today)
    bundle["entry"][1]["resource"]["identifier"][0]["value"] = BAJA_MOTHER
    response = _post(api_client(cast["nurse_alta"]), bundle)
    assert response.status_code == 422
    assert "Camila" not in response.content.decode()
    assert not CaregiverLink.unscoped.filter(caregiver=baja_mother).exists()


# --- the facility of a registration ---------------------------------------------------------------------


def test_a_registrations_facility_lies_in_the_childs_territory_and_the_users(cast, api_client, tmp_path, make_user):
    nurse = api_client(cast["nurse_alta"])
    for code in ("F-BAJA", "F-AUSTRAL"):
        response = nurse.post(
            "/api/v1/children", {**CHILD_DEFAULTS, "facility_code": code}, content_type="application/json"
        )
        assert response.status_code == 422
        assert [e["code"] for e in response.json()["errors"]["facility_code"]] == ["out_of_scope"]
    ok = nurse.post("/api/v1/children", {**CHILD_DEFAULTS, "facility_code": "F-ALTA"}, content_type="application/json")
    assert ok.status_code == 201
    page = _page(cast["nurse_alta"]).post(
        "/children/new/", {**CHILD_DEFAULTS, "facility_code": "F-BAJA", "confirm_new": "1"}
    )
    assert page.status_code == 400 and "facility_code" in page.context["errors"]
    path = _csv(
        tmp_path,
        "children.csv",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code,facility_code",
        "C9,Nueve,Muñoz,Pérez,F,2024-03-10,,,CL01001,F-AUSTRAL",
    )
    result = run_import("children", path, Actor(cast["coordinator_alta"], Channel.CLI))
    assert [r.errors["facility_code"][0]["code"] for r in result.rejected] == ["out_of_scope"]
    # A child of Baja enrolled in Alta (registered so by the system) keeps that facility when Baja's
    # coordinator changes something else.
    coordinator_baja = make_user("coord_baja", Role.MUNICIPAL_COORDINATOR, "CL01002")
    child = actions.create_child(SYSTEM, {**CHILD_DEFAULTS, "territory_code": "CL01002", "facility_code": "F-ALTA"})
    actions.update_child(Actor(coordinator_baja, Channel.WEB), child, {"given_names": "Sofía"}, reason="typo")
    child.refresh_from_db()
    assert child.given_names == "Sofía" and child.facility.code == "F-ALTA"


# --- a document registered elsewhere ---------------------------------------------------------------------


def test_a_document_registered_elsewhere_is_answered_without_the_persons_data(cast, zeta, api_client, tmp_path):
    response = api_client(cast["nurse_alta"]).post(
        "/api/v1/children", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT}, content_type="application/json"
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]["national_id"]
    assert error["code"] == "registered_elsewhere"
    text = response.content.decode()
    for secret in ("Zenón", "Pichihueche", zeta.registry_number, "Austral", "CL02001"):
        assert secret not in text
    event = AuditEvent.objects.get(action=Action.SEARCH, entity="registry.child", entity_id=zeta.pk)
    assert event.actor == cast["nurse_alta"] and event.child_id == zeta.pk
    assert event.after == {"document_type": "CL-RUN", "answer": "registered_elsewhere"}
    # the page says it beside the field, with the way to the transfer
    page = _page(cast["nurse_alta"]).post(
        "/children/new/", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT, "confirm_new": "1"}
    )
    assert page.status_code == 400
    assert [e["code"] for e in page.context["errors"]["national_id"]] == ["registered_elsewhere"]
    assert "Pichihueche" not in page.content.decode() and "/transfers/" in page.content.decode()
    # an import row too
    path = _csv(
        tmp_path,
        "children.csv",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code",
        f"C1,Uno,Muñoz,Pérez,F,2024-03-10,{ZETA_DOCUMENT},,CL01001",
    )
    result = run_import("children", path, Actor(cast["coordinator_alta"], Channel.CLI))
    assert [r.errors["national_id"][0]["code"] for r in result.rejected] == ["registered_elsewhere"]
    assert AuditEvent.objects.filter(action=Action.SEARCH, entity_id=zeta.pk).count() == 3


def test_a_document_in_scope_is_still_a_plain_duplicate(cast, make_child, api_client):
    make_child(national_id=ZETA_DOCUMENT, facility_code="F-ALTA")
    response = api_client(cast["nurse_alta"]).post(
        "/api/v1/children", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT}, content_type="application/json"
    )
    assert [e["code"] for e in response.json()["errors"]["national_id"]] == ["duplicate"]
    assert not AuditEvent.objects.filter(action=Action.SEARCH, entity="registry.child").exists()


def test_look_ups_of_documents_elsewhere_are_limited_per_user(cast, zeta, api_client, settings):
    settings.CRECER_EXISTENCE_LOOKUPS_PER_HOUR = 2
    nurse = api_client(cast["nurse_alta"])

    def register(document: str) -> Any:
        return nurse.post(
            "/api/v1/children", {**CHILD_DEFAULTS, "national_id": document}, content_type="application/json"
        )

    assert [register(ZETA_DOCUMENT).status_code for _ in range(2)] == [422, 422]
    refused = register(ZETA_DOCUMENT)
    assert refused.status_code == 429 and refused["Retry-After"]
    assert refused.json()["errors"]["national_id"][0]["code"] == "throttled"
    # past the limit every document look-up is refused, found or not: the refusal tells nothing
    assert register("12.345.678-5").status_code == 429
    # registering without a document is not a look-up
    assert nurse.post("/api/v1/children", CHILD_DEFAULTS, content_type="application/json").status_code == 201
    # the page says it plainly beside the field
    page = _page(cast["nurse_alta"]).post(
        "/children/new/", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT, "confirm_new": "1"}
    )
    assert [e["code"] for e in page.context["errors"]["national_id"]] == ["throttled"]
    # another user has their own count
    assert (
        api_client(cast["coordinator_alta"])
        .post("/api/v1/children", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT}, content_type="application/json")
        .status_code
        == 422
    )
    assert AuditEvent.objects.filter(action=Action.SEARCH, entity_id=zeta.pk).count() == 3


# --- transfers --------------------------------------------------------------------------------------------


def test_a_transfer_is_requested_without_data_and_decided_by_the_records_coordinator(cast, zeta, api_client, make_user):
    austral = make_user("coord_austral", Role.MUNICIPAL_COORDINATOR, "CL02001")
    nurse = api_client(cast["nurse_alta"])
    asked = nurse.post(
        "/api/v1/transfers",
        {"kind": "child", "national_id": ZETA_DOCUMENT, "reason": "La familia vive ahora en Alta"},
        content_type="application/json",
    )
    assert asked.status_code == 201
    body = asked.json()
    assert body["state"] == "pending" and body["person"] is None and "from_territory" not in body
    assert "Pichihueche" not in asked.content.decode()
    transfer = TransferRequest.objects.get(pk=body["id"])
    assert (transfer.child_id, transfer.from_territory.code, transfer.to_territory.code) == (
        zeta.pk,
        "CL02001",
        "CL01001",
    )
    # asking again while it is pending is refused; an unknown document is answered as such
    again = nurse.post(
        "/api/v1/transfers",
        {"kind": "child", "national_id": ZETA_DOCUMENT, "reason": "otra vez"},
        content_type="application/json",
    )
    assert again.status_code == 422 and again.json()["errors"]["national_id"][0]["code"] == "duplicate"
    unknown = nurse.post(
        "/api/v1/transfers",
        {"kind": "child", "national_id": "12.345.678-5", "reason": "x"},
        content_type="application/json",
    )
    assert unknown.status_code == 422 and unknown.json()["errors"]["national_id"][0]["code"] == "unknown"
    # only the coordinator of the record's territory decides; others do not even see it
    for user in ("coordinator_alta", "regional_norte", "auditor_sur", "provider_opd"):
        assert (
            api_client(cast[user])
            .post(f"/api/v1/transfers/{transfer.pk}/approve", {}, content_type="application/json")
            .status_code
            == 404
        )
    assert (
        nurse.post(f"/api/v1/transfers/{transfer.pk}/approve", {}, content_type="application/json").status_code == 403
    )
    listed = api_client(austral).get("/api/v1/transfers").json()
    assert listed[0]["person"]["name"] == zeta.full_name and listed[0]["may_decide"]
    assert AuditEvent.objects.filter(actor=austral, action=Action.READ, child_id=zeta.pk).exists()
    # approval moves the record: the requester now sees it, the south no longer
    assert nurse.get(f"/api/v1/children/{zeta.pk}").status_code == 404
    approved = api_client(austral).post(
        f"/api/v1/transfers/{transfer.pk}/approve", {"note": "confirmado"}, content_type="application/json"
    )
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    zeta.refresh_from_db()
    assert zeta.territory.code == "CL01001" and zeta.facility_id is None
    assert nurse.get(f"/api/v1/children/{zeta.pk}").status_code == 200
    assert nurse.get("/api/v1/transfers").json()[0]["person"]["id"] == zeta.pk
    # every step audited: the request, the decision, the move of the child
    events = AuditEvent.objects.filter(entity="registry.transferrequest", entity_id=transfer.pk).order_by("pk")
    assert [e.action for e in events] == [Action.CREATE, Action.UPDATE]
    moved = AuditEvent.objects.filter(entity="registry.child", entity_id=zeta.pk, action=Action.UPDATE).latest("pk")
    assert moved.actor == austral and moved.note == f"transfer {transfer.pk}"
    # decided once
    assert (
        api_client(austral)
        .post(f"/api/v1/transfers/{transfer.pk}/refuse", {}, content_type="application/json")
        .status_code
        == 403
    )


def test_a_refused_transfer_leaves_the_record_and_the_page_works(cast, zeta, make_user):
    austral = make_user("coord_austral", Role.MUNICIPAL_COORDINATOR, "CL02001")
    page = _page(cast["nurse_alta"])
    assert page.get("/transfers/", {"kind": "child", "national_id": ZETA_DOCUMENT}).status_code == 200
    sent = page.post("/transfers/", {"kind": "child", "national_id": ZETA_DOCUMENT, "reason": "Se mudó a Alta"})
    assert sent.status_code == 302
    transfer = TransferRequest.objects.get()
    mine = page.get("/transfers/").content.decode()
    assert "Pichihueche" not in mine and "Pendiente" in mine
    decider = _page(austral)
    assert "Pichihueche" in decider.get("/transfers/").content.decode()
    assert (
        decider.post(f"/transfers/{transfer.pk}/decide/", {"decision": "refuse", "note": "No corresponde"}).status_code
        == 302
    )
    transfer.refresh_from_db()
    zeta.refresh_from_db()
    assert transfer.state == "refused" and zeta.territory.code == "CL02001"
    bad = page.post("/transfers/", {"kind": "child", "national_id": "", "reason": ""})
    assert bad.status_code == 200 and "national_id" in bad.context["errors"] and "reason" in bad.context["errors"]


# --- the worklists' professional filter -------------------------------------------------------------------


def test_the_professional_filter_knows_only_the_users_territory(cast, api_client):
    nurse = api_client(cast["nurse_alta"])
    outside = nurse.get("/api/v1/worklists", {"tab": "week", "professional": "enfermera_baja"})
    nobody = nurse.get("/api/v1/worklists", {"tab": "week", "professional": "nadie"})
    assert outside.status_code == nobody.status_code == 422
    assert outside.json()["errors"]["professional"][0]["code"] == "unknown"
    assert outside.json()["errors"]["professional"][0]["message"].replace("enfermera_baja", "?") == nobody.json()[
        "errors"
    ]["professional"][0]["message"].replace("nadie", "?")
    assert nurse.get("/api/v1/worklists", {"tab": "week", "professional": "enfermera_alta"}).status_code == 200
    page = _page(cast["nurse_alta"]).get("/worklists/")
    names = [u.username for u in page.context["professionals"]]
    assert "enfermera_alta" in names and "enfermera_baja" not in names
    # the regional manager's territory holds both; a provider's holds none
    regional = _page(cast["regional_norte"]).get("/worklists/")
    assert {"enfermera_alta", "enfermera_baja"} <= {u.username for u in regional.context["professionals"]}
    assert not list(_page(cast["provider_opd"]).get("/worklists/").context["professionals"])


# --- the look-ups' count is shared by the server's processes, and outlasts a rollback ---------------------


@pytest.mark.parametrize("role", ["nurse_alta", "coordinator_alta"])
def test_the_look_ups_count_is_shared_by_every_server_process(cast, zeta, api_client, settings, role):
    """Each worker process has its own local-memory cache: clearing it between requests is what another
    worker would see. The count lives in the database, so the limit holds across them."""
    from django.core.cache import cache

    from crecer.accounts.models import ThrottleCounter

    settings.CRECER_EXISTENCE_LOOKUPS_PER_HOUR = 2
    user = cast[role]
    statuses = []
    for _ in range(3):
        cache.clear()  # the next request is served by another process
        statuses.append(
            api_client(user)
            .post("/api/v1/children", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT}, content_type="application/json")
            .status_code
        )
    assert statuses == [422, 422, 429]
    assert ThrottleCounter.objects.get(key=f"existence:{user.pk}").hits == 2
    # Retry-After is what is left of the hour opened by the first answer
    cache.clear()
    refused = api_client(user).post(
        "/api/v1/children", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT}, content_type="application/json"
    )
    assert refused.status_code == 429 and 3500 < int(refused["Retry-After"]) <= 3600
    # the hour ends: look-ups are answered again
    from django.utils import timezone

    ThrottleCounter.objects.filter(key=f"existence:{user.pk}").update(
        window_start=timezone.now() - dt.timedelta(seconds=3601)
    )
    again = api_client(user).post(
        "/api/v1/children", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT}, content_type="application/json"
    )
    assert again.status_code == 422


def _elsewhere_events(zeta: Child, user: Any) -> int:
    return AuditEvent.objects.filter(
        action=Action.SEARCH, entity="registry.child", entity_id=zeta.pk, actor=user
    ).count()


def test_a_failed_fhir_bundle_keeps_the_look_ups_audit_event_and_count(cast, zeta, api_client, today, settings):
    """The health worker's Bundle names a child whose document is registered elsewhere: the Bundle is
    refused and undone as a whole, but what it told her stays audited and counted."""
    from crecer.accounts.models import ThrottleCounter
    from tests.test_fhir import _incoming, _post

    nurse = cast["nurse_alta"]
    bundle = _incoming(today)
    assert bundle["entry"][0]["resource"]["identifier"][0]["value"] == ZETA_DOCUMENT
    children = Child.unscoped.count()
    response = _post(api_client(nurse), bundle)
    assert response.status_code == 422
    assert "Pichihueche" not in response.content.decode()
    assert Child.unscoped.count() == children  # nothing of the Bundle stays
    assert _elsewhere_events(zeta, nurse) == 1
    event = AuditEvent.objects.get(action=Action.SEARCH, entity_id=zeta.pk)
    assert event.channel == Channel.API and event.after["answer"] == "registered_elsewhere"
    assert ThrottleCounter.objects.get(key=f"existence:{nurse.pk}").hits == 1
    # and it counts against the limit like any other look-up
    settings.CRECER_EXISTENCE_LOOKUPS_PER_HOUR = 1
    refused = api_client(nurse).post(
        "/api/v1/children", {**CHILD_DEFAULTS, "national_id": ZETA_DOCUMENT}, content_type="application/json"
    )
    assert refused.status_code == 429


def _zeta_and_a_new_child(tmp_path: Path) -> Path:
    """A children file: C1 with the document of Zenón (registered in the far south), C2 a new child of Alta."""
    return _csv(
        tmp_path,
        "children.csv",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code",
        f"C1,Uno,Muñoz,Pérez,F,2024-03-10,{ZETA_DOCUMENT},,CL01001",
        "C2,Dos,Muñoz,Pérez,F,2024-03-10,,,CL01001",
    )


def test_an_import_trial_keeps_the_look_ups_audit_event_and_count(cast, zeta, tmp_path, settings):
    """The coordinator's trial run of a file (the web's preview and check) is undone, but the answers
    about records elsewhere it gave are audited and counted; past the limit the trial refuses the rows."""
    from crecer.accounts.models import ThrottleCounter

    coordinator = cast["coordinator_alta"]
    path = _zeta_and_a_new_child(tmp_path)
    children = Child.unscoped.count()
    result = run_import("children", path, Actor(coordinator, Channel.WEB), dry_run=True)
    assert result.created == 1
    assert [r.errors["national_id"][0]["code"] for r in result.rejected] == ["registered_elsewhere"]
    assert Child.unscoped.count() == children  # a trial keeps nothing …
    assert _elsewhere_events(zeta, coordinator) == 1  # … but what it told
    assert ThrottleCounter.objects.get(key=f"existence:{coordinator.pk}").hits == 1
    settings.CRECER_EXISTENCE_LOOKUPS_PER_HOUR = 2
    again = run_import("children", path, Actor(coordinator, Channel.WEB), dry_run=True)
    assert [r.errors["national_id"][0]["code"] for r in again.rejected] == ["registered_elsewhere"]
    third = run_import("children", path, Actor(coordinator, Channel.WEB), dry_run=True)
    assert [r.errors["national_id"][0]["code"] for r in third.rejected] == ["throttled"]
    assert _elsewhere_events(zeta, coordinator) == 2
    assert ThrottleCounter.objects.get(key=f"existence:{coordinator.pk}").hits == 2


@pytest.mark.django_db(transaction=True)
def test_a_kept_import_commits_its_answers_with_its_rows_and_a_trial_writes_them_after_its_rollback(
    cast, zeta, tmp_path, monkeypatch
):
    """An import's batch that is kept writes its existence answers inside its own transaction, so they commit
    with its rows: no moment lies between the two in which a dying process would lose them. A trial's
    answers are written after its rollback (it keeps nothing else)."""
    from django.db import connection

    from crecer.imports.models import ImportBatch
    from crecer.registry import existence

    seen: list[tuple[bool, bool]] = []
    write = existence._Answer.write

    def spy(answer: Any) -> None:
        # In the batch's transaction or not; and whether the import's rows are there (in that transaction).
        seen.append((connection.in_atomic_block, Child.unscoped.filter(external_id="C2").exists()))
        write(answer)

    monkeypatch.setattr(existence._Answer, "write", spy)
    coordinator = cast["coordinator_alta"]
    path = _zeta_and_a_new_child(tmp_path)
    trial = run_import("children", path, Actor(coordinator, Channel.WEB), dry_run=True)
    assert trial.created == 1 and not Child.unscoped.filter(external_id="C2").exists()
    assert seen == [(False, False)]  # after the trial's rollback, in autocommit
    kept = run_import("children", path, Actor(coordinator, Channel.WEB))
    assert kept.created == 1 and ImportBatch.objects.filter(pk=kept.batch_id).exists()
    assert seen[1:] == [(True, True)]  # inside the batch's transaction, beside its rows
    assert _elsewhere_events(zeta, coordinator) == 2


@pytest.mark.django_db(transaction=True)
def test_answers_written_in_a_batch_that_then_fails_to_commit_are_written_again(cast, zeta, tmp_path, monkeypatch):
    """The batch's transaction may still fail after its answers were written in it (a deferred check at
    commit, a lost connection): they are undone with it, and written again after the rollback."""
    from django.db import DatabaseError

    from crecer.audit import outlasting
    from crecer.imports import framework

    write_held = outlasting.write_held

    def write_then_fail() -> None:
        write_held()
        raise DatabaseError("the commit failed")

    monkeypatch.setattr(framework.outlasting, "write_held", write_then_fail)
    coordinator = cast["coordinator_alta"]
    with pytest.raises(DatabaseError):
        run_import("children", _zeta_and_a_new_child(tmp_path), Actor(coordinator, Channel.WEB))
    assert not Child.unscoped.filter(external_id="C2").exists()  # the batch was undone …
    assert _elsewhere_events(zeta, coordinator) == 1  # … but not what it told, written once


def test_within_one_trial_the_held_answers_count_towards_the_limit(cast, zeta, make_child, tmp_path, settings):
    """Answers held until the trial ends still count inside it: a file cannot ask more than the limit."""
    settings.CRECER_EXISTENCE_LOOKUPS_PER_HOUR = 1
    coordinator = cast["coordinator_alta"]
    make_child(national_id="12.345.678-5", territory_code="CL02001", facility_code="F-AUSTRAL")
    path = _csv(
        tmp_path,
        "children.csv",
        "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,"
        "territory_code",
        f"C1,Uno,Muñoz,Pérez,F,2024-03-10,{ZETA_DOCUMENT},,CL01001",
        "C2,Dos,Muñoz,Pérez,F,2024-03-10,12.345.678-5,,CL01001",
    )
    result = run_import("children", path, Actor(coordinator, Channel.WEB), dry_run=True)
    assert [r.errors["national_id"][0]["code"] for r in result.rejected] == ["registered_elsewhere", "throttled"]
    assert AuditEvent.objects.filter(action=Action.SEARCH, actor=coordinator).count() == 1


# --- external ids in imports: a record elsewhere is answered as an unknown one ---------------------------

DELIVERY_HEADER = (
    "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,encounter_external_id,detail"
)
OUT_OF_SCOPE_IDS = {"child": "Z-1", "caregiver": "M-BAJA", "pregnancy": "P-BAJA", "encounter": "E-Z", "group": "GR-SUR"}
UNKNOWN_IDS = {
    "child": "NADIE-1",
    "caregiver": "NADIE-2",
    "pregnancy": "NADIE-3",
    "encounter": "NADIE-4",
    "group": "NADIE-5",
}
# kind, header, a row naming a record of ``what`` by its external id ({ref}; {n} keeps own keys apart)
REFERENCES = [
    ("relationships", "child_external_id,caregiver_external_id,relationship", "child", "{ref},M-ALTA,guardian"),
    ("relationships", "child_external_id,caregiver_external_id,relationship", "caregiver", "C-ALTA,{ref},guardian"),
    (
        "pregnancies",
        "external_id,mother_external_id,lmp_date,edd_date,outcome,outcome_date,child_external_id",
        "child",
        "PN{n},M-ALTA,2026-05-01,,live_birth,2026-11-20,{ref}",
    ),
    ("pregnancies", "external_id,mother_external_id,lmp_date,edd_date", "caregiver", "PN{n},{ref},2026-05-01,"),
    (
        "encounters",
        "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional",
        "child",
        "EN{n},{ref},,check_up,,2026-11-01,F-ALTA,",
    ),
    (
        "encounters",
        "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional",
        "pregnancy",
        "EN{n},,{ref},prenatal,,2026-11-01,F-ALTA,",
    ),
    ("measurements", "encounter_external_id,weight_kg", "encounter", "{ref},9.5"),
    ("screenings", "external_id,encounter_external_id,instrument,inputs", "encounter", 'SN{n},{ref},asq3,"{{}}"'),
    (
        "deliveries",
        "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,encounter_external_id,"
        "detail",
        "caregiver",
        "DN{n},parenting_programme,,{ref},2026-11-01,,,",
    ),
    (
        "deliveries",
        "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,encounter_external_id,"
        "detail",
        "child",
        "DN{n},welcome_kit,{ref},,2026-11-01,,,",
    ),
    (
        "deliveries",
        "external_id,service_code,child_external_id,caregiver_external_id,date,facility_code,encounter_external_id,"
        "detail",
        "encounter",
        "DN{n},welcome_kit,C-ALTA,,2026-11-01,,{ref},",
    ),
    ("group_members", "group_code,caregiver_external_id,child_external_id,attended", "caregiver", "GR-ALTA,{ref},,1"),
    (
        "group_members",
        "group_code,caregiver_external_id,child_external_id,attended",
        "child",
        "GR-ALTA,M-ALTA{n},{ref},1",
    ),
    # a parenting group is named by its code: one meeting in another territory is answered as an unknown code
    ("group_members", "group_code,caregiver_external_id,child_external_id,attended", "group", "{ref},M-ALTA{n},,1"),
]


@pytest.fixture
def elsewhere_records(cast, zeta, baja_mother, make_child, make_mother, tmp_path) -> None:
    """Records outside every Alta user's scope, each with its external id (Austral's child Z-1 and its
    check-up E-Z and welcome kit D-Z, Baja's mother M-BAJA and her pregnancy P-BAJA, Austral's parenting group
    GR-SUR), and Alta's own: child C-ALTA, mothers M-ALTA, M-ALTA1 and M-ALTA2, parenting group GR-ALTA."""
    from crecer.registry.models import Pregnancy

    Child.unscoped.filter(pk=zeta.pk).update(external_id="Z-1")
    Pregnancy.unscoped.filter(mother=baja_mother).update(external_id="P-BAJA")
    alta = make_child(facility_code="F-ALTA")
    Child.unscoped.filter(pk=alta.pk).update(external_id="C-ALTA")
    make_mother(national_id="16.111.222-4", territory_code="CL01001", external_id="M-ALTA")
    for n, document in ((1, "17.222.333-8"), (2, None)):
        make_mother(national_id=document, territory_code="CL01001", external_id=f"M-ALTA{n}")
    group = "code,name,service_code,facility_code,start_date,planned_sessions,facilitator"
    path = _csv(
        tmp_path,
        "groups.csv",
        group,
        "GR-ALTA,Grupo Alta,parenting_programme,F-ALTA,2026-11-01,6,",
        "GR-SUR,Grupo Sur,parenting_programme,F-AUSTRAL,2026-11-01,6,",
    )
    assert run_import("groups", path, SYSTEM).created == 2
    header = "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional"
    path = _csv(tmp_path, "austral-encounters.csv", header, "E-Z,Z-1,,check_up,,2026-10-01,F-AUSTRAL,")
    assert run_import("encounters", path, SYSTEM).created == 1
    path = _csv(tmp_path, "austral-deliveries.csv", DELIVERY_HEADER, "D-Z,welcome_kit,Z-1,,2026-10-01,,,")
    assert run_import("deliveries", path, SYSTEM).created == 1


@pytest.mark.parametrize("role", ["coordinator_alta", "nurse_alta"])
@pytest.mark.parametrize(("kind", "header", "what", "template"), REFERENCES)
def test_an_external_id_of_a_record_elsewhere_is_answered_as_an_unknown_one(
    elsewhere_records, cast, tmp_path, role, kind, header, what, template
):
    """Same code, same message (but for the id itself), same outcome: a file cannot tell a record of
    another territory from an external id nobody has."""
    out, unknown = OUT_OF_SCOPE_IDS[what], UNKNOWN_IDS[what]
    rows = [template.format(ref=out, n=1), template.format(ref=unknown, n=2)]
    path = _csv(tmp_path, f"{kind}.csv", header, *rows)
    searches = AuditEvent.objects.filter(action=Action.SEARCH).count()
    result = run_import(kind, path, Actor(cast[role], Channel.CLI))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert [r.line for r in result.rejected] == [2, 3]
    first, second = (json.dumps(r.errors, ensure_ascii=False) for r in result.rejected)
    assert first.replace(out, "?") == second.replace(unknown, "?"), (first, second)
    assert "other_territory" not in first and "registered_elsewhere" not in first
    # naming a record is not an existence answer: nothing to audit or count
    assert AuditEvent.objects.filter(action=Action.SEARCH).count() == searches


@pytest.mark.parametrize(
    ("kind", "header", "row", "entity"),
    [
        (
            "children",
            "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,"
            "mother_national_id,territory_code",
            "Z-1,Otro,Nombre,Cualquiera,M,2024-03-10,,,CL01001",
            "registry.child",
        ),
        (
            "caregivers",
            "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,territory_code",
            "M-BAJA,Otra,Persona,Cualquiera,F,1990-01-01,CL01001",
            "registry.caregiver",
        ),
        (
            "pregnancies",
            "external_id,mother_external_id,lmp_date,edd_date",
            "P-BAJA,M-ALTA,2026-05-01,",
            "registry.pregnancy",
        ),
        (
            "encounters",
            "external_id,child_external_id,pregnancy_external_id,kind,contact_code,date,facility_code,professional",
            "E-Z,C-ALTA,,check_up,,2026-11-01,F-ALTA,",
            "tracking.encounter",
        ),
        ("deliveries", DELIVERY_HEADER, "D-Z,welcome_kit,C-ALTA,,2026-11-01,,,", "tracking.delivery"),
    ],
)
def test_a_rows_own_external_id_held_elsewhere_is_an_audited_existence_answer(
    elsewhere_records, cast, tmp_path, settings, kind, header, row, entity
):
    """A row's own key cannot be answered as unknown (the row would then create a second record with it):
    it gets the existence answer — no data of the record, audited, counted, refused past the limit."""
    from crecer.accounts.models import ThrottleCounter

    coordinator = cast["coordinator_alta"]
    path = _csv(tmp_path, f"{kind}.csv", header, row)
    result = run_import(kind, path, Actor(coordinator, Channel.CLI))
    (rejected,) = result.rejected
    assert [e["code"] for e in rejected.errors["external_id"]] == ["registered_elsewhere"]
    for secret in ("Zenón", "Pichihueche", "Camila", "Austral", "CL02001", "CL01002"):
        assert secret not in json.dumps(rejected.errors, ensure_ascii=False)
    event = AuditEvent.objects.get(action=Action.SEARCH, actor=coordinator)
    assert event.entity == entity and event.after == {"identifier": "external_id", "answer": "registered_elsewhere"}
    assert ThrottleCounter.objects.get(key=f"existence:{coordinator.pk}").hits == 1
    settings.CRECER_EXISTENCE_LOOKUPS_PER_HOUR = 1
    again = run_import(kind, path, Actor(coordinator, Channel.CLI))
    assert [e["code"] for e in again.rejected[0].errors["external_id"]] == ["throttled"]
    # a look-up refused past the limit is no answer: neither audited nor counted again
    assert AuditEvent.objects.filter(action=Action.SEARCH).count() == 1
