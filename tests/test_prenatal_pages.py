"""The prenatal entry pages: find or register a pregnant woman with her household (likely duplicates shown
before saving), her pregnancy with the EPsA of the first visit (a positive one raises its risk and offers
the referral at once), the caregiver and household pages, and the birth registered from the pregnancy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from crecer.audit.models import Action, AuditEvent
from crecer.lib import pregnancy as pregnancy_dating
from crecer.referrals.models import Referral
from crecer.registry import actions as registry_actions
from crecer.registry.models import Caregiver, Child, Household, Pregnancy
from crecer.risks.models import RiskFlag
from crecer.tracking.models import Delivery, Encounter, Screening
from tests.conftest import SYSTEM

MOTHER = {
    "given_names": "Javiera Andrea",
    "paternal_surname": "Soto",
    "maternal_surname": "Lagos",
    "birth_date": "1998-04-12",
    "national_id": "20.111.222-3",
    "phone": "+56 9 1234 5678",
    "schooling_years": "12",
    "territory_code": "CL01001",
    "household_mode": "new",
    "household_code": "RSH-777",
    "address": "Pasaje Los Aromos 123",
    "vulnerability_percentile": "40",
}


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _valid_run(body: int) -> str:
    from crecer.lib.documents import run_check_digit

    return f"{body}-{run_check_digit(body)}"


@pytest.fixture
def mother_form():
    return {**MOTHER, "national_id": _valid_run(20111222)}


# --- the mother and her household ----------------------------------------------------------------------


def test_a_nurse_registers_a_pregnant_woman_with_her_household(cast, mother_form):
    response = _client(cast["nurse_alta"]).post("/caregivers/new/", mother_form)
    mother = Caregiver.unscoped.get(national_id=mother_form["national_id"])
    assert response.status_code == 302
    assert response["Location"] == f"/pregnancies/new/?mother={mother.pk}"
    assert mother.sex == "F" and mother.phone == "+56 9 1234 5678" and mother.schooling_years == 12
    household = Household.unscoped.get(code="RSH-777")
    assert mother.household_id == household.pk
    assert household.address == "Pasaje Los Aromos 123" and household.vulnerability_percentile == 40
    created = set(AuditEvent.objects.filter(action=Action.CREATE).values_list("entity", flat=True))
    assert {"registry.caregiver", "registry.household"} <= created


def test_the_entry_page_shows_the_form_and_the_navigation_offers_it(cast):
    response = _client(cast["nurse_alta"]).get("/caregivers/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="given_names"' in html and 'name="vulnerability_percentile"' in html
    assert 'href="/caregivers/new/"' in html  # the navigation entry
    assert response.context["household_fields"][1].value  # a household code is suggested


def test_roles_without_the_right_to_register_are_refused_and_not_offered_the_entry(cast, mother_form):
    for role in ("auditor", "regional_norte", "provider_opd"):
        client = _client(cast[role])
        assert client.get("/caregivers/new/").status_code == 403
        assert client.post("/caregivers/new/", mother_form).status_code == 403
        assert 'href="/caregivers/new/"' not in client.get("/").content.decode()
    assert not Caregiver.unscoped.filter(national_id=mother_form["national_id"]).exists()


def test_bad_input_shows_errors_beside_the_fields_and_saves_nothing(cast, mother_form):
    bad = {**mother_form, "national_id": "20111222-0", "given_names": "", "vulnerability_percentile": "140"}
    response = _client(cast["nurse_alta"]).post("/caregivers/new/", bad)
    assert response.status_code == 422
    by_name = {f.name: f for f in response.context["person_fields"] + response.context["household_fields"]}
    assert by_name["national_id"].errors and by_name["given_names"].errors
    assert by_name["vulnerability_percentile"].errors
    html = response.content.decode()
    assert 'id="err_national_id"' in html and "<code>" not in html
    assert not Caregiver.unscoped.exists() and not Household.unscoped.exists()


def test_a_household_error_keeps_the_mother_unsaved_too(cast, mother_form):
    registry_actions.create_household(SYSTEM, {"code": "RSH-777", "territory_code": "CL01001"})
    response = _client(cast["nurse_alta"]).post("/caregivers/new/", mother_form)
    assert response.status_code == 422
    by_name = {f.name: f for f in response.context["household_fields"]}
    assert by_name["household_code"].errors
    assert not Caregiver.unscoped.exists()


def test_likely_duplicates_are_shown_before_saving(cast, make_mother, mother_form):
    existing = make_mother(
        given_names="Javiera",
        paternal_surname="Soto",
        maternal_surname="Lagos",
        birth_date="1998-04-12",
        national_id="",
    )
    client = _client(cast["nurse_alta"])
    response = client.post("/caregivers/new/", mother_form)
    assert response.status_code == 200
    assert [c.caregiver.pk for c in response.context["candidates"]] == [existing.pk]
    assert f"/pregnancies/new/?mother={existing.pk}" in response.content.decode()
    assert Caregiver.unscoped.count() == 1  # nothing saved yet
    confirmed = client.post("/caregivers/new/", {**mother_form, "confirm_new": "1"})
    assert confirmed.status_code == 302
    assert Caregiver.unscoped.count() == 2


def test_candidates_are_only_those_in_scope(cast, make_mother, mother_form):
    make_mother(
        given_names="Javiera",
        paternal_surname="Soto",
        maternal_surname="Lagos",
        birth_date="1998-04-12",
        national_id="",
        territory_code="CL02001",
    )
    response = _client(cast["nurse_alta"]).post("/caregivers/new/", mother_form)
    assert response.status_code == 302  # the southern record is not hers to see: registered at once


def test_search_finds_a_registered_woman_by_name_or_document(cast, make_mother):
    mother = make_mother()
    client = _client(cast["nurse_alta"])
    for query in ("camila perez", "15432876-9"):
        response = client.get("/caregivers/new/", {"q": query})
        assert [c.pk for c in response.context["matches"]] == [mother.pk]
    assert _client(cast["nurse_baja"]).get("/caregivers/new/", {"q": "camila"}).context["matches"] == []


def test_a_member_is_added_to_a_household(cast, make_mother):
    household = registry_actions.create_household(SYSTEM, {"code": "H-1", "territory_code": "CL01001"})
    client = _client(cast["nurse_alta"])
    response = client.post(
        f"/caregivers/new/?household={household.pk}",
        {"given_names": "Pedro", "paternal_surname": "Soto", "sex": "M", "territory_code": "CL01001"},
    )
    assert response.status_code == 302 and response["Location"] == f"/households/{household.pk}/"
    assert Caregiver.unscoped.get(given_names="Pedro").household_id == household.pk
    other = registry_actions.create_household(SYSTEM, {"code": "H-2", "territory_code": "CL02001"})
    assert client.get(f"/caregivers/new/?household={other.pk}").status_code == 404


# --- caregiver and household pages ------------------------------------------------------------------------


def test_caregiver_and_household_pages_in_scope_and_404_outside(cast, make_mother):
    household = registry_actions.create_household(
        SYSTEM, {"code": "H-9", "territory_code": "CL01001", "address": "Calle 1", "vulnerability_percentile": 30}
    )
    mother = make_mother(household_code="H-9")
    nurse = _client(cast["nurse_alta"])
    page = nurse.get(f"/caregivers/{mother.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert mother.full_name in html and f"/households/{household.pk}/" in html
    assert f"/pregnancies/new/?mother={mother.pk}" in html
    assert AuditEvent.objects.filter(action=Action.READ, entity="registry.caregiver", entity_id=mother.pk).exists()
    house = nurse.get(f"/households/{household.pk}/")
    assert house.status_code == 200
    assert mother.full_name in house.content.decode() and "Calle 1" in house.content.decode()
    south = _client(cast["nurse_baja"])
    assert south.get(f"/caregivers/{mother.pk}/").status_code == 404
    assert south.get(f"/households/{household.pk}/").status_code == 404
    assert _client(cast["admin"]).get(f"/caregivers/{mother.pk}/").status_code == 404


# --- the pregnancy and the EPsA --------------------------------------------------------------------------


@pytest.fixture
def mother(make_mother):
    return make_mother()


def _pregnancy_form(today: dt.date, **extra: str) -> dict[str, str]:
    return {
        "lmp_date": (today - dt.timedelta(weeks=10)).isoformat(),
        "first_visit_date": today.isoformat(),
        "facility_code": "F-ALTA",
        "use.epsa": "on",
        **extra,
    }


def test_a_pregnancy_with_a_negative_epsa_derives_the_first_visit_week(cast, mother, today):
    response = _client(cast["nurse_alta"]).post(f"/pregnancies/new/?mother={mother.pk}", _pregnancy_form(today))
    pregnancy = Pregnancy.unscoped.get(mother=mother)
    assert response.status_code == 302 and response["Location"] == f"/pregnancies/{pregnancy.pk}/"
    assert pregnancy.first_visit_date == today and pregnancy.first_visit_week == 10
    assert pregnancy.edd_date == pregnancy_dating.expected_delivery(today - dt.timedelta(weeks=10))
    encounter = Encounter.unscoped.get(pregnancy=pregnancy)
    assert encounter.date == today and encounter.gestational_weeks == 10
    screening = Screening.unscoped.get(pregnancy=pregnancy)
    assert screening.instrument == "epsa" and screening.classification == "negative"
    assert not RiskFlag.unscoped.filter(pregnancy=pregnancy).exists()


def test_a_positive_epsa_raises_the_risk_and_offers_the_referral_at_once(cast, network, mother, today):
    client = _client(cast["nurse_alta"])
    client.post(f"/pregnancies/new/?mother={mother.pk}", _pregnancy_form(today, **{"s.epsa.low_support": "on"}))
    pregnancy = Pregnancy.unscoped.get(mother=mother)
    flag = RiskFlag.unscoped.get(pregnancy=pregnancy, rule_id="epsa_positive")
    page = client.get(f"/pregnancies/{pregnancy.pk}/")
    html = page.content.decode()
    assert "Riesgo psicosocial en la gestación (EPsA)" in html
    assert f'action="/pregnancies/{pregnancy.pk}/refer/"' in html and "Visita domiciliaria" in html
    assert 'name="consent" value="mental_health"' in html  # her consent to share the reason, asked
    sent = client.post(
        f"/pregnancies/{pregnancy.pk}/refer/", {"flag": flag.pk, "service": "home_visit", "consent": "mental_health"}
    )
    referral = Referral.unscoped.get(pregnancy=pregnancy)
    assert sent.status_code == 302 and sent["Location"] == f"/referrals/{referral.pk}/"
    assert referral.consent == ["mental_health"]
    assert referral.service.code == "home_visit" and referral.state == "sent" and referral.flag_id == flag.pk
    assert referral.priority == "priority"
    again = client.get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    assert f'action="/pregnancies/{pregnancy.pk}/refer/"' not in again  # already referred: not offered twice


def test_the_referral_offer_is_refused_outside_scope_and_without_the_right(cast, network, mother, today):
    _client(cast["nurse_alta"]).post(
        f"/pregnancies/new/?mother={mother.pk}", _pregnancy_form(today, **{"s.epsa.low_support": "on"})
    )
    pregnancy = Pregnancy.unscoped.get(mother=mother)
    flag = RiskFlag.unscoped.get(pregnancy=pregnancy, rule_id="epsa_positive")
    assert _client(cast["nurse_baja"]).post(f"/pregnancies/{pregnancy.pk}/refer/", {"flag": flag.pk}).status_code == 404
    regional = cast["regional_norte"]  # the pregnancy is in scope; the role may not send referrals
    assert flag.data_category not in regional.data_categories()
    # the flag's category is hidden from the role: for it the flag does not exist
    assert _client(regional).post(f"/pregnancies/{pregnancy.pk}/refer/", {"flag": flag.pk}).status_code == 404
    regional.extra_categories = [flag.data_category]
    regional.save()
    # the flag is visible now, but the role has no right to send referrals
    assert _client(regional).post(f"/pregnancies/{pregnancy.pk}/refer/", {"flag": flag.pk}).status_code == 403
    assert not Referral.unscoped.exists()


def test_bad_pregnancy_input_shows_field_errors_and_saves_nothing(cast, mother, today):
    future = (today + dt.timedelta(days=3)).isoformat()
    response = _client(cast["nurse_alta"]).post(
        f"/pregnancies/new/?mother={mother.pk}", {"lmp_date": future, "first_visit_date": today.isoformat()}
    )
    assert response.status_code == 422
    by_name = {f.name: f for f in response.context["fields"]}
    assert by_name["lmp_date"].errors
    assert not Pregnancy.unscoped.exists() and not Encounter.unscoped.exists()
    none = _client(cast["nurse_alta"]).post(f"/pregnancies/new/?mother={mother.pk}", {"first_visit_date": ""})
    missing = {f.name: f for f in none.context["fields"]}
    assert none.status_code == 422 and missing["edd_date"].errors and missing["first_visit_date"].errors
    assert not Pregnancy.unscoped.exists()


def test_pregnancy_form_out_of_scope_and_without_the_right(cast, mother, today):
    assert _client(cast["nurse_baja"]).get(f"/pregnancies/new/?mother={mother.pk}").status_code == 404
    assert _client(cast["auditor"]).get(f"/pregnancies/new/?mother={mother.pk}").status_code == 403
    assert _client(cast["nurse_alta"]).get(f"/pregnancies/new/?mother={mother.pk}").status_code == 200


# --- the birth -------------------------------------------------------------------------------------------


@pytest.fixture
def pregnancy(mother, today):
    return registry_actions.create_pregnancy(
        SYSTEM,
        {"lmp_date": (today - dt.timedelta(weeks=39)).isoformat(), "facility_code": "F-ALTA"},
        mother=mother,
    )


def test_the_birth_registers_the_newborn_linked_to_mother_and_pregnancy(cast, pregnancy, mother, today):
    client = _client(cast["nurse_alta"])
    page = client.get(f"/pregnancies/{pregnancy.pk}/")
    assert f'href="/pregnancies/{pregnancy.pk}/birth/"' in page.content.decode()
    response = client.post(
        f"/pregnancies/{pregnancy.pk}/birth/",
        {
            "given_names": "Tomás",
            "paternal_surname": "Pérez",
            "maternal_surname": "Rojas",
            "sex": "M",
            "birth_date": today.isoformat(),
            "birth_weight_g": "3350",
            "gestational_weeks": "39",
            "welcome_kit": "on",
        },
    )
    child = Child.unscoped.get(pregnancy=pregnancy)
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"
    assert child.birth_weight_g == 3350 and child.gestational_weeks == 39 and child.national_id is None
    assert child.facility.code == "F-ALTA"
    assert child.caregiver_links.get().caregiver_id == mother.pk
    pregnancy.refresh_from_db()
    assert pregnancy.outcome == "live_birth" and pregnancy.outcome_date == today
    kit = Delivery.unscoped.get(child=child)
    assert kit.service_code == "welcome_kit" and kit.delivered_on == today
    newborn_page = client.get(f"/children/{child.pk}/").content.decode()
    assert child.registry_number in newborn_page
    # the pregnancy ended in a live birth: another baby of it (twins) may still be registered
    assert client.get(f"/pregnancies/{pregnancy.pk}/birth/").status_code == 200


def test_bad_birth_input_shows_field_errors_and_saves_nothing(cast, pregnancy, today):
    response = _client(cast["nurse_alta"]).post(
        f"/pregnancies/{pregnancy.pk}/birth/",
        {
            "given_names": "Tomás",
            "paternal_surname": "Pérez",
            "sex": "M",
            "birth_date": today.isoformat(),
            "birth_weight_g": "90000",
            "welcome_kit": "on",
        },
    )
    assert response.status_code == 422
    assert {f.name: f for f in response.context["fields"]}["birth_weight_g"].errors
    assert not Child.unscoped.exists() and not Delivery.unscoped.exists()
    pregnancy.refresh_from_db()
    assert pregnancy.outcome == "ongoing"


def test_the_birth_page_out_of_scope_and_without_the_right(cast, pregnancy):
    assert _client(cast["nurse_baja"]).get(f"/pregnancies/{pregnancy.pk}/birth/").status_code == 404
    # In scope without the right to register (a national manager); an auditor does not read records at all.
    assert _client(cast["national"]).get(f"/pregnancies/{pregnancy.pk}/birth/").status_code == 403
    assert _client(cast["auditor"]).get(f"/pregnancies/{pregnancy.pk}/birth/").status_code == 404
    assert _client(cast["nurse_alta"]).get(f"/pregnancies/{pregnancy.pk}/birth/").status_code == 200


def test_a_referral_that_cannot_be_sent_says_why_and_writes_nothing(cast, mother, today):
    client = _client(cast["nurse_alta"])  # no service catalogue loaded: the recommended service is unknown
    client.post(f"/pregnancies/new/?mother={mother.pk}", _pregnancy_form(today, **{"s.epsa.low_support": "on"}))
    pregnancy = Pregnancy.unscoped.get(mother=mother)
    flag = RiskFlag.unscoped.get(pregnancy=pregnancy, rule_id="epsa_positive")
    page = client.get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    assert "Riesgo psicosocial en la gestación (EPsA)" in page
    assert f'action="/pregnancies/{pregnancy.pk}/refer/"' not in page  # nothing to offer
    refused = client.post(f"/pregnancies/{pregnancy.pk}/refer/", {"flag": flag.pk, "service": "home_visit"})
    assert refused.status_code == 422 and refused.context["problems"]
    assert not Referral.unscoped.exists()


def test_the_pregnancy_page_names_screenings_in_words(cast, mother, today):
    client = _client(cast["nurse_alta"])
    client.post(f"/pregnancies/new/?mother={mother.pk}", _pregnancy_form(today, **{"s.epsa.low_support": "on"}))
    pregnancy = Pregnancy.unscoped.get(mother=mother)
    html = client.get(f"/pregnancies/{pregnancy.pk}/").content.decode()
    assert "Evaluación Psicosocial Abreviada (EPsA)" in html
    assert "EPSA " not in html and ": <strong>positive</strong>" not in html
