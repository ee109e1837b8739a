"""What the API and the pages show of agreements, evaluations, appeals, distributions and award results."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crecer.results.models import Agreement, Appeal, Evaluation, Tranche


def money_text(cents: int) -> str:
    """Whole cents as an amount of the currency: 83333417 → "833334.17"."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def evaluation_payload(e: Evaluation) -> dict[str, Any]:
    return {
        "id": e.pk,
        "version": e.version,
        "conditions": [
            {
                "indicator": c["indicator"],
                "territory": c["territory"],
                "rule": c["rule"],
                "value": c["value"],
                "values": c["values"],
                "baseline": c["baseline"],
                "target": c["target"],
                "weight": c["weight"],
                "compliance": float(c["compliance"]),
                "compliance_exact": c["compliance_exact"],
                "detail": c["detail"],
            }
            for c in e.conditions
        ],
        "weighted_compliance": float(e.weighted_display),
        "weighted_compliance_exact": e.weighted_compliance,
        "amount": money_text(e.amount_cents),
        "amount_cents": e.amount_cents,
        "snapshots": e.snapshot_ids(),
        "snapshots_by_period": e.snapshots,
        "definitions": e.definitions,
        "reason": e.reason,
        "appeal": e.appeal_id,
        "created_at": e.created_at,
        "created_by": e.created_by.username if e.created_by_id else None,  # type: ignore[union-attr]
    }


def appeal_payload(a: Appeal) -> dict[str, Any]:
    return {
        "id": a.pk,
        "evaluation": a.evaluation_id,
        "text": a.text,
        "evidence": a.original_name or None,
        "evidence_sha256": a.sha256 or None,
        "state": a.state,
        "filed_at": a.filed_at,
        "filed_by": a.filed_by.username if a.filed_by_id else None,  # type: ignore[union-attr]
        "decided_at": a.decided_at,
        "decided_by": a.decided_by.username if a.decided_by_id else None,  # type: ignore[union-attr]
        "decision": a.decision,
    }


def tranche_payload(t: Tranche, *, history: bool = True) -> dict[str, Any]:
    evaluations = list(t.evaluations.select_related("created_by").order_by("-version"))
    out = {
        "number": t.number,
        "share": str(t.share.normalize()),
        "amount": money_text(t.amount_cents),
        "amount_cents": t.amount_cents,
        "due_date": t.due_date,
        "payment_rule": t.payment_rule,
        "floor": str(t.floor) if t.floor is not None else None,
        "conditions": [
            {
                "indicator": c.indicator,
                "territory": c.territory.code,
                "rule": c.rule,
                "period": c.period or None,
                "months": c.params.get("months"),
                "k": c.params.get("k"),
                "points": c.params.get("points"),
                "baseline": float(c.baseline),
                "target": float(c.target),
                "weight": float(c.weight),
            }
            for c in t.conditions.select_related("territory").order_by("pk")
        ],
        "evaluation": evaluation_payload(evaluations[0]) if evaluations else None,
    }
    if history:
        out["evaluations"] = [evaluation_payload(e) for e in evaluations]
        out["appeals"] = [
            appeal_payload(a)
            for a in Appeal.objects.filter(evaluation__tranche=t).select_related("filed_by", "decided_by")
        ]
    return out


def agreement_payload(a: Agreement, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.pk,
        "code": a.code,
        "name": a.name,
        "party_kind": a.party_kind,
        "territory": a.territory.code,
        "organisation": a.organisation.code if a.organisation_id else None,  # type: ignore[union-attr]
        "period": a.period,
        "total": money_text(a.total_cents),
        "total_cents": a.total_cents,
        "currency": a.currency,
        "state": a.state,
        "signed_at": a.signed_at,
        "formula": a.formula or None,
    }
    if detail:
        out["tranches"] = [tranche_payload(t) for t in a.tranches.order_by("number")]
        out["reports"] = [
            {"id": r.pk, "title": r.title, "file": r.original_name, "sha256": r.sha256} for r in a.reports.all()
        ]
    return out
