"""Benchmark: evaluate the agreements of every municipality of the 1,000,000-child country.

    .venv/bin/python bench/bench_results.py [--children 1000000] [--database sqlite|postgres URL]

An evaluation reads frozen snapshots only (never the children), so its cost depends on the number of
municipalities and conditions, not on the number of children. The script therefore builds the territory
tree that ``crecer generate --children N`` draws for N children (the same synthetic generator, seed 2026:
346 municipalities for the Chile profile at one million children), without the children themselves, and
fabricates SYNTHETIC frozen snapshots of the demo year and its six months holding every municipality's
figures (and its child population, as the snapshot's population figure for N children). It then creates
the same two-tranche agreement for every municipality (tranche 1: ``months_met`` on six monthly
snapshots, k = 5; tranche 2: ``threshold`` over ``at_period_end`` and ``improvement``), signs them and
times:

* ``evaluate_many`` over every tranche of every agreement (snapshots and figures read once), and
* ``evaluate`` one tranche at a time (what the API's evaluate endpoint does), for every tranche,

printing the total and the time per municipality (so the figure extrapolates to any country size), and an
incentive distribution and an award computation over every municipality.

Its database is a fresh SQLite file under ``bench/out/results/`` unless ``DATABASE_URL`` is set (an empty
database, or ``--flush`` to empty it first).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from synthetic_tree import build_territories, migrated_empty, setup_django

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--year", default="2025")
    parser.add_argument("--flush", action="store_true", help="empty the database of DATABASE_URL first")
    args = parser.parse_args()
    setup_django(OUT)
    import numpy as np
    from django.db import transaction

    from crecer import conf
    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor
    from crecer.lib.periods import parse
    from crecer.monitoring.models import Snapshot, SnapshotValue
    from crecer.results import actions, programmes
    from crecer.results.models import Agreement, Tranche

    migrated_empty(args.flush)
    actor = Actor(None, Channel.CLI)
    profile = conf.profile()
    rng = np.random.default_rng(2026)
    tree, _by_code, municipalities = build_territories(rng, args.children)
    children = np.round(tree.population * args.children).astype(int)

    # SYNTHETIC frozen snapshots: six months and the year, every municipality's figures.
    year = args.year
    months = [p.code for p in parse(f"{year}-07").previous(6)]
    started = time.perf_counter()
    with transaction.atomic():
        for period in [*months, year]:
            snapshot = Snapshot.objects.create(
                period=period,
                revision=1,
                profile=profile.id,
                profile_version=profile.version,
                definitions={"check_ups_up_to_date_0_11m": 1, "welcome_kit": 1, "document_by_60d": 1},
                fingerprint="0" * 64,
                reason="bench: synthetic figures",
            )
            values = rng.uniform(55, 100, size=(len(municipalities), 3))
            rows = []
            for m, v, n in zip(municipalities, values, children, strict=True):
                for code, value in zip(
                    ("check_ups_up_to_date_0_11m", "welcome_kit", "document_by_60d"), v, strict=True
                ):
                    rows.append(
                        SnapshotValue(
                            snapshot=snapshot,
                            indicator=code,
                            version=1,
                            territory=m,
                            numerator=round(value),
                            denominator=100,
                            value=round(float(value), 2),
                        )
                    )
                rows.append(
                    SnapshotValue(
                        snapshot=snapshot,
                        indicator=programmes.POPULATION_INDICATOR,
                        version=1,
                        territory=m,
                        numerator=0,
                        denominator=int(n),
                        value=0.0,
                    )
                )
            SnapshotValue.objects.bulk_create(rows, batch_size=2000)
    print(f"fabricated {len(months) + 1} frozen snapshots ({time.perf_counter() - started:.1f} s)")

    template = {
        "code": f"CCC-{year}",
        "name": f"Convenio {year}",
        "period": year,
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
                        "months": months,
                        "k": 5,
                        "baseline": 70,
                        "target": 80,
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
                        "baseline": 70,
                        "target": 85,
                        "weight": 2,
                    },
                    {
                        "indicator": "document_by_60d",
                        "rule": "improvement",
                        "period": year,
                        "baseline": 75,
                        "points": 5,
                        "target": 80,
                    },
                ],
            },
        ],
    }
    started = time.perf_counter()
    agreements = []
    for region in tree.region_codes:
        agreements += actions.create_for_region(actor, region, template, "20000000", "15000")
    for agreement in agreements:
        actions.sign(actor, agreement)
    created = time.perf_counter() - started
    print(
        f"created and signed {len(agreements)} agreements ({created:.1f} s, {created / len(agreements) * 1000:.1f} ms each)"
    )

    tranches = list(Tranche.objects.filter(agreement__in=agreements).select_related("agreement__territory"))
    started = time.perf_counter()
    evaluations = actions.evaluate_many(actor, tranches, reason="bench")
    many = time.perf_counter() - started
    print(
        f"evaluate_many: {len(evaluations)} tranches of {len(agreements)} municipalities in {many:.2f} s "
        f"({many / len(agreements) * 1000:.1f} ms per municipality)"
    )
    started = time.perf_counter()
    for tranche in Tranche.objects.filter(agreement__in=agreements).select_related("agreement__territory"):
        actions.evaluate(actor, tranche, reason="bench, one by one")
    single = time.perf_counter() - started
    print(
        f"evaluate one tranche at a time (as the API): {len(tranches)} tranches in {single:.2f} s "
        f"({single / len(agreements) * 1000:.1f} ms per municipality)"
    )
    paid = sum(e.amount_cents for e in evaluations)
    print(
        f"paid in the first round: {paid / 100:,.2f} of {sum(a.total_cents for a in Agreement.objects.all()) / 100:,.2f}"
    )

    programme = programmes.create_programme(
        actor,
        {
            "code": "FED",
            "period": year,
            "budget": "500000000",
            "by_population": True,
            "region_code": tree.codes[0],
            "conditions": template["tranches"][1]["conditions"],  # type: ignore[index]
        },
    )
    started = time.perf_counter()
    distribution = programmes.distribute(actor, programme)
    total = sum(r["amount_cents"] for r in distribution.rows)
    print(
        f"incentive distribution over {len(distribution.rows)} municipalities: {time.perf_counter() - started:.2f} s "
        f"(sums to {total} cents of {programme.budget_cents})"
    )
    edition = programmes.create_edition(
        actor,
        {
            "code": "SELLO",
            "period": year,
            "criteria": [
                {"indicator": "welcome_kit", "threshold": 85},
                {"indicator": "document_by_60d", "threshold": 80},
            ],
        },
    )
    started = time.perf_counter()
    result = programmes.compute_awards(actor, edition)
    print(f"award results over {len(result.rows)} municipalities: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
