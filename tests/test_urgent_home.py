"""An urgent result awaiting action is on top of the home page of everyone it was sent to (not only the
health worker, whose home is the worklist), and recording the action says so."""

from __future__ import annotations

from crecer.audit.models import Action, AuditEvent
from crecer.risks.models import RiskFlag
from crecer.tracking import actions as tracking_actions
from tests.conftest import SYSTEM
from tests.test_urgent_results import SELF_HARM, _client, baby, team  # noqa: F401 (fixtures)


def test_the_coordinator_home_carries_the_urgent_result_until_acted_on(team, baby, today):  # noqa: F811
    tracking_actions.record_encounter(SYSTEM, {"date": today.isoformat(), "screenings": [SELF_HARM]}, child=baby)
    flag = RiskFlag.unscoped.get(child=baby, urgent=True)
    coordinator = _client(team["coordinator"])
    home = coordinator.get("/").content.decode()
    assert 'id="urgent-title"' in home and baby.given_names in home
    assert f"/urgent/{flag.pk}/" in home
    # the home page logged the read
    assert AuditEvent.objects.filter(
        actor=team["coordinator"], action=Action.READ, child_id=baby.pk, note="home: urgent results"
    ).exists()
    # A coordinator of another municipality has nothing pinned.
    assert baby.given_names not in _client(team["coordinator_baja"]).get("/").content.decode()

    done = coordinator.post(
        f"/urgent/{flag.pk}/", {"action_taken": "Llamada a la madre; hora con psicóloga hoy."}, follow=True
    )
    page = done.content.decode()
    assert "Se registró la acción realizada" in page
    assert "Llamada a la madre" in page  # shown beside the flag on the child's page
    assert 'id="urgent-title"' not in coordinator.get("/").content.decode()
