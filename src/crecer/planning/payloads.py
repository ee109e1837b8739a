"""The JSON of plans, phases and proposals (the API and the pages' downloads share it)."""

from __future__ import annotations

from typing import Any

from crecer.planning import indices, phasing, scope
from crecer.planning.models import Phase, Plan, Proposal


def plan_fields(plan: Plan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "level": plan.level,
        "period": plan.period,
        "weights": dict(plan.weights),
        "notes": plan.notes,
    }


def phase_payload(phase: Phase, user: Any = None) -> dict[str, Any]:
    root = scope.root(user, phase.plan)
    return {
        "number": phase.number,
        "name": phase.name,
        "starts": phase.starts.isoformat(),
        "ends": phase.ends.isoformat(),
        "territories": [
            {"code": t.code, "name": t.name} for t in phase.territories.order_by("name") if root.contains(t)
        ],
    }


def plan_payload(plan: Plan, user: Any = None, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": plan.pk,
        "territory": plan.territory.code,
        "territory_name": plan.territory.name,
        **plan_fields(plan),
        "weights": {k: float(v) for k, v in phasing.weights_of(plan).items()},
    }
    if not detail:
        return out
    root = scope.root(user, plan)
    total, phases = phasing.coverage(plan, root)
    out["children"] = total
    out["phases"] = [
        {
            **phase_payload(c.phase, user),
            "children": c.children,
            "cohort": c.cohort,
            "cumulative_share": indices.number(c.cumulative_share, 4),
            "rollout": phasing.rollout(c.phase, root),
            "proposals": [
                proposal_payload(p) for p in c.phase.proposals.select_related("territory") if root.contains(p.territory)
            ],
        }
        for c in phases
    ]
    return out


def proposal_payload(proposal: Proposal) -> dict[str, Any]:
    return {
        "id": proposal.pk,
        "phase": proposal.phase.number,
        "territory": proposal.territory.code,
        "territory_name": proposal.territory.name,
        "reason": proposal.reason,
        "state": proposal.state,
        "answer": proposal.answer,
        "created_at": proposal.created_at.isoformat(),
    }
