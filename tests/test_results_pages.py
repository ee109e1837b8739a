"""Pages of money on results: the tranche report (page, PDF, Excel), appeals on the page, the public award page."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crecer.audit.models import Action, AuditEvent, Channel
from crecer.audit.trail import Actor
from crecer.results import actions, programmes
from crecer.results.models import Agreement, Appeal, AppealState, Evaluation
from tests.test_read_events import body_text
from tests.test_results import agreement_body, frozen, monthly


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _signed(cast, code="CONV-ALTA", territory="CL01001"):
    national = Actor(cast["national"], Channel.WEB)
    return actions.sign(national, actions.create_agreement(national, agreement_body(code, territory)))


def test_a_manager_evaluates_on_the_page_and_the_report_shows_each_condition(cast):
    agreement = _signed(cast)
    monthly([82, 79, 85, 80, 90, 81])
    frozen("2025", {("low_birth_weight", "CL01001"): 8.0, ("welcome_kit", "CL01001"): 72.0})
    manager = _client(cast["national"])
    url = f"/agreements/{agreement.pk}/tranches/1/"
    assert manager.post(url, {"op": "evaluate", "reason": "cierre de semestre"}).status_code == 302
    page = manager.get(url).content.decode()
    assert "3333333.33" in page  # 400 000 000 cents × 5/6, rounded half up
    assert "83.33 %" in page  # weighted compliance
    # every figure opens onto the children behind it (the indicator's list of children)
    assert "/monitoring/low_birth_weight/subjects/?territory=CL01001&period=2025&side=numerator" in page
    assert "/monitoring/check_ups_up_to_date_0_11m/subjects/?territory=CL01001&period=2025-06" in page
    pdf = body_text(manager.get(url + "report.pdf"))
    assert "CONV-ALTA" in pdf and "3333333.33" in pdf
    xlsx = body_text(manager.get(url + "report.xlsx"))
    assert "low_birth_weight" in xlsx and "5/6" in xlsx and "3333333.33" in xlsx
    assert AuditEvent.objects.filter(entity="results.evaluation", action=Action.EXPORT).count() == 2


def test_the_party_appeals_on_the_page_with_a_file_and_the_manager_decides(cast, settings, tmp_path):
    settings.CRECER_UPLOAD_DIR = tmp_path
    agreement = _signed(cast)
    frozen("2025", {("welcome_kit", "CL01001"): 50.0})
    actions.evaluate(Actor(cast["national"], Channel.WEB), agreement.tranches.get(number=2))
    coordinator = _client(cast["coordinator_alta"])
    url = f"/agreements/{agreement.pk}/tranches/2/"
    short = coordinator.post(url, {"op": "file_appeal", "text": "corto"})
    assert short.status_code == 422 and "10" in short.content.decode()
    assert not Appeal.objects.exists()
    evidence = SimpleUploadedFile("acta.pdf", b"%PDF-1.4 acta", content_type="application/pdf")
    filed = coordinator.post(url, {"op": "file_appeal", "text": "Faltan los kits de diciembre.", "file": evidence})
    assert filed.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.filed_by == cast["coordinator_alta"] and appeal.original_name == "acta.pdf"
    evidence_url = f"/appeals/{appeal.pk}/evidence/"
    assert b"".join(_client(cast["national"]).get(evidence_url).streaming_content) == b"%PDF-1.4 acta"
    assert _client(cast["nurse_alta"]).get(evidence_url).status_code == 404
    assert _client(cast["auditor_sur"]).get(evidence_url).status_code == 404
    # the coordinator cannot decide
    assert coordinator.post(url, {"op": "reject", "appeal": appeal.pk, "reason": "no"}).status_code == 403
    manager = _client(cast["national"])
    refused = manager.post(url, {"op": "reject", "appeal": appeal.pk, "reason": ""})
    assert refused.status_code == 422
    assert manager.post(url, {"op": "reject", "appeal": appeal.pk, "reason": "Cifra verificada"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REJECTED and appeal.decided_by == cast["national"]
    assert "Cifra verificada" in coordinator.get(url).content.decode()
    assert Evaluation.objects.count() == 1


def test_a_technical_report_is_attached_through_the_api_and_read_on_the_page(cast, api_client, settings, tmp_path):
    settings.CRECER_UPLOAD_DIR = tmp_path
    agreement = _signed(cast)
    body = {"title": "Informe técnico", "file": {"name": "informe.pdf", "content_base64": "JVBERi0xLjQgaW5mb3JtZQ=="}}
    url = f"/api/v1/agreements/{agreement.pk}/reports"
    assert api_client(cast["coordinator_alta"]).post(url, body, content_type="application/json").status_code == 403
    attached = api_client(cast["national"]).post(url, body, content_type="application/json")
    assert attached.status_code == 201, attached.content
    report = attached.json()
    page = _client(cast["coordinator_alta"]).get(f"/agreements/{agreement.pk}/").content.decode()
    assert "Informe técnico" in page
    response = _client(cast["coordinator_alta"]).get(f"/agreements/{agreement.pk}/reports/{report['id']}/")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 informe"
    assert AuditEvent.objects.filter(entity="results.technicalreport", action=Action.CREATE).exists()


def test_pages_of_another_municipality_are_not_found(cast):
    baja = _signed(cast, "CONV-BAJA", "CL01002")
    coordinator = _client(cast["coordinator_alta"])
    for path in ("", "tranches/1/", "tranches/1/report.xlsx"):
        assert coordinator.get(f"/agreements/{baja.pk}/{path}").status_code == 404
    assert "CONV-BAJA" not in coordinator.get("/agreements/").content.decode()
    assert "CONV-BAJA" in _client(cast["regional_norte"]).get("/agreements/").content.decode()


def test_the_public_award_page_and_certificate(cast):
    frozen("2025", {("welcome_kit", "CL01001"): 90.0, ("welcome_kit", "CL01002"): 10.0})
    national = Actor(cast["national"], Channel.WEB)
    edition = programmes.create_edition(
        national,
        {
            "code": "SELLO",
            "name": "Sello Municipio Crece",
            "period": "2025",
            "criteria": [{"indicator": "welcome_kit", "threshold": 85}],
        },
    )
    programmes.compute_awards(national, edition)
    page = Client().get(f"/awards/{edition.pk}/").content.decode()
    assert "Comuna Alta" in page and "Comuna Baja" not in page
    certificate = Client().get(f"/awards/{edition.pk}/CL01001/certificate.pdf")
    assert certificate.status_code == 200 and "Comuna Alta" in body_text(certificate)
    assert Client().get(f"/awards/{edition.pk}/CL01002/certificate.pdf").status_code == 404


def test_a_manager_creates_a_region_s_agreements_on_the_page(cast, make_child):
    make_child(given_names="Uno", territory_code="CL01001")
    manager = _client(cast["regional_norte"])
    assert manager.get("/agreements/new/").status_code == 200
    form = {
        "code": "CCC",
        "name": "Convenio",
        "territory_code": "CL01",
        "period": "2025",
        "currency": "CLP",
        "base": "1000",
        "per_child": "10.50",
        "t1_share": "100",
        "t1_due_date": "2025-12-31",
        "t1_payment_rule": "threshold",
        "t1_floor": "",
        "t1c1_indicator": "check_ups_up_to_date_0_11m",
        "t1c1_rule": "months_met",
        "t1c1_months": "2025-01, 2025-02, 2025-03",
        "t1c1_k": "2",
        "t1c1_baseline": "60",
        "t1c1_target": "abc",
        "t1c1_weight": "1",
    }
    refused = manager.post("/agreements/new/", form)
    assert refused.status_code == 422
    page = refused.content.decode()
    # each error beside its field: the floor of a threshold tranche, the target of the condition
    assert page.index('name="t1_floor"') < page.index("Escriba un número.") < page.index('name="t1c1_indicator"')
    assert page.index('name="t1c1_target"') < page.rindex("Escriba un número.")
    assert not Agreement.objects.exists()
    created = manager.post("/agreements/new/", {**form, "t1_floor": "0.5", "t1c1_target": "80"})
    assert created.status_code == 302
    alta = Agreement.objects.get(code="CCC-CL01001")
    assert alta.total_cents == 100_000 + 1_050 and Agreement.objects.count() == 2
    condition = alta.tranches.get().conditions.get()
    assert condition.params == {"months": ["2025-01", "2025-02", "2025-03"], "k": 2}
    assert _client(cast["coordinator_alta"]).get("/agreements/new/").status_code == 404
