"""The audit trail as a hash chain: each event carries the hash of the one before it.

An event's ``hash`` is ``sha256(prev_hash + "\\n" + canonical form of its fields)`` (hex); its
``prev_hash`` is the hash of the event before it in id order, or :data:`GENESIS` for the first. The
one-row :class:`~crecer.audit.models.ChainHead` keeps the id and hash of the last event.

Every writer appends through this module — :func:`append_instance` for one event saved through the
model (``trail.record``, ``save_changes``), :func:`append_rows` for a batch written with one multi-row
insert (``trail.record_many``, ``record_created``, ``registry.reads.log_reads``): the head row is locked
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite IMMEDIATE transactions already serialise writers),
the hashes of the batch are computed in Python in one pass, the rows inserted and the head moved, all
in the caller's transaction. So appends are serialised from the moment a transaction writes its first
event until it commits, and ids follow the chain's order.

:func:`verify` walks the trail in id order and reports the first broken link: an event whose fields
no longer match its hash (changed), one whose ``prev_hash`` is not the hash of the event before it
(events deleted between them, or inserted out of band), or a head that does not name the last event
(events deleted from the end). See ``docs/audit.md`` for what this detects and what it cannot.

The canonical form is frozen: changing it would break every stored chain (a new form needs a new
field marking the version, and a migration).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

#: the ``prev_hash`` of the first event
GENESIS = "0" * 64

#: the fields of an event that its hash covers, in the order of the canonical form
FIELDS = (
    "at",
    "actor_id",
    "actor_username",
    "action",
    "channel",
    "entity",
    "entity_id",
    "child_id",
    "before",
    "after",
    "note",
)
_HEAD = 1
_EXACT = 2**53  # integers beyond this are not exact as JSON numbers read back as floats


def _at(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _numbers(value: Any) -> Any:
    # PostgreSQL's jsonb keeps a number's digits, not its Python type: 5.0 may come back as 5, 1e20 as
    # an integer. The canonical form makes a number's value, not its spelling, count.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _EXACT else value
    if isinstance(value, int):
        return value if abs(value) < _EXACT else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def _json(value: Any) -> Any:
    """A JSON column's value as it reads back from the database (the encoder's dates as text, …)."""
    if value is None:
        return None
    return _numbers(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


class _Parts:
    """The JSON text of each field value, the texts of repeated strings (a batch's user, action, entity,
    note) computed once: the canonical form is the JSON array of the values, built part by part
    (``json.dumps`` of the whole list, compact, keys sorted, gives the same text)."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.prefixes: dict[tuple[Any, ...], str] = {}

    def text(self, value: Any) -> str:
        if value is None:
            return "null"
        if type(value) is int:
            return str(value)
        if type(value) is str:
            found = self.texts.get(value)
            if found is None:
                found = self.texts[value] = _encode(value)
            return found
        return _encode(value)

    def canonical(self, values: dict[str, Any], at: str | None = None) -> bytes:
        get = values.get
        text = self.text
        # The leading fields are the same for every event of a call (one time, one user, one action).
        lead = (
            at if at is not None else _at(values["at"]),
            get("actor_id"),
            get("actor_username", ""),
            str(values["action"]),
            str(get("channel", "system")),
        )
        prefix = self.prefixes.get(lead)
        if prefix is None:
            prefix = self.prefixes[lead] = "[" + ",".join(text(v) for v in lead) + ","
        before, after = get("before"), get("after")
        parts = (
            text(values["entity"]),
            text(get("entity_id")),
            text(get("child_id")),
            "null" if before is None else _encode(_json(before)),
            "null" if after is None else _encode(_json(after)),
            text(get("note", "")),
        )
        return (prefix + ",".join(parts) + "]").encode("utf-8", "surrogatepass")


def canonical(values: dict[str, Any], at: str | None = None) -> bytes:
    """The canonical form of an event's fields (a dict keyed by :data:`FIELDS`; ``at`` may be given
    already formatted, for a batch sharing one time): the compact JSON array of the values in the order
    of :data:`FIELDS`, ``at`` as UTC text to the microsecond, the JSON columns as they read back from the
    database with their keys sorted, non-ASCII characters as they are, encoded in UTF-8."""
    return _Parts().canonical(values, at)


def link(prev_hash: str, form: bytes) -> str:
    """The hash of an event whose predecessor's hash is ``prev_hash`` and canonical form is ``form``."""
    return sha256(prev_hash.encode("ascii") + b"\n" + form).hexdigest()


# --- appending ----------------------------------------------------------------------------------------


def _table(name: str) -> str:
    return connection.ops.quote_name(name)


def _lock_head(cursor: Any) -> tuple[int | None, str]:
    """The head's (last id, last hash), locked until the transaction ends (created empty if missing:
    a trail emptied with its head starts again; a head deleted under a non-empty trail shows up as a
    break at the next event)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT last_id, last_hash FROM {_table('audit_chainhead')} WHERE id = %s{lock}"  # noqa: S608
    cursor.execute(select, [_HEAD])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            f"INSERT INTO {_table('audit_chainhead')} (id, last_id, last_hash) VALUES (%s, NULL, %s) "  # noqa: S608
            "ON CONFLICT (id) DO NOTHING",
            [_HEAD, GENESIS],
        )
        cursor.execute(select, [_HEAD])
        row = cursor.fetchone()
    return row[0], row[1]


def _move_head(cursor: Any, last_id: int, last_hash: str) -> None:
    cursor.execute(
        f"UPDATE {_table('audit_chainhead')} SET last_id = %s, last_hash = %s WHERE id = %s",  # noqa: S608
        [last_id, last_hash, _HEAD],
    )


def append_instance(event: Any, save: Callable[[], None]) -> None:
    """Chain one new event (an unsaved :class:`~crecer.audit.models.AuditEvent`) and save it with ``save``."""
    with transaction.atomic(), connection.cursor() as cursor:
        _last_id, last_hash = _lock_head(cursor)
        if event.at is None:
            event.at = timezone.now()
        event.prev_hash = last_hash
        event.hash = link(last_hash, canonical({f: getattr(event, f) for f in FIELDS}))
        save()
        _move_head(cursor, event.pk, event.hash)


def _inserter() -> Any:
    """The multi-row insert of events, built once per connection (every request that reads a child's
    data appends its read events through it)."""
    from crecer.audit.models import AuditEvent
    from crecer.core.bulk import BulkInsert

    wrapper = connections[DEFAULT_DB_ALIAS]
    found = wrapper.__dict__.get("_crecer_audit_insert")
    if found is None:
        found = wrapper.__dict__["_crecer_audit_insert"] = BulkInsert(AuditEvent)
    return found


def append_rows(rows: Iterable[dict[str, Any]]) -> int:
    """Chain and insert many new events (dicts of column values by attribute name, as for
    :class:`crecer.core.bulk.BulkInsert`) with one multi-row insert; returns how many."""
    batch = list(rows)
    if not batch:
        return 0
    now = timezone.now()
    at = _at(now)
    parts = _Parts()
    with transaction.atomic(), connection.cursor() as cursor:
        _last_id, prev = _lock_head(cursor)
        for row in batch:
            row.pop("at", None)  # one time for the call, hashed as ``at`` and written once below
            row["prev_hash"] = prev
            prev = row["hash"] = link(prev, parts.canonical(row, at))
        _inserter().write(batch, same={"at": now})
        # Appends are serialised by the head's lock, so the highest id is the last row just written.
        cursor.execute(f"SELECT MAX(id) FROM {_table('audit_auditevent')}")  # noqa: S608
        _move_head(cursor, cursor.fetchone()[0], prev)
    return len(batch)


# --- verifying ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`verify`: how many events were checked, the last hash, and the first broken
    link (``event_id`` and ``problem``), if any."""

    count: int
    last_hash: str
    event_id: int | None = None
    problem: str = ""
    last_id: int | None = None

    @property
    def intact(self) -> bool:
        return not self.problem


def _events(chunk: int) -> Iterator[tuple[Any, ...]]:
    from crecer.audit.models import AuditEvent

    # Keyset pagination: a plain, short query per chunk on both databases (no long-lived cursor).
    after = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", *FIELDS, "prev_hash", "hash")[:chunk]
        )
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def verify(chunk: int = 5000, anchors: dict[int, str] | None = None) -> Verdict:
    """Walk the trail in id order and report the first broken link (see the module's docstring).

    ``anchors`` are ``{event id: hash}`` recorded outside the server from earlier runs: the chain must
    still pass through each of them (a chain rewritten from some point on, head included, is otherwise
    consistent again)."""
    from crecer.audit.models import ChainHead

    anchors = dict(anchors or {})
    running = GENESIS
    previous: int | None = None
    count = 0
    parts = _Parts()
    for pk, *values, prev_hash, stored in _events(chunk):
        if not stored:
            return Verdict(count, running, pk, "it has no hash: it was written around the audit trail's functions")
        if len(parts.texts) + len(parts.prefixes) > 100_000:
            parts = _Parts()  # bounded memory over a long trail
        form = parts.canonical(dict(zip(FIELDS, values, strict=True)))
        if link(prev_hash, form) != stored:
            return Verdict(count, running, pk, "its fields do not match its hash: it was changed")
        if prev_hash != running:
            if previous is None:
                problem = "it is the first event but does not start the chain: events before it were deleted"
            else:
                problem = (
                    f"it does not follow event {previous}: events between them were deleted, or event "
                    f"{previous} was changed and its hash recomputed"
                )
            return Verdict(count, running, pk, problem)
        if pk in anchors and anchors.pop(pk) != stored:
            return Verdict(count, running, pk, "its hash is not the one recorded for it: the trail was rewritten")
        running, previous = stored, pk
        count += 1
    for pk in sorted(anchors):
        return Verdict(count, running, pk, "an event recorded with its hash is no longer in the trail")
    head = ChainHead.objects.filter(pk=_HEAD).first()
    if previous is None:
        if head is not None and head.last_id is not None:
            return Verdict(0, running, head.last_id, "the trail is empty but its head names this event as the last")
        return Verdict(0, running)
    if head is None:
        return Verdict(count, running, previous, "the chain head is missing (it names the last event)")
    if head.last_id != previous or head.last_hash != running:
        if head.last_id is not None and head.last_id > previous:
            problem = (
                f"the chain head names event {head.last_id} as the last, but the trail ends at event "
                f"{previous}: events at its end were deleted"
            )
            return Verdict(count, running, head.last_id, problem)
        return Verdict(count, running, previous, "the chain head does not name this last event")
    return Verdict(count, running, last_id=previous)
