"""Pages of money on results: agreements and their tranches' reports (page, PDF, Excel), appeals, the
distribution of an incentive programme and the public page and certificates of an award edition."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action, Channel
from crecer.audit.trail import Actor, record
from crecer.core.downloads import xlsx_response
from crecer.monitoring import definitions, quality
from crecer.results import actions, evaluation, scope
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
from crecer.territories.models import Territory
from crecer.validation import InputErrors

RULE_LABELS = {
    "at_period_end": gettext_lazy("value at the end of the period"),
    "months_met": gettext_lazy("months meeting the target"),
    "improvement": gettext_lazy("improvement on the baseline"),
}


def rule_label(code: str) -> str:
    """A condition rule's name for people: the built-in ones translated, a profile's in its own words."""
    if code in RULE_LABELS:
        return str(RULE_LABELS[code])
    return evaluation.rule_label(code, get_language() or "es") or code


def rule_choices() -> list[tuple[str, str]]:
    """The rules a condition may use: the built-in ones and the profile's (``results.toml``)."""
    return [(code, str(label)) for code, label in RULE_LABELS.items()] + [
        (code, rule.name(get_language() or "es")) for code, rule in evaluation.profile_rules().items()
    ]


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
            "manage": permissions.has(request.user, permissions.MANAGE_RESULTS),  # type: ignore[arg-type]
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
                "rule_label": rule_label(c["rule"]),
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
                    str(rule_label(c["rule"])),
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
    from crecer.audit import downloads
    from crecer.results.files import AREA

    return downloads.send(_actor(request), AREA, stored_name, original_name, entity)


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


#: the creation form: up to this many tranches, each with up to this many conditions (more through the API)
FORM_TRANCHES = 2
FORM_CONDITIONS = 2
CONDITION_FIELDS = ("indicator", "rule", "period", "months", "k", "points", "baseline", "target", "weight")


def _form_agreement(post: Any) -> dict[str, Any]:
    """The agreement template written in the form (blank tranches and conditions left out)."""
    tranches = []
    for i in range(1, FORM_TRANCHES + 1):
        p = f"t{i}_"
        if not post.get(p + "share"):
            continue
        conditions = []
        for j in range(1, FORM_CONDITIONS + 1):
            c = f"t{i}c{j}_"
            if not post.get(c + "indicator"):
                continue
            raw = {name: post.get(c + name, "").strip() for name in CONDITION_FIELDS}
            raw["months"] = [m.strip() for m in raw["months"].replace(";", ",").split(",") if m.strip()]
            conditions.append({k: v for k, v in raw.items() if v not in ("", [])})
        tranches.append(
            {
                "number": i,
                "share": post.get(p + "share"),
                "due_date": post.get(p + "due_date"),
                "payment_rule": post.get(p + "payment_rule"),
                "floor": post.get(p + "floor") or None,
                "conditions": conditions,
            }
        )
    return {
        "code": post.get("code", "").strip(),
        "name": post.get("name", "").strip(),
        "period": post.get("period", "").strip(),
        "currency": post.get("currency", "").strip() or "CLP",
        "tranches": tranches,
    }


def _form_field(key: str) -> str:
    """An error's field (``tranches.0.conditions.1.target``) as the form's input name (``t1c2_target``)."""
    parts = key.split(".")
    if len(parts) >= 3 and parts[0] == "tranches" and parts[2] == "conditions" and len(parts) >= 5:
        return f"t{int(parts[1]) + 1}c{int(parts[3]) + 1}_{parts[4]}"
    if len(parts) >= 3 and parts[0] == "tranches":
        return f"t{int(parts[1]) + 1}_{parts[2]}"
    if len(parts) == 2 and parts[0] == "tranches":
        return f"t{int(parts[1]) + 1}_share"
    return parts[0]


@login_required
def agreement_new(request: HttpRequest) -> HttpResponse:
    """Managers: the same agreement for every municipality of a territory (one, if it is a municipality),
    each total = base + per child × its children in the registry."""
    user: Any = request.user
    if not permissions.has(user, permissions.MANAGE_RESULTS):
        raise Http404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        template = _form_agreement(request.POST)
        try:
            created = actions.create_for_region(
                _actor(request),
                request.POST.get("territory_code", "").strip(),
                template,
                request.POST.get("base"),
                request.POST.get("per_child"),
            )
            if len(created) == 1:
                return redirect("agreement", created[0].pk)
            return redirect(reverse("agreements") + f"?period={template['period']}")
        except InputErrors as exc:
            for key, items in exc.as_dict().items():
                errors.setdefault(_form_field(key), []).extend(e["message"] for e in items)
        except PermissionDenied as exc:
            errors.setdefault("territory_code", []).append(str(exc))
    form = request.POST if request.method == "POST" else {}

    def field(name: str, label: Any, kind: str = "text", choices: Any = None, default: str = "") -> dict[str, Any]:
        return {
            "name": name,
            "label": label,
            "kind": kind,
            "choices": choices,
            "value": form.get(name, default),
            "errors": errors.get(name, []),
        }

    territories = Territory.objects.filter(path__startswith=user.territory.path, depth__lte=1).order_by("path")
    indicators = [("", "—"), *sorted(_names().items(), key=lambda item: item[1])]
    general = [
        field("code", _("Code")),
        field("name", _("Name")),
        field(
            "territory_code",
            _("Region (one agreement per municipality)"),
            "select",
            [(t.code, t.name) for t in territories],
        ),
        field("period", _("Period"), default=str(timezone.localdate().year)),
        field("currency", _("Currency"), default="CLP"),
        field("base", _("Base amount per municipality"), "decimal"),
        field("per_child", _("Amount per child of the registry"), "decimal"),
    ]
    tranches = [
        {
            "number": i,
            "fields": [
                field(f"t{i}_share", _("Share (%)"), "decimal"),
                field(f"t{i}_due_date", _("Due date"), "date"),
                field(f"t{i}_payment_rule", _("Payment rule"), "select", list(PAYMENT_LABELS.items())),
                field(f"t{i}_floor", _("Floor (threshold rule, 0 to 1)"), "decimal"),
            ],
            "conditions": [
                {
                    "number": j,
                    "fields": [
                        field(f"t{i}c{j}_indicator", _("Indicator"), "select", indicators),
                        field(f"t{i}c{j}_rule", _("Rule"), "select", rule_choices()),
                        field(f"t{i}c{j}_period", _("Period")),
                        field(f"t{i}c{j}_months", _("Months (months meeting the target), separated by commas")),
                        field(f"t{i}c{j}_k", _("Months required (k)"), "number"),
                        field(f"t{i}c{j}_points", _("Points required (improvement)"), "decimal"),
                        field(f"t{i}c{j}_baseline", _("Baseline"), "decimal"),
                        field(f"t{i}c{j}_target", _("Target"), "decimal"),
                        field(f"t{i}c{j}_weight", _("Weight"), "decimal", default="1"),
                    ],
                }
                for j in range(1, FORM_CONDITIONS + 1)
            ],
        }
        for i in range(1, FORM_TRANCHES + 1)
    ]
    return render(
        request,
        "results/agreement_new.html",
        {"general": general, "tranches": tranches, "errors": errors},
        status=422 if errors else 200,
    )
