"""API of the funds: the network fund (configuration, allocation by formula, budget lines, execution, a
municipality's report) and the innovation fund (calls, proposals with attachments, the panel's conflicts
and scores, ranking, awards, disbursements, results reports).

National and regional managers configure, allocate, open calls, name the panel, award and disburse (their
territory and below); a municipality's coordinator reads its own allocation, plans its budget lines,
records its execution and proposes (an organisation's staff propose for it); the reviewers designated on a
call score its proposals; auditors read. Anything outside the user's scope answers 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Status

from crecer.api.base import actor, paginate
from crecer.api.results import JSON_BODY, _body, _text_and_file
from crecer.funds import actions, payloads, scope
from crecer.funds.ranking import rank_call

router = Router(tags=["funds"])


# --- network fund ----------------------------------------------------------------------------------------


@router.get("/funds/network")
def list_funds(request: HttpRequest, page: int = 1, year: int | None = None) -> dict[str, Any]:
    """Network funds that cover your territory or lie within it, newest year first."""
    queryset = scope.funds(request.user).select_related("territory").order_by("-year", "territory__path")
    if year is not None:
        queryset = queryset.filter(year=year)
    items, pages = paginate(queryset, page)
    return {**pages, "results": [payloads.fund_payload(f) for f in items]}


@router.post("/funds/network", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def create_fund(request: HttpRequest) -> Status[dict[str, Any]]:
    """A year's fund: ``year``, ``name``, ``territory_code``, ``budget``, ``currency``, ``base`` (each
    municipality), ``vulnerability_weight`` (k), ``vulnerability_source`` (``risk_flags``, ``indicator`` with
    ``indicator`` and ``indicator_period``, or ``none``). The formula: docs/funds.md."""
    return Status(201, payloads.fund_payload(actions.create_fund(actor(request), _body(request))))


@router.post("/funds/network/{fund_id}/allocate")
def allocate(request: HttpRequest, fund_id: int) -> dict[str, Any]:
    """Compute the allocation of every municipality (again, while no budget line is planned): base +
    a share of the rest by children × (1 + k × vulnerability), adding up to the budget to the cent."""
    fund = scope.get_fund_or_404(request.user, fund_id)
    rows = actions.allocate(actor(request), fund)
    return {
        "fund": payloads.fund_payload(fund),
        "total_cents": sum(a.amount_cents for a in rows),
        "results": [payloads.allocation_payload(a) for a in rows],
    }


@router.get("/funds/network/{year}/allocation")
def year_allocation(request: HttpRequest, year: int) -> dict[str, Any]:
    """The year's allocation: every municipality of your territory with its children, vulnerability, weight,
    base, share and amount (and what is planned and executed), for each fund of the year you can read."""
    funds = list(scope.funds(request.user).filter(year=year).select_related("territory").order_by("territory__path"))
    if not funds:
        raise Http404
    rows = list(
        scope.allocations(request.user)
        .filter(fund__in=funds)
        .select_related("municipality", "fund")
        .order_by("fund__territory__path", "municipality__code")
    )
    totals = payloads.sums(rows)
    return {
        "year": year,
        "funds": [payloads.fund_payload(f) for f in funds],
        "total_cents": sum(a.amount_cents for a in rows),
        "results": [payloads.allocation_payload(a, *totals[a.pk]) for a in rows],
    }


@router.get("/funds/network/allocations/{allocation_id}")
def municipality_report(request: HttpRequest, allocation_id: int) -> dict[str, Any]:
    """A municipality's report: its allocation, its budget lines and the execution recorded on each."""
    return payloads.report_payload(scope.get_allocation_or_404(request.user, allocation_id))


@router.post(
    "/funds/network/allocations/{allocation_id}/lines", response={201: dict[str, Any]}, openapi_extra=JSON_BODY
)
def add_line(request: HttpRequest, allocation_id: int) -> Status[dict[str, Any]]:
    """A budget line (``activity``, ``amount``); the lines of an allocation never exceed it (422 on
    ``amount``)."""
    allocation = scope.get_allocation_or_404(request.user, allocation_id)
    line = actions.add_line(actor(request), allocation, _body(request))
    return Status(201, {"id": line.pk, "activity": line.activity, "amount_cents": line.amount_cents})


@router.post("/funds/network/lines/{line_id}/executions", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def record_execution(request: HttpRequest, line_id: int) -> Status[dict[str, Any]]:
    """Money spent on a line's activity (``date`` in the fund's year, ``amount``, ``description``); never
    beyond the line (422 on ``amount``). The municipality's coordinator records it."""
    line = scope.get_line_or_404(request.user, line_id)
    item = actions.record_execution(actor(request), line, _body(request))
    return Status(201, {"id": item.pk, "date": item.date.isoformat(), "amount_cents": item.amount_cents})


# --- innovation fund -------------------------------------------------------------------------------------


@router.get("/funds/calls")
def list_calls(request: HttpRequest, page: int = 1) -> dict[str, Any]:
    """Innovation calls of your territory (or covering it), and those whose panel you are on."""
    items, pages = paginate(scope.calls(request.user).select_related("territory").order_by("-opens_on", "pk"), page)
    return {**pages, "results": [payloads.call_payload(c) for c in items]}


@router.post("/funds/calls", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def create_call(request: HttpRequest) -> Status[dict[str, Any]]:
    """A call: ``name``, ``territory_code``, ``opens_on``, ``closes_on``, ``budget``, ``currency``,
    ``criteria`` (``[{name, weight, max_score}]``), ``reviewers`` (user names who may review: the panel)."""
    return Status(201, payloads.call_payload(actions.create_call(actor(request), _body(request))))


@router.get("/funds/calls/{call_id}")
def get_call(request: HttpRequest, call_id: int) -> dict[str, Any]:
    """A call with its criteria and panel, and the ranking of the proposals you may read (rank, score from
    0 to 100, complete reviews, whether the budget left would fund it, the amount awarded)."""
    call = scope.get_call_or_404(request.user, call_id)
    visible = set(scope.proposals(request.user).filter(call=call).values_list("pk", flat=True))
    return {
        **payloads.call_payload(call),
        "ranking": [payloads.row_payload(r) for r in rank_call(call) if r.proposal.pk in visible],
    }


@router.post("/funds/calls/{call_id}/reviewers", openapi_extra=JSON_BODY)
def set_reviewers(request: HttpRequest, call_id: int) -> dict[str, Any]:
    """``{"reviewers": [user names]}``: the panel (users who may review proposals)."""
    call = scope.get_call_or_404(request.user, call_id)
    return payloads.call_payload(actions.set_reviewers(actor(request), call, _body(request).get("reviewers")))


@router.post("/funds/calls/{call_id}/close-submissions")
def close_submissions(request: HttpRequest, call_id: int) -> dict[str, Any]:
    """Open → panel review (422 on ``state`` from any other state)."""
    call = scope.get_call_or_404(request.user, call_id)
    return payloads.call_payload(actions.close_submissions(actor(request), call))


@router.post("/funds/calls/{call_id}/decide")
def decide(request: HttpRequest, call_id: int) -> dict[str, Any]:
    """Panel review → decided: no more scores or awards (422 on ``state`` from any other state)."""
    call = scope.get_call_or_404(request.user, call_id)
    return payloads.call_payload(actions.close_panel(actor(request), call))


@router.post("/funds/calls/{call_id}/proposals", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def submit_proposal(request: HttpRequest, call_id: int) -> Status[dict[str, Any]]:
    """A proposal of your municipality or organisation: ``title``, ``summary``, ``requested``, and a ``file``
    (multipart, or JSON ``{"file": {"name", "content_base64"}}``)."""
    call = scope.get_call_or_404(request.user, call_id)
    if (request.content_type or "").startswith("multipart/"):
        body: dict[str, Any] = {k: v for k, v in request.POST.items()}
        attachments = request.FILES.getlist("file")
    else:
        body = _body(request)
        _, file = _text_and_file(request, "title")
        attachments = [file] if file is not None else []
    proposal = actions.submit_proposal(actor(request), call, body, attachments)
    return Status(201, payloads.proposal_payload(proposal))


@router.get("/funds/proposals/{proposal_id}")
def get_proposal(request: HttpRequest, proposal_id: int) -> dict[str, Any]:
    """A proposal with its files, and its award, disbursements and results reports when awarded."""
    return payloads.proposal_payload(scope.get_proposal_or_404(request.user, proposal_id))


@router.post("/funds/proposals/{proposal_id}/conflict", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def declare_conflict(request: HttpRequest, proposal_id: int) -> Status[dict[str, Any]]:
    """A panel member's conflict of interest (``reason``): they can no longer score the proposal (403
    ``not_on_panel`` for anyone else)."""
    proposal = scope.get_proposal_or_404(request.user, proposal_id)
    item = actions.declare_conflict(actor(request), proposal, str(_body(request).get("reason") or ""))
    return Status(201, {"id": item.pk, "proposal": proposal.pk})


@router.post("/funds/proposals/{proposal_id}/scores", openapi_extra=JSON_BODY)
def score(request: HttpRequest, proposal_id: int) -> dict[str, Any]:
    """``{"scores": {"<criterion id>": score}}`` from 0 to each criterion's maximum; 403 with the message
    that you declared a conflict of interest, or that you are not on the call's panel."""
    proposal = scope.get_proposal_or_404(request.user, proposal_id)
    scores = _body(request).get("scores")
    items = actions.score(actor(request), proposal, scores if isinstance(scores, dict) else {})
    return {"proposal": proposal.pk, "scores": {str(s.criterion_id): s.score for s in items}}


@router.post("/funds/proposals/{proposal_id}/award", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def award(request: HttpRequest, proposal_id: int) -> Status[dict[str, Any]]:
    """Award a ranked proposal (``amount``, the requested one by default); the awards never exceed the
    call's budget (422 on ``amount``)."""
    proposal = scope.get_proposal_or_404(request.user, proposal_id)
    actions.award(actor(request), proposal, _body(request).get("amount"))
    return Status(201, payloads.proposal_payload(proposal))


@router.post("/funds/awards/{award_id}/disbursements", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def disburse(request: HttpRequest, award_id: int) -> Status[dict[str, Any]]:
    """A payment of an award (``date``, ``amount``, ``note``); never beyond the award (422 on ``amount``)."""
    item = scope.get_award_or_404(request.user, award_id)
    d = actions.disburse(actor(request), item, _body(request))
    return Status(201, {"id": d.pk, "date": d.date.isoformat(), "amount_cents": d.amount_cents})


@router.post("/funds/awards/{award_id}/reports", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def report_results(request: HttpRequest, award_id: int) -> Status[dict[str, Any]]:
    """The project's results, by its applicant: ``text`` and optionally a ``file`` (multipart or base64)."""
    item = scope.get_award_or_404(request.user, award_id)
    text, file = _text_and_file(request, "text")
    report = actions.report_results(actor(request), item, text, file)
    return Status(201, {"id": report.pk, "file": report.file_id})
