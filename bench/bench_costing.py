"""Benchmark: the costing and the projections of every territory of the 1,000,000-child country.

    .venv/bin/python bench/bench_costing.py [--children 1000000] [--flush]

Builds the territory tree that ``crecer generate --children N`` draws for N children (the synthetic
generator, seed 2026), then bulk-inserts N minimal SYNTHETIC children (a registry number, a birth date
drawn uniformly over the last six years, the municipality drawn by its population share) and one
welcome-kit delivery for a tenth of them, SYNTHETIC unit costs and coverage targets, and SYNTHETIC yearly
snapshots (2019–2025) of a yearly indicator for every territory. It then times, as a national manager
(the counts go through the scoped query):

* the costing of the whole country for every year from this one to 2030 (one call: the grouped count by
  territory and birth month runs once, and every territory's cost comes out of it);
* the costing of each region and of each municipality, one call each (what the page and the API do);
* the projection of the indicator to 2030 for every territory.

Its database is a fresh SQLite file under ``bench/out/costing/`` unless ``DATABASE_URL`` is set (an empty
database, or ``--flush`` to empty it first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from synthetic_tree import build_territories, migrated_empty, setup_django

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "costing"
CHUNK = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--flush", action="store_true", help="empty the database of DATABASE_URL first")
    parser.add_argument("--reuse", action="store_true", help="time again on the country a previous run built")
    args = parser.parse_args()
    setup_django(OUT, keep=args.reuse)
    import numpy as np
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from crecer import conf
    from crecer.access.actions import create_user
    from crecer.access.models import Role
    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor
    from crecer.core import bulk
    from crecer.costing import actions
    from crecer.monitoring import definitions
    from crecer.monitoring.models import Snapshot, SnapshotValue
    from crecer.registry.models import Child
    from crecer.territories.models import Territory
    from crecer.tracking.models import Delivery

    if args.reuse:
        call_command("migrate", interactive=False, verbosity=0)
        timings(Territory.objects.get(parent__isnull=True))
        return
    migrated_empty(args.flush)
    system = Actor(None, Channel.CLI)
    profile = conf.profile()
    rng = np.random.default_rng(2026)
    tree, by_code, municipalities = build_territories(rng, args.children)

    # SYNTHETIC children: registry number, birth date over the last six years, municipality by population share.
    today = timezone.localdate()
    first_day = dt.date(today.year - 6, today.month, 1).toordinal()
    shares = np.asarray(tree.population, dtype=float)
    shares = shares / shares.sum()
    ids = np.asarray([m.pk for m in municipalities])
    started = time.perf_counter()
    writer = bulk.BulkInsert(Child)
    for start in range(0, args.children, CHUNK):
        n = min(CHUNK, args.children - start)
        where = ids[rng.choice(len(ids), size=n, p=shares)]
        born = rng.integers(first_day, today.toordinal(), size=n)
        rows = [
            {
                "registry_number": f"SYN{start + i:09d}",
                "search_name": "",
                "birth_date": dt.date.fromordinal(int(b)),
                "territory_id": int(t),
            }
            for i, (t, b) in enumerate(zip(where, born, strict=True))
        ]
        with transaction.atomic():
            writer.write(rows)
    inserted = time.perf_counter() - started
    print(f"inserted {args.children:,} synthetic children ({inserted:.1f} s)")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM registry_child")
        low, high = cursor.fetchone()
    served = rng.choice(np.arange(low, high + 1), size=args.children // 10, replace=False)
    deliveries = bulk.BulkInsert(Delivery)
    with transaction.atomic():
        deliveries.write(
            {"service_code": "welcome_kit", "child_id": int(c), "delivered_on": today.replace(day=1)} for c in served
        )
    bulk.refresh_statistics()
    print(
        f"inserted {len(served):,} synthetic deliveries and refreshed statistics ({time.perf_counter() - started:.1f} s)"
    )

    # SYNTHETIC prices and targets.
    for service, amount in (
        ("welcome_kit", "72700"),
        ("parenting_programme", "38000"),
        ("home_visit", "96000"),
        ("stimulation_session", "52000"),
        ("childcare_enrolment", "2150000"),
    ):
        actions.add_unit_cost(
            system,
            {
                "service": service,
                "amount": amount,
                "currency": "CLP",
                "price_year": str(today.year),
                "valid_from": "2019-01-01",
            },
        )
    nation = next(t for t in by_code.values() if t.parent_id is None)
    for service in ("home_visit", "stimulation_session", "childcare_enrolment", "parenting_programme"):
        actions.set_coverage(
            system, {"service": service, "territory": nation.code, "year": str(today.year), "coverage": "30"}
        )
    for region in tree.region_codes[:3]:
        actions.set_coverage(system, {"service": "home_visit", "territory": region, "year": "2028", "coverage": "45"})

    # SYNTHETIC yearly snapshots of a yearly indicator for every territory.
    indicator = next(i for i in definitions.indicators() if i.period == "year")
    with transaction.atomic():
        for k, year in enumerate(range(2019, 2026)):
            snapshot = Snapshot.objects.create(
                period=str(year),
                revision=1,
                profile=profile.id,
                profile_version=profile.version,
                definitions={indicator.code: 1},
                fingerprint="0" * 64,
                reason="bench: synthetic figures",
            )
            values = rng.uniform(5, 12, size=len(by_code)) - 0.3 * k
            SnapshotValue.objects.bulk_create(
                (
                    SnapshotValue(
                        snapshot=snapshot,
                        indicator=indicator.code,
                        version=1,
                        territory=t,
                        numerator=round(v),
                        denominator=100,
                        value=round(float(v), 2),
                    )
                    for t, v in zip(by_code.values(), values, strict=True)
                ),
                batch_size=2000,
            )
    create_user(system, "bench_nacional", Role.NATIONAL_MANAGER, nation.code, "bench-password-2026")
    timings(nation)


def timings(nation: Any) -> None:
    """Time the costing and the projections as the national manager (wall and processor seconds: SQLite
    runs in this process, so its work is in the processor time too)."""
    from django.db import connection
    from django.utils import timezone

    from crecer.access.models import User
    from crecer.costing import compute, projections
    from crecer.monitoring import definitions
    from crecer.territories.models import Territory

    national = User.objects.get(username="bench_nacional")
    today = timezone.localdate()
    indicator = next(i for i in definitions.indicators() if i.period == "year")
    regions = list(Territory.objects.filter(parent=nation).order_by("path"))
    municipalities = list(Territory.objects.filter(children__isnull=True, depth__gt=0).order_by("path"))
    everything = list(Territory.objects.order_by("path"))
    years = list(range(today.year, 2031))
    print(f"database: {connection.vendor}; years {years[0]}–{years[-1]}")

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def since(start: tuple[float, float]) -> str:
        return f"{time.perf_counter() - start[0]:.2f} s ({time.process_time() - start[1]:.2f} s processor)"

    started = clock()
    country = compute.costings(national, nation, years, today)
    print(
        f"costing of the whole country, {len(years)} years, every territory's cost: {since(started)}; "
        f"planned {today.year}: {country[today.year].total:,.2f} CLP, 2030: {country[2030].total:,.2f} CLP; "
        f"{len(country[today.year].by_territory)} territories costed"
    )
    for label, places in (("region", regions), ("municipality", municipalities)):
        started = clock()
        totals = [compute.costing(national, t, today.year, today).total for t in places]
        print(f"costing of each {label} ({len(places)}), {today.year}, one call each: {since(started)}")
        if label == "region":
            assert sum(totals) == country[today.year].total, "the regions do not add up to the country"
    started = clock()
    for t in everything:
        projections.project(indicator, t, 2030)
    print(f"projection of {indicator.code} to 2030 for every territory ({len(everything)}): {since(started)}")


if __name__ == "__main__":
    main()
