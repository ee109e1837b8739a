"""API for childcare centres: the registry, applications and their reviews, inspections and decisions,
permits (the public list of those in force), enrolments and attendance."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from crecer.access.models import Role, User
from crecer.api.base import actor, paginate
from crecer.audit import downloads
from crecer.centres import actions
from crecer.centres import scope as centre_scope
from crecer.centres.models import Application, Centre, CentreType, Employer, Enrolment, Inspection, Permit, Review
from crecer.registry.reads import log_reads
from crecer.validation import Collector, FieldError, InputErrors

router = Router(tags=["centres"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {"payload": {"type": "string"}}}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def _decode(value: Any, field: str, errors: Collector) -> Any:
    """``{"name", "content_base64"}`` -> an uploaded file; lists decoded item by item; anything else as is."""
    if isinstance(value, list):
        return [_decode(v, field, errors) for v in value]
    if isinstance(value, dict) and "content_base64" in value:
        try:
            content = base64.b64decode(str(value.get("content_base64") or ""), validate=True)
        except (binascii.Error, ValueError):
            errors.add(field, "invalid", _("The file is not valid base64."))
            return None
        return SimpleUploadedFile(str(value.get("name") or "file"), content)
    return value


def _put(body: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in nested dictionaries; a part given more than once becomes a list."""
    *path, last = dotted.split(".")
    node = body
    for key in path:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {} if not isinstance(child, bool) else {"met": child}
        node = child
    node[last] = value


def _upload_body(request: HttpRequest) -> dict[str, Any]:
    """The body of a write carrying files: multipart (a JSON ``payload`` part and the files by their dotted
    field) or JSON (files as ``{"name", "content_base64"}``)."""
    errors = Collector()
    if (request.content_type or "").startswith("multipart/"):
        try:
            body = json.loads(request.POST.get("payload") or "{}")
        except ValueError as exc:
            raise HttpError(400, "malformed") from exc
        if not isinstance(body, dict):
            raise HttpError(400, "malformed")
        for field in request.FILES:
            parts = request.FILES.getlist(field)
            many = field == "evidence" or field.endswith(".evidence")
            _put(body, field, parts if many else parts[0])
        return body
    try:
        raw = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "malformed") from exc
    if not isinstance(raw, dict):
        raise HttpError(400, "malformed")
    for code, doc in list((raw.get("documents") or {}).items()) if isinstance(raw.get("documents"), dict) else []:
        raw["documents"][code] = _decode(doc, f"documents.{code}", errors)
    for code, fee in list((raw.get("fees") or {}).items()) if isinstance(raw.get("fees"), dict) else []:
        if isinstance(fee, dict) and "receipt_file" in fee:
            fee["receipt_file"] = _decode(fee["receipt_file"], f"fees.{code}.receipt_file", errors)
    for code, item in list((raw.get("checklist") or {}).items()) if isinstance(raw.get("checklist"), dict) else []:
        if isinstance(item, dict) and "evidence" in item:
            item["evidence"] = _decode(item["evidence"], f"checklist.{code}", errors)
    if "evidence" in raw:
        raw["evidence"] = _decode(raw["evidence"], "evidence", errors)
    errors.raise_if_any()
    return raw


def _language() -> str:
    return get_language() or "es"


class StaffIn(Schema):
    name: str = ""
    role: str = ""
    qualification: str = ""


class CentreIn(Schema):
    name: str = ""
    kind: str = ""
    operator_code: str = ""
    address: str = ""
    territory_code: str = ""
    capacity: dict[str, Any] = {}
    hours: str = ""
    staff: list[StaffIn] = []


class EmployerIn(Schema):
    name: str = ""
    territory_code: str = ""
    employees: int | str | None = None
    centre_id: int | str | None = None


class FindingIn(Schema):
    text: str = ""
    deadline: str = ""


class InspectionIn(Schema):
    visited_on: str = ""
    checklist: dict[str, Any] = {}
    notes: str = ""
    findings: list[FindingIn] = []


class DecisionIn(Schema):
    decision: str = ""
    conditions: str = ""


class AssignIn(Schema):
    inspector: str


class ReasonIn(Schema):
    reason: str = ""


class EnrolmentIn(Schema):
    child: int
    enrolled_on: str = ""
    age_group: str = ""


class EndIn(Schema):
    ended_on: str = ""


class AttendanceIn(Schema):
    month: str = ""
    days_open: int | None = None
    days_attended: int | None = None


# --- payloads -------------------------------------------------------------------------------------------


def permit_payload(p: Permit | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "id": p.pk,
        "number": p.number,
        "state": p.state,
        "issued_at": p.issued_at,
        "valid_until": p.valid_until,
        "renewals": p.renewals,
        "suspension_reason": p.suspension_reason,
        "expiry_warned": p.expiry_warned_at is not None,
    }


def centre_payload(c: Centre) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "operator": c.operator.code,
        "address": c.address,
        "territory": c.territory.code,
        "capacity": c.capacity,
        "places": c.places,
        "hours": c.hours,
        "status": c.status,
        "staff": [
            {"name": s.name, "role": s.role, "qualification": s.qualification} for s in c.staff.filter(active=True)
        ],
        "permit": permit_payload(actions.current_permit(c)),
    }


def _file(kind: str, pk: int, name: str, size: int, sha256: str) -> dict[str, Any]:
    return {
        "name": name,
        "size": size,
        "sha256": sha256,
        "url": reverse("api-v1:centre_file", kwargs={"kind": kind, "file_id": pk}),
    }


def inspection_payload(i: Inspection) -> dict[str, Any]:
    return {
        "id": i.pk,
        "visited_on": i.visited_on,
        "inspector": i.inspector.username if i.inspector_id else None,  # type: ignore[union-attr]
        "checklist": i.checklist,
        "passed": i.passed,
        "notes": i.notes,
        "evidence": [
            {"standard": e.standard or None, **_file("evidence", e.pk, e.original_name, e.size, e.sha256)}
            for e in i.evidence.all()
        ],
        "findings": [
            {"id": f.pk, "text": f.text, "deadline": f.deadline, "resolved": f.resolved_at is not None}
            for f in i.findings.all()
        ],
    }


def review_payload(r: Review) -> dict[str, Any]:
    centres = actions.config()
    return {
        "id": r.pk,
        "application": r.application_id,
        "institution": r.institution,
        "institution_name": centres.institution(r.institution).name(_language()),
        "required": r.required,
        "state": r.state,
        "inspector": r.inspector.username if r.inspector_id else None,  # type: ignore[union-attr]
        "due_on": r.due_on,
        "overdue": not r.decided and r.due_on < timezone.localdate(),
        "decided_at": r.decided_at,
        "conditions": r.conditions,
        "version": r.version,
        "inspections": [inspection_payload(i) for i in r.inspections.all()],
    }


def application_payload(a: Application) -> dict[str, Any]:
    return {
        "id": a.pk,
        "centre": a.centre_id,
        "stage": a.stage,
        "submitted_at": a.submitted_at,
        "documents": {
            d.code: _file("document", d.pk, d.original_name, d.size, d.sha256)
            if d.stored_name
            else {"name": d.reference}
            for d in a.documents.all()
        },
        "fees": {
            f.code: {
                "amount": str(f.amount),
                "receipt": f.receipt,
                "paid_on": f.paid_on,
                "receipt_file": _file("receipt", f.pk, f.receipt_name, f.receipt_size, f.receipt_sha256)
                if f.receipt_stored
                else None,
            }
            for f in a.fees.all()
        },
        "reviews": [review_payload(r) for r in a.reviews.select_related("inspector")],
        "permit": permit_payload(Permit.objects.filter(application=a).first()),
    }


def enrolment_payload(e: Enrolment) -> dict[str, Any]:
    return {
        "id": e.pk,
        "centre": e.centre_id,
        "child": e.child_id,
        "age_group": e.age_group,
        "enrolled_on": e.enrolled_on,
        "ended_on": e.ended_on,
        "attendance": [
            {"month": f"{a.month:%Y-%m}", "days_open": a.days_open, "days_attended": a.days_attended}
            for a in e.attendance.all()
        ],
        "attendance_rate": str(rate) if (rate := actions.attendance_rate(e)) is not None else None,
    }


# --- centres --------------------------------------------------------------------------------------------


@router.post("/centres", response={201: dict})
def create_centre(request: HttpRequest, payload: CentreIn) -> Status[dict[str, Any]]:
    """Register a childcare centre (an operator for its own organisation; the authority for any)."""
    centre = actions.register_centre(actor(request), payload.model_dump())
    return Status(201, centre_payload(centre))


@router.get("/centres/{centre_id}", response=dict)
def get_centre(request: HttpRequest, centre_id: int) -> dict[str, Any]:
    return centre_payload(centre_scope.get_centre_or_404(request.user, centre_id))


@router.post("/centres/{centre_id}/applications", response={201: dict}, openapi_extra=UPLOAD_BODY)
def create_application(request: HttpRequest, centre_id: int) -> Status[dict[str, Any]]:
    """Apply for the centre's permit: the documents and fees its type asks (see the profile), each document
    and each fee's receipt a file. Multipart: a ``payload`` part with ``{"fees": {code: {"receipt",
    "paid_on"}}}`` and the file parts ``documents.<code>`` and ``fees.<code>.receipt_file``; or JSON with
    each file as ``{"name", "content_base64"}`` in its place (``documents.<code>``,
    ``fees.<code>.receipt_file``)."""
    centre = centre_scope.get_centre_or_404(request.user, centre_id)
    body = _upload_body(request)
    application = actions.apply(actor(request), centre, body)
    return Status(201, application_payload(application))


@router.get("/centre-files/{kind}/{file_id}", url_name="centre_file")
def centre_file(request: HttpRequest, kind: str, file_id: int) -> Any:
    """An uploaded document, receipt or evidence file (``kind``), to those who read the centre (its
    operator, inspectors and managers of its territory, the authority); 404 otherwise; each download
    audited."""
    entity, stored_name, original_name = centre_scope.file_or_404(request.user, kind, file_id)
    return downloads.send(actor(request), actions.FILES_AREA, stored_name, original_name, entity)


@router.get("/applications/{application_id}", response=dict)
def get_application(request: HttpRequest, application_id: int) -> dict[str, Any]:
    """The application with every review's state in one place."""
    return application_payload(centre_scope.get_application_or_404(request.user, application_id))


@router.post("/applications/{application_id}/permit", response={201: dict})
def issue_permit(request: HttpRequest, application_id: int) -> Status[dict[str, Any]]:
    """The authority issues the permit once every required review approved."""
    application = centre_scope.get_application_or_404(request.user, application_id)
    permit = actions.issue_permit(actor(request), application)
    return Status(201, permit_payload(permit) or {})


# --- reviews --------------------------------------------------------------------------------------------


@router.post("/reviews/{review_id}/assign", response=dict)
def assign_review(request: HttpRequest, review_id: int, payload: AssignIn) -> dict[str, Any]:
    review = centre_scope.get_review_or_404(request.user, review_id)
    inspector = User.objects.filter(username=payload.inspector, role=Role.INSPECTOR, is_active=True).first()
    if inspector is None:
        raise InputErrors({"inspector": [FieldError("unknown", _("No inspector has this user name."))]})
    return review_payload(actions.assign(actor(request), review, inspector))


@router.post("/reviews/{review_id}/inspections", response={201: dict}, openapi_extra=UPLOAD_BODY)
def create_inspection(request: HttpRequest, review_id: int) -> Status[dict[str, Any]]:
    """An inspection visit: the institution's standards checklist, evidence files and findings with
    deadlines. Multipart: a ``payload`` part with ``{"visited_on", "checklist": {code: {"met"}}, "notes",
    "findings"}`` and the file parts ``checklist.<code>.evidence`` (a standard's) and ``evidence`` (the
    visit's), each repeatable; or JSON with the files as ``{"name", "content_base64"}`` lists in their place."""
    review = centre_scope.get_review_or_404(request.user, review_id)
    inspection = actions.record_inspection(actor(request), review, _upload_body(request))
    return Status(201, inspection_payload(inspection))


@router.post("/reviews/{review_id}/decision", response=dict)
def decide_review(request: HttpRequest, review_id: int, payload: DecisionIn) -> dict[str, Any]:
    """Approve, approve with conditions or reject (an inspector of the review's institution only)."""
    review = centre_scope.get_review_or_404(request.user, review_id)
    review = actions.decide(actor(request), review, payload.decision, payload.conditions)
    return review_payload(review)


# --- employers obliged to run a centre ------------------------------------------------------------------


def employer_payload(employer: Employer) -> dict[str, Any]:
    return {
        "id": employer.pk,
        "name": employer.name,
        "territory": employer.territory.code,
        "territory_name": employer.territory.name,
        "employees": employer.employees,
        "obliged": actions.employer_obliged(employer),
        "runs_centre": employer.centre_id is not None,
        "centre": {"id": employer.centre_id, "name": employer.centre.name} if employer.centre else None,
    }


@router.get("/employers", response=dict)
def list_employers(request: HttpRequest, obliged: bool | None = None, page: int = 1) -> dict[str, Any]:
    """Employers of the user's territory: whether the law obliges them to run a centre, and whether they do."""
    employers = centre_scope.employers(request.user).select_related("territory", "centre")
    if obliged is not None:
        threshold = actions.config().employer_obligation_employees
        employers = employers.filter(employees__gte=threshold) if obliged else employers.filter(employees__lt=threshold)
    items, pages = paginate(employers.order_by("name", "pk"), page)
    return {**pages, "results": [employer_payload(e) for e in items]}


@router.post("/employers", response={201: dict})
def create_employer(request: HttpRequest, payload: EmployerIn) -> Status[dict[str, Any]]:
    """Register an employer (the authority)."""
    return Status(201, employer_payload(actions.save_employer(actor(request), payload.model_dump())))


@router.put("/employers/{employer_id}", response=dict)
def update_employer(request: HttpRequest, employer_id: int, payload: EmployerIn) -> dict[str, Any]:
    """Change an employer: its size, or the centre it runs (the authority)."""
    employer = centre_scope.get_employer_or_404(request.user, employer_id)
    return employer_payload(actions.save_employer(actor(request), payload.model_dump(), employer))


# --- permits --------------------------------------------------------------------------------------------


@router.get("/permits", response=dict, auth=None)
def list_permits(
    request: HttpRequest, valid: bool = True, q: str = "", territory: str = "", page: int = 1
) -> dict[str, Any]:
    """The public list of authorised centres with a permit in force (no sign-in; no personal data)."""
    permits = centre_scope.public_permits(timezone.localdate()) if valid else Permit.objects.none()
    if q:
        permits = permits.filter(centre__name__icontains=q)
    if territory:
        permits = permits.filter(
            Q(centre__territory__path__contains=f"/{territory}/")
            | Q(centre__territory__path__startswith=f"{territory}/")
        )
    items, pages = paginate(permits.order_by("centre__name", "pk"), page)
    kinds = dict(CentreType.choices)
    return {
        **pages,
        "results": [
            {
                "centre": p.centre.name,
                "kind": p.centre.kind,
                "kind_name": str(kinds.get(p.centre.kind, p.centre.kind)),
                "territory": p.centre.territory.code,
                "territory_name": p.centre.territory.name,
                "places": p.centre.places,
                "capacity": p.centre.capacity,
                "permit": p.number,
                "valid_until": p.valid_until,
            }
            for p in items
        ],
    }


@router.post("/permits/{permit_id}/renew", response=dict)
def renew_permit(request: HttpRequest, permit_id: int) -> dict[str, Any]:
    permit = centre_scope.get_permit_or_404(request.user, permit_id)
    return permit_payload(actions.renew_permit(actor(request), permit)) or {}


@router.post("/permits/{permit_id}/suspend", response=dict)
def suspend_permit(request: HttpRequest, permit_id: int, payload: ReasonIn) -> dict[str, Any]:
    permit = centre_scope.get_permit_or_404(request.user, permit_id)
    return permit_payload(actions.suspend_permit(actor(request), permit, payload.reason)) or {}


@router.post("/permits/{permit_id}/verifications", response={201: dict}, openapi_extra=UPLOAD_BODY)
def verify_permit(request: HttpRequest, permit_id: int) -> Status[dict[str, Any]]:
    """A verification visit to a suspended permit's centre (an inspector); its body like an inspection's."""
    permit = centre_scope.get_permit_or_404(request.user, permit_id)
    return Status(201, inspection_payload(actions.record_verification(actor(request), permit, _upload_body(request))))


@router.post("/permits/{permit_id}/reopen", response=dict)
def reopen_permit(request: HttpRequest, permit_id: int) -> dict[str, Any]:
    permit = centre_scope.get_permit_or_404(request.user, permit_id)
    return permit_payload(actions.reopen_permit(actor(request), permit)) or {}


# --- enrolments -----------------------------------------------------------------------------------------


@router.post("/centres/{centre_id}/enrolments", response={201: dict})
def create_enrolment(request: HttpRequest, centre_id: int, payload: EnrolmentIn) -> Status[dict[str, Any]]:
    """The operator enrols a child shared with it (with the family's consent) in its authorised centre."""
    centre = centre_scope.get_centre_or_404(request.user, centre_id)
    enrolment = actions.enrol(actor(request), centre, payload.model_dump())
    log_reads(actor(request), "centre enrolment", [enrolment.child_id])
    return Status(201, enrolment_payload(enrolment))


@router.post("/enrolments/{enrolment_id}/attendance", response=dict)
def record_attendance(request: HttpRequest, enrolment_id: int, payload: AttendanceIn) -> dict[str, Any]:
    """A month's attendance of an enrolled child (the centre's operator)."""
    enrolment = centre_scope.get_enrolment_or_404(request.user, enrolment_id)
    actions.record_attendance(actor(request), enrolment, payload.model_dump())
    log_reads(actor(request), "centre attendance", [enrolment.child_id])
    return enrolment_payload(enrolment)


@router.post("/enrolments/{enrolment_id}/end", response=dict)
def end_enrolment(request: HttpRequest, enrolment_id: int, payload: EndIn) -> dict[str, Any]:
    """The child leaves the centre (the centre's operator)."""
    enrolment = centre_scope.get_enrolment_or_404(request.user, enrolment_id)
    actions.end_enrolment(actor(request), enrolment, payload.model_dump())
    log_reads(actor(request), "centre enrolment", [enrolment.child_id])
    return enrolment_payload(enrolment)


@router.post("/findings/{finding_id}/resolve", response=dict)
def resolve_finding(request: HttpRequest, finding_id: int) -> dict[str, Any]:
    """A finding corrected (an inspector of the institution that found it)."""
    finding = centre_scope.get_finding_or_404(request.user, finding_id)
    finding = actions.resolve_finding(actor(request), finding)
    return {"id": finding.pk, "text": finding.text, "deadline": finding.deadline, "resolved": True}
