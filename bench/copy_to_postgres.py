"""Bench helper: copy a Crecer SQLite database into a fresh PostgreSQL database, table by table.

    .venv/bin/python bench/copy_to_postgres.py SQLITE_FILE [--database crecer_bench_copy]

Both then hold the same rows, so the same benchmark can run on each and their figures can be compared
one by one. The PostgreSQL schema comes from the migrations (``crecer migrate``); the rows are streamed
with ``COPY`` (foreign-key triggers are off during the copy, as in a restore), then the id sequences
are reset and the tables vacuumed and analysed. Takes minutes where loading the same country through the importers
takes hours.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

SERVER = "postgresql://postgres@127.0.0.1:5432/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sqlite", type=Path)
    parser.add_argument("--database", default="crecer_bench_copy")
    args = parser.parse_args()
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(SERVER + "postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.database}")
        conn.execute(f"CREATE DATABASE {args.database}")
    url = SERVER.replace("postgresql", "postgres") + args.database
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([sys.executable, "-m", "crecer.cli", "migrate", "-v0"], env=env, check=True)

    source = sqlite3.connect(args.sqlite)
    tables = [
        name
        for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if not name.startswith("sqlite_") and name != "django_migrations"
    ]
    total = 0
    with psycopg.connect(SERVER + args.database) as target:
        target.execute("SET session_replication_role = replica")  # no foreign-key triggers while copying
        target.execute("SET TIME ZONE 'UTC'")  # Django keeps UTC times without a zone in SQLite
        present = {r[0] for r in target.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        tables = [t for t in tables if t in present]
        target.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        for table in tables:
            columns = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
            quoted = ", ".join(f'"{c}"' for c in columns)
            part = time.perf_counter()
            count = 0
            with target.cursor().copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in source.execute(f'SELECT {quoted} FROM "{table}"'):  # noqa: S608 (names from the schema)
                    copy.write_row(row)
                    count += 1
            total += count
            if count:
                print(f"{table:<32} {count:>12,} rows {time.perf_counter() - part:7.1f} s", flush=True)
        target.commit()
    reset = """
import django
django.setup()
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection
with connection.cursor() as cursor:
    for sql in connection.ops.sequence_reset_sql(no_style(), list(apps.get_models())):
        cursor.execute(sql)
    cursor.execute("VACUUM ANALYZE")  # as autovacuum would after a restore: index-only scans need it
"""
    subprocess.run([sys.executable, "-c", reset], env=dict(env, DJANGO_SETTINGS_MODULE="crecer.settings"), check=True)
    print(f"copied {total:,} rows into {args.database} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
