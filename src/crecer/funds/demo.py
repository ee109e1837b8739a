"""Demo funds, every figure SYNTHETIC: this year's network fund for the whole country allocated by the
formula (vulnerability from the share of children with an open risk flag), two budget lines of the demo
coordinator's municipality with some spending; an innovation call whose panel is the national and regional
managers, with proposals of the coordinator's municipality and of an organisation, the panel's scores (the
regional manager declared a conflict with one proposal), an award and a first payment."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.centres.demo import synthetic_pdf
from crecer.funds import actions
from crecer.funds.models import Allocation, InnovationCall, NetworkFund
from crecer.territories.models import Territory

LABEL = "(datos sintéticos)"


def ensure_funds(manager: Actor) -> dict[str, int]:
    """Everything once (nothing when a network fund exists); returns what was created."""
    if NetworkFund.objects.exists() or InnovationCall.objects.exists():
        return {}
    today = timezone.localdate()
    root = Territory.objects.filter(depth=0).order_by("path").first()
    coordinator = User.objects.select_related("territory").filter(username="coordinador").first()
    regional = User.objects.filter(username="regional").first()
    provider = User.objects.filter(username="proveedor").first()
    if root is None or coordinator is None or manager.user is None:
        return {}
    as_coordinator = Actor(coordinator, Channel.SYSTEM)
    fund = actions.create_fund(
        manager,
        {
            "year": today.year,
            "name": f"Fondo de fortalecimiento de redes comunales {today.year} {LABEL}",
            "territory_code": root.code,
            "budget": "2500000000",
            "base": "5000000",
            "vulnerability_weight": "2",
            "vulnerability_source": "risk_flags",
        },
    )
    actions.allocate(manager, fund)
    allocation = Allocation.objects.get(fund=fund, municipality=coordinator.territory)
    first_day = dt.date(today.year, 1, 2)
    lines = [
        actions.add_line(
            as_coordinator, allocation, {"activity": a, "amount": actions.money(allocation.amount_cents * s // 100)}
        )
        for a, s in (("Talleres de crianza respetuosa", 40), ("Mesa comunal de la red", 20))
    ]
    for line, share in ((lines[0], 50), (lines[1], 25)):
        actions.record_execution(
            as_coordinator,
            line,
            {
                "date": max(first_day, today - dt.timedelta(days=20)),
                "amount": actions.money(line.amount_cents * share // 100),
                "description": f"Gasto {LABEL}",
            },
        )
    call = actions.create_call(
        manager,
        {
            "name": f"Fondo de innovación en primera infancia {today.year} {LABEL}",
            "territory_code": root.code,
            "opens_on": today - dt.timedelta(days=1),
            "closes_on": today + dt.timedelta(days=30),
            "budget": "60000000",
            "criteria": [
                {"name": "Impacto esperado en los niños", "weight": "3", "max_score": 10},
                {"name": "Factibilidad", "weight": "2", "max_score": 10},
                {"name": "Costo razonable", "weight": "1", "max_score": 5},
            ],
            "reviewers": [u.username for u in (manager.user, regional) if u is not None],
        },
    )
    proposals = [
        actions.submit_proposal(
            as_coordinator,
            call,
            {
                "title": "Visitas domiciliarias con apoyo por video",
                "summary": f"Propuesta {LABEL}.",
                "requested": "35000000",
            },
            [synthetic_pdf("propuesta-sintetica.pdf", "Propuesta de visitas")],
        ),
        actions.submit_proposal(
            as_coordinator,
            call,
            {"title": "Ludoteca itinerante rural", "summary": f"Propuesta {LABEL}.", "requested": "30000000"},
        ),
    ]
    if provider is not None:
        proposals.append(
            actions.submit_proposal(
                Actor(provider, Channel.SYSTEM),
                call,
                {
                    "title": "Acompañamiento a familias en crisis",
                    "summary": f"Propuesta {LABEL}.",
                    "requested": "20000000",
                },
            )
        )
    actions.close_submissions(manager, call)
    criteria = [str(c.pk) for c in call.criteria.all()]
    marks = [(9, 8, 4), (7, 9, 5), (8, 6, 3)]
    for proposal, m in zip(proposals, marks, strict=False):
        actions.score(manager, proposal, dict(zip(criteria, m, strict=True)))
    if regional is not None:
        reviewer = Actor(regional, Channel.SYSTEM)
        actions.declare_conflict(reviewer, proposals[0], f"Trabajó en la municipalidad que postula {LABEL}")
        for proposal in proposals[1:]:
            actions.score(reviewer, proposal, dict(zip(criteria, (7, 7, 4), strict=True)))
    award = actions.award(manager, proposals[0])
    actions.disburse(
        manager,
        award,
        {"date": today, "amount": actions.money(award.amount_cents // 2), "note": f"Primera cuota {LABEL}"},
    )
    return {"municipalities": fund.allocations.count(), "proposals": len(proposals), "awards": 1}
