"""Batch deduplication of the registry: the linkage model over every active child, its pairs into the
review queue and, on request, a CSV file ``external_id_a,external_id_b,score,decision``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.core.bulk import BulkInsert
from crecer.core.downloads import SafeWriter
from crecer.dedup.models import DedupRun, DuplicatePair, PairStatus
from crecer.lib import dedup
from crecer.registry.models import CaregiverLink, Child, Relationship
from crecer.territories.models import Territory

CHUNK = 20_000


def records() -> Iterator[dict[str, Any]]:
    """Every active child as the linkage model reads it (names, birth date, sex, documents, territory)."""
    mothers = dict(
        CaregiverLink.unscoped.filter(
            relationship=Relationship.MOTHER, caregiver__national_id__isnull=False
        ).values_list("child_id", "caregiver__national_id")
    )
    territories = dict(Territory.objects.values_list("id", "code"))
    fields = (
        "id",
        "external_id",
        "registry_number",
        "given_names",
        "paternal_surname",
        "maternal_surname",
        "birth_date",
        "sex",
        "national_id",
        "territory_id",
    )
    rows = Child.unscoped.filter(voided_at__isnull=True).order_by("pk").values_list(*fields)
    for row in rows.iterator(chunk_size=CHUNK):
        r = dict(zip(fields, row, strict=True))
        yield {
            "id": r["id"],
            "external_id": r["external_id"] or r["registry_number"],
            "given_names": r["given_names"],
            "paternal_surname": r["paternal_surname"],
            "maternal_surname": r["maternal_surname"],
            "birth_date": r["birth_date"],
            "sex": r["sex"],
            "document": r["national_id"],
            "mother_document": mothers.get(r["id"]),
            "territory": territories.get(r["territory_id"]),
        }


@dataclass
class Outcome:
    run: DedupRun
    result: dedup.Result
    written: int
    skipped_reviewed: int


def run(
    actor: Actor, out: Path | None = None, progress: Callable[[str], None] | None = None, threads: int | None = None
) -> Outcome:
    """Score the registry; put the pairs in the review queue (replacing the open pairs of earlier runs,
    keeping what reviewers decided) and, with ``out``, write them to a CSV file."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    say("reading")
    table = dedup.prepare(records())
    external = dict(zip(table.column("unique_id").to_pylist(), table.column("external_id").to_pylist(), strict=True))
    result = dedup.deduplicate(table, threads=threads, progress=say)
    say("saving")
    with transaction.atomic():
        # Open pairs of earlier runs give way to this run's, except those with a merge in their history
        # (undone merges keep pointing at them); reviewed pairs stay and are not proposed again.
        DuplicatePair.objects.filter(status=PairStatus.OPEN, merges__isnull=True).delete()
        kept = {(a, b): pk for pk, a, b in DuplicatePair.objects.values_list("pk", "child_a_id", "child_b_id")}
        reviewed = set(DuplicatePair.objects.exclude(status=PairStatus.OPEN).values_list("child_a_id", "child_b_id"))
        fresh = [p for p in result.pairs if (p[0], p[1]) not in kept]
        for a, b, probability, weight, decision in result.pairs:
            if (a, b) in kept and (a, b) not in reviewed:
                DuplicatePair.objects.filter(pk=kept[(a, b)]).update(
                    probability=probability, weight=weight, decision=decision
                )
        dedup_run = DedupRun.objects.create(
            actor=actor.user,
            records=result.records,
            compared=result.compared,
            matches=sum(1 for p in fresh if p[4] == "match"),
            reviews=sum(1 for p in fresh if p[4] == "review"),
            excluded=result.related_excluded,
            seconds=round(time.perf_counter() - started, 1),
        )
        BulkInsert(DuplicatePair).write(
            {
                "run_id": dedup_run.pk,
                "child_a_id": a,
                "child_b_id": b,
                "probability": probability,
                "weight": weight,
                "decision": decision,
                "status": PairStatus.OPEN,
                "reviewed_by_id": None,
                "reviewed_at": None,
                "note": "",
            }
            for a, b, probability, weight, decision in fresh
        )
        record(
            actor,
            Action.CREATE,
            dedup_run,
            after={
                "records": result.records,
                "compared": result.compared,
                "matches": dedup_run.matches,
                "reviews": dedup_run.reviews,
                "twins_and_siblings_excluded": result.related_excluded,
                "already_reviewed": len(reviewed & {(p[0], p[1]) for p in result.pairs}),
            },
        )
    if out is not None:
        with Path(out).open("w", encoding="utf-8", newline="") as fh:
            writer = SafeWriter(fh)
            writer.writerow(["external_id_a", "external_id_b", "score", "decision"])
            for a, b, probability, _weight, decision in fresh:
                writer.writerow([external[a], external[b], f"{probability:.6f}", decision])
    return Outcome(run=dedup_run, result=result, written=len(fresh), skipped_reviewed=len(result.pairs) - len(fresh))
