"""The demo's funds: a network fund allocated to every municipality to the cent, with spending; an
innovation call with proposals, the panel's scores (one conflict declared), an award and a payment."""

from __future__ import annotations

from crecer.access.actions import create_user
from crecer.access.models import Role
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.funds.demo import ensure_funds
from crecer.funds.models import Allocation, Award, Conflict, Disbursement, Execution, NetworkFund, Proposal, Score
from crecer.territories.models import Territory
from tests.conftest import PASSWORD, SYSTEM
from tests.test_monitoring import synthetic  # noqa: F401  (the shared synthetic country)


def test_demo_funds(synthetic, settings, tmp_path):  # noqa: F811
    settings.CRECER_UPLOAD_DIR = tmp_path
    create_user(SYSTEM, "coordinador", Role.MUNICIPAL_COORDINATOR, "CL01001", PASSWORD)
    made = ensure_funds(Actor(synthetic["national"], Channel.SYSTEM))
    fund = NetworkFund.objects.get()
    assert made["municipalities"] == Territory.objects.filter(level="municipality").count()
    assert sum(Allocation.objects.values_list("amount_cents", flat=True)) == fund.budget_cents
    assert Execution.objects.filter(line__allocation__municipality__code="CL01001").count() == 2
    assert Proposal.objects.count() == made["proposals"] == 2
    assert Conflict.objects.count() == 1 and Score.objects.count() == 3 * 3
    award = Award.objects.get()
    assert award.rank == 1 and Disbursement.objects.get().amount_cents == award.amount_cents // 2
    assert ensure_funds(Actor(synthetic["national"], Channel.SYSTEM)) == {}  # once
