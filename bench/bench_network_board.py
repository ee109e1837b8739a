"""Benchmark: the municipal coordinator's network board on a municipality with 10,000 open referrals.

    .venv/bin/python bench/bench_network_board.py [--referrals 10000] [--postgres] [--repeat 50]

Builds a fresh database (SQLite under bench/out/, or a `crecer_board` database on the local
PostgreSQL), loads a synthetic municipality (children through the importer, referrals inserted in
bulk as setup), then times what the board does per page view — the count, the first page overdue
first, and the whole API call through Django's test client — and prints p50/p95.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "board"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    os.environ["CRECER_DATA_DIR"] = str(OUT)
    os.environ["DJANGO_SETTINGS_MODULE"] = "crecer.settings"
    os.environ["CRECER_ALLOWED_HOSTS"] = "testserver"
    if args.postgres:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS crecer_board")
            conn.execute("CREATE DATABASE crecer_board")
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/crecer_board"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{OUT / 'board.sqlite3'}"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from crecer.access.actions import create_token, create_user
    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor
    from crecer.core.bulk import BulkInsert
    from crecer.imports.framework import run_import
    from crecer.places.actions import create_territory, save_place
    from crecer.referrals import actions
    from crecer.referrals.models import Referral, Service
    from crecer.referrals.scope import box, overdue_first
    from crecer.registry.models import Child
    from crecer.territories.models import Organisation, Territory

    call_command("migrate", verbosity=0)
    system = Actor(None, Channel.CLI)
    create_territory(system, "CL", "País (sintético)", "nation")
    create_territory(system, "CL01", "Región", "region", "CL")
    create_territory(system, "CL01001", "Comuna grande", "municipality", "CL01")
    town = Territory.objects.get(code="CL01001")
    with transaction.atomic():
        save_place(system, Organisation, "sector", {"code": "SALA", "name": "Sala", "sector": "health"}, town.pk, None)
    actions.sync_services(system)
    service = Service.objects.get(code="stimulation_session")
    actions.save_provision(system, Organisation.objects.get(code="SALA"), service, [town], None)
    coordinator = create_user(system, "coord", "municipal_coordinator", "CL01001", "una-clave-larga-2026")
    nurse = create_user(system, "nurse", "municipal_coordinator", "CL01001", "una-clave-larga-2026")

    n = args.referrals
    started = time.perf_counter()
    csv_path = OUT / "children.csv"
    with csv_path.open("w", encoding="utf-8") as fh:
        fh.write(
            "external_id,given_names,paternal_surname,maternal_surname,sex,birth_date,national_id,mother_national_id,territory_code\n"
        )
        for i in range(n):
            fh.write(f"C{i:07d},Niño {i},Pérez,Soto,{'FM'[i % 2]},2024-0{1 + i % 9}-1{i % 9},,,CL01001\n")
    run_import("children", csv_path, system)
    now = timezone.now()
    rows = []
    for i, child_id in enumerate(Child.unscoped.order_by("pk").values_list("pk", flat=True)):
        sent = now - dt.timedelta(days=i % 60)
        state = ("sent", "accepted", "in_progress")[i % 3]
        rows.append(
            {
                "child_id": child_id,
                "service_id": service.pk,
                "organisation_id": Organisation.objects.get(code="SALA").pk,
                "sender_id": nurse.pk,
                "territory_id": town.pk,
                "reason": "bench",
                "priority": "routine",
                "consent": [],
                "state": state,
                "version": 2,
                "sent_at": sent,
                "acceptance_due": sent + dt.timedelta(days=5),
                "accepted_at": sent if state != "sent" else None,
                "attention_due": sent + dt.timedelta(days=30) if state != "sent" else None,
                "overdue_at": now if i % 7 == 0 else None,
            }
        )
    with transaction.atomic():
        BulkInsert(Referral).write(rows)
    setup = time.perf_counter() - started
    print(
        f"setup: {n:,} children and {Referral.unscoped.filter(state__in=('sent', 'accepted', 'in_progress')).count():,} open referrals in {setup:.1f} s ({connection.vendor})"
    )

    def timed(fn):  # type: ignore[no-untyped-def]
        samples = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]

    def page() -> None:
        qs = overdue_first(box(coordinator, "network")).select_related("service", "organisation", "child", "sender")
        qs.count()
        list(qs[:25])

    p50, p95 = timed(page)
    print(f"board query (count + first page of 25, overdue first): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(system, coordinator)}")
    p50, p95 = timed(lambda: client.get("/api/v1/referrals", {"box": "network"}))
    print(f"GET /api/v1/referrals?box=network (whole request): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    p50, p95 = timed(
        lambda: client.get(
            "/api/v1/referrals", {"box": "network", "state": "accepted", "service": "stimulation_session"}
        )
    )
    print(f"... filtered by state and service: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    # What the board's page opens on: what needs action (overdue first, then open).
    p50, p95 = timed(lambda: client.get("/api/v1/referrals", {"box": "network", "state": "action"}))
    print(f"... what needs action (the board's default): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    web = Client()
    web.force_login(coordinator)
    p50, p95 = timed(lambda: web.get("/referrals/"))
    print(f"GET /referrals/ (the board's page, whole request): p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
