"""Demo money on results: an agreement with every municipality for the demo year (evaluated on frozen
snapshots, one appeal open), a performance-incentive programme distributed and an award edition computed.

Targets are set from the national figure of the frozen snapshots, so that some municipalities meet them
and others do not: every number is SYNTHETIC."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.lib.periods import Period, parse
from crecer.monitoring import snapshots
from crecer.monitoring.models import Snapshot, SnapshotValue
from crecer.results import actions, programmes
from crecer.results.models import Agreement, Tranche
from crecer.territories.models import Territory

DEMO_REASON = "demo: synthetic data"


def demo_months(today: dt.date) -> list[Period]:
    """The six months before the current one."""
    return parse(f"{today:%Y-%m}").previous(6)


def _national(period: str, indicator: str, default: float) -> float:
    snapshot = Snapshot.objects.filter(period=period).order_by("-revision").first()
    value = (
        SnapshotValue.objects.filter(snapshot=snapshot, indicator=indicator, group="", territory__depth=0)
        .values_list("value", flat=True)
        .first()
    )
    return round(value, 1) if value is not None else default


def ensure_results(actor: Actor) -> dict[str, int]:
    """Everything once (nothing when an agreement exists); returns what was created."""
    if Agreement.objects.exists():
        return {}
    today = timezone.localdate()
    year = str(today.year)
    months = demo_months(today)
    for period in [*months, parse(year)]:
        if not Snapshot.objects.filter(period=period.code).exists():
            snapshots.take(actor, period, DEMO_REASON)
    month_codes = [m.code for m in months]
    check_ups = _national(month_codes[-1], "check_ups_up_to_date_0_11m", 70)
    kit = _national(year, "welcome_kit", 80)
    document = _national(year, "document_by_60d", 80)
    template = {
        "code": f"CCC-{year}",
        "name": f"Convenio Chile Crece Contigo {year}",
        "period": year,
        "currency": "CLP",
        "tranches": [
            {
                "number": 1,
                "share": "40",
                "due_date": f"{year}-07-31",
                "payment_rule": "proportional",
                "conditions": [
                    {
                        "indicator": "check_ups_up_to_date_0_11m",
                        "rule": "months_met",
                        "months": month_codes,
                        "k": 5,
                        "baseline": max(0, check_ups - 10),
                        "target": check_ups,
                    }
                ],
            },
            {
                "number": 2,
                "share": "60",
                "due_date": f"{year}-12-31",
                "payment_rule": "threshold",
                "floor": "0.5",
                "conditions": [
                    {
                        "indicator": "welcome_kit",
                        "rule": "at_period_end",
                        "period": year,
                        "baseline": max(0, kit - 15),
                        "target": kit,
                        "weight": 2,
                    },
                    {
                        "indicator": "document_by_60d",
                        "rule": "improvement",
                        "period": year,
                        "baseline": max(0, document - 5),
                        "points": 5,
                        "target": document,
                    },
                ],
            },
        ],
    }
    agreements = []
    for region in Territory.objects.filter(depth=1).order_by("code"):
        agreements += actions.create_for_region(actor, region.code, template, "20000000", "15000")
    for agreement in agreements:
        actions.sign(actor, agreement)
    tranches = list(Tranche.objects.filter(agreement__in=agreements).select_related("agreement__territory"))
    evaluations = actions.evaluate_many(actor, tranches, reason=DEMO_REASON)
    appeals = 0
    coordinator = User.objects.filter(role=Role.MUNICIPAL_COORDINATOR, username="coordinador").first()
    if coordinator is not None:
        mine = next(
            (
                e
                for e in evaluations
                if e.tranche.number == 2 and e.tranche.agreement.territory_id == coordinator.territory_id
            ),
            None,
        )
        if mine is not None:
            actions.file_appeal(
                Actor(coordinator, Channel.SYSTEM),
                mine,
                "Los kits de bienvenida entregados en diciembre se registraron después del corte (ejemplo sintético).",
            )
            appeals = 1
    conditions = template["tranches"][1]["conditions"]  # type: ignore[index]
    programme = programmes.create_programme(
        actor,
        {
            "code": f"FED-{year}",
            "name": f"Fondo de estímulo al desempeño {year}",
            "period": year,
            "budget": "500000000",
            "by_population": True,
            "region_code": Territory.objects.get(depth=0).code,
            "conditions": conditions,
        },
    )
    programmes.distribute(actor, programme)
    populations = sorted(
        SnapshotValue.objects.filter(
            snapshot=Snapshot.objects.filter(period=year).order_by("-revision").first(),
            indicator=programmes.POPULATION_INDICATOR,
            group="",
            territory__in=programme.territories.all(),
        ).values_list("denominator", flat=True)
    )
    cut = int(populations[len(populations) // 2]) if populations else 100
    edition = programmes.create_edition(
        actor,
        {
            "code": f"SELLO-{year}",
            "name": f"Sello Municipio Crece {year}",
            "period": year,
            "categories": [
                {"code": "small", "name": "Comunas pequeñas", "min_children": 0, "max_children": cut},
                {"code": "large", "name": "Comunas grandes", "min_children": cut + 1, "max_children": None},
            ],
            "criteria": [
                {"indicator": "welcome_kit", "threshold": kit, "weight": 1},
                {"indicator": "document_by_60d", "threshold": document, "weight": 1},
                {
                    "indicator": "check_ups_up_to_date_0_11m",
                    "threshold": _national(year, "check_ups_up_to_date_0_11m", 70),
                    "weight": 1,
                },
            ],
            "quality": [{"indicator": "dq_missing_document", "max": 20}],
            "levels": programmes.DEFAULT_LEVELS,
        },
    )
    programmes.compute_awards(actor, edition)
    return {"agreements": len(agreements), "evaluations": len(evaluations), "appeals": appeals}
