"""Benchmark: every indicator for every territory at every level for one year, and dashboards read from
a snapshot.

    CRECER_DATA_DIR=bench/out/load-cl-1000000 \\
    DATABASE_URL=sqlite:///bench/out/load-cl-1000000/crecer.sqlite3 \\
        .venv/bin/python bench/bench_indicators.py [--period 2025] [--requests 200]

Point it at a database loaded with ``bench/bench_generate_load.py`` (SQLite or PostgreSQL). It prints
the time of each indicator (with every disaggregation, every territory of every level: the engine
computes them in one pass), the total, then takes a snapshot and times dashboard pages (national,
regional and municipal dashboards and indicator pages) read from it: p50, p95 and max.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="2025")
    parser.add_argument("--requests", type=int, default=200, help="dashboard requests to time")
    parser.add_argument(
        "--referrals", type=float, default=0.03, help="share of children given a SYNTHETIC referral when there are none"
    )
    parser.add_argument("--detail", action="store_true", help="also time each indicator alone")
    parser.add_argument("--skip-snapshot", action="store_true", help="reuse the latest snapshot of the period")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from crecer.access.actions import create_user
    from crecer.access.models import Role, User
    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor
    from crecer.lib import periods
    from crecer.monitoring import definitions, engine, quality, reading, snapshots
    from crecer.registry.models import Child
    from crecer.territories.models import Territory

    period = periods.parse(args.period)
    actor = Actor(None, Channel.CLI)
    user = User.objects.filter(username="bench_national").first() or create_user(
        actor, "bench_national", Role.NATIONAL_MANAGER, Territory.objects.get(depth=0).code, "bench-password-2026-long"
    )
    seed_referrals(user, period, args.referrals)
    children = Child.unscoped.count()
    levels = {}
    for level in Territory.objects.values_list("level", flat=True):
        levels[level] = levels.get(level, 0) + 1
    print(f"database: {connection.vendor}  children: {children:,}  territories: {levels}  period: {period.code}")
    everything = (*definitions.indicators(), *quality.QUALITY)
    started = time.perf_counter()
    figures = engine.compute_many(everything, period)
    total = time.perf_counter() - started
    print(
        f"ALL {len(definitions.indicators())} indicators + {len(quality.QUALITY)} data-quality checks: {total:.1f} s, "
        f"{len(figures):,} figures (every territory, every level, every disaggregation; {engine.JOBS} parallel connections)"
    )
    if args.detail:
        print(f"{'indicator, one at a time':34} {'seconds':>8} {'figures':>8}")
        for indicator in everything:
            started = time.perf_counter()
            count = len(engine.compute(indicator, period))
            print(f"{indicator.code:34} {time.perf_counter() - started:8.2f} {count:8,}")

    if args.skip_snapshot and reading.latest_snapshot(period.code):
        snapshot = reading.latest_snapshot(period.code)
    else:
        started = time.perf_counter()
        snapshot = snapshots.take(actor, period, "benchmark")
        print(
            f"snapshot {snapshot.period} r{snapshot.revision}: {snapshot.values.count():,} figures frozen in "
            f"{time.perf_counter() - started:.1f} s"
        )

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(user)
    nation = Territory.objects.get(depth=0)
    regions = list(Territory.objects.filter(depth=1).order_by("code"))
    municipalities = list(Territory.objects.filter(depth=2).order_by("code")[:50])
    codes = [i.code for i in definitions.indicators()]
    urls = []
    for n in range(args.requests):
        place = (nation, regions[n % len(regions)], municipalities[n % len(municipalities)])[n % 3]
        if n % 2:
            urls.append(f"/monitoring/?territory={place.code}&period={period.code}&focus={codes[n % len(codes)]}")
        else:
            urls.append(f"/monitoring/{codes[n % len(codes)]}/?territory={place.code}&period={period.code}")
    client.get(urls[0])  # warm the template cache, as a running server would be
    timings = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{url}: HTTP {response.status_code}")
        assert response.context["snapshot"] == snapshot
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"dashboard pages from snapshot r{snapshot.revision} ({len(timings)} requests: dashboards and indicator pages "
        f"at nation, region and municipality): p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms, "
        f"max {timings[-1]:.0f} ms"
    )


def seed_referrals(user, period, share: float) -> None:  # type: ignore[no-untyped-def]
    """The synthetic country has no referral history; give ``share`` of the children born before the
    period one SYNTHETIC referral sent during it (answered, started, expired in realistic shares), so
    the referral indicators measure real work. Bulk-inserted: benchmark data, not an audited action."""
    import datetime as dt

    import numpy as np
    from django.utils import timezone

    from crecer.core.bulk import BulkInsert
    from crecer.referrals.models import Referral, Service
    from crecer.registry.models import Child
    from crecer.territories.models import Organisation

    if Referral.unscoped.exists() or share <= 0:
        return
    started = time.perf_counter()
    rng = np.random.default_rng(7)
    kids = list(Child.unscoped.filter(birth_date__lt=period.start).values_list("pk", "territory_id"))
    chosen = rng.choice(len(kids), size=int(len(kids) * share), replace=False)
    services = list(Service.objects.filter(active=True))
    organisations = list(Organisation.objects.values_list("pk", flat=True))
    start = timezone.make_aware(dt.datetime.combine(period.start, dt.time(9)))
    span = (period.end - period.start).days

    def rows():  # type: ignore[no-untyped-def]
        for n, index in enumerate(chosen):
            child_id, territory_id = kids[index]
            service = services[n % len(services)]
            sent = start + dt.timedelta(days=int(rng.integers(0, span)), minutes=int(rng.integers(0, 480)))
            roll = rng.random()
            accepted = sent + dt.timedelta(days=float(rng.gamma(2.0, 2.0))) if roll < 0.85 else None
            begun = accepted + dt.timedelta(days=float(rng.gamma(3.0, 5.0))) if accepted and roll < 0.75 else None
            state = "completed" if begun else ("accepted" if accepted else "expired")
            yield {
                "child_id": child_id,
                "pregnancy_id": None,
                "service_id": service.pk,
                "organisation_id": organisations[n % len(organisations)],
                "flag_id": None,
                "sender_id": user.pk,
                "sender_facility_id": None,
                "assignee_id": None,
                "territory_id": territory_id,
                "reason": "SYNTHETIC benchmark referral",
                "priority": "routine",
                "consent": [],
                "state": state,
                "version": 1,
                "created_at": sent,
                "sent_at": sent,
                "acceptance_due": sent + dt.timedelta(days=service.acceptance_days),
                "accepted_at": accepted,
                "attention_due": accepted + dt.timedelta(days=service.attention_days) if accepted else None,
                "started_at": begun,
                "finished_at": None,
                "closed_at": None,
                "overdue_at": None,
                "reminded_at": None,
                "rejection_reason": "",
                "not_completed_reason": "",
                "counter_referral": None,
                "grant_id": None,
            }

    written = BulkInsert(Referral).write(rows())
    print(f"seeded {written:,} SYNTHETIC referrals in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
