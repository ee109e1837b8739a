"""Uploaded files of the centres' licensing: each checklist document, each fee's receipt and the evidence of
a visit are real files (PDF, JPEG or PNG, at most 10 MB), kept like every upload (``crecer.core.uploads``) and
served only to those who read the centre, each download audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crecer.access.models import Role
from crecer.audit.models import Action, AuditEvent
from crecer.centres import actions
from crecer.centres.demo import synthetic_pdf
from crecer.centres.models import Application, ApplicationDocument, FeePayment, InspectionEvidence
from tests import test_centres
from tests.test_centres import API, CENTRE, application_body, post

capi = test_centres.capi  # the cast of the centres' tests: operators, one inspector per institution

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.CRECER_UPLOAD_DIR = tmp_path
    return tmp_path


def stored_files(root: Any) -> list[Any]:
    return [p for p in root.rglob("*") if p.is_file()]


def multipart_application(config: Any) -> dict[str, Any]:
    ctype = config.types["private"]
    fees = {code: {"receipt": f"R-{code}", "paid_on": "2024-01-05"} for code in ctype.fees}
    body: dict[str, Any] = {"payload": json.dumps({"fees": fees})}
    for code in ctype.documents:
        body[f"documents.{code}"] = synthetic_pdf(f"{code}.pdf", code)
    for code in ctype.fees:
        body[f"fees.{code}.receipt_file"] = SimpleUploadedFile(f"recibo-{code}.png", PNG, content_type="image/png")
    return body


def test_an_application_uploads_its_documents_and_receipts_by_multipart_and_downloads_are_scoped_and_audited(
    capi, api_client, make_user, _uploads
):
    config = capi["config"]
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    sent = operator.post(f"{API}/centres/{centre_id}/applications", multipart_application(config))
    assert sent.status_code == 201, sent.content
    application = sent.json()
    ctype = config.types["private"]
    assert set(application["documents"]) == set(ctype.documents)
    code = ctype.documents[0]
    doc = application["documents"][code]
    assert doc["name"] == f"{code}.pdf" and len(doc["sha256"]) == 64
    fee_code = ctype.fees[0]
    receipt = application["fees"][fee_code]["receipt_file"]
    assert receipt["name"] == f"recibo-{fee_code}.png" and receipt["size"] == len(PNG)
    assert len(stored_files(_uploads)) == len(ctype.documents) + len(ctype.fees)

    # The operator downloads its document; the bytes are those sent; the download is audited.
    got = operator.get(doc["url"])
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == synthetic_pdf(f"{code}.pdf", code).read()
    record = ApplicationDocument.objects.get(application_id=application["id"], code=code)
    event = AuditEvent.objects.filter(action=Action.EXPORT, entity_id=record.pk).get()
    assert event.actor_username == capi["operator"].username and event.note == f"{code}.pdf"
    # An inspector of the territory reads it; another operator and an inspector elsewhere get 404.
    inspector = next(iter(capi["inspectors"].values()))
    assert api_client(inspector).get(receipt["url"]).status_code == 200
    assert api_client(capi["other_operator"]).get(doc["url"]).status_code == 404
    far = make_user("insp_lejos", Role.INSPECTOR, "CL02", institution=inspector.institution)
    assert api_client(far).get(doc["url"]).status_code == 404
    assert api_client(far).get(receipt["url"]).status_code == 404
    # Only the allowed downloads were audited.
    assert AuditEvent.objects.filter(action=Action.EXPORT).count() == 2
    # The web route applies the same rule.
    web = Client()
    web.force_login(capi["other_operator"])
    assert web.get(f"/centres/files/document/{record.pk}/").status_code == 404
    web.force_login(capi["operator"])
    assert web.get(f"/centres/files/document/{record.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("plano.exe", b"MZ\x90\x00", "file_type"),
        ("plano.pdf", PNG, "file_type"),  # named PDF, is not one
        ("plano.pdf", b"%PDF-1.4\n" + b"0" * 64, "too_large"),
    ],
)
def test_a_wrong_type_or_too_large_document_is_refused_beside_its_field_and_nothing_is_stored(
    capi, api_client, _uploads, monkeypatch, name, content, error
):
    import base64

    monkeypatch.setattr(actions, "FILE_MAX_BYTES", 48)
    config = capi["config"]
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    body = application_body(config)
    code = config.types["private"].documents[0]
    body["documents"][code] = {"name": name, "content_base64": base64.b64encode(content).decode()}
    refused = post(operator, f"/centres/{centre_id}/applications", body)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [e["code"] for e in errors[f"documents.{code}"]] == [error]
    assert errors[f"documents.{code}"][0]["message"]
    assert not Application.objects.exists() and not stored_files(_uploads)


def test_a_document_given_as_a_name_only_is_refused(capi, api_client):
    config = capi["config"]
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    body = application_body(config)
    code = config.types["private"].documents[0]
    body["documents"][code] = "plano.pdf"
    refused = post(operator, f"/centres/{centre_id}/applications", body)
    assert refused.status_code == 422 and f"documents.{code}" in refused.json()["errors"]
    assert not Application.objects.exists()


def test_inspection_evidence_by_multipart_per_standard_and_per_visit(capi, api_client, make_user, _uploads):
    config = capi["config"]
    operator = api_client(capi["operator"])
    centre_id = post(operator, "/centres", CENTRE).json()["id"]
    application = post(operator, f"/centres/{centre_id}/applications", application_body(config)).json()
    review = application["reviews"][0]
    inspector_user = capi["inspectors"][review["institution"]]
    inspector = api_client(inspector_user)
    standards = list(config.standards_of(review["institution"]))
    payload = {
        "visited_on": "2024-01-10",
        "checklist": {s.code: {"met": True} for s in standards},
    }
    first = standards[0].code
    # A wrong type among the evidence: refused beside the standard, nothing stored.
    before = len(stored_files(_uploads))
    bad = inspector.post(
        f"{API}/reviews/{review['id']}/inspections",
        {"payload": json.dumps(payload), f"checklist.{first}.evidence": SimpleUploadedFile("foto.gif", b"GIF89a")},
    )
    assert bad.status_code == 422 and f"checklist.{first}" in bad.json()["errors"]
    assert len(stored_files(_uploads)) == before and not InspectionEvidence.objects.exists()
    sent = inspector.post(
        f"{API}/reviews/{review['id']}/inspections",
        {
            "payload": json.dumps(payload),
            f"checklist.{first}.evidence": [
                SimpleUploadedFile("foto1.png", PNG),
                SimpleUploadedFile("foto2.jpg", b"\xff\xd8\xff\xe0" + b"0" * 16),
            ],
            "evidence": synthetic_pdf("acta.pdf", "acta"),
        },
    )
    assert sent.status_code == 201, sent.content
    evidence = sent.json()["evidence"]
    assert sorted((e["standard"] or "", e["name"]) for e in evidence) == [
        ("", "acta.pdf"),
        (first, "foto1.png"),
        (first, "foto2.jpg"),
    ]
    assert sent.json()["checklist"][first]["evidence"] == ["foto1.png", "foto2.jpg"]
    url = next(e["url"] for e in evidence if e["name"] == "acta.pdf")
    # The operator of the centre reads the visit's evidence; another operator and a far inspector do not.
    assert operator.get(url).status_code == 200
    assert api_client(capi["other_operator"]).get(url).status_code == 404
    far = make_user("insp_lejos", Role.INSPECTOR, "CL02", institution=inspector_user.institution)
    assert api_client(far).get(url).status_code == 404
    item = InspectionEvidence.objects.get(original_name="acta.pdf")
    assert AuditEvent.objects.filter(action=Action.EXPORT, entity_id=item.pk).count() == 1


def test_the_pages_upload_documents_receipts_and_visit_evidence(capi, _uploads):
    config = capi["config"]
    web = Client()
    web.force_login(capi["operator"])
    assert web.post("/centres/new/", {**_centre_form(), "kind": "private"}).status_code == 302
    from crecer.centres.models import Centre

    centre = Centre.objects.get(name="Jardín Archivo")
    ctype = config.types["private"]
    form = web.get(f"/centres/{centre.pk}/apply/").content.decode()
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    body: dict[str, Any] = {f"doc.{c}": synthetic_pdf(f"{c}.pdf", c) for c in ctype.documents}
    for c in ctype.fees:
        body[f"fee.{c}.receipt"] = "R-1"
        body[f"fee.{c}.receipt_file"] = synthetic_pdf(f"recibo-{c}.pdf", c)
        body[f"fee.{c}.paid_on"] = "2024-01-05"
    wrong = dict(body)
    wrong[f"doc.{ctype.documents[0]}"] = SimpleUploadedFile("plano.txt", b"hola")
    refused = web.post(f"/centres/{centre.pk}/apply/", wrong, HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "field-error" in page and "Adjunte un archivo PDF, JPEG o PNG." in page
    assert not Application.objects.exists() and not stored_files(_uploads)
    for f in body.values():
        if hasattr(f, "seek"):
            f.seek(0)
    assert web.post(f"/centres/{centre.pk}/apply/", body).status_code == 302
    application = Application.objects.get(centre=centre)
    assert application.documents.exclude(stored_name="").count() == len(ctype.documents)
    assert FeePayment.objects.filter(application=application).exclude(receipt_stored="").count() == len(ctype.fees)
    detail = web.get(f"/centres/applications/{application.pk}/").content.decode()
    doc = application.documents.first()
    assert doc is not None and f"/centres/files/document/{doc.pk}/" in detail

    # The inspector records a visit with evidence on the review page.
    review = application.reviews.first()
    assert review is not None
    inspector = Client()
    inspector.force_login(capi["inspectors"][review.institution])
    standards = list(config.standards_of(review.institution))
    visit: dict[str, Any] = {"action": "inspect", "visited_on": "2024-01-10"}
    for s in standards:
        visit[f"std.{s.code}"] = "yes"
    visit[f"ev.{standards[0].code}"] = SimpleUploadedFile("foto.png", PNG)
    visit["evidence"] = synthetic_pdf("acta.pdf", "acta")
    assert inspector.post(f"/centres/reviews/{review.pk}/", visit).status_code == 302
    item = InspectionEvidence.objects.get(original_name="foto.png")
    assert item.standard == standards[0].code
    page = inspector.get(f"/centres/reviews/{review.pk}/").content.decode()
    assert f"/centres/files/evidence/{item.pk}/" in page
    assert inspector.get(f"/centres/files/evidence/{item.pk}/").status_code == 200


def _centre_form() -> dict[str, str]:
    return {
        "name": "Jardín Archivo",
        "address": "Calle 3",
        "territory_code": "CL01001",
        "cap.0_1": "8",
        "staff.0.name": "Ana Pérez",
        "staff.0.role": "Educadora",
    }
