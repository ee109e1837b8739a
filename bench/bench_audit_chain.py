"""Benchmark: the cost of the audit's hash chain on the bulk writers, in events per second.

    CRECER_DATA_DIR=/tmp/x [DATABASE_URL=...] .venv/bin/python bench/bench_audit_chain.py [--events 200000]

On a migrated scratch database (``crecer migrate``; the events written stay: the trail is
append-only), it writes ``--events`` READ events in calls of 2,000 (the chunk of a download's read log)
three ways, rounds alternating:

* unchained: the multi-row insert the read log used before the chain (``BulkInsert(AuditEvent).write``,
  no hashes: those rows break the chain, so use a fresh scratch database for each run);
* ``log_reads``: the read log as it is, hashes computed in Python in one pass and the head row locked;
* ``record_created``: the create events of an import batch, the same way.

Each line gives the wall time and this process's CPU time (on a shared machine the CPU time compares
better; on SQLite it includes the database's work, on PostgreSQL not). It also times ``chain.verify`` over the chained events (round 1, before the unchained rows) and the
hashing alone (``chain.canonical`` + ``chain.link`` per row).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crecer.settings")

CHUNK = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per way and round (default 200,000)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from crecer.audit import chain
    from crecer.audit.models import Action, AuditEvent, Channel
    from crecer.audit.trail import Actor, record_created
    from crecer.core.bulk import BulkInsert
    from crecer.registry.reads import log_reads

    actor = Actor(None, Channel.CLI)
    calls = max(1, args.events // CHUNK)
    print(f"database: {connection.vendor}  events in the trail: {AuditEvent.objects.count():,}")

    def unchained(ids: range) -> None:
        with transaction.atomic():
            BulkInsert(AuditEvent).write(
                {
                    "actor_id": None,
                    "actor_username": "system",
                    "action": Action.READ,
                    "channel": Channel.CLI,
                    "note": "bench",
                    "entity": "registry.child",
                    "entity_id": pk,
                    "child_id": pk,
                }
                for pk in ids
            )

    def chained(ids: range) -> None:
        log_reads(actor, "bench", ids)

    def created(ids: range) -> None:
        with transaction.atomic():
            record_created(actor, "registry.child", ((pk, pk) for pk in ids))

    def timed_verify() -> None:
        started = time.perf_counter()
        verdict = chain.verify()
        seconds = time.perf_counter() - started
        state = "intact" if verdict.intact else f"broken at {verdict.event_id}"
        print(
            f"verify: {verdict.count:,} events in {seconds:.2f} s = {verdict.count / seconds:,.0f} events/s ({state})"
        )

    # Unchained rows last in each round: verify (after round 1's chained ones) stops at the first of them.
    ways = {"log_reads (chained)": chained, "record_created (chained)": created, "unchained insert (before)": unchained}
    for round_ in range(1, args.rounds + 1):
        for name, write in ways.items():
            if round_ == 1 and write is unchained:
                timed_verify()
            started, cpu = time.perf_counter(), time.process_time()
            for call in range(calls):
                write(range(call * CHUNK + 1, (call + 1) * CHUNK + 1))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            rate, cpu_rate = calls * CHUNK / seconds, calls * CHUNK / cpu
            print(
                f"round {round_}  {name:28} {calls * CHUNK:,} events in {seconds:.2f} s = {rate:,.0f} events/s"
                f"  (this process's CPU: {cpu:.2f} s = {cpu_rate:,.0f} events/s)"
            )

    now = timezone.now()
    rows = [
        {"at": now, "action": "read", "channel": "cli", "entity": "registry.child", "entity_id": i, "child_id": i}
        for i in range(calls * CHUNK)
    ]
    started = time.perf_counter()
    at, prev = chain._at(now), chain.GENESIS
    for row in rows:
        prev = chain.link(prev, chain.canonical(row, at))
    seconds = time.perf_counter() - started
    print(f"hashing alone: {len(rows):,} rows in {seconds:.2f} s = {len(rows) / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
