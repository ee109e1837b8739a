"""API for money on results: agreements, their evaluation and appeals, incentive distributions, award results.

National and regional managers create, sign and evaluate (their territory and below); a municipality's
coordinator reads its own agreements and appeals their evaluations; auditors read those of their territory.
An agreement outside the user's territory answers 404."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError

from crecer.access import permissions
from crecer.api.base import actor, paginate
from crecer.results import actions, programmes, scope
from crecer.results.models import AwardEdition, AwardResult, Distribution, Evaluation, IncentiveProgramme, Tranche
from crecer.results.payloads import agreement_payload, appeal_payload, evaluation_payload, money_text
from crecer.validation import Collector

router = Router(tags=["results"])
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


def _body(request: HttpRequest) -> dict[str, Any]:
    """The JSON body (a form's fields when the request is not JSON; nothing when it has no body)."""
    if not (request.content_type or "").endswith("json"):
        return {k: v for k, v in request.POST.items()}
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "malformed") from exc
    if not isinstance(body, dict):
        raise HttpError(400, "malformed")
    return body


def _tranche(request: HttpRequest, agreement_id: int, number: int) -> Tranche:
    agreement = scope.get_agreement_or_404(request.user, agreement_id)
    tranche = agreement.tranches.filter(number=number).first()
    if tranche is None:
        raise Http404
    tranche.agreement = agreement
    return tranche


@router.get("/agreements")
def list_agreements(request: HttpRequest, page: int = 1, period: str = "", state: str = "") -> dict[str, Any]:
    """Agreements of your territory (a municipality's coordinator: their municipality's)."""
    queryset = scope.agreements(request.user).select_related("territory", "organisation").order_by("code")
    if period:
        queryset = queryset.filter(period=period)
    if state:
        queryset = queryset.filter(state=state)
    items, pages = paginate(queryset, page)
    return {**pages, "results": [agreement_payload(a) for a in items]}


@router.post("/agreements", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def create_agreement(request: HttpRequest) -> Status[dict[str, Any]]:
    """One agreement (``territory_code`` or ``organisation_code``, ``period``, ``total``, ``currency``,
    ``tranches`` with their ``conditions``); or, with ``region_code``, ``base`` and ``per_child``, the same
    agreement for every municipality of the region, each total = base + per child × its children."""
    body = _body(request)
    if body.get("region_code"):
        created = actions.create_for_region(
            actor(request), str(body["region_code"]), body, body.get("base"), body.get("per_child")
        )
        return Status(201, {"results": [agreement_payload(a) for a in created]})
    agreement = actions.create_agreement(actor(request), body)
    return Status(201, agreement_payload(agreement, detail=True))


@router.get("/agreements/{agreement_id}")
def get_agreement(request: HttpRequest, agreement_id: int) -> dict[str, Any]:
    """An agreement with its tranches, conditions, every version of each evaluation and the appeals."""
    return agreement_payload(scope.get_agreement_or_404(request.user, agreement_id), detail=True)


@router.post("/agreements/{agreement_id}/sign")
def sign_agreement(request: HttpRequest, agreement_id: int) -> dict[str, Any]:
    agreement = actions.sign(actor(request), scope.get_agreement_or_404(request.user, agreement_id))
    return agreement_payload(agreement)


@router.post("/agreements/{agreement_id}/tranches/{number}/evaluate", response={201: dict[str, Any]})
def evaluate_tranche(request: HttpRequest, agreement_id: int, number: int) -> Status[dict[str, Any]]:
    """Evaluate the tranche on the latest snapshot revision of each period its conditions read: each
    condition's value, target and compliance, the weighted compliance, the amount and the snapshots used."""
    tranche = _tranche(request, agreement_id, number)
    reason = str(_body(request).get("reason") or "")
    return Status(201, evaluation_payload(actions.evaluate(actor(request), tranche, reason=reason)))


@router.post("/agreements/{agreement_id}/tranches/{number}/appeal", response={201: dict[str, Any]})
def appeal_tranche(request: HttpRequest, agreement_id: int, number: int) -> Status[dict[str, Any]]:
    """Appeal the tranche's latest evaluation: ``text`` and, as evidence, a ``file`` (multipart) or
    ``{"file": {"name", "content_base64"}}`` (JSON)."""
    tranche = _tranche(request, agreement_id, number)
    latest = Evaluation.objects.filter(tranche=tranche).order_by("-version").first()
    if latest is None:
        errors = Collector()
        errors.add("evaluation", "not_evaluated", _("This tranche has not been evaluated yet."))
        errors.raise_if_any()
    assert latest is not None
    text, file = _text_and_file(request, "text")
    return Status(201, appeal_payload(actions.file_appeal(actor(request), latest, text, file)))


def _text_and_file(request: HttpRequest, field: str) -> tuple[str, Any]:
    """A text field and a file: multipart (``file``) or JSON (``{"file": {"name", "content_base64"}}``)."""
    if (request.content_type or "").startswith("multipart/"):
        return request.POST.get(field, ""), request.FILES.get("file")
    body = _body(request)
    raw = body.get("file")
    file = None
    if isinstance(raw, dict):
        try:
            content = base64.b64decode(str(raw.get("content_base64") or ""), validate=True)
        except (binascii.Error, ValueError):
            errors = Collector()
            errors.add("file", "invalid", _("The file is not valid base64."))
            errors.raise_if_any()
        file = SimpleUploadedFile(str(raw.get("name") or "file"), content)
    return str(body.get(field) or ""), file


@router.post("/agreements/{agreement_id}/reports", response={201: dict[str, Any]})
def attach_report(request: HttpRequest, agreement_id: int) -> Status[dict[str, Any]]:
    """Attach a technical report to an agreement: ``title`` and ``file`` (multipart, or JSON base64)."""
    agreement = scope.get_agreement_or_404(request.user, agreement_id)
    title, file = _text_and_file(request, "title")
    if file is None:
        errors = Collector()
        errors.add("file", "required", _("Attach the file."))
        errors.raise_if_any()
    report = actions.attach_report(actor(request), agreement, title, file)
    return Status(201, {"id": report.pk, "title": report.title, "file": report.original_name, "sha256": report.sha256})


@router.post("/appeals/{appeal_id}/decide", openapi_extra=JSON_BODY)
def decide_appeal(request: HttpRequest, appeal_id: int) -> dict[str, Any]:
    """``{"decision": "recompute" | "reject", "reason"}``: recomputing takes a new snapshot revision of the
    periods read and evaluates again (a new version); rejecting keeps the evaluation."""
    appeal = scope.appeal_or_404(request.user, appeal_id)
    body = _body(request)
    new = actions.decide_appeal(actor(request), appeal, str(body.get("decision") or ""), str(body.get("reason") or ""))
    appeal.refresh_from_db()
    return {"appeal": appeal_payload(appeal), "evaluation": evaluation_payload(new) if new else None}


# --- incentives ------------------------------------------------------------------------------------------


def _programme(request: HttpRequest, programme_id: int) -> IncentiveProgramme:
    user: Any = request.user
    programme = IncentiveProgramme.objects.filter(pk=programme_id).first()
    if programme is None or not permissions.has(user, permissions.READ_RESULTS):
        raise Http404
    if not programme.territories.filter(path__startswith=user.territory.path).exists():
        raise Http404
    return programme


def distribution_payload(programme: IncentiveProgramme, d: Distribution, user: Any) -> dict[str, Any]:
    rows = [r for r in d.rows if permissions.within(user, _path(r["territory"]))]
    return {
        "programme": programme.code,
        "name": programme.name,
        "period": programme.period,
        "budget": money_text(programme.budget_cents),
        "budget_cents": programme.budget_cents,
        "currency": programme.currency,
        "by_population": programme.by_population,
        "version": d.version,
        "snapshots": sorted(set(d.snapshots.values())),
        "definitions": d.definitions,
        "distributed_cents": sum(r["amount_cents"] for r in d.rows),
        "results": [
            {
                "territory": r["code"],
                "name": r["name"],
                "weighted_compliance": float(r["weighted_compliance"]),
                "population": r["population"],
                "amount": money_text(r["amount_cents"]),
                "amount_cents": r["amount_cents"],
            }
            for r in rows
        ],
    }


def _path(territory_id: int) -> str:
    from crecer.territories.models import Territory

    return Territory.objects.values_list("path", flat=True).get(pk=territory_id)


@router.post("/incentives", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def create_programme(request: HttpRequest) -> Status[dict[str, Any]]:
    programme = programmes.create_programme(actor(request), _body(request))
    return Status(201, {"id": programme.pk, "code": programme.code})


@router.post("/incentives/{programme_id}/distribute", response={201: dict[str, Any]})
def distribute(request: HttpRequest, programme_id: int) -> Status[dict[str, Any]]:
    programme = _programme(request, programme_id)
    item = programmes.distribute(actor(request), programme)
    return Status(201, distribution_payload(programme, item, request.user))


@router.get("/incentives/{programme_id}/distribution")
def get_distribution(request: HttpRequest, programme_id: int) -> dict[str, Any]:
    """The latest distribution of the budget (rows of your territory), with the snapshots it used."""
    programme = _programme(request, programme_id)
    item = programme.distributions.order_by("-version").first()
    if item is None:
        raise Http404
    return distribution_payload(programme, item, request.user)


# --- awards ----------------------------------------------------------------------------------------------


def results_payload(edition: AwardEdition, result: AwardResult) -> dict[str, Any]:
    return {
        "edition": edition.code,
        "name": edition.name,
        "period": edition.period,
        "version": result.version,
        "snapshots": sorted(set(result.snapshots.values())),
        "levels": edition.levels,
        "results": [
            {k: r[k] for k in ("code", "name", "category", "children", "eligible", "score", "rank", "level")}
            | {"territory": r["code"], "quality_failed": r["quality_failed"], "criteria_met": r["criteria_met"]}
            for r in result.rows
        ],
    }


@router.post("/awards", response={201: dict[str, Any]}, openapi_extra=JSON_BODY)
def create_edition(request: HttpRequest) -> Status[dict[str, Any]]:
    edition = programmes.create_edition(actor(request), _body(request))
    return Status(201, {"id": edition.pk, "code": edition.code})


@router.post("/awards/{edition_id}/compute", response={201: dict[str, Any]})
def compute_awards(request: HttpRequest, edition_id: int) -> Status[dict[str, Any]]:
    edition = AwardEdition.objects.filter(pk=edition_id).first()
    if edition is None:
        raise Http404
    # An edition ranks every municipality of the country: only a manager of the whole country computes it.
    result = programmes.compute_awards(actor(request), edition)
    return Status(201, results_payload(edition, result))


@router.get("/awards/{edition_id}/results")
def award_results(request: HttpRequest, edition_id: int) -> dict[str, Any]:
    """Scores, ranks and levels of the latest computation (awards are public: any signed-in user)."""
    edition = AwardEdition.objects.filter(pk=edition_id).first()
    result = edition.results.order_by("-version").first() if edition else None
    if edition is None or result is None:
        raise Http404
    return results_payload(edition, result)
