"""Benchmark: the FHIR NDJSON export of one region and the pseudonymised analytics export of the country.

    CRECER_DATA_DIR=/tmp/x [DATABASE_URL=...] .venv/bin/python bench/bench_exports.py [--region CODE] [--out DIR]

Point it at an already loaded database, e.g. a small synthetic country:

    CRECER_DATA_DIR=/tmp/x .venv/bin/crecer migrate
    CRECER_DATA_DIR=/tmp/x .venv/bin/crecer generate --children 2000 --seed 1 --out /tmp/x/country --quiet
    CRECER_DATA_DIR=/tmp/x .venv/bin/crecer load /tmp/x/country --quiet

It runs what ``crecer export fhir --territory REGION`` and ``crecer export analytics`` run (as the
system, so each records an EXPORT audit event), into a temporary folder removed afterwards unless
``--out`` is given, and prints rows per second. Unless CRECER_PSEUDONYM_KEY is set, a random key is
used for the run (no key file is written into the data folder).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="", help="territory code for the FHIR export (default: the first region)")
    parser.add_argument("--out", type=Path, default=None, help="keep the files here (default: a temporary folder)")
    parser.add_argument("--batch-size", type=int, default=500, help="children per batch of the FHIR export")
    args = parser.parse_args()
    os.environ.setdefault("CRECER_PSEUDONYM_KEY", secrets.token_urlsafe(32))

    import django

    django.setup()
    from django.db import connection

    from crecer.audit.models import Channel
    from crecer.audit.trail import Actor
    from crecer.interop import analytics, fhir_export
    from crecer.registry.models import Child
    from crecer.territories.models import Territory

    if args.region:
        region = Territory.objects.filter(code=args.region).first()
    else:
        region = Territory.objects.filter(depth=1).order_by("code").first()
    if region is None:
        sys.exit("No such region (is the database loaded? run `crecer load` first).")
    out = args.out or Path(tempfile.mkdtemp(prefix="crecer-bench-exports-"))
    actor = Actor(None, Channel.CLI)
    print(f"database: {connection.vendor}  children: {Child.unscoped.count():,}  region: {region.code}  out: {out}")

    try:
        result = fhir_export.export_ndjson(actor, out / "fhir", region, batch_size=args.batch_size)
        resources = sum(result.counts.values())
        print(
            f"export fhir --territory {region.code}: {result.children:,} children, {resources:,} resources "
            f"in {result.seconds:.1f} s = {resources / max(result.seconds, 1e-9):,.0f} resources/s, "
            f"{result.children / max(result.seconds, 1e-9):,.0f} children/s"
        )
        for rtype, count in result.counts.items():
            print(f"  {rtype:16} {count:>12,}")

        spent: dict[str, float] = {}

        @contextlib.contextmanager
        def timed(label: str) -> Iterator[Callable[[int, int | None], None]]:
            began = time.perf_counter()
            yield lambda done, total: None
            spent[label] = time.perf_counter() - began

        started = time.perf_counter()
        tables = analytics.export(actor, out / "analytics", progress=timed)
        seconds = time.perf_counter() - started
        rows = sum(t.rows for t in tables.tables)
        print(
            f"export analytics (whole country): {rows:,} rows in {seconds:.1f} s = {rows / max(seconds, 1e-9):,.0f} rows/s"
        )
        for table in tables.tables:
            size = (out / "analytics" / table.file).stat().st_size
            took = spent.get(table.name, 0.0)
            print(
                f"  {table.name:16} {table.rows:>12,} rows {size / 1e6:>9.1f} MB {took:>7.2f} s"
                f" {table.rows / max(took, 1e-9):>12,.0f} rows/s"
            )
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
