"""The demo's money on results: an agreement with every municipality, every tranche evaluated on frozen
snapshots, one appeal open, an incentive programme distributed and an award edition computed."""

from __future__ import annotations

from crecer.access.actions import create_user
from crecer.access.models import Role
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.monitoring.models import Snapshot
from crecer.results.demo import demo_months, ensure_results
from crecer.results.models import Agreement, Appeal, AwardResult, Distribution, Evaluation, Tranche
from crecer.territories.models import Territory
from tests.conftest import PASSWORD, SYSTEM
from tests.test_monitoring import synthetic  # noqa: F401  (the shared synthetic country)


def test_demo_money_on_results(synthetic, today):  # noqa: F811
    create_user(SYSTEM, "coordinador", Role.MUNICIPAL_COORDINATOR, "CL01001", PASSWORD)
    made = ensure_results(Actor(synthetic["national"], Channel.SYSTEM))
    municipalities = Territory.objects.filter(level="municipality")
    assert made["agreements"] == municipalities.count() == Agreement.objects.count()
    assert set(Agreement.objects.values_list("territory__code", flat=True)) == set(
        municipalities.values_list("code", flat=True)
    )
    assert Evaluation.objects.count() == Tranche.objects.count() == 2 * municipalities.count()
    assert set(Agreement.objects.values_list("state", flat=True)) == {"in_execution"}
    months = {m.code for m in demo_months(today)}
    assert months <= set(Snapshot.objects.values_list("period", flat=True))
    first = Evaluation.objects.filter(tranche__number=1).first()
    assert set(first.snapshots) == months  # tranche 1 read the six monthly snapshots
    appeal = Appeal.objects.get()
    assert appeal.state == "open" and appeal.evaluation.tranche.agreement.territory.code == "CL01001"
    distribution = Distribution.objects.get()
    assert sum(r["amount_cents"] for r in distribution.rows) == distribution.programme.budget_cents
    assert AwardResult.objects.get().rows
    assert ensure_results(Actor(synthetic["national"], Channel.SYSTEM)) == {}  # once
