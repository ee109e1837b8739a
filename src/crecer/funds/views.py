"""Pages of the funds: the network fund (its allocation, a municipality's report with budget lines and
execution, Excel) and the innovation fund (calls with their ranking, proposals with the panel's conflicts
and scores, awards, disbursements and results reports). Every write goes through :mod:`crecer.funds.actions`;
a refused field shows its error beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crecer.access import permissions
from crecer.audit import downloads
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import xlsx_response
from crecer.funds import actions, files, payloads, scope
from crecer.funds.models import Award, CallState, Conflict, InnovationCall, NetworkFund, Score
from crecer.funds.ranking import rank_call
from crecer.monitoring import definitions
from crecer.territories.models import Territory
from crecer.validation import InputErrors

SOURCE_LABELS = {
    "risk_flags": gettext_lazy("share of children with an open risk flag"),
    "indicator": gettext_lazy("an indicator's frozen value"),
    "none": gettext_lazy("none"),
}


@dataclass
class Field:
    name: str
    label: Any
    kind: str = "text"
    value: Any = ""
    choices: list[tuple[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _form(specs: list[Field], data: Any, errors: dict[str, Any]) -> list[Field]:
    """The fields with what was typed and the errors of each beside it (errors of unknown fields go to the
    first field, so none is lost)."""
    names = {f.name for f in specs}
    for f in specs:
        if data is not None and f.kind != "file":
            f.value = data.get(f.name, f.value)
        f.errors = [e["message"] for key, items in errors.items() for e in items if key.split(".")[0] == f.name]
    stray = [e["message"] for key, items in errors.items() for e in items if key.split(".")[0] not in names]
    if specs and stray:
        specs[0].errors += stray
    return specs


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _exported(request: HttpRequest, entity: Any, note: str) -> None:
    with transaction.atomic():
        record(_actor(request), Action.EXPORT, entity, note=note)


def _may_open(user: Any) -> bool:
    return any(
        permissions.has(user, r)
        for r in (permissions.READ_FUNDS, permissions.SUBMIT_PROPOSALS, permissions.REVIEW_PROPOSALS)
    )


def _territory_choices(user: Any) -> list[tuple[str, Any]]:
    depth_limit = Territory.objects.filter(path__startswith=user.territory.path).exclude(
        level=actions.municipality_level()
    )
    return [(t.code, t.name) for t in depth_limit.order_by("path")[:200]]


# --- home ------------------------------------------------------------------------------------------------


def _fund_fields(user: Any) -> list[Field]:
    return [
        Field("name", _("Name")),
        Field("year", _("Year"), "number"),
        Field("territory_code", _("Territory"), "select", choices=_territory_choices(user)),
        Field("budget", _("Budget"), "decimal"),
        Field("base", _("Base amount for each municipality"), "decimal"),
        Field("vulnerability_weight", _("Vulnerability weight"), "decimal", "1"),
        Field(
            "vulnerability_source",
            _("Vulnerability read from"),
            "select",
            "risk_flags",
            [(k, v) for k, v in SOURCE_LABELS.items()],
        ),
        Field(
            "indicator",
            _("Indicator (when read from an indicator)"),
            "select",
            choices=[("", "—")] + [(i.code, i.name("es")) for i in definitions.indicators()],
        ),
        Field("indicator_period", _("Period of the indicator (2025, 2025-Q2, 2025-07)")),
    ]


def _call_fields(user: Any) -> list[Field]:
    return [
        Field("name", _("Name")),
        Field("territory_code", _("Territory"), "select", choices=_territory_choices(user)),
        Field("opens_on", _("Opens on"), "date"),
        Field("closes_on", _("Closes on"), "date"),
        Field("budget", _("Budget"), "decimal"),
        Field("criteria", _("Criteria, one a line: name; weight; maximum score"), "textarea"),
        Field("reviewers", _("Panel: user names, separated by commas"), "text"),
    ]


def _criteria(text: str) -> list[dict[str, str]]:
    out = []
    for line in text.splitlines():
        if line.strip():
            parts = [p.strip() for p in line.split(";")]
            out.append({"name": parts[0], "weight": (parts[1:2] or ["1"])[0], "max_score": (parts[2:3] or [""])[0]})
    return out


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not _may_open(user):
        raise Http404
    manage = permissions.has(user, permissions.MANAGE_FUNDS)
    errors: dict[str, Any] = {}
    op = request.POST.get("op", "") if request.method == "POST" else ""
    if request.method == "POST":
        if not manage:
            raise PermissionDenied(_("Your role cannot allocate funds or run innovation calls."))
        try:
            if op == "new_fund":
                fund = actions.create_fund(_actor(request), request.POST)
                return redirect("fund", fund.pk)
            if op == "new_call":
                raw = {
                    **request.POST.dict(),
                    "criteria": _criteria(request.POST.get("criteria", "")),
                    "reviewers": [n for n in request.POST.get("reviewers", "").replace(" ", "").split(",") if n],
                }
                call = actions.create_call(_actor(request), raw)
                return redirect("innovation-call", call.pk)
            raise Http404
        except InputErrors as exc:
            errors = exc.as_dict()
    funds = scope.funds(user).select_related("territory")
    calls = scope.calls(user).select_related("territory")
    context = {
        "funds": [(f, actions.money(f.budget_cents)) for f in funds[:100]],
        "calls": [(c, actions.money(c.budget_cents)) for c in calls[:100]],
        "manage": manage,
        "fund_fields": _form(
            _fund_fields(user), request.POST if op == "new_fund" else None, errors if op == "new_fund" else {}
        )
        if manage
        else [],
        "call_fields": _form(
            _call_fields(user), request.POST if op == "new_call" else None, errors if op == "new_call" else {}
        )
        if manage
        else [],
        "open_form": op,
    }
    return render(request, "funds/home.html", context, status=422 if errors else 200)


# --- network fund ----------------------------------------------------------------------------------------


def _rows(user: Any, fund: NetworkFund) -> list[dict[str, Any]]:
    rows = list(scope.allocations(user).filter(fund=fund).select_related("municipality", "fund"))
    totals = payloads.sums(rows)
    return [payloads.allocation_payload(a, *totals[a.pk]) | {"object": a} for a in rows]


@login_required
def fund_page(request: HttpRequest, fund_id: int) -> HttpResponse:
    user: Any = request.user
    fund = scope.get_fund_or_404(user, fund_id)
    manage = actions.may_manage(user, fund.territory)
    errors: dict[str, Any] = {}
    if request.method == "POST":
        if not manage:
            raise PermissionDenied(_("Your role cannot allocate funds or run innovation calls."))
        try:
            actions.allocate(_actor(request), fund)
            return redirect("fund", fund.pk)
        except InputErrors as exc:
            errors = exc.as_dict()
    rows = _rows(user, fund)
    for r in rows:
        r["amount_text"] = actions.money(r["amount_cents"])
        r["planned_text"] = actions.money(r["planned_cents"])
        r["executed_text"] = actions.money(r["executed_cents"])
    return render(
        request,
        "funds/fund.html",
        {
            "fund": fund,
            "budget": actions.money(fund.budget_cents),
            "base": actions.money(fund.base_cents),
            "source": SOURCE_LABELS.get(fund.vulnerability_source, ""),
            "indicator": next((i.name("es") for i in definitions.indicators() if i.code == fund.indicator), ""),
            "rows": rows,
            "total": actions.money(sum(r["amount_cents"] for r in rows)),
            "manage": manage,
            "errors": [e["message"] for items in errors.values() for e in items],
        },
        status=422 if errors else 200,
    )


@login_required
def fund_xlsx(request: HttpRequest, fund_id: int) -> HttpResponse:
    fund = scope.get_fund_or_404(request.user, fund_id)
    header = [
        _("municipality"),
        _("children"),
        _("vulnerability"),
        _("weight"),
        _("base"),
        _("share"),
        _("amount"),
        _("planned"),
        _("executed"),
    ]
    rows = [
        [
            r["name"],
            r["children"],
            r["vulnerability_display"],
            r["weight"],
            r["base"],
            r["share"],
            r["amount"],
            actions.money(r["planned_cents"]),
            actions.money(r["executed_cents"]),
        ]
        for r in _rows(request.user, fund)
    ]
    _exported(request, fund, f"xlsx network fund {fund.year}")
    return xlsx_response(header, rows, f"fondo-redes-{fund.year}")


def _line_fields() -> list[Field]:
    return [Field("activity", _("Activity")), Field("amount", _("Amount"), "decimal")]


def _execution_fields() -> list[Field]:
    return [
        Field("line", _("Budget line"), "hidden"),
        Field("date", _("Date"), "date"),
        Field("amount", _("Amount"), "decimal"),
        Field("description", _("Description")),
    ]


@login_required
def allocation_page(request: HttpRequest, allocation_id: int) -> HttpResponse:
    """A municipality's report: allocation, budget lines, execution; the forms of who may plan and record."""
    user: Any = request.user
    allocation = scope.get_allocation_or_404(user, allocation_id)
    plan = actions.may_plan(user, allocation.municipality)
    execute = actions.may_execute(user, allocation.municipality)
    errors: dict[str, Any] = {}
    op = request.POST.get("op", "") if request.method == "POST" else ""
    error_line = None
    if request.method == "POST":
        try:
            if op == "add_line" and plan:
                actions.add_line(_actor(request), allocation, request.POST)
            elif op == "record_spending" and execute:
                line = allocation.lines.filter(pk=str(request.POST.get("line", "")).strip() or 0).first()
                if line is None:
                    raise Http404
                error_line = line.pk
                actions.record_execution(_actor(request), line, request.POST)
            else:
                raise PermissionDenied(_("You cannot plan this municipality's network fund."))
            return redirect("fund-allocation", allocation.pk)
        except InputErrors as exc:
            errors = exc.as_dict()
    report = payloads.report_payload(allocation)
    for line in report["lines"]:
        line["executed_text"] = actions.money(line["executed_cents"])
        posted = op == "record_spending" and error_line == line["id"]
        line["fields"] = _form(_execution_fields(), request.POST if posted else None, errors if posted else {})
        line["fields"][0].value = line["id"]
    return render(
        request,
        "funds/allocation.html",
        {
            "allocation": allocation,
            "report": report,
            "planned": actions.money(report["planned_cents"]),
            "executed": actions.money(report["executed_cents"]),
            "plan": plan,
            "execute": execute,
            "line_fields": _form(
                _line_fields(), request.POST if op == "add_line" else None, errors if op == "add_line" else {}
            ),
        },
        status=422 if errors else 200,
    )


@login_required
def allocation_xlsx(request: HttpRequest, allocation_id: int) -> HttpResponse:
    allocation = scope.get_allocation_or_404(request.user, allocation_id)
    report = payloads.report_payload(allocation)
    header = [_("activity"), _("planned"), _("date"), _("executed"), _("description")]
    rows: list[list[Any]] = []
    for line in report["lines"]:
        rows.append([line["activity"], line["amount"], "", actions.money(line["executed_cents"]), ""])
        rows += [["", "", e["date"], e["amount"], e["description"]] for e in line["executions"]]
    rows.append([])
    rows.append([_("allocation"), report["amount"]])
    rows.append([_("planned"), actions.money(report["planned_cents"])])
    rows.append([_("executed"), actions.money(report["executed_cents"])])
    _exported(request, allocation, f"xlsx network fund {allocation.fund.year} {allocation.municipality.code}")
    return xlsx_response(header, rows, f"fondo-redes-{allocation.fund.year}-{allocation.municipality.code}")


# --- innovation fund -------------------------------------------------------------------------------------


def _proposal_fields() -> list[Field]:
    return [
        Field("title", _("Title")),
        Field("summary", _("Summary"), "textarea"),
        Field("requested", _("Amount requested"), "decimal"),
        Field("file", _("Attachment (PDF, spreadsheet, document or picture)"), "file"),
    ]


def _may_propose(user: Any, call: InnovationCall) -> bool:
    return permissions.has(user, permissions.SUBMIT_PROPOSALS) and call.state == CallState.OPEN


@login_required
def call_page(request: HttpRequest, call_id: int) -> HttpResponse:
    user: Any = request.user
    call = scope.get_call_or_404(user, call_id)
    manage = actions.may_manage(user, call.territory)
    errors: dict[str, Any] = {}
    op = request.POST.get("op", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            if op == "close_submissions" and manage:
                actions.close_submissions(_actor(request), call)
            elif op == "close_panel" and manage:
                actions.close_panel(_actor(request), call)
            elif op == "submit_proposal" and _may_propose(user, call):
                proposal = actions.submit_proposal(_actor(request), call, request.POST, request.FILES.getlist("file"))
                return redirect("innovation-proposal", proposal.pk)
            else:
                raise PermissionDenied(_("Your role cannot allocate funds or run innovation calls."))
            return redirect("innovation-call", call.pk)
        except InputErrors as exc:
            errors = exc.as_dict()
    visible = set(scope.proposals(user).filter(call=call).values_list("pk", flat=True))
    ranking = [r for r in rank_call(call) if r.proposal.pk in visible]
    payload = payloads.call_payload(call)
    return render(
        request,
        "funds/call.html",
        {
            "call": call,
            "budget": actions.money(call.budget_cents),
            "awarded": actions.money(payload["awarded_cents"]),
            "criteria": call.criteria.all(),
            "reviewers": call.reviewers.all(),
            "ranking": [
                (
                    r,
                    payloads.decimal_text(r.score, 2),
                    actions.money(r.proposal.requested_cents),
                    actions.money(r.awarded_cents) if r.awarded_cents is not None else None,
                )
                for r in ranking
            ],
            "manage": manage,
            "propose": _may_propose(user, call),
            "proposal_fields": _form(
                _proposal_fields(),
                request.POST if op == "submit_proposal" else None,
                errors if op == "submit_proposal" else {},
            ),
            "errors": [e["message"] for items in errors.values() for e in items] if op != "propose" else [],
        },
        status=422 if errors else 200,
    )


@login_required
def calls_xlsx(request: HttpRequest, call_id: int) -> HttpResponse:
    call = scope.get_call_or_404(request.user, call_id)
    visible = set(scope.proposals(request.user).filter(call=call).values_list("pk", flat=True))
    header = [_("rank"), _("proposal"), _("applicant"), _("score"), _("reviews"), _("requested"), _("awarded")]
    rows = [
        [
            r.rank or "",
            r.proposal.title,
            r.proposal.organisation.name if r.proposal.organisation else r.proposal.territory.name,
            payloads.decimal_text(r.score, 2) or "",
            r.reviews,
            actions.money(r.proposal.requested_cents),
            actions.money(r.awarded_cents) if r.awarded_cents is not None else "",
        ]
        for r in rank_call(call)
        if r.proposal.pk in visible
    ]
    _exported(request, call, "xlsx innovation call ranking")
    return xlsx_response(header, rows, f"convocatoria-{call.pk}")


@login_required
def proposal_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    user: Any = request.user
    proposal = scope.get_proposal_or_404(user, proposal_id)
    call = proposal.call
    manage = actions.may_manage(user, call.territory)
    on_panel = permissions.has(user, permissions.REVIEW_PROPOSALS) and call.reviewers.filter(pk=user.pk).exists()
    conflicted = Conflict.objects.filter(proposal=proposal, reviewer=user).exists()
    award = Award.objects.filter(proposal=proposal).first()
    errors: dict[str, Any] = {}
    op = request.POST.get("op", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            if op == "declare_conflict":
                actions.declare_conflict(_actor(request), proposal, request.POST.get("reason", ""))
            elif op == "save_scores":
                raw = {k[len("score_") :]: v for k, v in request.POST.items() if k.startswith("score_") and v != ""}
                actions.score(_actor(request), proposal, raw)
            elif op == "give_award":
                actions.award(_actor(request), proposal, request.POST.get("amount"))
            elif op == "pay" and award is not None:
                actions.disburse(_actor(request), award, request.POST)
            elif op == "report_results" and award is not None:
                actions.report_results(_actor(request), award, request.POST.get("text", ""), request.FILES.get("file"))
            else:
                raise Http404
            return redirect("innovation-proposal", proposal.pk)
        except InputErrors as exc:
            errors = exc.as_dict()
    mine = {s.criterion_id: s.score for s in Score.objects.filter(proposal=proposal, reviewer=user)}
    criteria = [
        {
            "c": c,
            "value": request.POST.get(f"score_{c.pk}", mine.get(c.pk, ""))
            if op == "save_scores"
            else mine.get(c.pk, ""),
            "errors": [e["message"] for e in errors.get(f"scores.{c.pk}", [])] if op == "save_scores" else [],
        }
        for c in call.criteria.all()
    ]
    payload = payloads.proposal_payload(proposal)

    def fields_of(kind: str, specs: list[Field]) -> list[Field]:
        return _form(specs, request.POST if op == kind else None, errors if op == kind else {})

    return render(
        request,
        "funds/proposal.html",
        {
            "proposal": proposal,
            "call": call,
            "requested": actions.money(proposal.requested_cents),
            "files": proposal.files.all(),
            "award": payload["award"],
            "award_object": award,
            "manage": manage,
            "on_panel": on_panel and call.state == CallState.REVIEW,
            "conflicted": conflicted,
            "criteria": criteria,
            "score_errors": [
                e["message"]
                for k, items in errors.items()
                if op == "save_scores" and not k.startswith("scores.")
                for e in items
            ],
            "conflict_fields": fields_of(
                "declare_conflict", [Field("reason", _("Why you have a conflict of interest"))]
            ),
            "award_fields": fields_of(
                "give_award",
                [Field("amount", _("Amount to award"), "decimal", actions.money(proposal.requested_cents))],
            ),
            "disburse_fields": fields_of(
                "disburse",
                [Field("date", _("Date"), "date"), Field("amount", _("Amount"), "decimal"), Field("note", _("Note"))],
            ),
            "report_fields": fields_of(
                "report",
                [Field("text", _("Results"), "textarea"), Field("file", _("Attachment (optional)"), "file")],
            ),
            "may_award": manage and call.state == CallState.REVIEW and award is None,
            "may_report": award is not None and actions.may_report(user, proposal),
        },
        status=422 if errors else 200,
    )


@login_required
def proposal_file(request: HttpRequest, proposal_id: int, file_id: int) -> Any:
    proposal = scope.get_proposal_or_404(request.user, proposal_id)
    item = scope.get_file_or_404(request.user, proposal, file_id)
    return downloads.send(_actor(request), files.AREA, item.stored_name, item.original_name, item)
