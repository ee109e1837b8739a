"""Reads of children's data, logged through one door.

Every response that carries a child's data — a page, an API answer, a list, a drill-down, a download,
a FHIR Bundle or NDJSON export — calls :func:`log_reads` with who acts, the ids of the children whose
data it carries and what was read: a short description without personal data, such as ``"child page"``
or ``"worklist overdue"``. It writes one READ event per child (``entity`` ``registry.child``,
``child_id`` the child), so "who saw this child" is one indexed query whatever the route.

A pregnancy read is logged with the pregnancy as the entity, once per child born of it (``child_id``
that child) or, before a birth is recorded, once with no child. A caregiver read is logged the same way:
the caregiver as the entity, once per child linked to them, or once with no child.

A list logs the children actually sent (the page shown, not the whole result); a download logs every
child in the file, chunk by chunk as it streams (:func:`log_rows`), so a file cut short logs only what
left. The events are written with one multi-row insert (``COPY`` on PostgreSQL), in their own small
transaction: reads need no transaction of their caller. They join the audit's hash chain like every
other event (:func:`crecer.audit.chain.append_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from crecer.audit import chain
from crecer.audit.models import Action
from crecer.audit.trail import Actor

CHILD = "registry.child"
PREGNANCY = "registry.pregnancy"
CAREGIVER = "registry.caregiver"
#: rows of a download logged (and handed on) at a time
CHUNK = 2000
#: ids per query when looking up the children of pregnancies (SQLite's limit of host parameters)
_LOOKUP = 900


def _unique(ids: Iterable[int | None]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in ids if i is not None))


def _born_of(pregnancy_ids: list[int]) -> dict[int, list[int]]:
    from crecer.registry.models import Child

    born: dict[int, list[int]] = {}
    for start in range(0, len(pregnancy_ids), _LOOKUP):
        part = pregnancy_ids[start : start + _LOOKUP]
        rows = Child.unscoped.filter(pregnancy_id__in=part).order_by("pk").values_list("pregnancy_id", "pk")
        for pregnancy_id, child_id in rows:
            born.setdefault(pregnancy_id, []).append(child_id)
    return born


def _linked_to(caregiver_ids: list[int]) -> dict[int, list[int]]:
    from crecer.registry.models import CaregiverLink

    linked: dict[int, list[int]] = {}
    for start in range(0, len(caregiver_ids), _LOOKUP):
        part = caregiver_ids[start : start + _LOOKUP]
        rows = (
            CaregiverLink.unscoped.filter(caregiver_id__in=part)
            .order_by("child_id")
            .values_list("caregiver_id", "child_id")
        )
        for caregiver_id, child_id in rows:
            linked.setdefault(caregiver_id, []).append(child_id)
    return linked


def log_reads(
    actor: Actor,
    what: str,
    children: Iterable[int | None] = (),
    *,
    pregnancies: Iterable[int | None] = (),
    caregivers: Iterable[int | None] = (),
) -> int:
    """Log that ``actor`` was sent the data of ``children``, ``pregnancies`` and ``caregivers`` (ids).

    ``what`` says what was read (a route or list, never a name or a document). One READ event per
    child, per pregnancy (per child born of it) and per caregiver (per child linked to them); repeated
    ids are logged once. Returns how many events were written."""
    child_ids = _unique(children)
    pregnancy_ids = _unique(pregnancies)
    caregiver_ids = _unique(caregivers)
    items: list[tuple[str, int, int | None]] = [(CHILD, pk, pk) for pk in child_ids]
    if pregnancy_ids:
        born = _born_of(pregnancy_ids)
        for pk in pregnancy_ids:
            items += [(PREGNANCY, pk, child_id) for child_id in born.get(pk, [None])]
    if caregiver_ids:
        linked = _linked_to(caregiver_ids)
        for pk in caregiver_ids:
            items += [(CAREGIVER, pk, child_id) for child_id in linked.get(pk, [None])]
    if not items:
        return 0
    common = {
        "actor_id": actor.user.pk if actor.user is not None else None,
        "actor_username": actor.username,
        "action": Action.READ,
        "channel": actor.channel,
        "note": what[:200],
    }
    # Chained (hashes computed in one pass) and written with one multi-row insert, in a transaction of
    # their own (append_rows opens it).
    return chain.append_rows(
        {**common, "entity": entity, "entity_id": entity_id, "child_id": child_id}
        for entity, entity_id, child_id in items
    )


def log_rows(
    actor: Actor, what: str, rows: Iterable[Sequence[Any]], chunk: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """The rows of a download, given as ``(child_id, *columns)`` and handed on without the id; each
    chunk (:data:`CHUNK` rows) has its children logged just before its rows go out."""
    size = chunk or CHUNK
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            log_reads(actor, what, (r[0] for r in batch))
            yield from (tuple(r[1:]) for r in batch)
            batch = []
    if batch:
        log_reads(actor, what, (r[0] for r in batch))
        yield from (tuple(r[1:]) for r in batch)
