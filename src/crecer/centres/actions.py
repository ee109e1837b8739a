"""Writes of the childcare centres' licensing: centres, applications, reviews and inspections, permits,
enrolments and attendance. Each checks the right (``crecer.access.permissions``), validates with field
errors, and writes its change with its audit event in one transaction.

Who does what:

* an **operator** (a user bound to the organisation that runs the centres) registers its centres, applies
  for their permits and enrols children in them;
* an **inspector** belongs to one institution of the profile (``centres.toml``): records the visits and
  decides the reviews of that institution only, for centres in their territory;
* the **authority** (the national manager, holder of ``issue_permits``) issues the permit once every
  required review approves, renews, suspends and reopens it after a verification visit.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.access.models import Role, User
from crecer.audit.models import Action
from crecer.audit.trail import Actor, diff, record, snapshot
from crecer.centres import scope as centre_scope
from crecer.centres.models import (
    APPROVING,
    Application,
    ApplicationDocument,
    Attendance,
    Centre,
    CentreStatus,
    CentreType,
    Employer,
    Enrolment,
    FeePayment,
    Finding,
    Inspection,
    InspectionEvidence,
    Permit,
    PermitCounter,
    PermitState,
    Review,
    ReviewState,
    StaffMember,
    Stage,
)
from crecer.core import uploads as files
from crecer.core.signals import facts_changed
from crecer.lib.profiles import CentresConfig
from crecer.registry import scope
from crecer.registry.models import Child
from crecer.territories.models import Organisation, Territory
from crecer.tracking import actions as tracking_actions
from crecer.validation import Collector, FieldError, InputErrors

#: where the centres' uploads are kept (documents, receipts, evidence), and what they may be
FILES_AREA = "centres"
FILE_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png")
FILE_MAX_BYTES = 10 * 1024 * 1024

#: the service of the profile's catalogue an enrolment delivers (the childcare indicators count it)
CHILDCARE_SERVICE = "childcare_enrolment"


def config() -> CentresConfig:
    """The profile's ``centres.toml``; a clear error where the country has not configured it."""
    centres = conf.profile().centres
    if centres is None:
        raise InputErrors(
            {"row": [FieldError("not_configured", _("This country has not configured childcare centres."))]}
        )
    return centres


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date(value: Any, field: str, errors: Collector, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.add(field, "required", _("Give a date."))
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, "invalid_date", _("Give a date as YYYY-MM-DD."))
        return None


def _text(raw: dict[str, Any], field: str, errors: Collector, limit: int, *, required: bool = True) -> str:
    value = str(raw.get(field) or "").strip()
    if required and not value:
        errors.add(field, "required", _("This field is required."))
    elif len(value) > limit:
        errors.add(field, "too_long", _("At most %(n)s characters.") % {"n": limit})
    return value


def _authority(actor: Actor, territory: Territory, message: str) -> None:
    """The authority, in its territory."""
    permissions.check(actor.user, permissions.ISSUE_PERMITS, message)
    if not permissions.within(actor.user, territory.path):
        raise PermissionDenied(_("This centre is outside the territory you work in."))


def _operates(actor: Actor, centre: Centre) -> None:
    if actor.user is not None and not permissions.operates(actor.user, centre.operator_id):
        raise PermissionDenied(_("Only the centre's operator may do this."))


# --- centres -------------------------------------------------------------------------------------------


def _clean_capacity(raw: Any, centres: CentresConfig, errors: Collector) -> dict[str, int]:
    groups = {g.code for g in centres.age_groups}
    if not isinstance(raw, dict) or not raw:
        errors.add("capacity", "required", _("Give the places of at least one age group."))
        return {}
    capacity: dict[str, int] = {}
    for code, value in raw.items():
        if code not in groups:
            errors.add("capacity", "invalid_choice", _("Unknown age group: %(code)s") % {"code": code})
            continue
        try:
            places = int(value)
        except (TypeError, ValueError):
            places = -1
        if places < 0 or places > 2000:
            errors.add("capacity", "invalid", _("Places must be a whole number from 0 to 2000."))
            continue
        capacity[code] = places
    if capacity and not sum(capacity.values()):
        errors.add("capacity", "required", _("Give the places of at least one age group."))
    return capacity


def _clean_staff(raw: Any, errors: Collector) -> list[dict[str, str]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        errors.add("staff", "invalid", _("Give the staff as a list."))
        return []
    staff = []
    for i, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        sub = Collector()
        name = _text(item, "name", sub, 200)
        role = _text(item, "role", sub, 100)
        qualification = _text(item, "qualification", sub, 200, required=False)
        for field, errs in sub.errors.items():
            for e in errs:
                errors.add(f"staff.{i}.{field}", e.code, e.message)
        staff.append({"name": name, "role": role, "qualification": qualification})
    return staff


def register_centre(actor: Actor, raw: dict[str, Any]) -> Centre:
    """A new centre, applying. An operator registers it for its own organisation; the authority for any
    operator, in its territory."""
    user = actor.user
    permissions.check(user, permissions.REGISTER_CENTRES, _("Your role cannot register childcare centres."))
    centres = config()
    errors = Collector()
    name = _text(raw, "name", errors, 200)
    kind = str(raw.get("kind") or "")
    if kind not in CentreType.values:
        errors.add("kind", "invalid_choice", _("Choose one of the centre types."))
    address = _text(raw, "address", errors, 300)
    hours = _text(raw, "hours", errors, 200, required=False)
    territory = Territory.objects.filter(code=str(raw.get("territory_code") or "")).first()
    if territory is None:
        errors.add("territory_code", "unknown", _("No territory has this code."))
    elif not permissions.within(user, territory.path):
        errors.add("territory_code", "out_of_scope", _("This territory is outside the one you work in."))
    operator: Organisation | None
    if user is not None and user.role == Role.OPERATOR:
        operator = user.organisation
        code = raw.get("operator_code")
        if code and operator is not None and code != operator.code:
            errors.add("operator_code", "not_yours", _("You register centres for your own organisation only."))
    else:
        operator = Organisation.objects.filter(code=str(raw.get("operator_code") or "")).first()
        if operator is None:
            errors.add("operator_code", "unknown", _("No organisation has this code."))
    capacity = _clean_capacity(raw.get("capacity"), centres, errors)
    staff = _clean_staff(raw.get("staff"), errors)
    errors.raise_if_any()
    assert territory is not None and operator is not None
    with transaction.atomic():
        centre = Centre.objects.create(
            name=name,
            kind=kind,
            operator=operator,
            address=address,
            territory=territory,
            capacity=capacity,
            hours=hours,
        )
        record(actor, Action.CREATE, centre, after=snapshot(centre))
        for item in staff:
            member = StaffMember.objects.create(centre=centre, **item)
            record(actor, Action.CREATE, member, after=snapshot(member))
    return centre


def save_employer(actor: Actor, raw: dict[str, Any], employer: Employer | None = None) -> Employer:
    """Register an employer (or change one): its size says whether the law obliges it to run a childcare
    centre (the profile's ``employer_obligation_employees``), and the centre it runs, if any, says whether
    it does. The authority keeps this registry, in its territory."""
    user = actor.user
    permissions.check(user, permissions.ISSUE_PERMITS, _("Only the authority keeps the registry of employers."))
    errors = Collector()
    name = _text(raw, "name", errors, 200)
    territory = Territory.objects.filter(code=str(raw.get("territory_code") or "")).first()
    if territory is None:
        errors.add("territory_code", "unknown", _("No territory has this code."))
    elif not permissions.within(user, territory.path):
        errors.add("territory_code", "out_of_scope", _("This territory is outside the one you work in."))
    employees = raw.get("employees")
    if isinstance(employees, bool) or not isinstance(employees, int | str) or not str(employees).strip().isdigit():
        errors.add("employees", "invalid", _("Give the number of employees as a whole number."))
        employees = 0
    else:
        employees = int(str(employees).strip())
        if employees < 1 or employees > 10_000_000:
            errors.add("employees", "out_of_range", _("Give a number of employees between 1 and 10,000,000."))
    centre: Centre | None = None
    centre_id = raw.get("centre_id")
    if centre_id not in (None, ""):
        readable = centre_scope.centres(user)
        digits = str(centre_id).strip()
        centre = readable.filter(pk=int(digits)).first() if digits.isdigit() else None
        if centre is None:
            errors.add("centre_id", "unknown", _("No centre you can see has this number."))
    errors.raise_if_any()
    assert territory is not None
    with transaction.atomic():
        if employer is None:
            employer = Employer.objects.create(name=name, territory=territory, employees=employees, centre=centre)
            record(actor, Action.CREATE, employer, after=snapshot(employer))
        else:
            before = snapshot(employer)
            employer.name, employer.territory, employer.employees, employer.centre = name, territory, employees, centre
            employer.save()
            old, new = diff(before, snapshot(employer))
            if new:
                record(actor, Action.UPDATE, employer, before=old, after=new)
    return employer


def employer_obliged(employer: Employer) -> bool:
    """Whether the law obliges this employer to run a childcare centre (the profile's threshold)."""
    return employer.employees >= config().employer_obligation_employees


def close_centre(actor: Actor, centre: Centre, reason: str) -> Centre:
    """The authority closes a centre (its valid permit ends as suspended)."""
    _authority(actor, centre.territory, _("Only the authority may close a centre."))
    with transaction.atomic():
        _set_status(actor, centre, CentreStatus.CLOSED, reason)
    return centre


def _set_status(actor: Actor, centre: Centre, status: str, note: str = "") -> None:
    if centre.status == status:
        return
    before = centre.status
    Centre.objects.filter(pk=centre.pk).update(status=status)
    centre.status = status
    record(actor, Action.UPDATE, centre, before={"status": before}, after={"status": status}, note=note[:200])


# --- applications ---------------------------------------------------------------------------------------


def apply(actor: Actor, centre: Centre, raw: dict[str, Any], now: dt.datetime | None = None) -> Application:
    """One application for the centre's permit: every document of its type's checklist and every fee with
    its receipt; one review per institution the type requires, due in the profile's days."""
    _operates(actor, centre)
    permissions.check(actor.user, permissions.OPERATE_CENTRES, _("Only the centre's operator may apply."))
    centres = config()
    ctype = centres.types[centre.kind]
    now = now or timezone.now()
    errors = Collector()
    if centre.status == CentreStatus.CLOSED:
        errors.add("row", "closed", _("This centre is closed."))
    documents = raw.get("documents") or {}
    if not isinstance(documents, dict):
        errors.add("documents", "invalid", _("Give the documents by their code."))
        documents = {}
    for code in documents:
        if code not in ctype.documents:
            errors.add(f"documents.{code}", "unknown", _("This document is not asked of this type of centre."))
    for code in ctype.documents:
        if not _given(documents.get(code)):
            errors.add(
                f"documents.{code}",
                "required",
                _("Missing: %(name)s.") % {"name": centres.document(code).name(_language())},
            )
        else:
            check_file(documents[code], f"documents.{code}", errors)
    fees = raw.get("fees") or {}
    if not isinstance(fees, dict):
        errors.add("fees", "invalid", _("Give the fees by their code."))
        fees = {}
    paid: dict[str, tuple[str, dt.date]] = {}
    for code in fees:
        if code not in ctype.fees:
            errors.add(f"fees.{code}", "unknown", _("This fee is not asked of this type of centre."))
    for code in ctype.fees:
        given = fees.get(code)
        item: dict[str, Any] = given if isinstance(given, dict) else {}
        receipt = str(item.get("receipt") or "").strip()
        if not receipt:
            errors.add(
                f"fees.{code}.receipt",
                "required",
                _("Give the receipt of: %(name)s.") % {"name": centres.fee(code).name(_language())},
            )
        receipt_file = item.get("receipt_file")
        if not _given(receipt_file):
            errors.add(
                f"fees.{code}.receipt_file",
                "required",
                _("Attach the receipt of: %(name)s.") % {"name": centres.fee(code).name(_language())},
            )
        else:
            check_file(receipt_file, f"fees.{code}.receipt_file", errors)
        day = _date(item.get("paid_on"), f"fees.{code}.paid_on", errors)
        if day is not None and day > timezone.localdate(now):
            errors.add(f"fees.{code}.paid_on", "future", _("The payment date cannot be in the future."))
        if receipt and day is not None:
            paid[code] = (receipt[:100], day)
    errors.raise_if_any()
    due = timezone.localdate(now) + dt.timedelta(days=centres.review_days)
    kept: list[files.Stored] = []
    try:
        stored_docs = {code: files.store(documents[code], FILES_AREA) for code in ctype.documents}
        kept.extend(stored_docs.values())
        stored_receipts = {code: files.store(fees[code]["receipt_file"], FILES_AREA) for code in paid}
        kept.extend(stored_receipts.values())
        with transaction.atomic():
            application = Application.objects.create(centre=centre, submitted_by=actor.user, submitted_at=now)
            record(actor, Action.CREATE, application, after=snapshot(application))
            for code in ctype.documents:
                doc_file = stored_docs[code]
                doc = ApplicationDocument.objects.create(
                    application=application,
                    code=code,
                    reference=doc_file.original_name[:300],
                    original_name=doc_file.original_name,
                    stored_name=doc_file.stored_name,
                    size=doc_file.size,
                    sha256=doc_file.sha256,
                )
                record(
                    actor, Action.CREATE, doc, after=snapshot(doc, ["application", "code", "original_name", "sha256"])
                )
            for code, (receipt, day) in paid.items():
                receipt_file = stored_receipts[code]
                # The amount is the profile's, never the applicant's.
                fee = FeePayment.objects.create(
                    application=application,
                    code=code,
                    amount=centres.fee(code).amount,
                    receipt=receipt,
                    paid_on=day,
                    receipt_name=receipt_file.original_name,
                    receipt_stored=receipt_file.stored_name,
                    receipt_size=receipt_file.size,
                    receipt_sha256=receipt_file.sha256,
                )
                record(
                    actor,
                    Action.CREATE,
                    fee,
                    after=snapshot(
                        fee, ["application", "code", "amount", "receipt", "paid_on", "receipt_name", "receipt_sha256"]
                    ),
                )
            for institution in ctype.reviews:
                review = Review.objects.create(application=application, institution=institution, due_on=due)
                record(actor, Action.CREATE, review, after=snapshot(review))
    except IntegrityError:
        files.discard(kept, FILES_AREA)
        raise InputErrors(
            {"row": [FieldError("open_application", _("This centre already has an application under way."))]}
        ) from None
    except BaseException:
        files.discard(kept, FILES_AREA)
        raise
    return application


def _language() -> str:
    from django.utils.translation import get_language

    return get_language() or "es"


def check_file(file: Any, field: str, errors: Collector) -> bool:
    """A document, receipt or evidence file: a PDF, JPEG or PNG (its first bytes say so) of at most 10 MB."""
    return files.check(
        file,
        errors,
        field,
        suffixes=FILE_SUFFIXES,
        max_bytes=FILE_MAX_BYTES,
        type_message=_("Attach a PDF, JPEG or PNG file."),
        size_message=_("The file is larger than 10 MB."),
        sniff=True,
    )


def _given(value: Any) -> bool:
    """Something was sent for a file field (a file, or a name where a file should be)."""
    return files.is_file(value) or bool(str(value or "").strip())


# --- reviews --------------------------------------------------------------------------------------------


def _check_review(actor: Actor, review: Review) -> None:
    refusal = permissions.review_refusal(actor.user, review.institution, review.application.centre.territory.path)
    if refusal is not None:
        refusal.raise_()


def _open(review: Review) -> None:
    if review.decided:
        raise InputErrors({"row": [FieldError("decided", _("This review is already decided."))]})
    if review.application.stage != Stage.IN_REVIEW:
        raise InputErrors({"row": [FieldError("closed", _("This application is no longer in review."))]})


def assign(actor: Actor, review: Review, inspector: User) -> Review:
    """An inspector of the review's institution takes it, or hands it to a colleague of the institution."""
    _check_review(actor, review)
    _open(review)
    if permissions.review_refusal(inspector, review.institution, review.application.centre.territory.path):
        raise InputErrors(
            {"inspector": [FieldError("other_institution", _("This inspector cannot review for this institution."))]}
        )
    with transaction.atomic():
        before = review.inspector_id
        Review.objects.filter(pk=review.pk).update(inspector=inspector, version=review.version + 1)
        review.inspector, review.version = inspector, review.version + 1
        record(actor, Action.UPDATE, review, before={"inspector_id": before}, after={"inspector_id": inspector.pk})
    return review


Uploads = list[tuple[str, Any]]


def _clean_visit(
    raw: dict[str, Any], standards: list[Any], errors: Collector
) -> tuple[dt.date | None, dict[str, Any], Uploads]:
    """The visit's date and checklist, and its evidence files: ``(standard code, file)``, ``""`` for a file of
    the whole visit (``raw["evidence"]``)."""
    visited_on = _date(raw.get("visited_on"), "visited_on", errors)
    if visited_on is not None and visited_on > timezone.localdate():
        errors.add("visited_on", "future", _("The visit date cannot be in the future."))
    given = raw.get("checklist") or {}
    if not isinstance(given, dict):
        errors.add("checklist", "invalid", _("Give the checklist by standard."))
        given = {}
    codes = {s.code for s in standards}
    for code in given:
        if code not in codes:
            errors.add(f"checklist.{code}", "unknown", _("This standard is not checked by this institution."))
    checklist: dict[str, Any] = {}
    uploads: Uploads = []
    for standard in standards:
        item = given.get(standard.code)
        if isinstance(item, bool):
            item = {"met": item}
        if not isinstance(item, dict) or not isinstance(item.get("met"), bool):
            if standard.required:
                errors.add(f"checklist.{standard.code}", "required", _("Say whether this standard is met."))
            continue
        evidence = _evidence(item.get("evidence"), f"checklist.{standard.code}", errors)
        uploads.extend((standard.code, f) for f in evidence)
        checklist[standard.code] = {
            "met": item["met"],
            "required": standard.required,
            "evidence": [str(f.name)[:200] for f in evidence],
        }
    uploads.extend(("", f) for f in _evidence(raw.get("evidence"), "evidence", errors))
    return visited_on, checklist, uploads


def _evidence(raw: Any, field: str, errors: Collector) -> list[Any]:
    """Evidence files (one or a list); each a PDF, JPEG or PNG of at most 10 MB."""
    if raw in (None, "", []):
        return []
    given = raw if isinstance(raw, list) else [raw]
    good = [f for f in given if check_file(f, field, errors)]
    return good if len(good) == len(given) else []


def _clean_findings(raw: Any, visited_on: dt.date | None, errors: Collector) -> list[tuple[str, dt.date]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        errors.add("findings", "invalid", _("Give the findings as a list."))
        return []
    findings = []
    for i, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        text = str(item.get("text") or "").strip()
        if not text:
            errors.add(f"findings.{i}.text", "required", _("Describe the finding."))
        deadline = _date(item.get("deadline"), f"findings.{i}.deadline", errors)
        if deadline is not None and visited_on is not None and deadline < visited_on:
            errors.add(f"findings.{i}.deadline", "before_visit", _("The deadline cannot be before the visit."))
        if text and deadline is not None:
            findings.append((text[:500], deadline))
    return findings


def _store_evidence(uploads: Uploads) -> list[tuple[str, files.Stored]]:
    kept: list[tuple[str, files.Stored]] = []
    try:
        for code, file in uploads:
            kept.append((code, files.store(file, FILES_AREA)))
    except BaseException:
        files.discard([k for _c, k in kept], FILES_AREA)
        raise
    return kept


def _write_visit(
    actor: Actor,
    visit: dict[str, Any],
    findings: list[tuple[str, dt.date]],
    evidence: list[tuple[str, files.Stored]] | None = None,
    child_note: str = "",
) -> Inspection:
    inspection = Inspection.objects.create(**visit)
    record(actor, Action.CREATE, inspection, after=snapshot(inspection), note=child_note)
    for code, stored in evidence or []:
        item = InspectionEvidence.objects.create(
            inspection=inspection,
            standard=code,
            original_name=stored.original_name,
            stored_name=stored.stored_name,
            size=stored.size,
            sha256=stored.sha256,
        )
        record(actor, Action.CREATE, item, after=snapshot(item, ["inspection", "standard", "original_name", "sha256"]))
    for text, deadline in findings:
        finding = Finding.objects.create(inspection=inspection, text=text, deadline=deadline)
        record(actor, Action.CREATE, finding, after=snapshot(finding))
    return inspection


def record_inspection(actor: Actor, review: Review, raw: dict[str, Any]) -> Inspection:
    """A visit for a review: the institution's standards checklist, findings with corrective deadlines.
    The first visit assigns the review to its inspector when nobody has it."""
    _check_review(actor, review)
    _open(review)
    centres = config()
    if review.inspector_id and actor.user is not None and review.inspector_id != actor.user.pk:
        raise PermissionDenied(_("This review is assigned to another inspector."))
    errors = Collector()
    visited_on, checklist, uploads = _clean_visit(raw, list(centres.standards_of(review.institution)), errors)
    findings = _clean_findings(raw.get("findings"), visited_on, errors)
    notes = _text(raw, "notes", errors, 4000, required=False)
    errors.raise_if_any()
    evidence = _store_evidence(uploads)
    try:
        return _record_visit(actor, review, visited_on, checklist, notes, findings, evidence)
    except BaseException:
        files.discard([k for _c, k in evidence], FILES_AREA)
        raise


def _record_visit(
    actor: Actor,
    review: Review,
    visited_on: dt.date | None,
    checklist: dict[str, Any],
    notes: str,
    findings: list[tuple[str, dt.date]],
    evidence: list[tuple[str, files.Stored]],
) -> Inspection:
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if locked.decided:
            raise InputErrors({"row": [FieldError("decided", _("This review is already decided."))]})
        inspection = _write_visit(
            actor,
            {
                "review": review,
                "inspector": actor.user,
                "visited_on": visited_on,
                "checklist": checklist,
                "notes": notes,
            },
            findings,
            evidence,
        )
        changes: dict[str, Any] = {"state": ReviewState.INSPECTING}
        if locked.inspector_id is None and actor.user is not None:
            changes["inspector_id"] = actor.user.pk
        before = {k: getattr(locked, k) for k in changes}
        Review.objects.filter(pk=review.pk).update(**changes, version=locked.version + 1)
        record(actor, Action.UPDATE, review, before=before, after=changes)
    review.refresh_from_db()
    return inspection


DECISIONS = (ReviewState.APPROVED, ReviewState.APPROVED_WITH_CONDITIONS, ReviewState.REJECTED)


def decide(actor: Actor, review: Review, decision: str, conditions: str = "", now: dt.datetime | None = None) -> Review:
    """The review's decision, by an inspector of its institution (its assigned one, when it has one). To
    approve, a visit must have been made and its latest checklist must meet every required standard;
    conditions or reasons are required with a conditional approval or a rejection."""
    _check_review(actor, review)
    _open(review)
    if review.inspector_id and actor.user is not None and review.inspector_id != actor.user.pk:
        raise PermissionDenied(_("This review is assigned to another inspector."))
    errors = Collector()
    if decision not in DECISIONS:
        errors.add("decision", "invalid_choice", _("Choose approve, approve with conditions or reject."))
    conditions = conditions.strip()
    if decision in (ReviewState.APPROVED_WITH_CONDITIONS, ReviewState.REJECTED) and not conditions:
        errors.add("conditions", "required", _("Write the conditions or the reasons."))
    latest = review.inspections.order_by("-visited_on", "-pk").first()
    if decision in APPROVING:
        if latest is None:
            errors.add("decision", "no_visit", _("Record an inspection visit before approving."))
        elif not latest.passed:
            errors.add("decision", "standards_unmet", _("The latest visit found required standards unmet."))
    errors.raise_if_any()
    now = now or timezone.now()
    with transaction.atomic():
        # The application is locked: two reviews decided at once compute its stage one after the other.
        application = Application.objects.select_for_update().get(pk=review.application_id)
        if not Review.objects.filter(pk=review.pk, version=review.version).update(
            state=decision,
            decided_at=now,
            decided_by=actor.user,
            conditions=conditions[:4000],
            inspector=review.inspector or actor.user,
            version=review.version + 1,
        ):
            raise InputErrors({"row": [FieldError("stale", _("This review changed meanwhile; reload it."))]})
        record(
            actor,
            Action.UPDATE,
            review,
            before={"state": review.state},
            after={"state": decision, "conditions": conditions[:4000]},
        )
        _restage(actor, application, now)
    review.refresh_from_db()
    return review


def _restage(actor: Actor, application: Application, now: dt.datetime) -> None:
    """An application is rejected when a required review rejects, approved when every required one
    approves (with or without conditions), in review otherwise."""
    states = list(application.reviews.filter(required=True).values_list("state", flat=True))
    stage = Stage.IN_REVIEW
    if ReviewState.REJECTED in states:
        stage = Stage.REJECTED
    elif states and all(s in APPROVING for s in states):
        stage = Stage.APPROVED
    if stage != application.stage:
        before = application.stage
        Application.objects.filter(pk=application.pk).update(
            stage=stage, decided_at=now if stage != Stage.IN_REVIEW else None
        )
        application.stage = stage
        record(actor, Action.UPDATE, application, before={"stage": before}, after={"stage": stage})


# --- permits --------------------------------------------------------------------------------------------


def next_permit_number(year: int) -> str:
    """``YYYY-NNNNNN``, sequential per year: the year's counter row is locked while a number is taken (two
    authorities issuing at once wait for each other). Runs in the caller's transaction."""
    PermitCounter.objects.get_or_create(year=year)
    counter = PermitCounter.objects.select_for_update().get(year=year)
    counter.value += 1
    counter.save(update_fields=["value"])
    return f"{year}-{counter.value:06d}"


def issue_permit(actor: Actor, application: Application, now: dt.datetime | None = None) -> Permit:
    """The authority issues the numbered permit of an application every required review approved."""
    centre = application.centre
    _authority(actor, centre.territory, _("Only the authority may issue permits."))
    centres = config()
    now = now or timezone.now()
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.stage != Stage.APPROVED:
            raise InputErrors(
                {"row": [FieldError("not_approved", _("Every required review must approve before the permit."))]}
            )
        today = timezone.localdate(now)
        permit = Permit.objects.create(
            number=next_permit_number(today.year),
            centre=centre,
            application=application,
            issued_at=now,
            issued_by=actor.user,
            valid_until=add_months(today, centres.permit_validity_months),
        )
        record(actor, Action.CREATE, permit, after=snapshot(permit))
        # A centre holds one permit at a time: a new one replaces the old.
        for old in Permit.objects.filter(centre=centre).exclude(pk=permit.pk).exclude(state=PermitState.EXPIRED):
            Permit.objects.filter(pk=old.pk).update(state=PermitState.EXPIRED)
            record(actor, Action.UPDATE, old, before={"state": old.state}, after={"state": PermitState.EXPIRED})
        Application.objects.filter(pk=application.pk).update(stage=Stage.PERMIT_ISSUED)
        record(actor, Action.UPDATE, application, before={"stage": application.stage}, after={"stage": "permit_issued"})
        application.stage = Stage.PERMIT_ISSUED
        _set_status(actor, centre, CentreStatus.AUTHORISED)
    return permit


def renew_permit(actor: Actor, permit: Permit, now: dt.datetime | None = None) -> Permit:
    """Another period of validity from the later of its expiry and today (a valid or expired permit; a
    suspended one must be reopened first). ASSUMPTION: renewal needs no new reviews."""
    _authority(actor, permit.centre.territory, _("Only the authority may renew permits."))
    if permit.state == PermitState.SUSPENDED:
        raise InputErrors({"row": [FieldError("suspended", _("A suspended permit must be reopened first."))]})
    if permit.centre.status == CentreStatus.CLOSED:
        raise InputErrors({"row": [FieldError("closed", _("This centre is closed."))]})
    today = timezone.localdate(now or timezone.now())
    until = add_months(max(permit.valid_until, today), config().permit_validity_months)
    with transaction.atomic():
        before = snapshot(permit, ("state", "valid_until", "renewals", "expiry_warned_at"))
        Permit.objects.filter(pk=permit.pk).update(
            state=PermitState.VALID, valid_until=until, renewals=permit.renewals + 1, expiry_warned_at=None
        )
        permit.refresh_from_db()
        record(
            actor,
            Action.UPDATE,
            permit,
            before=before,
            after=snapshot(permit, ("state", "valid_until", "renewals", "expiry_warned_at")),
            note="renewal",
        )
        _set_status(actor, permit.centre, CentreStatus.AUTHORISED)
    return permit


def suspend_permit(actor: Actor, permit: Permit, reason: str, now: dt.datetime | None = None) -> Permit:
    _authority(actor, permit.centre.territory, _("Only the authority may suspend permits."))
    reason = reason.strip()
    if not reason:
        raise InputErrors({"reason": [FieldError("required", _("Give the reason for the suspension."))]})
    if permit.state != PermitState.VALID:
        raise InputErrors({"row": [FieldError("not_valid", _("Only a valid permit can be suspended."))]})
    now = now or timezone.now()
    with transaction.atomic():
        Permit.objects.filter(pk=permit.pk).update(
            state=PermitState.SUSPENDED, suspended_at=now, suspension_reason=reason[:300]
        )
        record(
            actor,
            Action.UPDATE,
            permit,
            before={"state": permit.state},
            after={"state": PermitState.SUSPENDED, "suspension_reason": reason[:300]},
        )
        permit.refresh_from_db()
        _set_status(actor, permit.centre, CentreStatus.SUSPENDED, reason)
    return permit


def record_verification(actor: Actor, permit: Permit, raw: dict[str, Any]) -> Inspection:
    """A verification visit to a suspended permit's centre, by an inspector (of any institution, in their
    territory) with their institution's standards."""
    user = actor.user
    institution = user.institution if user is not None else str(raw.get("institution") or "")
    refusal = permissions.review_refusal(user, institution, permit.centre.territory.path)
    if refusal is not None:
        refusal.raise_()
    if permit.state != PermitState.SUSPENDED:
        raise InputErrors({"row": [FieldError("not_suspended", _("Only a suspended permit needs a verification."))]})
    errors = Collector()
    visited_on, checklist, uploads = _clean_visit(raw, list(config().standards_of(institution)), errors)
    if visited_on is not None and permit.suspended_at and visited_on < timezone.localdate(permit.suspended_at):
        errors.add("visited_on", "before_suspension", _("The verification must come after the suspension."))
    findings = _clean_findings(raw.get("findings"), visited_on, errors)
    notes = _text(raw, "notes", errors, 4000, required=False)
    errors.raise_if_any()
    evidence = _store_evidence(uploads)
    try:
        with transaction.atomic():
            return _write_visit(
                actor,
                {"permit": permit, "inspector": user, "visited_on": visited_on, "checklist": checklist, "notes": notes},
                findings,
                evidence,
            )
    except BaseException:
        files.discard([k for _c, k in evidence], FILES_AREA)
        raise


def reopen_permit(actor: Actor, permit: Permit) -> Permit:
    """The authority lifts a suspension once a verification visit after it met every required standard."""
    _authority(actor, permit.centre.territory, _("Only the authority may reopen permits."))
    if permit.state != PermitState.SUSPENDED:
        raise InputErrors({"row": [FieldError("not_suspended", _("This permit is not suspended."))]})
    assert permit.suspended_at is not None
    visit = (
        permit.inspections.filter(visited_on__gte=timezone.localdate(permit.suspended_at))
        .order_by("-visited_on", "-pk")
        .first()
    )
    if visit is None or not visit.passed:
        raise InputErrors(
            {
                "row": [
                    FieldError("no_verification", _("A verification visit meeting every required standard is needed."))
                ]
            }
        )
    with transaction.atomic():
        Permit.objects.filter(pk=permit.pk).update(state=PermitState.VALID, suspended_at=None, suspension_reason="")
        record(actor, Action.UPDATE, permit, before={"state": permit.state}, after={"state": PermitState.VALID})
        permit.refresh_from_db()
        _set_status(actor, permit.centre, CentreStatus.AUTHORISED, "reopened")
    return permit


def current_permit(centre: Centre) -> Permit | None:
    return centre.permits.exclude(state=PermitState.EXPIRED).order_by("-issued_at").first()


# --- enrolment and attendance ---------------------------------------------------------------------------


def enrol(actor: Actor, centre: Centre, raw: dict[str, Any]) -> Enrolment:
    """The operator enrols a registry child in its authorised centre. The child must be shared with the
    operator's organisation through an active access grant — the family's consent, given when a health
    worker referred the child to the centre or shared the record — including the data category of the
    childcare service; otherwise the child does not exist for the operator (404). The enrolment is also a
    delivery of the childcare service: the fact the childcare indicators count."""
    from django.http import Http404

    _operates(actor, centre)
    permissions.check(actor.user, permissions.OPERATE_CENTRES, _("Only the centre's operator may enrol children."))
    centres = config()
    errors = Collector()
    centre.refresh_from_db(fields=["status"])
    if centre.status != CentreStatus.AUTHORISED or current_permit(centre) is None:
        errors.add("row", "not_authorised", _("Only an authorised centre enrols children."))
    try:
        child = (
            scope.children(actor.user).get(pk=int(raw.get("child")))  # type: ignore[arg-type]
            if actor.user is not None
            else Child.unscoped.get(pk=int(raw.get("child")), voided_at__isnull=True)  # type: ignore[arg-type]
        )
    except (TypeError, ValueError, Child.DoesNotExist):
        raise Http404 from None
    service = conf.profile().service(CHILDCARE_SERVICE)
    if actor.user is not None and service.data_category not in scope.categories(actor.user, child):
        raise PermissionDenied(_("The family has not consented to share this child's data for childcare."))
    enrolled_on = _date(raw.get("enrolled_on"), "enrolled_on", errors)
    if enrolled_on is not None:
        if enrolled_on > timezone.localdate():
            errors.add("enrolled_on", "future", _("The enrolment date cannot be in the future."))
        if child.birth_date and enrolled_on < child.birth_date:
            errors.add("enrolled_on", "before_birth", _("The enrolment date cannot be before the birth."))
    age_group = str(raw.get("age_group") or "")
    if age_group not in {g.code for g in centres.age_groups}:
        errors.add("age_group", "invalid_choice", _("Choose one of the age groups."))
    elif not centre.capacity.get(age_group):
        errors.add("age_group", "no_places", _("This centre has no places for this age group."))
    if Enrolment.unscoped.filter(centre=centre, child=child, ended_on__isnull=True).exists():
        errors.add("child", "enrolled", _("This child is already enrolled in this centre."))
    errors.raise_if_any()
    assert enrolled_on is not None
    row = tracking_actions.delivery_row(
        actor, service, child_id=child.pk, caregiver_id=None, date=enrolled_on, facility_id=None, detail=centre.name
    )
    try:
        with transaction.atomic():
            (delivery_id,) = tracking_actions.add_deliveries(actor, [row], note="childcare enrolment")
            enrolment = Enrolment.unscoped.create(
                centre=centre,
                child=child,
                age_group=age_group,
                enrolled_on=enrolled_on,
                enrolled_by=actor.user,
                delivery_id=delivery_id,
            )
            record(actor, Action.CREATE, enrolment, child_id=child.pk, after=snapshot(enrolment))
            facts_changed(actor, child_ids=[child.pk])
    except IntegrityError:
        raise InputErrors(
            {"child": [FieldError("enrolled", _("This child is already enrolled in this centre."))]}
        ) from None
    return enrolment


def record_attendance(actor: Actor, enrolment: Enrolment, raw: dict[str, Any]) -> Attendance:
    """A month's attendance (replacing the month's earlier figure), by the centre's operator."""
    _operates(actor, enrolment.centre)
    errors = Collector()
    month_raw = str(raw.get("month") or "")
    month = None
    try:
        month = dt.date.fromisoformat(month_raw + "-01") if len(month_raw) == 7 else None
    except ValueError:
        month = None
    if month is None:
        errors.add("month", "invalid", _("Give the month as YYYY-MM."))
    elif month > timezone.localdate().replace(day=1):
        errors.add("month", "future", _("The month cannot be in the future."))
    elif month < enrolment.enrolled_on.replace(day=1):
        errors.add("month", "before_enrolment", _("The month cannot be before the enrolment."))
    numbers = {}
    for field in ("days_open", "days_attended"):
        try:
            numbers[field] = int(raw.get(field))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.add(field, "invalid", _("Give a whole number of days."))
            continue
        if not 0 <= numbers[field] <= 31:
            errors.add(field, "invalid", _("Give a whole number of days from 0 to 31."))
    if numbers.get("days_attended", 0) > numbers.get("days_open", 31):
        errors.add("days_attended", "too_many", _("A child cannot attend more days than the centre opened."))
    errors.raise_if_any()
    assert month is not None
    with transaction.atomic():
        existing = Attendance.objects.select_for_update().filter(enrolment=enrolment, month=month).first()
        if existing is None:
            attendance = Attendance.objects.create(enrolment=enrolment, month=month, **numbers)
            record(actor, Action.CREATE, attendance, child_id=enrolment.child_id, after=snapshot(attendance))
        else:
            before = snapshot(existing, tuple(numbers))
            Attendance.objects.filter(pk=existing.pk).update(**numbers)
            existing.refresh_from_db()
            attendance = existing
            record(actor, Action.UPDATE, attendance, child_id=enrolment.child_id, before=before, after=numbers)
    return attendance


def end_enrolment(actor: Actor, enrolment: Enrolment, raw: dict[str, Any]) -> Enrolment:
    """The child leaves the centre (by its operator). The enrolment's delivery stays: the child was enrolled
    in the periods up to then, which is what the childcare indicator counts."""
    _operates(actor, enrolment.centre)
    errors = Collector()
    ended_on = _date(raw.get("ended_on"), "ended_on", errors)
    if ended_on is not None and ended_on < enrolment.enrolled_on:
        errors.add("ended_on", "before_enrolment", _("The end cannot be before the enrolment."))
    if ended_on is not None and ended_on > timezone.localdate():
        errors.add("ended_on", "future", _("The end cannot be in the future."))
    if enrolment.ended_on is not None:
        errors.add("row", "ended", _("This enrolment has already ended."))
    errors.raise_if_any()
    with transaction.atomic():
        if not Enrolment.unscoped.filter(pk=enrolment.pk, ended_on__isnull=True).update(ended_on=ended_on):
            raise InputErrors({"row": [FieldError("ended", _("This enrolment has already ended."))]})
        record(
            actor,
            Action.UPDATE,
            enrolment,
            child_id=enrolment.child_id,
            before={"ended_on": None},
            after={"ended_on": ended_on},
        )
    enrolment.ended_on = ended_on
    return enrolment


def resolve_finding(actor: Actor, finding: Finding, now: dt.datetime | None = None) -> Finding:
    """An inspector of the institution that found it (for a review), or any inspector in the territory (for a
    verification visit), records that the finding was corrected."""
    inspection = finding.inspection
    if inspection.review_id is not None:
        review = inspection.review
        assert review is not None
        _check_review(actor, review)
    else:
        assert inspection.permit is not None
        institution = actor.user.institution if actor.user is not None else ""
        refusal = permissions.review_refusal(actor.user, institution, inspection.permit.centre.territory.path)
        if refusal is not None:
            refusal.raise_()
    now = now or timezone.now()
    with transaction.atomic():
        if not Finding.objects.filter(pk=finding.pk, resolved_at__isnull=True).update(resolved_at=now):
            raise InputErrors({"row": [FieldError("resolved", _("This finding is already resolved."))]})
        record(actor, Action.UPDATE, finding, before={"resolved": False}, after={"resolved": True})
    finding.resolved_at = now
    return finding


def attendance_rate(enrolment: Enrolment) -> Decimal | None:
    """Days attended over days open, all months recorded (None before any month)."""
    rows = list(enrolment.attendance.values_list("days_attended", "days_open"))
    opened = sum(o for _a, o in rows)
    if not opened:
        return None
    return (Decimal(sum(a for a, _o in rows)) / Decimal(opened) * 100).quantize(Decimal("0.1"))
