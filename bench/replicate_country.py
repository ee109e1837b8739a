"""Bench helper: grow a loaded synthetic country N-fold inside the database, for timing set-based work
(indicators) at a scale that would take hours to load through the importers.

    CRECER_DATA_DIR=bench/out/load-cl-100000 \\
    DATABASE_URL=sqlite:///bench/out/load-cl-100000/crecer.sqlite3 \\
        .venv/bin/python bench/replicate_country.py --times 10

Every household, caregiver, pregnancy, child and the whole trajectory of each (links, encounters,
measurements, screenings, deliveries, parenting groups and members, risk flags, referrals and their
access grants) is copied ``times - 1`` more times with ``INSERT … SELECT`` on the same territories and
facilities: ids are shifted, references follow their copies, unique codes and documents get a
``~k`` suffix, and a copy's folded search name gets a ``" rk"`` word so that copies are not counted as
possible duplicates of their original. The audit trail and import batches are not copied. Each
copy of a table is one transaction; an interrupted run resumes where it stopped (the original highest
ids are kept in a ``.replicate.json`` file beside the database).

The result is SYNTHETIC and denser than a generated country of the same size: the same number of
territories, each with ``times`` as many children. Use it only for timings, and say so.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")

#: copied in this order (each refers only to earlier ones or to itself)
MODELS = (
    "registry.Household",
    "registry.Caregiver",
    "registry.Pregnancy",
    "registry.Child",
    "registry.CaregiverLink",
    "registry.AccessGrant",
    "tracking.Encounter",
    "tracking.Measurement",
    "tracking.Screening",
    "tracking.Delivery",
    "tracking.ParentingGroup",
    "tracking.GroupSession",
    "tracking.GroupMember",
    "risks.RiskFlag",
    "referrals.Referral",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=10, help="how many times bigger the country ends up")
    args = parser.parse_args()
    import django

    django.setup()
    from django.apps import apps
    from django.db import connection, models, transaction

    from crecer.registry.models import Child

    assert args.times >= 2
    quote = connection.ops.quote_name
    copied = {apps.get_model(label) for label in MODELS}
    # The highest original id of each table, kept beside the database so an interrupted run can resume.
    if connection.vendor == "postgresql":
        state = Path(__file__).resolve().parent / "out" / f"replicate-{connection.settings_dict['NAME']}.json"
        state.parent.mkdir(parents=True, exist_ok=True)
    else:
        state = Path(str(connection.settings_dict["NAME"]) + ".replicate.json")
    saved = json.loads(state.read_text()) if state.exists() else {}
    offsets: dict[type[models.Model], int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -2000000")  # 2 GB: the copies' index pages stay in memory
        for model in copied:
            if model._meta.label in saved:
                offsets[model] = saved[model._meta.label]
                continue
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote(model._meta.db_table)}")  # noqa: S608
            offsets[model] = int(cursor.fetchone()[0])
    state.write_text(json.dumps({m._meta.label: o for m, o in offsets.items()}))
    before = Child.unscoped.count()
    started = time.perf_counter()
    for label in MODELS:
        model = apps.get_model(label)
        table = quote(model._meta.db_table)
        # Unique text columns get a copy suffix; a person's document number too (it is unique together
        # with its type, which is kept as it is).
        unique_text = {
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField) and (f.unique or f.attname == "national_id")
        }
        with connection.cursor() as cursor:
            for name in unique_text:
                field = model._meta.get_field(name)
                cursor.execute(f"SELECT COALESCE(MAX(LENGTH({quote(name)})), 0) FROM {table}")  # noqa: S608
                longest = int(cursor.fetchone()[0])
                if field.max_length is not None and longest + 2 + len(str(args.times)) > field.max_length:
                    raise SystemExit(f"{label}.{name}: no room for a copy suffix ({longest}/{field.max_length})")
        part_started = time.perf_counter()
        for k in range(1, args.times):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT 1 FROM {table} WHERE id > %s AND id <= %s LIMIT 1",  # noqa: S608
                    [k * offsets[model], (k + 1) * offsets[model]],
                )
                if cursor.fetchone():
                    continue  # this copy was made by an earlier, interrupted run
            columns, values = [], []
            for f in model._meta.concrete_fields:
                column = quote(f.column)
                columns.append(column)
                if f.primary_key:
                    values.append(f"{column} + {k * offsets[model]}")
                elif f.is_relation and f.related_model in copied:
                    values.append(f"{column} + {k * offsets[f.related_model]}")
                elif f.attname in unique_text:
                    values.append(f"{column} || '~{k}'")
                elif model is Child and f.attname == "search_name":
                    values.append(f"{column} || ' r{k}'")
                else:
                    values.append(column)
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (names from the models)
                f"SELECT {', '.join(values)} FROM {table} WHERE {quote('id')} <= {offsets[model]}"
            )
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        print(f"{label:<26} ×{args.times} in {time.perf_counter() - part_started:7.1f} s", flush=True)
    if connection.vendor == "postgresql":
        _reset_sequences(copied)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"children: {before:,} before this run, {Child.unscoped.count():,} now (SYNTHETIC copies); "
        f"{time.perf_counter() - started:.1f} s"
    )


def _reset_sequences(copied: set[Any]) -> None:
    """PostgreSQL: the id sequences continue after the copies."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(copied)):
            cursor.execute(sql)


if __name__ == "__main__":
    main()
