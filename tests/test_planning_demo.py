"""The demo's planning: a phasing plan of the synthetic country whose phases hold the territories proposed
by priority (the first phase the best ranked), and a coordinator's proposal awaiting a decision."""

from __future__ import annotations

from crecer.access.actions import create_user
from crecer.access.models import Role
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.planning import phasing
from crecer.planning.demo import ensure_planning
from crecer.planning.models import Plan, Proposal
from crecer.territories.models import Territory
from tests.conftest import PASSWORD, SYSTEM
from tests.test_monitoring import synthetic  # noqa: F401  (the shared synthetic country)


def test_demo_phasing_plan(synthetic):  # noqa: F811
    coordinator = create_user(SYSTEM, "coordinador", Role.MUNICIPAL_COORDINATOR, "CL01001", PASSWORD)
    made = ensure_planning(Actor(synthetic["national"], Channel.SYSTEM))
    plan = Plan.objects.get()
    municipalities = Territory.objects.filter(level="municipality").count()
    assert made["territories"] == municipalities - 1  # all but the coordinator's, who proposes it
    _, ranked = phasing.priorities(plan)
    first = plan.phases.get(number=1)
    held = set(first.territories.values_list("code", flat=True))
    # the first phase took the best ranked (the coordinator's own left out)
    best = [r.territory.code for r in ranked if r.territory != coordinator.territory][: len(held)]
    assert held == set(best)
    assert any(r.parts["gaps"].raw is not None for r in (x.priority for x in ranked))  # the index was computed
    assert Proposal.objects.get().territory == coordinator.territory
    total, coverage = phasing.coverage(plan, plan.territory)
    assert total > 0 and coverage[0].children > 0
    assert ensure_planning(Actor(synthetic["national"], Channel.SYSTEM)) == {}  # once
