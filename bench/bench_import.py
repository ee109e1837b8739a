"""Benchmark: importing children, against inserting the same rows raw with the database driver.

    .venv/bin/python bench/bench_import.py [--children 1000000] [--postgres] [--keep] [--no-risks] [--repeat N]

1. Generates a synthetic registry (no trajectories) under bench/out/import-N/ (reused when present;
   with --keep on SQLite, the loaded prerequisites of step 2 are reused too).
2. Loads what children refer to (territories, facilities, households, caregivers) into a fresh
   database and keeps a copy of it.
3. ``crecer import children`` as the importer runs it: validation with the same functions as the API,
   registry numbers, search names, mother links, one audit event per child — timed without the risk
   rules, then the risk rules over the imported children timed on their own.
4. On the copy, the same child rows and mother links inserted raw: CSV parsed with the csv module,
   references looked up in dicts, then ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) in one
   transaction — no validation, no audit.

Prints rows per second of each and the ratio import/raw; ``--repeat N`` runs both N times on fresh
copies (the raw insert alone varied by a third between runs on this machine) and prints every ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql://postgres@127.0.0.1:5432/"


def sh(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "crecer.cli", *args], env=env, check=True, capture_output=True)


def prepare(args: argparse.Namespace) -> tuple[Path, dict[str, str], dict[str, str]]:
    work = args.out / f"import-{args.children}"
    country = work / "country"
    env = dict(os.environ, CRECER_PROFILE="cl", CRECER_DATA_DIR=str(work), LANGUAGE="en", LC_ALL="C.UTF-8")
    if not (country / "manifest.json").exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        started = time.perf_counter()
        sh(
            [
                "generate",
                "--children",
                str(args.children),
                "--seed",
                "5",
                "--no-trajectories",
                "--out",
                str(country),
                "--quiet",
            ],
            env,
        )
        print(f"generated {args.children:,} children in {time.perf_counter() - started:.1f} s")
    base = work / "base.sqlite3"
    reuse = args.keep and not args.postgres and base.exists()
    for name in ("import.sqlite3", "raw.sqlite3") + (() if reuse else ("base.sqlite3",)):
        for suffix in ("", "-wal", "-shm"):
            Path(str(work / name) + suffix).unlink(missing_ok=True)
    if args.postgres:
        import psycopg

        with psycopg.connect(PG + "postgres", autocommit=True) as conn:
            for db in ("crecer_import", "crecer_raw"):
                conn.execute(f"DROP DATABASE IF EXISTS {db}")
            conn.execute("CREATE DATABASE crecer_import")
        base_env = dict(env, DATABASE_URL=PG.replace("postgresql", "postgres") + "crecer_import")
    else:
        base_env = dict(env, DATABASE_URL=f"sqlite:///{work / 'import.sqlite3'}")
    if reuse:
        shutil.copy(base, work / "import.sqlite3")
        print("prerequisites reused from an earlier run (--keep)")
    else:
        started = time.perf_counter()
        sh(["migrate", "-v0"], base_env)
        for kind in ("territories", "facilities", "households", "caregivers"):
            sh(["import", kind, str(country / f"{kind}.csv"), "--quiet"], base_env)
        print(
            "prerequisites (territories, facilities, households, caregivers) loaded in "
            f"{time.perf_counter() - started:.1f} s"
        )
    if args.postgres:
        import psycopg

        with psycopg.connect(PG + "postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE crecer_raw TEMPLATE crecer_import")
        raw_env = dict(env, DATABASE_URL=PG.replace("postgresql", "postgres") + "crecer_raw")
    else:
        shutil.copy(work / "import.sqlite3", work / "raw.sqlite3")
        if not reuse:
            shutil.copy(work / "import.sqlite3", base)
        raw_env = dict(env, DATABASE_URL=f"sqlite:///{work / 'raw.sqlite3'}")
    return country, base_env, raw_env


IMPORT = """
import json, os, sys, time
import django
django.setup()
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.imports.framework import run_import
from crecer.risks import engine
actor = Actor(None, Channel.CLI)
started = time.perf_counter()
result = run_import("children", sys.argv[1], actor, evaluate_risks=False)
seconds = time.perf_counter() - started
started = time.perf_counter()
flags = engine.evaluate_ids(actor, result.touched_children).raised if os.environ["BENCH_RISKS"] == "1" else 0
risks = time.perf_counter() - started
print(json.dumps({"rows": result.rows, "created": result.created, "rejected": len(result.rejected),
                  "seconds": seconds, "risk_seconds": risks, "flags": flags}))
"""

RAW = """
import csv, datetime as dt, json, sys, time
import django
django.setup()
from django.db import connection, transaction
from django.utils import timezone
from crecer.registry.models import Caregiver, Household
from crecer.territories.models import Facility, Territory
territories = dict(Territory.objects.values_list("code", "id"))
facilities = dict(Facility.objects.values_list("code", "id"))
households = dict(Household.unscoped.values_list("code", "id"))
mothers = dict(Caregiver.unscoped.exclude(national_id=None).values_list("national_id", "id"))
now = timezone.now()
started = time.perf_counter()
children, links = [], []
with open(sys.argv[1], encoding="utf-8", newline="") as fh:
    reader = csv.DictReader(fh)
    for n, r in enumerate(reader, 1):
        territory = territories[r["territory_code"]]
        children.append((
            f"R-{n:08d}", r["external_id"], r["given_names"], r["paternal_surname"], r["maternal_surname"],
            r["sex"], r["birth_date"] or None, r["national_id_type"], r["national_id"] or None, territory,
            "", households.get(r["household_code"]), facilities.get(r["facility_code"]),
            int(r["birth_weight_g"]) if r["birth_weight_g"] else None,
            int(r["gestational_weeks"]) if r["gestational_weeks"] else None,
            (r["given_names"] + " " + r["paternal_surname"] + " " + r["maternal_surname"]).lower(), now, now,
        ))
        links.append(mothers.get(r["mother_national_id"].replace(".", "")))
columns = ("registry_number", "external_id", "given_names", "paternal_surname", "maternal_surname", "sex",
           "birth_date", "national_id_type", "national_id", "territory_id", "void_reason", "household_id",
           "facility_id", "birth_weight_g", "gestational_weeks", "search_name", "created_at", "updated_at")
with transaction.atomic(), connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY registry_child ({', '.join(columns)}) FROM STDIN") as copy:
            for row in children:
                copy.write_row(row)
    else:
        sql = f"INSERT INTO registry_child ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        cursor.executemany(sql, children)
    cursor.execute("SELECT id, external_id FROM registry_child")
    ids = dict((e, i) for i, e in cursor.fetchall())
    pairs = [(ids[c[1]], m, "mother") for c, m in zip(children, links) if m]
    if connection.vendor == "postgresql":
        with cursor.cursor.copy("COPY registry_caregiverlink (child_id, caregiver_id, relationship) FROM STDIN") as copy:
            for row in pairs:
                copy.write_row(row)
    else:
        cursor.executemany("INSERT INTO registry_caregiverlink (child_id, caregiver_id, relationship) VALUES (%s, %s, %s)", pairs)
print(json.dumps({"rows": len(children), "links": len(pairs), "seconds": time.perf_counter() - started}))
"""


def run_script(script: str, env: dict[str, str], path: Path) -> dict[str, float]:
    env = dict(env, DJANGO_SETTINGS_MODULE="crecer.settings")
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--keep", action="store_true", help="SQLite: reuse the prerequisites of an earlier run")
    parser.add_argument("--no-risks", action="store_true", help="skip timing the risk rules after the import")
    parser.add_argument("--repeat", type=int, default=1, help="run import and raw this many times (fresh copies)")
    args = parser.parse_args()
    ratios = []
    for run in range(1, args.repeat + 1):
        if args.repeat > 1:
            print(f"--- run {run} of {args.repeat}")
        ratios.append(measure(args))
    if args.repeat > 1:
        print(
            f"import / raw over {args.repeat} runs: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}"
        )


def measure(args: argparse.Namespace) -> float:
    """One import and one raw insert, each into a fresh copy of the prerequisites; returns their ratio."""
    country, import_env, raw_env = prepare(args)
    children = country / "children.csv"
    print(f"database: {'postgresql' if args.postgres else 'sqlite'}  children: {args.children:,}")
    imported = run_script(IMPORT, dict(import_env, BENCH_RISKS="0" if args.no_risks else "1"), children)
    raw = run_script(RAW, raw_env, children)
    import_rate = imported["rows"] / imported["seconds"]
    raw_rate = raw["rows"] / raw["seconds"]
    print(
        f"crecer import children: {imported['rows']:,} rows, {imported['created']:,} created, "
        f"{imported['rejected']:,} rejected in {imported['seconds']:.1f} s = {import_rate:,.0f} rows/s"
    )
    if not args.no_risks:
        print(
            f"  then the risk rules over them: {imported['risk_seconds']:.1f} s ({imported['flags']:,} flags); "
            f"import + rules: {imported['seconds'] + imported['risk_seconds']:.1f} s"
        )
    print(f"raw driver insert of the same rows and mother links: {raw['seconds']:.1f} s = {raw_rate:,.0f} rows/s")
    print(f"import speed / raw speed = {import_rate / raw_rate:.2f} (target ≥ 0.33)")
    return import_rate / raw_rate


if __name__ == "__main__":
    main()
