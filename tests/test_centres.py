"""Childcare centres: an application through its parallel reviews to a numbered permit (API), inspectors
bound to their institution, the permits' expiry sweep, the public list, and enrolments that move the
childcare indicator."""

from __future__ import annotations

import base64
import datetime as dt
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from crecer import conf
from crecer.access.models import Role
from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.centres import actions
from crecer.centres.demo import synthetic_pdf
from crecer.centres.models import (
    Application,
    Centre,
    CentreStatus,
    Enrolment,
    Inspection,
    Permit,
    PermitCounter,
    PermitState,
    Review,
    ReviewState,
    Stage,
)
from crecer.centres.sweep import sweep
from crecer.lib import periods
from crecer.monitoring import definitions, engine
from crecer.places.actions import save_place
from crecer.referrals.models import Notification
from crecer.registry import actions as registry_actions
from crecer.territories.models import Organisation, Sector, Territory
from crecer.tracking.models import Delivery
from tests.conftest import SYSTEM

API = "/api/v1"


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.CRECER_UPLOAD_DIR = tmp_path


@pytest.fixture
def capi(cast, make_user) -> dict[str, Any]:
    territory = Territory.objects.get(code="CL01001")
    for code, name in (("SALA-SOL", "Fundación Sol"), ("SALA-LUNA", "Jardines Luna")):
        save_place(
            SYSTEM, Organisation, "sector", {"code": code, "name": name, "sector": Sector.CHILDCARE}, territory.pk, None
        )
    centres = conf.profile().centres
    assert centres is not None
    inspectors = {
        i.code: make_user(f"insp_{i.code}", Role.INSPECTOR, "CL01", institution=i.code) for i in centres.institutions
    }
    return {
        "operator": make_user("operadora_sol", Role.OPERATOR, "CL01001", organisation_code="SALA-SOL"),
        "other_operator": make_user("operadora_luna", Role.OPERATOR, "CL01001", organisation_code="SALA-LUNA"),
        "inspectors": inspectors,
        "authority": cast["national"],
        "config": centres,
    }


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"{API}{path}", body, content_type="application/json")


CENTRE = {
    "name": "Sala Cuna Los Aromos",
    "kind": "private",
    "address": "Pasaje Los Aromos 123",
    "territory_code": "CL01001",
    "capacity": {"0_1": 12, "1_3": 20, "3_4": 8},
    "hours": "Lunes a viernes, 8:00 a 18:00",
    "staff": [
        {"name": "Rosa Painequeo Marileo", "role": "Directora", "qualification": "Educadora de párvulos"},
        {"name": "Juan Carrasco", "role": "Técnico", "qualification": "Técnico en párvulos"},
    ],
}


def pdf64(name: str) -> dict[str, str]:
    """A small synthetic PDF as the API's JSON takes a file."""
    return {"name": name, "content_base64": base64.b64encode(synthetic_pdf(name, name).read()).decode()}


def application_body(config: Any, kind: str = "private") -> dict[str, Any]:
    ctype = config.types[kind]
    return {
        "documents": {code: pdf64(f"{code}.pdf") for code in ctype.documents},
        "fees": {
            code: {
                "receipt": f"R-{code}",
                "receipt_file": pdf64(f"R-{code}.pdf"),
                "paid_on": timezone.localdate().isoformat(),
            }
            for code in ctype.fees
        },
    }


def visit(config: Any, institution: str, met: bool = True) -> dict[str, Any]:
    return {
        "visited_on": timezone.localdate().isoformat(),
        "checklist": {
            s.code: {"met": met, "evidence": [pdf64(f"{s.code}.pdf")]} for s in config.standards_of(institution)
        },
        "findings": [
            {
                "text": "Reponer señalética del pasillo",
                "deadline": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            }
        ],
    }


def authorised_centre(capi: dict[str, Any], api_client: Any) -> tuple[Centre, Permit]:
    """A centre through the whole API path, returned with its permit."""
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    application = post(operator, f"/centres/{centre_id}/applications", application_body(capi["config"])).json()
    for review in application["reviews"]:
        inspector = api_client(capi["inspectors"][review["institution"]])
        assert (
            post(
                inspector, f"/reviews/{review['id']}/inspections", visit(capi["config"], review["institution"])
            ).status_code
            == 201
        )
        assert post(inspector, f"/reviews/{review['id']}/decision", {"decision": "approved"}).status_code == 200
    answer = post(api_client(capi["authority"]), f"/applications/{application['id']}/permit", {})
    assert answer.status_code == 201, answer.json()
    return Centre.objects.get(pk=centre_id), Permit.objects.get(pk=answer.json()["id"])


# --- the application through every review to a permit -------------------------------------------------


def test_an_application_goes_through_every_review_to_a_numbered_permit(capi, api_client):
    config = capi["config"]
    operator = api_client(capi["operator"])
    created = post(operator, "/centres", CENTRE)
    assert created.status_code == 201, created.json()
    centre = created.json()
    assert centre["status"] == "applying" and centre["places"] == 40 and centre["operator"] == "SALA-SOL"

    # A missing document and an unpaid fee are named beside their field, and nothing is stored.
    incomplete = application_body(config)
    del incomplete["documents"]["floor_plan"]
    del incomplete["fees"]["health_permit"]
    refused = post(operator, f"/centres/{centre['id']}/applications", incomplete)
    assert refused.status_code == 422
    assert {"documents.floor_plan", "fees.health_permit.receipt"} <= set(refused.json()["errors"])
    assert not Application.objects.exists()

    answer = post(operator, f"/centres/{centre['id']}/applications", application_body(config))
    assert answer.status_code == 201, answer.json()
    application = answer.json()
    expected = list(config.types["private"].reviews)
    assert sorted(r["institution"] for r in application["reviews"]) == sorted(expected)
    assert all(r["state"] == "pending" for r in application["reviews"])
    # Fees are the profile's amounts, not the applicant's.
    assert application["fees"]["health_permit"]["amount"] == f"{config.fee('health_permit').amount:.2f}"

    # The authority cannot issue before every review approves.
    authority = api_client(capi["authority"])
    early = post(authority, f"/applications/{application['id']}/permit", {})
    assert early.status_code == 422 and "row" in early.json()["errors"]

    # Reviews run in parallel: each institution's inspector visits and decides; the operator follows all
    # of them in one place.
    for n, review in enumerate(application["reviews"]):
        inspector = api_client(capi["inspectors"][review["institution"]])
        visited = post(inspector, f"/reviews/{review['id']}/inspections", visit(config, review["institution"]))
        assert visited.status_code == 201, visited.json()
        assert visited.json()["passed"] and visited.json()["findings"][0]["text"].startswith("Reponer")
        decision = "approved_with_conditions" if n == 0 else "approved"
        decided = post(
            inspector,
            f"/reviews/{review['id']}/decision",
            {"decision": decision, "conditions": "Plazo 30 días" if n == 0 else ""},
        )
        assert decided.status_code == 200, decided.json()
        seen = operator.get(f"{API}/applications/{application['id']}").json()
        states = {r["institution"]: r["state"] for r in seen["reviews"]}
        assert states[review["institution"]] == decision
        assert seen["stage"] == ("approved" if n == len(expected) - 1 else "in_review")

    issued = post(authority, f"/applications/{application['id']}/permit", {})
    assert issued.status_code == 201, issued.json()
    permit = issued.json()
    today = timezone.localdate()
    assert permit["number"] == f"{today.year}-000001"
    assert permit["valid_until"] == actions.add_months(today, config.permit_validity_months).isoformat()
    final = operator.get(f"{API}/applications/{application['id']}").json()
    assert final["stage"] == "permit_issued" and final["permit"]["number"] == permit["number"]
    assert operator.get(f"{API}/centres/{centre['id']}").json()["status"] == "authorised"
    # Every write audited.
    assert AuditEvent.objects.filter(entity="centres.permit", action=Action.CREATE, entity_id=permit["id"]).exists()
    assert AuditEvent.objects.filter(entity="centres.review", action=Action.UPDATE).count() >= 2 * len(expected)


def test_a_rejection_rejects_the_application_and_approval_needs_a_visit_meeting_the_standards(capi, api_client):
    config = capi["config"]
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    application = post(operator, f"/centres/{centre_id}/applications", application_body(config)).json()
    review = application["reviews"][0]
    inspector = api_client(capi["inspectors"][review["institution"]])
    no_visit = post(inspector, f"/reviews/{review['id']}/decision", {"decision": "approved"})
    assert no_visit.status_code == 422 and no_visit.json()["errors"]["decision"][0]["code"] == "no_visit"
    post(inspector, f"/reviews/{review['id']}/inspections", visit(config, review["institution"], met=False))
    unmet = post(inspector, f"/reviews/{review['id']}/decision", {"decision": "approved"})
    assert unmet.json()["errors"]["decision"][0]["code"] == "standards_unmet"
    no_reason = post(inspector, f"/reviews/{review['id']}/decision", {"decision": "rejected"})
    assert "conditions" in no_reason.json()["errors"]
    rejected = post(
        inspector, f"/reviews/{review['id']}/decision", {"decision": "rejected", "conditions": "Sin extintores"}
    )
    assert rejected.status_code == 200
    assert Application.objects.get(pk=application["id"]).stage == Stage.REJECTED
    # A decided review is final.
    again = post(inspector, f"/reviews/{review['id']}/decision", {"decision": "approved"})
    assert again.status_code == 422


# --- inspectors are bound to their institution --------------------------------------------------------


def test_an_inspector_of_one_institution_is_refused_on_another_institutions_review(capi, api_client):
    config = capi["config"]
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    application = post(operator, f"/centres/{centre_id}/applications", application_body(config)).json()
    fire = next(r for r in application["reviews"] if r["institution"] == "bomberos")
    health = api_client(capi["inspectors"]["seremi_salud"])
    inspected = post(health, f"/reviews/{fire['id']}/inspections", visit(config, "bomberos"))
    assert inspected.status_code == 403
    decided = post(health, f"/reviews/{fire['id']}/decision", {"decision": "rejected", "conditions": "x"})
    assert decided.status_code == 403 and decided.json()["code"] == "forbidden"
    review = Review.objects.get(pk=fire["id"])
    assert review.state == ReviewState.PENDING and not review.inspections.exists()
    # Nor may an operator or the authority decide a review.
    for user in (capi["operator"], capi["authority"]):
        assert post(api_client(user), f"/reviews/{fire['id']}/decision", {"decision": "approved"}).status_code == 403
    # The fire-service inspector may.
    fire_inspector = api_client(capi["inspectors"]["bomberos"])
    assert post(fire_inspector, f"/reviews/{fire['id']}/inspections", visit(config, "bomberos")).status_code == 201
    assert post(fire_inspector, f"/reviews/{fire['id']}/decision", {"decision": "approved"}).status_code == 200


def test_an_inspector_outside_the_territory_and_an_unrelated_operator_see_nothing(capi, api_client, make_user):
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    application = post(operator, f"/centres/{centre_id}/applications", application_body(capi["config"])).json()
    south = make_user("insp_sur", Role.INSPECTOR, "CL02", institution="bomberos")
    fire = next(r for r in application["reviews"] if r["institution"] == "bomberos")
    assert post(api_client(south), f"/reviews/{fire['id']}/decision", {"decision": "approved"}).status_code == 404
    other = api_client(capi["other_operator"])
    assert other.get(f"{API}/centres/{centre_id}").status_code == 404
    assert other.get(f"{API}/applications/{application['id']}").status_code == 404
    assert post(other, f"/centres/{centre_id}/applications", application_body(capi["config"])).status_code == 404


# --- permits: numbers, renewal, suspension and reopening, the sweep -----------------------------------


def test_permit_numbers_are_sequential_per_year(db):
    with transaction.atomic():
        first, second = actions.next_permit_number(2030), actions.next_permit_number(2030)
        other_year = actions.next_permit_number(2031)
    assert (first, second, other_year) == ("2030-000001", "2030-000002", "2031-000001")
    assert PermitCounter.objects.get(year=2030).value == 2


def test_suspension_and_reopening_after_a_verification_visit_then_renewal(capi, api_client):
    centre, permit = authorised_centre(capi, api_client)
    authority = api_client(capi["authority"])
    assert post(authority, f"/permits/{permit.pk}/suspend", {"reason": ""}).status_code == 422
    assert post(authority, f"/permits/{permit.pk}/suspend", {"reason": "Denuncia por hacinamiento"}).status_code == 200
    centre.refresh_from_db()
    assert centre.status == CentreStatus.SUSPENDED
    early = post(authority, f"/permits/{permit.pk}/reopen", {})
    assert early.status_code == 422 and early.json()["errors"]["row"][0]["code"] == "no_verification"
    inspector = api_client(capi["inspectors"]["junji"])
    failed = post(inspector, f"/permits/{permit.pk}/verifications", visit(capi["config"], "junji", met=False))
    assert failed.status_code == 201 and not failed.json()["passed"]
    assert post(authority, f"/permits/{permit.pk}/reopen", {}).status_code == 422
    post(inspector, f"/permits/{permit.pk}/verifications", visit(capi["config"], "junji"))
    reopened = post(authority, f"/permits/{permit.pk}/reopen", {})
    assert reopened.status_code == 200 and reopened.json()["state"] == "valid"
    centre.refresh_from_db()
    assert centre.status == CentreStatus.AUTHORISED
    renewed = post(authority, f"/permits/{permit.pk}/renew", {})
    months = capi["config"].permit_validity_months
    assert renewed.json()["valid_until"] == actions.add_months(permit.valid_until, months).isoformat()
    assert renewed.json()["renewals"] == 1 and renewed.json()["number"] == permit.number
    assert post(api_client(capi["operator"]), f"/permits/{permit.pk}/renew", {}).status_code == 403


def test_the_sweep_warns_of_permits_about_to_expire_once_and_expires_them(capi, api_client):
    centre, permit = authorised_centre(capi, api_client)
    warning = capi["config"].expiry_warning_days
    now = timezone.now()
    # Far from expiry: nothing happens.
    assert sweep(Actor.system(), now) == {"warned": 0, "expired": 0, "notified": 0}
    Permit.objects.filter(pk=permit.pk).update(valid_until=timezone.localdate(now) + dt.timedelta(days=warning - 1))
    call_command("sweep", now=now.isoformat())
    permit.refresh_from_db()
    assert permit.expiry_warned_at is not None
    told = set(Notification.objects.filter(kind="permit_expiring").values_list("user__username", flat=True))
    assert told == {"operadora_sol", "nacional"}
    assert AuditEvent.objects.filter(entity="referrals.notification", after__permit=permit.pk).exists()
    # Idempotent: a second run warns nobody again.
    assert sweep(Actor.system(), now)["warned"] == 0
    assert Notification.objects.filter(kind="permit_expiring").count() == 2
    # Past its expiry the permit expires and the centre must renew.
    later = now + dt.timedelta(days=warning + 1)
    assert sweep(Actor.system(), later)["expired"] == 1
    permit.refresh_from_db()
    centre.refresh_from_db()
    assert permit.state == PermitState.EXPIRED and centre.status == CentreStatus.APPLYING
    assert Notification.objects.filter(kind="permit_expired", user__username="operadora_sol").exists()


# --- the public list ------------------------------------------------------------------------------------


def test_the_public_list_shows_only_authorised_centres_without_personal_data(capi, api_client):
    _centre, permit = authorised_centre(capi, api_client)
    operator = api_client(capi["operator"])
    applying = post(operator, "/centres", {**CENTRE, "name": "Jardín En Trámite"}).json()
    suspended_centre, suspended = authorised_centre(capi, api_client)
    Centre.objects.filter(pk=suspended_centre.pk).update(name="Jardín Suspendido")
    actions.suspend_permit(Actor(capi["authority"], Channel.WEB), suspended, "Prueba")
    anonymous = Client()
    listed = anonymous.get(f"{API}/permits?valid=true")
    assert listed.status_code == 200
    names = [r["centre"] for r in listed.json()["results"]]
    assert names == ["Sala Cuna Los Aromos"] and applying["id"]
    row = listed.json()["results"][0]
    assert row["permit"] == permit.number and row["places"] == 40 and row["territory"] == "CL01001"
    page = anonymous.get("/centros/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Sala Cuna Los Aromos" in text and permit.number in text
    assert "Jardín En Trámite" not in text and "Jardín Suspendido" not in text
    for personal in ("Rosa Painequeo", "Juan Carrasco", "operadora_sol"):
        assert personal not in text and personal not in listed.content.decode()
    assert "Aromos" in anonymous.get("/centros/", {"q": "aromos"}).content.decode()
    assert "Aromos" not in anonymous.get("/centros/", {"q": "girasol"}).content.decode()


# --- enrolment moves the childcare indicator ------------------------------------------------------------


def _childcare(territory: str = "CL01001") -> tuple[int, int]:
    indicator = definitions.get("childcare_vulnerable_0_4")
    period = periods.parse(str(timezone.localdate().year))
    pk = Territory.objects.get(code=territory).pk
    for f in engine.compute(indicator, period, disaggregate=False):
        if f.territory_id == pk and f.group == "":
            return f.numerator, f.denominator
    return 0, 0


def test_an_enrolment_moves_the_childcare_indicator_and_needs_the_familys_consent(capi, api_client, cast):
    centre, _permit = authorised_centre(capi, api_client)
    household = registry_actions.create_household(
        SYSTEM, {"code": "H-CAPI", "territory_code": "CL01001", "vulnerability_percentile": 20}
    )
    birth = timezone.localdate() - dt.timedelta(days=500)
    child = registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Amanda",
            "paternal_surname": "Queupumil",
            "maternal_surname": "Soto",
            "sex": "F",
            "birth_date": birth.isoformat(),
            "territory_code": "CL01001",
            "facility_code": "F-ALTA",
            "household_code": household.code,
        },
    )
    operator = api_client(capi["operator"])
    body = {"child": child.pk, "enrolled_on": timezone.localdate().isoformat(), "age_group": "1_3"}
    # Not shared with the operator: the child does not exist for it.
    assert post(operator, f"/centres/{centre.pk}/enrolments", body).status_code == 404
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    sol = Organisation.objects.get(code="SALA-SOL")
    # Shared without the childcare service's data category: refused.
    grant = registry_actions.grant_access(nurse, child, sol, ["health"], "matrícula en sala cuna")
    assert post(operator, f"/centres/{centre.pk}/enrolments", body).status_code == 403
    assert grant.pk
    registry_actions.grant_access(nurse, child, sol, ["social"], "matrícula en sala cuna")
    # Another operator cannot enrol in this centre.
    assert post(api_client(capi["other_operator"]), f"/centres/{centre.pk}/enrolments", body).status_code == 404

    before = _childcare()
    enrolled = post(operator, f"/centres/{centre.pk}/enrolments", body)
    assert enrolled.status_code == 201, enrolled.json()
    after = _childcare()
    assert after == (before[0] + 1, before[1])  # one more child enrolled, same population
    enrolment = Enrolment.unscoped.get(pk=enrolled.json()["id"])
    assert Delivery.unscoped.get(pk=enrolment.delivery_id).service_code == "childcare_enrolment"
    # The read of the child is logged; a second enrolment is refused beside its field.
    assert AuditEvent.objects.filter(action=Action.READ, child_id=child.pk, note="centre enrolment").exists()
    again = post(operator, f"/centres/{centre.pk}/enrolments", body)
    assert again.status_code == 422 and "child" in again.json()["errors"]

    month = f"{timezone.localdate():%Y-%m}"
    attendance = post(
        operator, f"/enrolments/{enrolment.pk}/attendance", {"month": month, "days_open": 20, "days_attended": 15}
    )
    assert attendance.status_code == 200, attendance.json()
    assert attendance.json()["attendance_rate"] == "75.0"
    too_many = post(
        operator, f"/enrolments/{enrolment.pk}/attendance", {"month": month, "days_open": 20, "days_attended": 21}
    )
    assert too_many.status_code == 422 and "days_attended" in too_many.json()["errors"]


def test_an_unauthorised_centre_enrols_nobody(capi, api_client, make_child):
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    child = make_child()
    registry_actions.grant_access(SYSTEM, child, Organisation.objects.get(code="SALA-SOL"), ["social"], "sala cuna")
    answer = post(
        operator,
        f"/centres/{centre_id}/enrolments",
        {"child": child.pk, "enrolled_on": "2025-01-01", "age_group": "1_3"},
    )
    assert answer.status_code == 422 and answer.json()["errors"]["row"][0]["code"] == "not_authorised"
    assert not Enrolment.unscoped.exists()


# --- bad input ------------------------------------------------------------------------------------------


def test_a_centre_with_bad_fields_names_each_and_stores_nothing(capi, api_client):
    operator = api_client(capi["operator"])
    answer = post(
        operator,
        "/centres",
        {"name": "", "kind": "castle", "territory_code": "CL02001", "capacity": {"9_9": 3}, "staff": [{"name": ""}]},
    )
    assert answer.status_code == 422
    assert {"name", "kind", "address", "territory_code", "capacity", "staff.0.name", "staff.0.role"} <= set(
        answer.json()["errors"]
    )
    assert not Centre.objects.exists()
    # An operator registers only for its own organisation.
    other = post(operator, "/centres", {**CENTRE, "operator_code": "SALA-LUNA"})
    assert other.status_code == 422 and "operator_code" in other.json()["errors"]
    # Health workers cannot register centres.
    assert post(api_client(capi["authority"]), "/centres", {**CENTRE, "operator_code": "SALA-LUNA"}).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_permit_numbers_stay_unique_when_taken_at_once():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    numbers: list[str] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            with transaction.atomic():
                numbers.append(actions.next_permit_number(2040))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"2040-{n:06d}" for n in range(1, 7)]


# --- pages ----------------------------------------------------------------------------------------------


def test_pages_an_inspector_records_a_visit_and_decides_and_menus_follow_the_role(capi, api_client, cast):
    config = capi["config"]
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    application = post(operator, f"/centres/{centre_id}/applications", application_body(config)).json()
    review = next(r for r in application["reviews"] if r["institution"] == "bomberos")
    web = Client()
    web.force_login(capi["inspectors"]["bomberos"])
    assert 'href="/centres/"' in web.get("/").content.decode()  # the menu shows centres to inspectors
    page = web.get(f"/centres/reviews/{review['id']}/")
    assert page.status_code == 200 and "Registrar la visita" in page.content.decode()
    # A decision without a visit: the error beside its field, nothing changed.
    refused = web.post(f"/centres/reviews/{review['id']}/", {"action": "decide", "decision": "approved"})
    assert refused.status_code == 422 and "field-error" in refused.content.decode()
    assert Review.objects.get(pk=review["id"]).state == ReviewState.PENDING
    form = {"action": "inspect", "visited_on": timezone.localdate().isoformat()}
    form.update({f"std.{s.code}": "yes" for s in config.standards_of("bomberos")})
    assert web.post(f"/centres/reviews/{review['id']}/", form).status_code == 302
    assert (
        web.post(f"/centres/reviews/{review['id']}/", {"action": "decide", "decision": "approved"}).status_code == 302
    )
    assert Review.objects.get(pk=review["id"]).state == ReviewState.APPROVED
    # Another institution's inspector sees the review but gets no forms, and a POST is refused.
    other = Client()
    other.force_login(capi["inspectors"]["junji"])
    assert "Registrar la visita" not in other.get(f"/centres/reviews/{review['id']}/").content.decode()
    assert other.post(f"/centres/reviews/{review['id']}/", {"action": "decide"}).status_code == 403
    # The operator follows every review on the application's page; the menu shows centres to it but not
    # to a health worker, who may not open the list.
    mine = Client()
    mine.force_login(capi["operator"])
    text = mine.get(f"/centres/applications/{application['id']}/").content.decode()
    assert text.count("/centres/reviews/") == len(application["reviews"])
    assert 'href="/centres/"' in mine.get("/centres/").content.decode()
    assert 'href="/centres/"' in mine.get("/").content.decode()  # the operator's home, with the menu
    nurse = Client()
    nurse.force_login(cast["nurse_alta"])
    assert 'href="/centres/"' not in nurse.get("/notifications/").content.decode()
    assert nurse.get("/centres/").status_code == 403


def test_the_dashboard_counts_places_against_children_aged_0_to_4(capi, api_client, make_child, cast):
    authorised_centre(capi, api_client)
    today = timezone.localdate()
    for days in (100, 800, 1700, 2000):  # three aged 0–4, one older
        make_child(birth_date=(today - dt.timedelta(days=days)).isoformat(), territory_code="CL01001")
    web = Client()
    web.force_login(capi["authority"])
    page = web.get("/centres/dashboard/")
    assert page.status_code == 200
    rows = page.context["rows"]
    north = next(r for r in rows if r["territory"].code == "CL01")
    assert north["places"] == 40 and north["population"] == 3
    assert north["coverage"] == round(100 * 40 / 3, 1)
    south = next(r for r in rows if r["territory"].code == "CL02")
    assert south["places"] == 0 and south["population"] == 0
    nurse = Client()
    nurse.force_login(cast["nurse_alta"])
    assert nurse.get("/centres/dashboard/").status_code == 403


def test_the_demo_has_centres_in_every_status_and_an_application_half_way(country, make_child):
    from crecer.centres.demo import ensure_centres

    today = timezone.localdate()
    child = make_child(birth_date=(today - dt.timedelta(days=600)).isoformat(), territory_code="CL01001")
    users = ensure_centres("CL01001", "CL01", "demo-password-2026")
    assert {u for u, _r, _w in users} >= {"sostenedor", "insp-bomberos"}
    statuses = set(Centre.objects.values_list("status", flat=True))
    assert statuses == set(CentreStatus.values)
    half = Application.objects.get(stage=Stage.IN_REVIEW)
    states = list(half.reviews.values_list("state", flat=True))
    assert ReviewState.APPROVED in states and ReviewState.PENDING in states
    assert Enrolment.unscoped.filter(child=child).exists()
    # Idempotent.
    centres = Centre.objects.count()
    ensure_centres("CL01001", "CL01", "demo-password-2026")
    assert Centre.objects.count() == centres


def test_an_operator_registers_a_centre_and_applies_on_the_pages(capi):
    config = capi["config"]
    web = Client()
    web.force_login(capi["operator"])
    bad = web.post("/centres/new/", {"name": "", "kind": "community", "territory_code": "CL01001", "cap.0_1": "8"})
    assert bad.status_code == 422 and "field-error" in bad.content.decode()
    assert not Centre.objects.exists()
    form = {
        "name": "Jardín Semillitas",
        "kind": "community",
        "address": "Calle 2",
        "territory_code": "CL01001",
        "cap.0_1": "8",
        "cap.1_3": "12",
        "staff.0.name": "Ana Pérez",
        "staff.0.role": "Educadora",
    }
    assert web.post("/centres/new/", form).status_code == 302
    centre = Centre.objects.get(name="Jardín Semillitas")
    assert centre.operator.code == "SALA-SOL" and centre.places == 20 and centre.staff.count() == 1
    ctype = config.types["community"]
    missing = web.post(f"/centres/{centre.pk}/apply/", {f"doc.{ctype.documents[0]}": "a.pdf"})
    assert missing.status_code == 422 and not Application.objects.exists()
    body: dict[str, Any] = {f"doc.{code}": synthetic_pdf(f"{code}.pdf", code) for code in ctype.documents}
    for code in ctype.fees:
        body[f"fee.{code}.receipt"] = "R-9"
        body[f"fee.{code}.receipt_file"] = synthetic_pdf(f"R-{code}.pdf", code)
        body[f"fee.{code}.paid_on"] = timezone.localdate().isoformat()
    sent = web.post(f"/centres/{centre.pk}/apply/", body)
    assert sent.status_code == 302
    application = Application.objects.get(centre=centre)
    assert sorted(application.reviews.values_list("institution", flat=True)) == sorted(ctype.reviews)
    # Another operator may not apply for it.
    other = Client()
    other.force_login(capi["other_operator"])
    assert other.get(f"/centres/{centre.pk}/apply/").status_code == 404


def test_a_finding_is_resolved_by_its_institution_and_a_child_leaves_the_centre(capi, api_client, make_child):
    centre, _permit = authorised_centre(capi, api_client)
    finding = Inspection.objects.filter(review__institution="bomberos").get().findings.get()
    other = post(api_client(capi["inspectors"]["junji"]), f"/findings/{finding.pk}/resolve", {})
    assert other.status_code == 403
    done = post(api_client(capi["inspectors"]["bomberos"]), f"/findings/{finding.pk}/resolve", {})
    assert done.status_code == 200 and done.json()["resolved"]
    assert post(api_client(capi["inspectors"]["bomberos"]), f"/findings/{finding.pk}/resolve", {}).status_code == 422
    child = make_child(birth_date=(timezone.localdate() - dt.timedelta(days=500)).isoformat())
    registry_actions.grant_access(SYSTEM, child, Organisation.objects.get(code="SALA-SOL"), ["social"], "sala cuna")
    operator = api_client(capi["operator"])
    today = timezone.localdate().isoformat()
    enrolment = post(
        operator, f"/centres/{centre.pk}/enrolments", {"child": child.pk, "enrolled_on": today, "age_group": "1_3"}
    )
    ended = post(operator, f"/enrolments/{enrolment.json()['id']}/end", {"ended_on": today})
    assert ended.status_code == 200 and ended.json()["ended_on"] == today
    # The delivery stays: the child was enrolled in this period.
    assert Delivery.unscoped.filter(child=child, service_code="childcare_enrolment", voided_at__isnull=True).exists()
    again = post(operator, f"/enrolments/{enrolment.json()['id']}/end", {"ended_on": today})
    assert again.status_code == 422


def test_the_authority_keeps_the_registry_of_employers_obliged_to_run_a_centre(capi, api_client, make_user):
    """Employers of 100 or more employees (the profile's threshold) must run a centre: the authority registers
    them and the centre they run; the registry says who is obliged and who complies."""
    threshold = capi["config"].employer_obligation_employees
    authority = api_client(capi["authority"])
    centre_id = post(api_client(capi["operator"]), "/centres", CENTRE).json()["id"]
    big = post(
        authority, "/employers", {"name": "Pesquera Austral", "territory_code": "CL01001", "employees": threshold}
    )
    assert big.status_code == 201, big.content
    assert big.json()["obliged"] is True and big.json()["runs_centre"] is False
    small = post(
        authority, "/employers", {"name": "Panadería Sur", "territory_code": "CL01002", "employees": threshold - 1}
    ).json()
    assert small["obliged"] is False
    # Now it runs one: a change, audited with its before and after.
    changed = authority.put(
        f"{API}/employers/{big.json()['id']}",
        {"name": "Pesquera Austral", "territory_code": "CL01001", "employees": threshold, "centre_id": centre_id},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["runs_centre"] is True
    event = AuditEvent.objects.filter(entity="centres.employer", action=Action.UPDATE).get()
    assert event.before == {"centre_id": None} and event.after == {"centre_id": centre_id}
    listed = authority.get(f"{API}/employers?obliged=true").json()["results"]
    assert [(e["name"], e["runs_centre"]) for e in listed] == [("Pesquera Austral", True)]
    # A regional manager of the other region reads none of them; an operator is refused the registry.
    regional_sur = make_user("regional_sur", Role.REGIONAL_MANAGER, "CL02")
    assert api_client(regional_sur).get(f"{API}/employers").json()["results"] == []
    assert api_client(regional_sur).get(f"{API}/employers").status_code == 200
    assert api_client(capi["operator"]).get(f"{API}/employers").json()["results"] == []
    assert (
        post(
            api_client(capi["operator"]), "/employers", {"name": "X", "territory_code": "CL01001", "employees": 500}
        ).status_code
        == 403
    )


def test_a_bad_employer_is_refused_field_by_field_and_nothing_is_stored(capi, api_client):
    authority = api_client(capi["authority"])
    answer = post(
        authority, "/employers", {"name": "", "territory_code": "XX", "employees": "muchos", "centre_id": 999999}
    )
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert set(errors) == {"name", "territory_code", "employees", "centre_id"}
    assert post(authority, "/employers", {"name": "A", "territory_code": "CL01001", "employees": 0}).status_code == 422
    from crecer.centres.models import Employer

    assert not Employer.objects.exists()
