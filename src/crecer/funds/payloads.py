"""The funds as JSON: the API's answers and the pages' Excel rows read the same figures."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.db.models import Sum

from crecer.funds.actions import money
from crecer.funds.models import Allocation, Award, InnovationCall, NetworkFund, Proposal
from crecer.funds.ranking import Row


def decimal_text(value: str | Fraction | None, places: int = 4) -> str | None:
    if value is None:
        return None
    exact = Fraction(value)
    scaled = round(exact * 10**places)
    return f"{scaled / 10**places:.{places}f}"


def fund_payload(fund: NetworkFund) -> dict[str, Any]:
    return {
        "id": fund.pk,
        "year": fund.year,
        "name": fund.name,
        "territory": fund.territory.code,
        "territory_name": fund.territory.name,
        "budget": money(fund.budget_cents),
        "budget_cents": fund.budget_cents,
        "currency": fund.currency,
        "base": money(fund.base_cents),
        "base_cents": fund.base_cents,
        "vulnerability_weight": str(fund.vulnerability_weight),
        "vulnerability_source": fund.vulnerability_source,
        "indicator": fund.indicator,
        "indicator_period": fund.indicator_period,
        "allocated_at": fund.allocated_at.isoformat() if fund.allocated_at else None,
    }


def sums(allocations: list[Allocation]) -> dict[int, tuple[int, int]]:
    """(planned, executed) cents by allocation, in two grouped queries."""
    from crecer.funds.models import BudgetLine, Execution

    ids = [a.pk for a in allocations]
    planned = dict(
        BudgetLine.objects.filter(allocation_id__in=ids)
        .values("allocation_id")
        .annotate(s=Sum("amount_cents"))
        .values_list("allocation_id", "s")
    )
    executed = dict(
        Execution.objects.filter(line__allocation_id__in=ids)
        .values("line__allocation_id")
        .annotate(s=Sum("amount_cents"))
        .values_list("line__allocation_id", "s")
    )
    return {pk: (int(planned.get(pk) or 0), int(executed.get(pk) or 0)) for pk in ids}


def allocation_payload(a: Allocation, planned: int = 0, executed: int = 0) -> dict[str, Any]:
    return {
        "id": a.pk,
        "fund": a.fund_id,
        "municipality": a.municipality.code,
        "name": a.municipality.name,
        "children": a.children,
        "vulnerability": a.vulnerability,
        "vulnerability_display": decimal_text(a.vulnerability),
        "weight": a.weight,
        "base": money(a.base_cents),
        "share": money(a.share_cents),
        "amount": money(a.amount_cents),
        "amount_cents": a.amount_cents,
        "planned_cents": planned,
        "executed_cents": executed,
    }


def report_payload(a: Allocation) -> dict[str, Any]:
    """A municipality's report: its allocation, budget lines and their execution."""
    lines: list[dict[str, Any]] = []
    for line in a.lines.prefetch_related("executions"):
        executions = list(line.executions.all())
        executed = sum(e.amount_cents for e in executions)
        lines.append(
            {
                "id": line.pk,
                "activity": line.activity,
                "amount": money(line.amount_cents),
                "amount_cents": line.amount_cents,
                "executed_cents": executed,
                "executions": [
                    {
                        "id": e.pk,
                        "date": e.date.isoformat(),
                        "amount": money(e.amount_cents),
                        "description": e.description,
                    }
                    for e in executions
                ],
            }
        )
    planned = sum(int(line["amount_cents"]) for line in lines)
    executed = sum(int(line["executed_cents"]) for line in lines)
    return {
        **allocation_payload(a, planned, executed),
        "year": a.fund.year,
        "currency": a.fund.currency,
        "lines": lines,
    }


def call_payload(call: InnovationCall) -> dict[str, Any]:
    awarded = int(Award.objects.filter(proposal__call=call).aggregate(s=Sum("amount_cents"))["s"] or 0)
    return {
        "id": call.pk,
        "name": call.name,
        "territory": call.territory.code,
        "territory_name": call.territory.name,
        "opens_on": call.opens_on.isoformat(),
        "closes_on": call.closes_on.isoformat(),
        "budget": money(call.budget_cents),
        "budget_cents": call.budget_cents,
        "awarded_cents": awarded,
        "currency": call.currency,
        "state": call.state,
        "criteria": [
            {"id": c.pk, "name": c.name, "weight": str(c.weight), "max_score": c.max_score} for c in call.criteria.all()
        ],
        "reviewers": sorted(call.reviewers.values_list("username", flat=True)),
    }


def row_payload(row: Row) -> dict[str, Any]:
    return {
        "proposal": row.proposal.pk,
        "title": row.proposal.title,
        "requested_cents": row.proposal.requested_cents,
        "score": str(row.score) if row.score is not None else None,
        "score_display": decimal_text(row.score, 2),
        "reviews": row.reviews,
        "rank": row.rank,
        "fits_budget": row.fits,
        "awarded_cents": row.awarded_cents,
    }


def proposal_payload(p: Proposal) -> dict[str, Any]:
    award = Award.objects.filter(proposal=p).first()
    out: dict[str, Any] = {
        "id": p.pk,
        "call": p.call_id,
        "title": p.title,
        "summary": p.summary,
        "requested": money(p.requested_cents),
        "requested_cents": p.requested_cents,
        "applicant_kind": p.applicant_kind,
        "territory": p.territory.code,
        "organisation": p.organisation.code if p.organisation_id else None,  # type: ignore[union-attr]
        "state": p.state,
        "submitted_at": p.submitted_at.isoformat(),
        "files": [{"id": f.pk, "name": f.original_name, "size": f.size, "sha256": f.sha256} for f in p.files.all()],
        "award": None,
    }
    if award is not None:
        out["award"] = {
            "id": award.pk,
            "amount": money(award.amount_cents),
            "amount_cents": award.amount_cents,
            "rank": award.rank,
            "score": award.score,
            "disbursed_cents": sum(d.amount_cents for d in award.disbursements.all()),
            "disbursements": [
                {"id": d.pk, "date": d.date.isoformat(), "amount": money(d.amount_cents), "note": d.note}
                for d in award.disbursements.all()
            ],
            "reports": [{"id": r.pk, "text": r.text, "file": r.file_id} for r in award.reports.all()],
        }
    return out
