"""Benchmark: the child export (CSV, and Excel with --excel) with every child in the file logged as
read, side by side with the same export without the read log, in one run.

    CRECER_DATA_DIR=/tmp/x [DATABASE_URL=...] .venv/bin/python bench/bench_read_log.py [--rounds 2] [--excel]

Point it at an already loaded database, e.g. a synthetic registry of 100,000 children:

    CRECER_DATA_DIR=/tmp/x .venv/bin/crecer migrate
    CRECER_DATA_DIR=/tmp/x .venv/bin/crecer generate --children 100000 --seed 1 --no-trajectories --out /tmp/x/country --quiet
    CRECER_DATA_DIR=/tmp/x .venv/bin/crecer load /tmp/x/country --quiet

As a national manager (created if missing: ``bench_nacional``) it downloads ``/children/export.csv``
through the whole request path (test client, middleware, streaming) and reads the file to its end. The
baseline is the same request with the read log replaced by a pass-through (the ids dropped, nothing
written); rounds alternate baseline and logged. The READ events written stay in the database (the audit
trail is append-only): use a scratch database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="baseline/logged pairs (default 2)")
    parser.add_argument("--excel", action="store_true", help="also the Excel export (built in memory; slow)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from crecer.access.actions import create_user
    from crecer.access.models import Role, User
    from crecer.audit.models import Action, AuditEvent, Channel
    from crecer.audit.trail import Actor
    from crecer.registry import scope
    from crecer.territories.models import Territory
    from crecer.web import views

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    nation = Territory.objects.filter(depth=0).first()
    if nation is None:
        sys.exit("No territories (is the database loaded? run `crecer load` first).")
    user = User.objects.filter(username="bench_nacional").first() or create_user(
        Actor(None, Channel.CLI), "bench_nacional", Role.NATIONAL_MANAGER, nation.code, "bench-read-log-2026"
    )
    children = scope.children(user).count()
    print(f"database: {connection.vendor}  children in the export: {children:,}")

    logged_rows = views.log_rows

    def unlogged(actor: Any, what: str, rows: Iterable[Sequence[Any]], chunk: int | None = None) -> Iterator[Any]:
        return (tuple(r[1:]) for r in rows)

    client = Client()
    client.force_login(user)

    def download(path: str, log: bool) -> tuple[float, int, int]:
        views.log_rows = logged_rows if log else unlogged  # type: ignore[assignment]
        before = AuditEvent.objects.filter(action=Action.READ, actor=user).count()
        started = time.perf_counter()
        response = client.get(path)
        size = sum(len(part) for part in response.streaming_content) if response.streaming else len(response.content)
        seconds = time.perf_counter() - started
        written = AuditEvent.objects.filter(action=Action.READ, actor=user).count() - before
        assert response.status_code == 200, response.status_code
        return seconds, written, size

    paths = ["/children/export.csv"] + (["/children/export.xlsx"] if args.excel else [])
    try:
        for path in paths:
            for round_ in range(1, args.rounds + 1):
                base, _, size = download(path, log=False)
                with_log, written, _ = download(path, log=True)
                print(
                    f"{path} round {round_}: {size / 1e6:.1f} MB; without the read log {base:.2f} s, "
                    f"with it {with_log:.2f} s ({written:,} READ events, {written / max(with_log, 1e-9):,.0f} rows/s, "
                    f"+{with_log - base:.2f} s)"
                )
    finally:
        views.log_rows = logged_rows


if __name__ == "__main__":
    main()
