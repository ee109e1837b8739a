"""Pages of money on results: agreements and their tranches' reports (page, PDF, Excel), appeals, the
distribution of an incentive programme and the public page and certificates of an award edition."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import xlsx_response
from crecer.monitoring import definitions, quality
from crecer.results import actions, scope
from crecer.results.models import (
    Agreement,
    AgreementState,
    Appeal,
    AppealState,
    AwardEdition,
    Evaluation,
    IncentiveProgramme,
    Tranche,
)
from crecer.results.payloads import money_text
from crecer.validation import InputErrors

RULE_LABELS = {
    "at_period_end": gettext_lazy("value at the end of the period"),
    "months_met": gettext_lazy("months meeting the target"),
    "improvement": gettext_lazy("improvement on the baseline"),
}
PAYMENT_LABELS = {
    "all_or_nothing": gettext_lazy("all or nothing"),
    "proportional": gettext_lazy("proportional"),
    "threshold": gettext_lazy("threshold"),
}
LEVEL_LABELS = {"gold": gettext_lazy("Gold"), "silver": gettext_lazy("Silver"), "bronze": gettext_lazy("Bronze")}


def _names() -> dict[str, str]:
    language = get_language() or "es"
    return {i.code: i.name(language) for i in (*definitions.indicators(), *quality.QUALITY)}


def _actor(request: HttpRequest) -> Actor:
    return Actor(request.user, Channel.WEB)  # type: ignore[arg-type]


def _may_manage(user: Any, agreement: Agreement) -> bool:
    return permissions.has(user, permissions.MANAGE_RESULTS) and permissions.within(user, agreement.territory.path)


def _may_appeal(user: Any, agreement: Agreement) -> bool:
    return permissions.has(user, permissions.APPEAL_RESULTS) and permissions.within(user, agreement.territory.path)


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    agreements = scope.agreements(request.user).select_related("territory").order_by("code")
    period = request.GET.get("period", "")
    if period:
        agreements = agreements.filter(period=period)
    return render(
        request,
        "results/agreements.html",
        {
            "agreements": [(a, money_text(a.total_cents)) for a in agreements[:500]],
            "period": period,
            "open_appeals": Appeal.objects.filter(
                state=AppealState.OPEN, evaluation__tranche__agreement__in=agreements
            ).count(),
        },
    )


def _condition_rows(item: Evaluation | None, names: dict[str, str]) -> list[dict[str, Any]]:
    if item is None:
        return []
    rows = []
    for c in item.conditions:
        periods = c["periods"]
        rows.append(
            {
                **c,
                "name": names.get(c["indicator"], c["indicator"]),
                "rule_label": RULE_LABELS.get(c["rule"], c["rule"]),
                "compliance_percent": round(float(c["compliance"]) * 100, 2),
                # the figure of each period, opening onto the children behind it
                "figures": [(p, c["values"].get(p), c["snapshots"].get(p)) for p in periods],
            }
        )
    return rows


@login_required
def agreement_detail(request: HttpRequest, agreement_id: int) -> HttpResponse:
    agreement = scope.get_agreement_or_404(request.user, agreement_id)
    user: Any = request.user
    errors: dict[str, Any] = {}
    if request.method == "POST":
        if not _may_manage(user, agreement):
            raise Http404
        try:
            step = request.POST.get("op", "")
            if step not in actions.TRANSITIONS:
                raise Http404
            actions.transition(_actor(request), agreement, step)
            return redirect("agreement", agreement.pk)
        except InputErrors as exc:
            errors = exc.as_dict()
    tranches = []
    for t in agreement.tranches.order_by("number"):
        latest = t.evaluations.order_by("-version").first()
        tranches.append(
            {
                "tranche": t,
                "amount": money_text(t.amount_cents),
                "rule": PAYMENT_LABELS.get(t.payment_rule, t.payment_rule),
                "latest": latest,
                "paid": money_text(latest.amount_cents) if latest else None,
                "conditions": t.conditions.count(),
            }
        )
    next_steps = [s for s, (source, _t) in actions.TRANSITIONS.items() if source == agreement.state]
    return render(
        request,
        "results/agreement.html",
        {
            "agreement": agreement,
            "total": money_text(agreement.total_cents),
            "tranches": tranches,
            "manage": _may_manage(user, agreement),
            "next_steps": next_steps,
            "errors": errors,
            "reports": agreement.reports.all(),
        },
        status=422 if errors else 200,
    )


def _tranche(request: HttpRequest, agreement_id: int, number: int) -> Tranche:
    agreement = scope.get_agreement_or_404(request.user, agreement_id)
    tranche = agreement.tranches.filter(number=number).first()
    if tranche is None:
        raise Http404
    tranche.agreement = agreement
    return tranche


@login_required
def tranche_report(request: HttpRequest, agreement_id: int, number: int) -> HttpResponse:
    """A tranche's report: each condition's value, target, compliance, the amount; every version; appeals.
    Managers evaluate and decide appeals here, the party appeals here."""
    tranche = _tranche(request, agreement_id, number)
    agreement = tranche.agreement
    user: Any = request.user
    errors: dict[str, Any] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "evaluate" and _may_manage(user, agreement):
                actions.evaluate(_actor(request), tranche, reason=request.POST.get("reason", ""))
            elif op == "file_appeal" and _may_appeal(user, agreement):
                latest = tranche.evaluations.order_by("-version").first()
                if latest is None:
                    raise Http404
                actions.file_appeal(_actor(request), latest, request.POST.get("text", ""), request.FILES.get("file"))
            elif op in ("recompute", "reject") and _may_manage(user, agreement):
                appeal = scope.appeal_or_404(user, request.POST.get("appeal"))
                actions.decide_appeal(_actor(request), appeal, op, request.POST.get("reason", ""))
            else:
                raise PermissionDenied
            return redirect("tranche-report", agreement.pk, tranche.number)
        except InputErrors as exc:
            errors, form = exc.as_dict(), request.POST
    names = _names()
    versions = list(tranche.evaluations.select_related("created_by").order_by("-version"))
    latest = versions[0] if versions else None
    appeals = list(Appeal.objects.filter(evaluation__tranche=tranche).select_related("filed_by", "decided_by"))
    return render(
        request,
        "results/tranche.html",
        {
            "agreement": agreement,
            "tranche": tranche,
            "amount": money_text(tranche.amount_cents),
            "rule": PAYMENT_LABELS.get(tranche.payment_rule, tranche.payment_rule),
            "latest": latest,
            "paid": money_text(latest.amount_cents) if latest else None,
            "weighted_percent": f"{float(latest.weighted_display) * 100:.2f}" if latest else None,
            "rows": _condition_rows(latest, names),
            "versions": [(v, money_text(v.amount_cents)) for v in versions],
            "appeals": appeals,
            "manage": _may_manage(user, agreement),
            "may_evaluate": _may_manage(user, agreement)
            and agreement.state in (AgreementState.SIGNED, AgreementState.IN_EXECUTION),
            "may_appeal": _may_appeal(user, agreement)
            and latest is not None
            and not any(a.state == AppealState.OPEN for a in appeals),
            "errors": errors,
            "form": form,
        },
        status=422 if errors else 200,
    )


def _report_rows(tranche: Tranche, item: Evaluation) -> list[list[Any]]:
    names = _names()
    rows = []
    for c in item.conditions:
        for period in c["periods"]:
            rows.append(
                [
                    c["indicator"],
                    names.get(c["indicator"], c["indicator"]),
                    c["territory"],
                    str(RULE_LABELS.get(c["rule"], c["rule"])),
                    period,
                    c["values"].get(period),
                    c["baseline"],
                    c["target"],
                    c["weight"],
                    float(c["compliance"]),
                    c["snapshots"].get(period),
                ]
            )
    return rows


def _latest_or_404(tranche: Tranche, version: str | None) -> Evaluation:
    versions = tranche.evaluations.order_by("-version")
    item = versions.filter(version=int(version)).first() if version and version.isdigit() else versions.first()
    if item is None:
        raise Http404
    return item


def _exported(request: HttpRequest, tranche: Tranche, item: Evaluation, kind: str) -> None:
    with transaction.atomic():
        record(
            _actor(request),
            Action.EXPORT,
            item,
            note=f"{kind} {tranche.agreement.code} #{tranche.number} v{item.version}",
        )


@login_required
def tranche_xlsx(request: HttpRequest, agreement_id: int, number: int) -> HttpResponse:
    tranche = _tranche(request, agreement_id, number)
    item = _latest_or_404(tranche, request.GET.get("version"))
    header = [
        _("indicator code"),
        _("indicator"),
        _("territory"),
        _("rule"),
        _("period"),
        _("value"),
        _("baseline"),
        _("target"),
        _("weight"),
        _("compliance"),
        _("snapshot"),
    ]
    rows: list[list[Any]] = _report_rows(tranche, item)
    rows.append([])
    rows.append([_("weighted compliance"), item.weighted_compliance, float(item.weighted_display)])
    rows.append([_("amount of the tranche"), money_text(tranche.amount_cents), tranche.agreement.currency])
    rows.append([_("amount to transfer"), money_text(item.amount_cents), tranche.agreement.currency])
    rows.append([_("version"), item.version, str(item.created_at)])
    _exported(request, tranche, item, "xlsx")
    return xlsx_response(header, rows, f"{tranche.agreement.code}-tramo{tranche.number}-v{item.version}")


@login_required
def tranche_pdf(request: HttpRequest, agreement_id: int, number: int) -> HttpResponse:
    from crecer.results.report import tranche_pdf as render_pdf

    tranche = _tranche(request, agreement_id, number)
    item = _latest_or_404(tranche, request.GET.get("version"))
    pdf = render_pdf(tranche, item, _report_rows(tranche, item))
    _exported(request, tranche, item, "pdf")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{tranche.agreement.code}-tramo{tranche.number}-v{item.version}.pdf"'
    )
    return response


@login_required
def incentive_page(request: HttpRequest, programme_id: int) -> HttpResponse:
    user: Any = request.user
    programme = IncentiveProgramme.objects.filter(pk=programme_id).first()
    if (
        programme is None
        or not permissions.has(user, permissions.READ_RESULTS)
        or not programme.territories.filter(path__startswith=user.territory.path).exists()
    ):
        raise Http404
    distribution = programme.distributions.order_by("-version").first()
    rows = []
    if distribution is not None:
        paths = dict(programme.territories.values_list("pk", "path"))
        rows = [
            {**r, "amount": money_text(r["amount_cents"])}
            for r in distribution.rows
            if permissions.within(user, paths.get(r["territory"]))
        ]
    return render(
        request,
        "results/incentive.html",
        {
            "programme": programme,
            "budget": money_text(programme.budget_cents),
            "distribution": distribution,
            "rows": rows,
        },
    )


def _send_file(request: HttpRequest, stored_name: str, original_name: str, entity: Any) -> FileResponse:
    from crecer.results.files import path_of

    path = path_of(stored_name)
    if not stored_name or not path.is_file():
        raise Http404
    with transaction.atomic():
        record(_actor(request), Action.EXPORT, entity, note=original_name[:200])
    return FileResponse(path.open("rb"), as_attachment=True, filename=original_name)


@login_required
def report_file(request: HttpRequest, agreement_id: int, report_id: int) -> FileResponse:
    """A technical report of an agreement, to those who read the agreement."""
    agreement = scope.get_agreement_or_404(request.user, agreement_id)
    report = agreement.reports.filter(pk=report_id).first()
    if report is None:
        raise Http404
    return _send_file(request, report.stored_name, report.original_name, report)


@login_required
def appeal_evidence(request: HttpRequest, appeal_id: int) -> FileResponse:
    """The evidence of an appeal, to those who read its agreement (the party, its managers, auditors)."""
    appeal = scope.appeal_or_404(request.user, appeal_id)
    return _send_file(request, appeal.stored_name, appeal.original_name, appeal)


def _awarded(edition: AwardEdition) -> tuple[Any, list[dict[str, Any]]]:
    result = edition.results.order_by("-version").first()
    if result is None:
        return None, []
    rows = [
        {**r, "level_label": LEVEL_LABELS.get(r["level"], r["level"])}
        for r in result.rows
        if r["eligible"] and r["level"]
    ]
    rows.sort(key=lambda r: (r["category"], r["rank"]))
    return result, rows


def award_public(request: HttpRequest, edition_id: int) -> HttpResponse:
    """The public page of an edition's awarded municipalities (no account needed)."""
    edition = AwardEdition.objects.filter(pk=edition_id).first()
    if edition is None:
        raise Http404
    result, rows = _awarded(edition)
    return render(request, "results/award.html", {"edition": edition, "result": result, "rows": rows})


def award_certificate(request: HttpRequest, edition_id: int, code: str) -> HttpResponse:
    from crecer.results.report import certificate_pdf

    edition = AwardEdition.objects.filter(pk=edition_id).first()
    if edition is None:
        raise Http404
    _result, rows = _awarded(edition)
    row = next((r for r in rows if r["code"] == code), None)
    if row is None:
        raise Http404
    response = HttpResponse(certificate_pdf(edition, row), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{edition.code}-{code}.pdf"'
    return response
