"""Demo planning: the profile's composite index computed on last year's frozen snapshot, and a phasing plan
of the whole country in the manner of Crecer Juntos (the prioritised territories first, the rest later),
its phases filled with the territories proposed by priority, and a coordinator's proposal awaiting a
decision. Every number is SYNTHETIC."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crecer import conf
from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.lib.periods import parse
from crecer.monitoring import snapshots
from crecer.monitoring.models import Snapshot
from crecer.planning import actions, phasing
from crecer.planning.models import Plan
from crecer.territories.models import Territory

DEMO_REASON = "demo: synthetic data"


def ensure_planning(actor: Actor) -> dict[str, int]:
    """Everything once (nothing when a plan exists); returns what was created."""
    if Plan.objects.exists() or not conf.profile().planning.indices:
        return {}
    today = timezone.localdate()
    period = str(today.year - 1)
    if not Snapshot.objects.filter(period=period).exists():
        snapshots.take(actor, parse(period), DEMO_REASON)
    root = Territory.objects.filter(depth=0).order_by("path").first()
    if root is None:
        return {}
    level = conf.profile().level_keys[-1]
    plan = actions.create_plan(
        actor,
        {
            "name": f"Gradualidad {today.year - 2}–2030",
            "territory_code": root.code,
            "level": level,
            "period": period,
            "notes": "Plan sintético de demostración: primero los territorios priorizados, luego el resto.",
        },
    )
    first = actions.add_phase(
        actor,
        plan,
        {"name": "Territorios priorizados", "starts": dt.date(today.year - 2, 1, 1), "ends": dt.date(2028, 12, 31)},
    )
    second = actions.add_phase(
        actor, plan, {"name": "Resto del país", "starts": dt.date(2029, 1, 1), "ends": dt.date(2030, 12, 31)}
    )
    _, ranked = phasing.priorities(plan)
    coordinator = User.objects.filter(username="coordinador").select_related("territory").first()
    own = coordinator.territory if coordinator is not None else None
    prioritised = [r.territory.code for r in ranked[: max(1, len(ranked) // 3)] if r.territory != own]
    actions.set_territories(actor, first, prioritised)
    rest = [r.territory.code for r in ranked if r.territory.code not in prioritised and r.territory != own]
    actions.set_territories(actor, second, rest)
    proposals = 0
    if coordinator is not None and own is not None and own.level == level:
        actions.propose(
            Actor(coordinator, Channel.SYSTEM),
            first,
            "Nuestra comuna tiene muchos niños y niñas con controles atrasados: pedimos entrar en la primera fase.",
        )
        proposals = 1
    return {"plans": 1, "phases": 2, "territories": len(prioritised) + len(rest), "proposals": proposals}
