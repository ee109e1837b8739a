"""FHIR R4 interoperability: one child as a Bundle (scoped, category-aware, logged), the bulk NDJSON
export, a Bundle from another system mapped in through the actions (all or nothing), and the round
trip out and back in."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.interop import codes, fhir_export
from crecer.lib.documents import run_check_digit
from crecer.referrals import actions as referral_actions
from crecer.referrals.models import State
from crecer.registry import actions as registry_actions
from crecer.registry.models import Caregiver, CaregiverLink, Child
from crecer.risks.models import RiskFlag
from crecer.tracking import actions as tracking_actions
from crecer.tracking.models import Encounter, Measurement
from tests.conftest import SYSTEM


def _run(body: int) -> str:
    return f"{body}-{run_check_digit(body)}"


CHILD_RUN = _run(24123456)
MOTHER_RUN = _run(15432876)


def _post(client, body):
    return client.post("/api/v1/fhir", data=json.dumps(body), content_type="application/fhir+json")


def _resources(bundle, rtype=None):
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if rtype is None or r["resourceType"] == rtype]


def _by_loinc(bundle, loinc):
    return [r for r in _resources(bundle, "Observation") if loinc in {c["code"] for c in r["code"]["coding"]}]


def _counts():
    return (
        Child.unscoped.count(),
        Caregiver.unscoped.count(),
        CaregiverLink.unscoped.count(),
        Encounter.unscoped.count(),
        Measurement.unscoped.count(),
        AuditEvent.objects.exclude(action__in=(Action.READ, Action.SEARCH)).count(),
    )


@pytest.fixture
def family(cast, network, make_mother, today):
    """A 100-day-old girl with her mother, check-ups with measurements, a development screening, the
    mother's EPDS (mental health), a referral to stimulation (development) and one to the child
    protection office (a sensitive category)."""
    mother = make_mother(national_id=MOTHER_RUN)
    child = registry_actions.create_child(
        SYSTEM,
        {
            "given_names": "Sofía Antonia",
            "paternal_surname": "Muñoz",
            "maternal_surname": "Pérez",
            "sex": "F",
            "birth_date": (today - dt.timedelta(days=100)).isoformat(),
            "national_id": CHILD_RUN,
            "mother_national_id": MOTHER_RUN,
            "territory_code": "CL01001",
            "facility_code": "F-ALTA",
            "birth_weight_g": 3300,
            "gestational_weeks": 39,
        },
    )
    nurse = Actor(cast["nurse_alta"], Channel.WEB)
    born = child.birth_date
    tracking_actions.record_encounter(
        nurse,
        {"date": (born + dt.timedelta(days=30)).isoformat(), "measurement": {"weight_kg": 4.3, "length_cm": 53.5}},
        child=child,
    )
    tracking_actions.record_encounter(
        nurse,
        {
            "date": (born + dt.timedelta(days=60)).isoformat(),
            "measurement": {"weight_kg": 5.3, "length_cm": 57.0, "head_cm": 38.5},
            "screenings": [
                {
                    "instrument": "pauta_breve",
                    "inputs": {"items": [True, True, True, True]},
                    "confirm_reason": "Applied early, at the mother's request",
                },
                {"instrument": "epds", "inputs": {"items": [1, 1, 2, 1, 0, 1, 1, 1, 1, 0]}},
            ],
        },
        child=child,
    )
    stimulation = referral_actions.create_referral(
        nurse, child=child, service_code="stimulation_session", reason="EEDP en riesgo", consent=[]
    )
    protection = referral_actions.create_referral(
        nurse, child=child, service_code="child_protection", reason="Sospecha de negligencia", consent=[]
    )
    return {"child": child, "mother": mother, "stimulation": stimulation, "protection": protection}


# --- GET /children/{id}/fhir ------------------------------------------------------------------


def test_child_bundle_validates_and_every_code_is_known(cast, family, api_client):
    child = family["child"]
    response = api_client(cast["coordinator_alta"]).get(f"/api/v1/children/{child.pk}/fhir")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = response.json()
    Bundle.model_validate(bundle)  # raises if not valid R4B
    assert bundle["type"] == "collection"
    known = codes.known_codes()
    for resource in _resources(bundle):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert codes.check_resource(resource, known) == [], resource
    types = {r["resourceType"] for r in _resources(bundle)}
    assert types == {"Patient", "RelatedPerson", "Encounter", "Observation", "ServiceRequest", "Task"} | (
        {"Flag"} if "Flag" in types else set()
    )
    assert all(
        e["fullUrl"].endswith(f"/{e['resource']['resourceType']}/{e['resource']['id']}") for e in bundle["entry"]
    )
    # Growth: vital-signs category, LOINC, UCUM, WHO z-scores as components.
    weights = _by_loinc(bundle, "29463-7")
    assert [w["valueQuantity"]["value"] for w in weights] == [4.3, 5.3]
    assert weights[0]["valueQuantity"] == {"value": 4.3, "unit": "kg", "system": codes.UCUM, "code": "kg"}
    assert weights[0]["category"][0]["coding"][0]["code"] == "vital-signs"
    stored = Measurement.unscoped.filter(child=child).order_by("measured_on").first()
    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in weights[0]["component"]}
    assert components == {"wfa": stored.z_wfa, "wflh": stored.z_wflh}
    lengths = _by_loinc(bundle, "8306-3")  # under two years: body length, lying (with the profile's height code)
    assert [x["valueQuantity"]["value"] for x in lengths] == [53.5, 57.0]
    assert [[c["code"] for c in x["code"]["coding"]] for x in lengths] == [["8306-3", "8302-2"]] * 2
    assert _by_loinc(bundle, "9843-4")[0]["valueQuantity"]["code"] == "cm"
    assert _by_loinc(bundle, "39156-5")[0]["valueQuantity"]["code"] == "kg/m2"
    assert _by_loinc(bundle, "8339-4")[0]["valueQuantity"]["value"] == 3300
    # Every observation and encounter points at the patient.
    assert {r["subject"]["reference"] for r in _resources(bundle, "Observation")} == {f"Patient/{child.pk}"}
    # Screenings: instrument, score, classification.
    screenings = [r for r in _resources(bundle, "Observation") if r["code"]["coding"][0]["system"] == codes.INSTRUMENT]
    by_instrument = {s["code"]["coding"][0]["code"]: s for s in screenings}
    assert set(by_instrument) == {"pauta_breve", "epds"}
    epds = by_instrument["epds"]
    assert epds["valueQuantity"]["value"] == 9 and epds["focus"][0]["reference"].startswith("RelatedPerson/")
    assert {c["code"] for c in epds["interpretation"][0]["coding"]} == {"N", "negative"}
    # Referrals: a ServiceRequest and a Task each, the Task's status from the state machine.
    tasks = {t["id"]: t for t in _resources(bundle, "Task")}
    assert tasks[str(family["stimulation"].pk)]["status"] == "requested"
    assert tasks[str(family["stimulation"].pk)]["businessStatus"]["coding"][0]["code"] == "sent"
    requests = {r["id"]: r for r in _resources(bundle, "ServiceRequest")}
    assert requests[str(family["stimulation"].pk)]["status"] == "active"
    assert requests[str(family["stimulation"].pk)]["code"]["coding"][0]["code"] == "stimulation_session"
    # The read is logged like the child's record.
    assert AuditEvent.objects.filter(
        action=Action.READ, child_id=child.pk, actor=cast["coordinator_alta"], note="fhir"
    ).exists()


def test_names_keep_both_surnames_and_documents_have_systems(cast, family, api_client):
    child = family["child"]
    bundle = api_client(cast["nurse_alta"]).get(f"/api/v1/children/{child.pk}/fhir").json()
    patient = _resources(bundle, "Patient")[0]
    name = patient["name"][0]
    assert name["family"] == "Muñoz Pérez" and name["given"] == ["Sofía", "Antonia"]
    parts = {e["url"]: e["valueString"] for e in name["_family"]["extension"]}
    assert parts == {codes.FATHERS_FAMILY: "Muñoz", codes.MOTHERS_FAMILY: "Pérez"}
    assert patient["gender"] == "female" and patient["birthDate"] == child.birth_date.isoformat()
    ids = {i["system"]: i["value"] for i in patient["identifier"]}
    assert ids == {codes.REGISTRY_NUMBER: child.registry_number, "http://regcivil.cl/Validacion/RUN": CHILD_RUN}
    mother = _resources(bundle, "RelatedPerson")[0]
    assert mother["relationship"][0]["coding"][0] == {"system": codes.ROLE_CODE, "code": "MTH", "display": "mother"}
    assert mother["patient"] == {"reference": f"Patient/{child.pk}"}
    assert {i["value"] for i in mother["identifier"]} >= {MOTHER_RUN, family["mother"].registry_number}
    mothers_name = {e["url"]: e["valueString"] for e in mother["name"][0]["_family"]["extension"]}
    assert mothers_name == {codes.FATHERS_FAMILY: "Pérez", codes.MOTHERS_FAMILY: "Rojas"}


def test_out_of_scope_child_is_404_and_not_logged(cast, family, api_client):
    child = family["child"]
    for who in ("nurse_baja", "inspector", "admin", "provider_housing", "stranger"):
        user = cast[who]
        if not user.is_active:
            continue  # a deactivated user's token is refused before scope (401)
        response = api_client(user).get(f"/api/v1/children/{child.pk}/fhir")
        assert response.status_code == 404, who
        assert response.json()["code"] == "not_found"
        assert not AuditEvent.objects.filter(action=Action.READ, child_id=child.pk, actor=user).exists()
    assert api_client(cast["nurse_alta"]).get("/api/v1/children/999999/fhir").status_code == 404


def test_sensitive_categories_are_left_out_for_roles_without_them(cast, family, api_client, network):
    child, protection = family["child"], family["protection"]

    def instruments_and_services(user):
        bundle = api_client(user).get(f"/api/v1/children/{child.pk}/fhir").json()
        instruments = {
            r["code"]["coding"][0]["code"]
            for r in _resources(bundle, "Observation")
            if r["code"]["coding"][0]["system"] == codes.INSTRUMENT
        }
        services = {r["code"]["coding"][0]["code"] for r in _resources(bundle, "ServiceRequest")}
        tasks = {r["id"] for r in _resources(bundle, "Task")}
        return instruments, services, tasks, bundle

    # The coordinator sees every category.
    instruments, services, tasks, _b = instruments_and_services(cast["coordinator_alta"])
    assert instruments == {"pauta_breve", "epds"} and services == {"stimulation_session", "child_protection"}
    # A health worker sees mental health (the mother's EPDS) but not child protection.
    instruments, services, tasks, _b = instruments_and_services(cast["nurse_alta"])
    assert instruments == {"pauta_breve", "epds"} and services == {"stimulation_session"}
    assert str(protection.pk) not in tasks
    # A regional manager has no sensitive category: no EPDS, no child protection referral.
    instruments, services, tasks, _b = instruments_and_services(cast["regional_norte"])
    assert instruments == {"pauta_breve"} and services == {"stimulation_session"}
    # The stimulation room sees the shared child: identity and the consented categories only.
    registry_actions.grant_access(
        Actor(cast["nurse_alta"], Channel.WEB), child, family["stimulation"].organisation, ["development"], "test"
    )
    bundle = api_client(network["staff"]["sala_alta"]).get(f"/api/v1/children/{child.pk}/fhir").json()
    types = {r["resourceType"] for r in _resources(bundle)}
    assert "Encounter" not in types and not _by_loinc(bundle, "29463-7")  # health is not shared
    assert {r["code"]["coding"][0]["code"] for r in _resources(bundle, "Observation")} == {"pauta_breve"}


def test_task_status_follows_the_referral_state_machine(cast, family, api_client, network):
    referral = family["stimulation"]
    receiver = Actor(network["staff"]["sala_alta"], Channel.WEB)
    referral = referral_actions.transition(receiver, referral, State.ACCEPTED, referral.version)
    bundle = api_client(cast["nurse_alta"]).get(f"/api/v1/children/{family['child'].pk}/fhir").json()
    task = next(t for t in _resources(bundle, "Task") if t["id"] == str(referral.pk))
    assert task["status"] == "accepted" and task["owner"]["identifier"]["value"] == referral.organisation.code
    # Every state of the machine maps to a Task status of FHIR's value set.
    allowed = codes.PRIMITIVE_CODES[("Task", "status")]
    for state in State.values:
        for counter in (True, False):
            assert codes.task_status(state, counter_referral=counter, rejected=not counter) in allowed
    assert codes.task_status("closed", counter_referral=True, rejected=False) == "completed"
    assert codes.task_status("closed", counter_referral=False, rejected=True) == "rejected"
    assert codes.task_status("closed", counter_referral=False, rejected=False) == "failed"


def test_code_checker_finds_unknown_codes():
    good = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": codes.LOINC, "code": "29463-7"}]},
        "valueQuantity": {"value": 4.1, "unit": "kg", "system": codes.UCUM, "code": "kg"},
    }
    assert codes.check_resource(good) == []
    bad = copy.deepcopy(good)
    bad["code"]["coding"][0]["code"] = "1234-5"
    bad["valueQuantity"]["code"] = "lb"
    bad["status"] = "done"
    problems = codes.check_resource(bad)
    assert len(problems) == 3
    assert any("code.coding[0]" in p and "1234-5" in p for p in problems)
    assert any("valueQuantity" in p and "lb" in p for p in problems)
    assert codes.check_resource({"resourceType": "Patient", "gender": "f"}) != []


# --- crecer export fhir ---------------------------------------------------------------------------


def test_ndjson_export_writes_a_file_per_type_and_every_line_validates(cast, family, children, tmp_path):
    call_command("export", "fhir", "--territory", "CL01", "--out", str(tmp_path), "--quiet", "--batch-size", "2")
    known = codes.known_codes()
    counts = {}
    for rtype in fhir_export.RESOURCE_TYPES:
        path = tmp_path / f"{rtype}.ndjson"
        assert path.is_file(), rtype
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
        counts[rtype] = len(lines)
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == rtype
            get_fhir_model_class(rtype).model_validate(resource)
            assert codes.check_resource(resource, known) == []
    patients = {json.loads(x)["id"] for x in (tmp_path / "Patient.ndjson").read_text().splitlines()}
    north = [family["child"], children["alta"], children["baja"], children["baja_local"]]
    assert patients == {str(c.pk) for c in north}  # the south's child is not in CL01
    assert counts["ServiceRequest"] == counts["Task"] == 2 and counts["RelatedPerson"] == 1
    assert counts["Observation"] >= 8
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {o["type"]: o["count"] for o in manifest["output"]} == counts
    event = AuditEvent.objects.get(action=Action.EXPORT, entity="interop.fhir")
    assert event.after["children"] == 4 and event.after["complete"] is True and event.channel == Channel.CLI


def test_ndjson_export_as_user_is_scoped(cast, family, children, tmp_path):
    call_command(
        "export", "fhir", "--territory", "CL", "--out", str(tmp_path), "--as-user", "regional_norte", "--quiet"
    )
    patients = {json.loads(x)["id"] for x in (tmp_path / "Patient.ndjson").read_text().splitlines()}
    assert str(children["austral"].pk) not in patients and str(family["child"].pk) in patients
    services = [
        json.loads(x)["code"]["coding"][0]["code"]
        for x in (tmp_path / "ServiceRequest.ndjson").read_text().splitlines()
    ]
    assert services == ["stimulation_session"]  # child protection is a category the manager may not see
    event = AuditEvent.objects.get(action=Action.EXPORT, entity="interop.fhir")
    assert event.actor == cast["regional_norte"]


# --- POST /fhir -----------------------------------------------------------------------------------


def _incoming(today, *, birth_date=True, loinc="29463-7", extra=None):
    born = today - dt.timedelta(days=200)
    patient = {
        "resourceType": "Patient",
        "identifier": [
            {"system": "http://regcivil.cl/Validacion/RUN", "value": "24.987.654-2"},
            {"system": codes.EXTERNAL_ID, "value": "HOSP-77"},
        ],
        "name": [
            {
                "family": "González Soto",
                "_family": {
                    "extension": [
                        {"url": codes.FATHERS_FAMILY, "valueString": "González"},
                        {"url": codes.MOTHERS_FAMILY, "valueString": "Soto"},
                    ]
                },
                "given": ["Matías", "José"],
            }
        ],
        "gender": "male",
        "birthDate": born.isoformat(),
        "address": [{"extension": [{"url": codes.TERRITORY_EXTENSION, "valueCode": "CL01001"}]}],
    }
    if not birth_date:
        del patient["birthDate"]
    mother = {
        "resourceType": "RelatedPerson",
        "patient": {"reference": "urn:uuid:child"},
        "relationship": [{"coding": [{"system": codes.ROLE_CODE, "code": "MTH"}]}],
        "identifier": [{"system": "http://regcivil.cl/Validacion/RUN", "value": "16111222-4"}],
        "name": [{"family": "Soto Vera", "given": ["Paula"]}],
        "birthDate": "1994-02-03",
    }
    day = (born + dt.timedelta(days=120)).isoformat()

    def observation(code, value, unit):
        return {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": codes.LOINC, "code": code}]},
            "subject": {"reference": "urn:uuid:child"},
            "effectiveDateTime": day,
            "valueQuantity": {"value": value, "unit": unit, "system": codes.UCUM, "code": unit},
        }

    entries = [
        {"fullUrl": "urn:uuid:child", "resource": patient},
        {"fullUrl": "urn:uuid:mother", "resource": mother},
        {"fullUrl": "urn:uuid:weight", "resource": observation(loinc, 7100, "g")},
        {"fullUrl": "urn:uuid:length", "resource": observation("8306-3", 64.0, "cm")},
        *(extra or []),
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_post_bundle_creates_child_mother_and_measurement(cast, country, api_client, today):
    client = api_client(cast["nurse_alta"])
    response = _post(client, _incoming(today))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [e["outcome"] for e in body["entries"]] == ["created", "created", "created", "created"]
    child = Child.unscoped.get(national_id="24987654-2")
    assert (child.given_names, child.paternal_surname, child.maternal_surname, child.sex) == (
        "Matías José",
        "González",
        "Soto",
        "M",
    )
    assert child.external_id == "HOSP-77" and body["entries"][0]["id"] == child.pk
    link = CaregiverLink.unscoped.select_related("caregiver").get(child=child)
    assert link.relationship == "mother" and link.caregiver.national_id == "16111222-4"
    assert link.caregiver.sex == "F" and link.caregiver.paternal_surname == "Soto Vera"  # no parts: one surname
    measurement = Measurement.unscoped.get(child=child)
    assert (measurement.weight_kg, measurement.length_cm, measurement.position) == (7.1, 64.0, "l")
    assert measurement.age_days == 120 and measurement.z_wfa is not None and measurement.z_lhfa is not None
    assert body["entries"][2]["id"] == body["entries"][3]["id"] == measurement.pk
    assert AuditEvent.objects.filter(
        action=Action.CREATE, entity="registry.child", entity_id=child.pk, channel="api"
    ).exists()
    # Posting the same Bundle again matches everything and writes nothing.
    before = _counts()
    again = _post(client, _incoming(today)).json()
    assert [e["outcome"] for e in again["entries"]] == ["matched", "matched", "matched", "matched"]
    assert again["created"] == 0 and _counts() == before


EXTRA = {
    "unknown_type": {"resource": {"resourceType": "Condition", "subject": {"reference": "urn:uuid:child"}}},
    # A flag of another system (an allergy alert, say) is not one of Crecer's derived risk flags.
    "foreign_flag": {
        "resource": {
            "resourceType": "Flag",
            "status": "active",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005"}]},
            "subject": {"reference": "urn:uuid:child"},
        }
    },
}


@pytest.mark.parametrize(
    ("case", "key", "code"),
    [
        ("wrong_loinc", "entry[2].resource.code", "unsupported_code"),
        ("no_birth_date", "entry[0].resource.birthDate", "required"),
        ("unknown_type", "entry[4].resource.resourceType", "unsupported"),
        ("invalid_fhir", "entry[0].resource.birthDate", "fhir_value_error"),
        ("wrong_unit", "entry[3].resource.valueQuantity.code", "invalid_unit"),
        ("bad_document", "entry[0].resource.identifier[0]", "check_digit"),
        ("implausible_value", "entry[2].resource.valueQuantity.value", "out_of_range"),
        ("foreign_flag", "entry[4].resource.code", "unsupported_code"),
    ],
)
def test_bad_bundles_answer_422_and_write_nothing(cast, country, api_client, today, case, key, code):
    bundle = _incoming(
        today,
        birth_date=case != "no_birth_date",
        loinc="1234-5" if case == "wrong_loinc" else "29463-7",
        extra=[EXTRA[case]] if case in EXTRA else None,
    )
    patient, weight, length = (bundle["entry"][i]["resource"] for i in (0, 2, 3))
    if case == "invalid_fhir":
        patient["birthDate"] = "2024-13-45"
    if case == "wrong_unit":
        length["valueQuantity"]["code"] = length["valueQuantity"]["unit"] = "[in_i]"
    if case == "bad_document":
        patient["identifier"][0]["value"] = "24987654-3"
    if case == "implausible_value":
        weight["valueQuantity"]["value"] = 900_000  # 900 kg
    client = api_client(cast["nurse_alta"])
    before = _counts()
    response = _post(client, bundle)
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert key in body["errors"], body["errors"]
    assert body["errors"][key][0]["code"] == code
    assert _counts() == before


def test_a_late_error_undoes_earlier_writes(cast, country, api_client, today):
    """The second child fails in the registry's validation after the first was created: nothing stays."""
    bundle = _incoming(today)
    twin = copy.deepcopy(bundle["entry"][0])
    twin["fullUrl"] = "urn:uuid:twin"
    twin["resource"]["identifier"] = [{"system": "http://regcivil.cl/Validacion/RUN", "value": CHILD_RUN}]
    twin["resource"]["address"][0]["extension"][0]["valueCode"] = "CL99"
    bundle["entry"].append(twin)
    client = api_client(cast["nurse_alta"])
    before = _counts()
    response = _post(client, bundle)
    assert response.status_code == 422
    assert response.json()["errors"]["entry[4].resource.address[0]"][0]["code"] == "unknown"
    assert _counts() == before


def test_only_registering_roles_may_post(cast, country, api_client, today):
    for who in ("regional_norte", "inspector", "auditor", "provider_opd"):
        response = _post(api_client(cast[who]), _incoming(today))
        assert response.status_code == 403, who
    assert Child.unscoped.count() == 0
    # A nurse of another municipality cannot register a child in Alta.
    response = _post(api_client(cast["nurse_baja"]), _incoming(today))
    assert response.status_code == 422
    assert response.json()["errors"]["entry[0].resource.address[0]"][0]["code"] == "out_of_scope"


def test_malformed_bodies(cast, country, api_client):
    client = api_client(cast["nurse_alta"])
    response = client.post("/api/v1/fhir", data="{not json", content_type="application/fhir+json")
    assert response.status_code == 400 and response.json()["code"] == "malformed"
    response = _post(client, {"resourceType": "Patient"})
    assert response.status_code == 422 and "resourceType" in response.json()["errors"]
    response = _post(client, {"resourceType": "Bundle", "type": "searchset", "entry": []})
    assert set(response.json()["errors"]) == {"type", "entry"}


# --- the round trip -------------------------------------------------------------------------------


def _facts(child):
    mother = CaregiverLink.unscoped.select_related("caregiver").get(child=child, relationship="mother").caregiver
    fields = ("weight_kg", "length_cm", "head_cm", "muac_cm", "haemoglobin_g_l", "oedema")
    zscores = ("z_wfa", "z_lhfa", "z_wflh", "z_bmi", "z_hcfa", "z_acfa", "stunting", "underweight", "wasting")
    return {
        "child": (
            child.given_names,
            child.paternal_surname,
            child.maternal_surname,
            child.sex,
            child.birth_date,
            child.national_id_type,
            child.national_id,
            child.territory.code,
            child.facility.code if child.facility else None,
            child.birth_weight_g,
            child.gestational_weeks,
        ),
        "mother": (
            mother.given_names,
            mother.paternal_surname,
            mother.maternal_surname,
            mother.sex,
            mother.birth_date,
            mother.national_id_type,
            mother.national_id,
        ),
        "encounters": sorted(Encounter.unscoped.filter(child=child).values_list("date", "kind", "contact_code")),
        "measurements": sorted(
            Measurement.unscoped.filter(child=child, is_current=True).values_list(
                "measured_on", "age_days", *fields, *zscores
            )
        ),
    }


def test_round_trip_export_then_import_gives_the_same_facts(cast, country, api_client, today):
    nurse = cast["nurse_alta"]
    client = api_client(nurse)
    with transaction.atomic():
        registry_actions.create_caregiver(
            SYSTEM,
            {
                "given_names": "Camila Andrea",
                "paternal_surname": "Pérez",
                "maternal_surname": "de la Fuente",
                "sex": "F",
                "birth_date": "1995-06-01",
                "national_id": MOTHER_RUN,
                "territory_code": "CL01001",
            },
        )
        child = registry_actions.create_child(
            SYSTEM,
            {
                "given_names": "Sofía Antonia",
                "paternal_surname": "Muñoz",
                "maternal_surname": "Pérez",
                "sex": "F",
                "birth_date": (today - dt.timedelta(days=100)).isoformat(),
                "national_id": CHILD_RUN,
                "mother_national_id": MOTHER_RUN,
                "territory_code": "CL01001",
                "facility_code": "F-ALTA",
                "birth_weight_g": 3300,
                "gestational_weeks": 39,
            },
        )
        actor = Actor(nurse, Channel.WEB)
        for days, measurement in (
            (8, {"weight_kg": 3.4, "length_cm": 50.5, "head_cm": 34.6}),
            (30, {"weight_kg": 4.3, "length_cm": 53.5, "head_cm": 36.4}),
            (60, {"weight_kg": 5.3, "length_cm": 57.1, "head_cm": 38.4}),
            (95, {"weight_kg": 6.05, "length_cm": 60.2, "head_cm": 39.9, "muac_cm": 13.6, "haemoglobin_g_l": 118}),
        ):
            date = child.birth_date + dt.timedelta(days=days)
            tracking_actions.record_encounter(
                actor, {"date": date.isoformat(), "measurement": measurement}, child=child
            )
        before = _facts(Child.unscoped.get(pk=child.pk))
        response = client.get(f"/api/v1/children/{child.pk}/fhir")
        assert response.status_code == 200
        bundle = response.json()
        transaction.set_rollback(True)  # back to an empty registry
    assert Child.unscoped.count() == Caregiver.unscoped.count() == Measurement.unscoped.count() == 0
    # Only what the import takes: Crecer's risk flags are accepted as derived (its rules raise them again).
    assert {r["resourceType"] for r in _resources(bundle)} <= {
        "Patient",
        "RelatedPerson",
        "Encounter",
        "Observation",
        "Flag",
    }
    assert len(before["measurements"]) == 4 and before["measurements"][3][5] == 13.6

    response = _post(client, bundle)
    assert response.status_code == 200, response.json()
    outcomes = {e["resourceType"]: set() for e in response.json()["entries"]}
    for e in response.json()["entries"]:
        outcomes[e["resourceType"]].add(e["outcome"])
    assert outcomes["Patient"] == outcomes["RelatedPerson"] == outcomes["Encounter"] == {"created"}
    assert outcomes["Observation"] == {"created", "derived"}  # BMI is recomputed, not stored
    assert outcomes.get("Flag", {"derived"}) == {"derived"}
    imported = Child.unscoped.get()
    assert _facts(imported) == before
    # The rules, run on the same facts, raise (and resolve) the same flags as before the export.
    exported_flags = sorted((f["code"]["coding"][0]["code"], f["status"]) for f in _resources(bundle, "Flag"))
    status = {"open": "active", "resolved": "inactive"}
    assert sorted((f.rule_id, status[f.status]) for f in RiskFlag.unscoped.filter(child=imported)) == exported_flags
