"""The audit trail as hash chains: each event carries the hash of the one before it in its lane.

An event's ``hash`` is ``sha256(prev_hash + "\\n" + canonical form of its fields)`` (hex); its
``prev_hash`` is the hash of the event before it in its lane, in id order, or :data:`GENESIS` for the
lane's first. The trail is split into :data:`LANES` lanes, each its own chain with its own
:class:`~crecer.audit.models.ChainHead` row (id ``lane + 1``) keeping the id and hash of its last event.

Every writer appends through this module — :func:`append_instance` for one event saved through the
model (``trail.record``, ``save_changes``), :func:`append_rows` for a batch written with one multi-row
insert (``trail.record_many``, ``record_created``, ``registry.reads.log_reads``): the lane's head row is
locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite IMMEDIATE transactions already serialise
writers), the hashes of the batch are computed in Python in one pass, the rows inserted and the head
moved, all in the caller's transaction. So appends to one lane are serialised from the moment a
transaction writes its first event until it commits, and a lane's ids follow its chain's order.

Why lanes: with one chain, every request that reads a child's data queued on the one head row until the
request before it had committed, that is until PostgreSQL had flushed its commit to disk — one commit at
a time for the whole server. A thread always writes to the same lane (:func:`lane`: its thread id
modulo :data:`LANES`), so one transaction never locks two heads (no deadlock between lanes), and
concurrent requests of different threads commit side by side.

:func:`verify` walks each lane in id order and reports the first broken link: an event whose fields
no longer match its hash (changed), one whose ``prev_hash`` is not the hash of the event before it in
its lane (events deleted between them, inserted out of band, or moved to another lane), or a head that
does not name its lane's last event (events deleted from the end). See ``docs/audit.md`` for what this
detects and what it cannot.

The canonical form is frozen: changing it would break every stored chain (a new form needs a new
field marking the version, and a migration). The lane is not part of it: an event moved to another lane
breaks both lanes' chains.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from crecer.core import prepared

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
#: how many lanes the trail is split into (a fixed number: an event's lane is stored with it)
LANES = 16
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


def lane() -> int:
    """The lane this thread appends to: the same for every event of a transaction (a transaction runs in
    one thread), so a transaction locks one head only."""
    return threading.get_native_id() % LANES


def _head_id(lane_: int) -> int:
    return lane_ + 1


def _lock_head(cursor: Any, lane_: int) -> tuple[int | None, str]:
    """The lane's head, (last id, last hash), locked until the transaction ends (created empty if
    missing: a trail emptied with its heads starts again; a head deleted under a non-empty lane shows up
    as a break at the lane's next event)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT last_id, last_hash FROM {_table('audit_chainhead')} WHERE id = %s{lock}"  # noqa: S608
    cursor.execute(select, [_head_id(lane_)])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            f"INSERT INTO {_table('audit_chainhead')} (id, last_id, last_hash) VALUES (%s, NULL, %s) "  # noqa: S608
            "ON CONFLICT (id) DO NOTHING",
            [_head_id(lane_), GENESIS],
        )
        cursor.execute(select, [_head_id(lane_)])
        row = cursor.fetchone()
    return row[0], row[1]


def _move_head(cursor: Any, lane_: int, last_id: int, last_hash: str) -> None:
    cursor.execute(
        f"UPDATE {_table('audit_chainhead')} SET last_id = %s, last_hash = %s WHERE id = %s",  # noqa: S608
        [last_id, last_hash, _head_id(lane_)],
    )


def append_instance(event: Any, save: Callable[[], None]) -> None:
    """Chain one new event (an unsaved :class:`~crecer.audit.models.AuditEvent`) and save it with ``save``."""
    with transaction.atomic(), prepared.cursor(connection) as cursor:
        event.lane = lane_ = lane()
        _last_id, last_hash = _lock_head(cursor, lane_)
        if event.at is None:
            event.at = timezone.now()
        event.prev_hash = last_hash
        event.hash = link(last_hash, canonical({f: getattr(event, f) for f in FIELDS}))
        save()
        _move_head(cursor, lane_, event.pk, event.hash)


class _Statements:
    """The statements that append events, built once per connection (every request that reads a child's
    data appends its read events through them)."""

    def __init__(self) -> None:
        from crecer.audit.models import AuditEvent
        from crecer.core.bulk import BulkInsert

        self.insert = BulkInsert(AuditEvent)
        head = _table("audit_chainhead")
        names = [f.attname for f in self.insert.fields]
        self.hash_at = names.index("hash")
        self.prev_at = names.index("prev_hash")
        # One event (PostgreSQL): lock the head, insert the event chained to it and move the head, in one
        # statement. The event's hash is link() computed by the database (sha256 is built in): the hex of
        # sha256(the previous hash in ASCII, a newline, the canonical form given as bytes). Each value is
        # cast to its column's type (a None has no type of its own).
        chosen = []
        for field in self.insert.fields:
            if field.attname == "prev_hash":
                chosen.append("head.last_hash")
            elif field.attname == "hash":
                chosen.append("encode(sha256(convert_to(head.last_hash || chr(10), 'UTF8') || %s::bytea), 'hex')")
            else:
                chosen.append(f"CAST(%s AS {field.db_type(connection)})")
        columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in self.insert.fields)
        self.one = (
            f"WITH head AS (SELECT last_hash FROM {head} WHERE id = %s FOR UPDATE), "  # noqa: S608 (names are the models')
            f"new AS (INSERT INTO {_table('audit_auditevent')} ({columns}) SELECT {', '.join(chosen)} FROM head "
            "RETURNING id, hash) "
            f"UPDATE {head} SET last_id = new.id, last_hash = new.hash FROM new WHERE {head}.id = %s "
            f"RETURNING {head}.last_hash"
        )
        self.head = head

    def several(self, count: int) -> str:
        """``count`` events (PostgreSQL): insert them and move the lane's head to the last of them, in one
        statement; its parameters are the events' values, then the head's new hash and its id."""
        return (
            f"WITH new AS ({self.insert.values_sql(count)} RETURNING id) "  # noqa: S608 (names are the models')
            f"UPDATE {self.head} SET last_id = (SELECT MAX(id) FROM new), last_hash = %s WHERE id = %s"
        )


def _statements() -> _Statements:
    wrapper = connections[DEFAULT_DB_ALIAS]
    found = wrapper.__dict__.get("_crecer_audit_statements")
    if found is None:
        found = wrapper.__dict__["_crecer_audit_statements"] = _Statements()
    return found


#: batches up to this size are appended on PostgreSQL by prepared statements (below); larger ones by COPY
SMALL_BATCH = 8


def _append_one(statements: _Statements, row: dict[str, Any], now: dt.datetime, lane_: int) -> bool:
    """Append one event in one statement (PostgreSQL), in the caller's transaction or, outside any, on its
    own; False if the lane has no head row yet (then nothing was written)."""
    form = _Parts().canonical(row, _at(now))
    values = list(statements.insert.values([row], same={"at": now, "lane": lane_})[0])
    values[statements.hash_at] = form
    del values[statements.prev_at]
    with prepared.cursor(connection) as cursor:
        cursor.execute(statements.one, [_head_id(lane_), *values, _head_id(lane_)])
        return cursor.fetchone() is not None


def append_rows(rows: Iterable[dict[str, Any]]) -> int:
    """Chain and insert many new events (dicts of column values by attribute name, as for
    :class:`crecer.core.bulk.BulkInsert`) with one multi-row insert; returns how many.

    On PostgreSQL, prepared statements: one event (every read of one child's record) is one statement that
    locks the head, inserts and moves the head; a small batch is two (lock the head; insert and move it).
    Larger batches, and SQLite, insert in one go, then read the lane's highest id back to move the head."""
    batch = list(rows)
    if not batch:
        return 0
    now = timezone.now()
    lane_ = lane()
    statements = _statements()
    postgresql = connection.vendor == "postgresql"
    if postgresql and len(batch) == 1:
        # prev_hash and hash are the database's to fill in (placeholders here)
        row = {**{k: v for k, v in batch[0].items() if k != "at"}, "prev_hash": "", "hash": ""}
        if _append_one(statements, row, now, lane_):
            return 1
    at = _at(now)
    parts = _Parts()
    with transaction.atomic(), prepared.cursor(connection) as cursor:
        _last_id, prev = _lock_head(cursor, lane_)
        for row in batch:
            row.pop("at", None)  # one time for the call, hashed as ``at`` and written once below
            row["prev_hash"] = prev
            prev = row["hash"] = link(prev, parts.canonical(row, at))
        same = {"at": now, "lane": lane_}
        if postgresql and len(batch) <= SMALL_BATCH:
            values = statements.insert.values(batch, same=same)
            cursor.execute(statements.several(len(batch)), [*itertools.chain(*values), prev, _head_id(lane_)])
            return len(batch)
        statements.insert.write(batch, same=same)
        # Appends to a lane are serialised by its head's lock, so the lane's highest id is the last row
        # just written (the index on lane and id answers).
        cursor.execute(f"SELECT MAX(id) FROM {_table('audit_auditevent')} WHERE lane = %s", [lane_])  # noqa: S608
        _move_head(cursor, lane_, cursor.fetchone()[0], prev)
    return len(batch)


# --- verifying ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`verify`: how many events were checked, the last hash, and the first broken
    link (``event_id`` and ``problem``), if any. ``last_id`` and ``last_hash`` are those of the newest
    event; ``ends`` holds each non-empty lane's last ``(id, hash)``, the anchors to keep outside."""

    count: int
    last_hash: str
    event_id: int | None = None
    problem: str = ""
    last_id: int | None = None
    ends: tuple[tuple[int, str], ...] = ()

    @property
    def intact(self) -> bool:
        return not self.problem


def _events(lane_: int, chunk: int) -> Iterator[tuple[Any, ...]]:
    from crecer.audit.models import AuditEvent

    # Keyset pagination over the lane (its index on lane and id): a plain, short query per chunk on both
    # databases (no long-lived cursor).
    after = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(lane=lane_, pk__gt=after)
            .order_by("pk")
            .values_list("pk", *FIELDS, "prev_hash", "hash")[:chunk]
        )
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


class _Broken(Exception):
    def __init__(self, event_id: int | None, problem: str) -> None:
        self.event_id, self.problem = event_id, problem
        self.count = 0  # the lane's events checked before the break


def _walk(lane_: int, head: Any, chunk: int, anchors: dict[int, str], parts: _Parts) -> tuple[int, int | None, str]:
    """Check one lane: (events checked, last id, last hash), or :class:`_Broken` at its first broken link."""
    running = GENESIS
    previous: int | None = None
    count = 0
    try:
        for pk, *values, prev_hash, stored in _events(lane_, chunk):
            if not stored:
                raise _Broken(pk, "it has no hash: it was written around the audit trail's functions")
            if len(parts.texts) + len(parts.prefixes) > 100_000:
                parts.texts.clear()  # bounded memory over a long trail
                parts.prefixes.clear()
            form = parts.canonical(dict(zip(FIELDS, values, strict=True)))
            if link(prev_hash, form) != stored:
                raise _Broken(pk, "its fields do not match its hash: it was changed")
            if prev_hash != running:
                if previous is None:
                    problem = (
                        "it is the first event of its lane but does not start the chain: events before it were deleted"
                    )
                else:
                    problem = (
                        f"it does not follow event {previous}: events between them were deleted, or event "
                        f"{previous} was changed and its hash recomputed"
                    )
                raise _Broken(pk, problem)
            if pk in anchors and anchors.pop(pk) != stored:
                raise _Broken(pk, "its hash is not the one recorded for it: the trail was rewritten")
            running, previous = stored, pk
            count += 1
        if previous is None:
            if head is not None and head.last_id is not None:
                raise _Broken(head.last_id, "its lane is empty but the lane's head names this event as the last")
        elif head is None:
            raise _Broken(previous, "the chain head is missing (it names the last event)")
        elif head.last_id != previous or head.last_hash != running:
            if head.last_id is not None and head.last_id > previous:
                raise _Broken(
                    head.last_id,
                    f"the chain head names event {head.last_id} as the last, but the trail ends at event "
                    f"{previous}: events at its end were deleted",
                )
            raise _Broken(previous, "the chain head does not name this last event")
    except _Broken as broken:
        broken.count = count
        raise
    return count, previous, running


def verify(chunk: int = 5000, anchors: dict[int, str] | None = None) -> Verdict:
    """Walk every lane in id order and report the first broken link (see the module's docstring).

    ``anchors`` are ``{event id: hash}`` recorded outside the server from earlier runs: the chain must
    still pass through each of them (a chain rewritten from some point on, head included, is otherwise
    consistent again; so is a lane deleted whole with its head)."""
    from crecer.audit.models import AuditEvent, ChainHead

    anchors = dict(anchors or {})
    heads = {head.pk - 1: head for head in ChainHead.objects.all()}
    count = 0
    parts = _Parts()
    stray = AuditEvent.objects.exclude(lane__in=range(LANES)).order_by("pk").values_list("pk", flat=True).first()
    if stray is not None:
        return Verdict(0, GENESIS, stray, "its lane does not exist: it was written around the audit trail's functions")
    ends: list[tuple[int, str]] = []
    for lane_ in range(LANES):
        try:
            checked, last_id, last_hash = _walk(lane_, heads.get(lane_), chunk, anchors, parts)
        except _Broken as broken:
            return Verdict(count + broken.count, GENESIS, broken.event_id, broken.problem)
        count += checked
        if last_id is not None:
            ends.append((last_id, last_hash))
    for pk in sorted(anchors):
        return Verdict(count, GENESIS, pk, "an event recorded with its hash is no longer in the trail")
    if not ends:
        return Verdict(0, GENESIS)
    last_id, last_hash = max(ends)
    return Verdict(count, last_hash, last_id=last_id, ends=tuple(sorted(ends)))
