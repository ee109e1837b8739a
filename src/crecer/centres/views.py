"""Pages of the childcare centres: the public list (no sign-in), the centres of one's scope, a centre with
its permit, applications and enrolled children, an application with every review, a review with its
visits and decision, and the authority's dashboard."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crecer import conf
from crecer.access import permissions
from crecer.audit import downloads
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.centres import actions
from crecer.centres import scope as centre_scope
from crecer.centres.models import (
    DECIDED,
    Application,
    Centre,
    CentreStatus,
    CentreType,
    Employer,
    Review,
    ReviewState,
    Stage,
)
from crecer.registry import scope
from crecer.registry.models import Child
from crecer.registry.reads import log_reads
from crecer.territories.models import Territory
from crecer.validation import InputErrors


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _language() -> str:
    return get_language() or "es"


def _names() -> dict[str, Any]:
    """Names of the profile's institutions, age groups and documents, in the page's language."""
    centres = conf.profile().centres
    if centres is None:
        return {"institutions": {}, "age_groups": {}, "documents": {}, "fees": {}}
    lang = _language()
    return {
        "institutions": {i.code: i.name(lang) for i in centres.institutions},
        "age_groups": {g.code: g.name(lang) for g in centres.age_groups},
        "documents": {d.code: d.name(lang) for d in centres.documents},
        "fees": {f.code: f.name(lang) for f in centres.fees},
        "authority": centres.authority.name(lang),
    }


def _capacity_rows(centre: Centre, names: dict[str, Any]) -> list[tuple[str, int]]:
    return [(names["age_groups"].get(code, code), places) for code, places in centre.capacity.items()]


# --- public ---------------------------------------------------------------------------------------------


def public_list(request: HttpRequest) -> HttpResponse:
    """Authorised centres with a permit in force: name, type, territory, places, validity. No sign-in and
    no personal data (no staff, no operator's people, no children)."""
    q = request.GET.get("q", "").strip()[:100]
    territory = request.GET.get("territory", "").strip()[:40]
    permits = centre_scope.public_permits(timezone.localdate()).order_by("centre__name", "pk")
    if q:
        permits = permits.filter(Q(centre__name__icontains=q) | Q(centre__territory__name__icontains=q))
    if territory:
        permits = permits.filter(
            Q(centre__territory__path__contains=f"/{territory}/")
            | Q(centre__territory__path__startswith=f"{territory}/")
        )
    page = Paginator(permits, 25).get_page(request.GET.get("page"))
    names = _names()
    rows = [(p, _capacity_rows(p.centre, names)) for p in page.object_list]
    return render(
        request,
        "centres/public.html",
        {"page": page, "rows": rows, "q": q, "territory": territory, "querystring": f"q={q}&territory={territory}"},
    )


# --- signed-in ------------------------------------------------------------------------------------------


def _may_open(user: Any) -> bool:
    return permissions.has(user, permissions.READ_CENTRES) or permissions.has(user, permissions.OPERATE_CENTRES)


@login_required
def centre_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_open(user):
        raise PermissionDenied(_("Your role does not work with childcare centres."))
    centres = centre_scope.centres(user).select_related("territory", "operator")
    status = request.GET.get("status", "")
    if status in CentreStatus.values:
        centres = centres.filter(status=status)
    reviews = Review.objects.none()
    if permissions.has(user, permissions.REVIEW_CENTRES) and user.institution:
        reviews = (
            centre_scope.reviews(user)
            .filter(institution=user.institution, application__stage=Stage.IN_REVIEW)
            .exclude(state__in=DECIDED)
            .select_related("application__centre", "inspector")
            .order_by("due_on")
        )
    page = Paginator(centres, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "centres/list.html",
        {
            "page": page,
            "status": status,
            "statuses": CentreStatus.choices,
            "reviews": reviews[:100],
            "today": timezone.localdate(),
            "can_register": permissions.has(user, permissions.REGISTER_CENTRES),
            "can_dashboard": permissions.has(user, permissions.READ_CENTRES),
            "querystring": f"status={status}",
        },
    )


@login_required
def centre_detail(request: HttpRequest, centre_id: int) -> HttpResponse:
    user: Any = request.user
    centre = centre_scope.get_centre_or_404(user, centre_id)
    names = _names()
    enrolments = list(
        centre_scope.enrolments(user).filter(centre=centre, ended_on__isnull=True).select_related("child")[:200]
    )
    log_reads(_actor(request), "centre enrolments", [e.child_id for e in enrolments])
    operates = permissions.operates(user, centre.operator_id)
    return render(
        request,
        "centres/detail.html",
        {
            "centre": centre,
            "names": names,
            "capacity": _capacity_rows(centre, names),
            "staff": centre.staff.filter(active=True),
            "permit": actions.current_permit(centre),
            "applications": centre.applications.prefetch_related("reviews"),
            "enrolments": [(e, actions.attendance_rate(e)) for e in enrolments],
            "operates": operates,
            "may_apply": operates
            and centre.status != CentreStatus.CLOSED
            and not centre.applications.filter(stage__in=[Stage.IN_REVIEW, Stage.APPROVED]).exists(),
            "authority": permissions.has(user, permissions.ISSUE_PERMITS),
            "month": f"{timezone.localdate():%Y-%m}",
        },
    )


@login_required
def centre_new(request: HttpRequest) -> HttpResponse:
    """Register a centre: an operator for its own organisation, the authority for any."""
    user: Any = request.user
    if not permissions.has(user, permissions.REGISTER_CENTRES):
        raise PermissionDenied(_("Your role cannot register childcare centres."))
    centres = actions.config()
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        raw = {
            "name": request.POST.get("name", ""),
            "kind": request.POST.get("kind", ""),
            "operator_code": request.POST.get("operator_code", ""),
            "address": request.POST.get("address", ""),
            "territory_code": request.POST.get("territory_code", ""),
            "hours": request.POST.get("hours", ""),
            "capacity": {
                g.code: request.POST.get(f"cap.{g.code}")
                for g in centres.age_groups
                if request.POST.get(f"cap.{g.code}")
            },
            "staff": [
                {
                    "name": request.POST.get(f"staff.{i}.name", ""),
                    "role": request.POST.get(f"staff.{i}.role", ""),
                    "qualification": request.POST.get(f"staff.{i}.qualification", ""),
                }
                for i in range(STAFF_ROWS)
                if request.POST.get(f"staff.{i}.name", "").strip() or request.POST.get(f"staff.{i}.role", "").strip()
            ],
        }
        try:
            centre = actions.register_centre(_actor(request), raw)
            messages.success(request, _("Centre registered."))
            return redirect("centre-detail", centre.pk)
        except InputErrors as exc:
            errors = {f: [e.message for e in errs] for f, errs in exc.errors.items()}
            status = 422
    staff_errors = [
        [m for f, msgs in errors.items() if f.startswith(f"staff.{i}.") for m in msgs] for i in range(STAFF_ROWS)
    ]
    return render(
        request,
        "centres/new.html",
        {
            "kinds": CentreType.choices,
            "age_groups": [(g.code, g.name(_language())) for g in centres.age_groups],
            "operator_fixed": user.organisation if user.role == "operator" else None,
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
            "staff_rows": list(zip(range(STAFF_ROWS), staff_errors, strict=True)),
            "default_territory": user.territory.code if user.territory else "",
        },
        status=status,
    )


STAFF_ROWS = 4


@login_required
def apply(request: HttpRequest, centre_id: int) -> HttpResponse:
    """The operator's application: the documents and fees the profile asks of the centre's type."""
    user: Any = request.user
    centre = centre_scope.get_centre_or_404(user, centre_id)
    if not permissions.operates(user, centre.operator_id):
        raise PermissionDenied(_("Only the centre's operator may apply."))
    centres = actions.config()
    ctype = centres.types[centre.kind]
    lang = _language()
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        raw = {
            "documents": {code: request.FILES.get(f"doc.{code}") for code in ctype.documents},
            "fees": {
                code: {
                    "receipt": request.POST.get(f"fee.{code}.receipt", ""),
                    "receipt_file": request.FILES.get(f"fee.{code}.receipt_file"),
                    "paid_on": request.POST.get(f"fee.{code}.paid_on", ""),
                }
                for code in ctype.fees
            },
        }
        try:
            application = actions.apply(_actor(request), centre, raw)
            messages.success(request, _("Application sent: every institution reviews it now."))
            return redirect("centre-application", application.pk)
        except InputErrors as exc:
            errors = {f: [e.message for e in errs] for f, errs in exc.errors.items()}
            status = 422
    documents = [
        (code, centres.document(code).name(lang), errors.get(f"documents.{code}", [])) for code in ctype.documents
    ]
    fees = [
        (
            code,
            centres.fee(code).name(lang),
            centres.fee(code).amount,
            errors.get(f"fees.{code}.receipt", [])
            + errors.get(f"fees.{code}.receipt_file", [])
            + errors.get(f"fees.{code}.paid_on", []),
        )
        for code in ctype.fees
    ]
    return render(
        request,
        "centres/apply.html",
        {
            "centre": centre,
            "documents": documents,
            "fees": fees,
            "institutions": [centres.institution(i).name(lang) for i in ctype.reviews],
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


@login_required
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    application = centre_scope.get_application_or_404(request.user, application_id)
    names = _names()
    reviews = application.reviews.select_related("inspector")
    return render(
        request,
        "centres/application.html",
        {
            "application": application,
            "centre": application.centre,
            "names": names,
            "documents": [(names["documents"].get(d.code, d.code), d) for d in application.documents.all()],
            "fees": [(names["fees"].get(f.code, f.code), f) for f in application.fees.all()],
            "reviews": [(r, names["institutions"].get(r.institution, r.institution)) for r in reviews],
            "today": timezone.localdate(),
            "can_issue": application.stage == Stage.APPROVED
            and permissions.has(request.user, permissions.ISSUE_PERMITS),  # type: ignore[arg-type]
        },
    )


@login_required
@require_POST
def issue_permit(request: HttpRequest, application_id: int) -> HttpResponse:
    application = centre_scope.get_application_or_404(request.user, application_id)
    try:
        permit = actions.issue_permit(_actor(request), application)
    except InputErrors as exc:
        messages.error(request, " ".join(e.message for errs in exc.errors.values() for e in errs))
    else:
        messages.success(request, _("Permit %(number)s issued.") % {"number": permit.number})
    return redirect("centre-application", application.pk)


def _visit_from_post(request: HttpRequest, standards: list[Any]) -> dict[str, Any]:
    checklist: dict[str, Any] = {}
    for s in standards:
        answer = request.POST.get(f"std.{s.code}", "")
        if answer in ("yes", "no"):
            checklist[s.code] = {"met": answer == "yes", "evidence": request.FILES.getlist(f"ev.{s.code}")}
    findings = []
    if request.POST.get("finding", "").strip() or request.POST.get("deadline", ""):
        findings.append({"text": request.POST.get("finding", ""), "deadline": request.POST.get("deadline", "")})
    return {
        "visited_on": request.POST.get("visited_on", ""),
        "checklist": checklist,
        "notes": request.POST.get("notes", ""),
        "findings": findings,
        "evidence": request.FILES.getlist("evidence"),
    }


@login_required
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    user: Any = request.user
    review = centre_scope.get_review_or_404(user, review_id)
    centres = actions.config()
    standards = list(centres.standards_of(review.institution))
    may_act = (
        permissions.review_refusal(user, review.institution, review.application.centre.territory.path) is None
        and not review.decided
        and review.application.stage == Stage.IN_REVIEW
    )
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not may_act:
            raise PermissionDenied(_("This review belongs to another institution."))
        try:
            if request.POST.get("action") == "decide":
                actions.decide(
                    _actor(request), review, request.POST.get("decision", ""), request.POST.get("conditions", "")
                )
                messages.success(request, _("Decision recorded."))
            else:
                actions.record_inspection(_actor(request), review, _visit_from_post(request, standards))
                messages.success(request, _("Inspection visit recorded."))
            return redirect("centre-review", review.pk)
        except InputErrors as exc:
            errors = {f: [e.message for e in errs] for f, errs in exc.errors.items()}
            status = 422
    names = _names()
    return render(
        request,
        "centres/review.html",
        {
            "review": review,
            "centre": review.application.centre,
            "institution": names["institutions"].get(review.institution, review.institution),
            "standards": [(s, s.name(_language())) for s in standards],
            "inspections": review.inspections.select_related("inspector").prefetch_related("findings", "evidence"),
            "may_act": may_act,
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
            "decisions": [(c, label) for c, label in ReviewState.choices if c in actions.DECISIONS],
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def permit_action(request: HttpRequest, permit_id: int, what: str) -> HttpResponse:
    """The authority renews, suspends or reopens a permit."""
    permit = centre_scope.get_permit_or_404(request.user, permit_id)
    try:
        if what == "renew":
            actions.renew_permit(_actor(request), permit)
        elif what == "suspend":
            actions.suspend_permit(_actor(request), permit, request.POST.get("reason", ""))
        elif what == "reopen":
            actions.reopen_permit(_actor(request), permit)
        else:
            raise PermissionDenied
    except InputErrors as exc:
        messages.error(request, " ".join(e.message for errs in exc.errors.values() for e in errs))
    else:
        messages.success(request, _("Permit %(number)s updated.") % {"number": permit.number})
    return redirect("centre-detail", permit.centre_id)


@login_required
def enrol(request: HttpRequest, centre_id: int) -> HttpResponse:
    """The operator enrols a child shared with its organisation (with the family's consent)."""
    user: Any = request.user
    centre = centre_scope.get_centre_or_404(user, centre_id)
    if not permissions.operates(user, centre.operator_id):
        raise PermissionDenied(_("Only the centre's operator may enrol children."))
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        try:
            actions.enrol(
                _actor(request),
                centre,
                {
                    "child": request.POST.get("child", ""),
                    "enrolled_on": request.POST.get("enrolled_on", ""),
                    "age_group": request.POST.get("age_group", ""),
                },
            )
            messages.success(request, _("Child enrolled."))
            return redirect("centre-detail", centre.pk)
        except InputErrors as exc:
            errors = {f: [e.message for e in errs] for f, errs in exc.errors.items()}
            status = 422
    enrolled = centre.enrolments.filter(ended_on__isnull=True).values("child_id")
    candidates: list[Child] = list(scope.children(user).exclude(pk__in=enrolled).order_by("birth_date")[:200])
    log_reads(_actor(request), "centre enrolment form", [c.pk for c in candidates])
    return render(
        request,
        "centres/enrol.html",
        {
            "centre": centre,
            "candidates": candidates,
            "age_groups": [(g, n) for g, n in _names()["age_groups"].items() if centre.capacity.get(g)],
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def attendance(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = centre_scope.get_enrolment_or_404(request.user, enrolment_id)
    try:
        actions.record_attendance(
            _actor(request),
            enrolment,
            {
                "month": request.POST.get("month", ""),
                "days_open": request.POST.get("days_open", ""),
                "days_attended": request.POST.get("days_attended", ""),
            },
        )
    except InputErrors as exc:
        messages.error(request, " ".join(e.message for errs in exc.errors.values() for e in errs))
    else:
        messages.success(request, _("Attendance recorded."))
    return redirect("centre-detail", enrolment.centre_id)


# --- the authority's dashboard ----------------------------------------------------------------------------


def _age_band(days: int) -> str:
    if days < 30:
        return _("under 30 days")
    if days < 90:
        return _("30 to 89 days")
    return _("90 days or more")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Figures only (no person): applications by stage and age, overdue reviews, centres by status and
    territory, and places of authorised centres against the registry's children aged 0–4, per territory
    directly below the user's."""
    user: Any = request.user
    if not permissions.has(user, permissions.READ_CENTRES) or user.territory is None:
        raise PermissionDenied(_("Your role cannot read the childcare dashboard."))
    root: Territory = user.territory
    today = timezone.localdate()
    centres = centre_scope.centres(user)
    applications = Application.objects.filter(centre__in=centres)
    by_stage: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    now = timezone.now()
    for stage, submitted in applications.values_list("stage", "submitted_at"):
        by_stage[stage][_age_band((now - submitted).days)] += 1
    bands = [_("under 30 days"), _("30 to 89 days"), _("90 days or more")]
    stages = [(label, [by_stage[code][b] for b in bands]) for code, label in Stage.choices]
    overdue = (
        Review.objects.filter(application__centre__in=centres, application__stage=Stage.IN_REVIEW, due_on__lt=today)
        .exclude(state__in=DECIDED)
        .values("institution")
        .annotate(n=Count("pk"))
        .order_by("institution")
    )
    names = _names()
    below = list(Territory.objects.filter(parent=root).order_by("code")) or [root]
    rows = []
    birth_floor = today - dt.timedelta(days=5 * 365 + 1)
    for territory in below:
        mine = centres.filter(territory__path__startswith=territory.path)
        statuses = dict(mine.values_list("status").annotate(n=Count("pk")))
        places = sum(c.places for c in mine.filter(status=CentreStatus.AUTHORISED))
        population = Child.unscoped.filter(
            voided_at__isnull=True,
            birth_date__gt=birth_floor,
            birth_date__lte=today,
            territory__path__startswith=territory.path,
        ).count()
        rows.append(
            {
                "territory": territory,
                "statuses": [statuses.get(code, 0) for code in CentreStatus.values],
                "places": places,
                "population": population,
                "coverage": round(100 * places / population, 1) if population else None,
            }
        )
    employers = Employer.objects.filter(territory__path__startswith=root.path)
    threshold = actions.config().employer_obligation_employees
    obliged = employers.filter(employees__gte=threshold)
    return render(
        request,
        "centres/dashboard.html",
        {
            "root": root,
            "stages": stages,
            "bands": bands,
            "overdue": [(names["institutions"].get(o["institution"], o["institution"]), o["n"]) for o in overdue],
            "rows": rows,
            "statuses": CentreStatus.choices,
            "kinds": CentreType.choices,
            "obliged": obliged.count(),
            "obliged_running": obliged.filter(centre__isnull=False).count(),
            "threshold": threshold,
        },
    )


@login_required
def centre_file(request: HttpRequest, kind: str, file_id: int) -> FileResponse:
    """An uploaded document, receipt or evidence file, to those who read the centre; each download audited."""
    entity, stored_name, original_name = centre_scope.file_or_404(request.user, kind, file_id)
    return downloads.send(_actor(request), actions.FILES_AREA, stored_name, original_name, entity)
