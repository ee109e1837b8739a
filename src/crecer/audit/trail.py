"""Writing the audit trail.

Action functions call :func:`record` inside their own ``transaction.atomic()`` block, so the change
and its audit event commit or roll back together. Reads of children's data are logged through
:func:`crecer.registry.reads.log_reads`. Every event written here joins the hash chain
(:mod:`crecer.audit.chain`): one event through the model's ``save``, many through ``chain.append_rows``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from crecer.audit import chain
from crecer.audit.models import Action, AuditEvent, Channel

if TYPE_CHECKING:
    from crecer.access.models import User


@dataclass(frozen=True)
class Actor:
    """Who is acting and through which channel; passed to every action function."""

    user: User | None
    channel: str = Channel.SYSTEM

    @classmethod
    def system(cls) -> Actor:
        return cls(None, Channel.SYSTEM)

    @property
    def username(self) -> str:
        return self.user.username if self.user is not None else "system"


# Never copied into the audit trail.
_SECRET_FIELDS = {"password", "key_hash"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``instance`` as JSON-ready data (foreign keys as ids)."""
    result: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in _SECRET_FIELDS or (
            fields is not None and field.name not in fields and field.attname not in fields
        ):
            continue
        result[field.attname] = _jsonable(getattr(instance, field.attname))
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def entity_name(instance_or_model: models.Model | type[models.Model]) -> str:
    return instance_or_model._meta.label_lower


def _require_transaction() -> None:
    # An audit event written outside the change's transaction could survive a rolled-back change
    # (or be lost while the change commits): action functions must wrap both in one atomic block.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the action's transaction.atomic() block")


def record(
    actor: Actor,
    action: str,
    instance: models.Model | None = None,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    child_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Write one audit event in the caller's transaction."""
    if action != Action.READ and action != Action.SEARCH:
        _require_transaction()
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_username=actor.username,
        action=action,
        channel=actor.channel,
        entity=entity or (entity_name(instance) if instance is not None else ""),
        entity_id=entity_id if entity_id is not None else (instance.pk if instance is not None else None),
        child_id=child_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        note=note,
    )


def record_many(
    actor: Actor,
    action: str,
    entity: str,
    items: Iterable[tuple[int | None, int | None, dict[str, Any] | None, dict[str, Any] | None]],
    note: str = "",
) -> int:
    """Write one event per ``(entity_id, child_id, before, after)`` in one statement (imports).

    The caller holds the transaction that made the changes.
    """
    _require_transaction()
    common = {
        "actor_id": actor.user.pk if actor.user is not None else None,
        "actor_username": actor.username,
        "action": action,
        "channel": actor.channel,
        "entity": entity,
        "note": note,
    }
    # Chained in one pass and written with one multi-row insert (crecer.audit.chain).
    return chain.append_rows(
        {
            **common,
            "entity_id": entity_id,
            "child_id": child_id,
            # The JSON column's encoder (DjangoJSONEncoder) writes dates as ISO strings.
            "before": before,
            "after": after,
        }
        for entity_id, child_id, before, after in items
    )


def record_created(actor: Actor, entity: str, items: Iterable[tuple[int, int | None]], note: str = "") -> int:
    """One CREATE event per ``(record id, child id)``: the same events whether one record was created by
    an action or a million by an import.

    A creation event carries no copy of the values: the record holds them until its first change, whose
    event has the before and after of what changed, so the history stays complete at a fraction of the
    size (a national load writes millions of rows)."""
    return record_many(actor, Action.CREATE, entity, ((pk, child_id, None, None) for pk, child_id in items), note=note)


#: columns whose change is not worth an audit entry of its own (they change on every save)
_TOUCHED = {"updated_at"}


def save_changes(
    actor: Actor,
    instance: models.Model,
    values: dict[str, Any],
    fields: Iterable[str],
    *,
    child_id: int | None = None,
    note: str = "",
) -> bool:
    """Set those of ``fields`` whose value in ``values`` differs, save, and record one UPDATE event with the
    before and after of every column that changed (derived ones included, such as a search name).
    False, and nothing written, when nothing differs. The caller holds the transaction."""
    changed = [f for f in fields if getattr(instance, f) != values[f]]
    if not changed:
        return False
    before = snapshot(instance)
    for f in changed:
        setattr(instance, f, values[f])
    instance.save()
    old, new = diff(before, snapshot(instance))
    for name in _TOUCHED:
        old.pop(name, None)
        new.pop(name, None)
    record(actor, Action.UPDATE, instance, child_id=child_id, before=old, after=new, note=note)
    return True
