"""Fast multi-row inserts for imports: one ``executemany`` per batch, values adapted once per column.

Django's ``bulk_create`` builds a model instance and prepares every value through the field API,
which dominates the cost of loading millions of rows. Imports already hold validated, typed values,
so they hand plain tuples to :class:`BulkInsert`, which converts only what the backend needs
(dates, datetimes, JSON) with the backend's own adapters. The ids of new rows are then read back
(:meth:`BulkInsert.write_keyed`, or by their natural key with :func:`ids_by_key`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone


def _converter(field: Any) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        encoder = field.encoder or DjangoJSONEncoder
        return lambda value: None if value is None else ops.adapt_json_value(value, encoder)
    return None


class BulkInsert:
    """``INSERT INTO table (columns…) VALUES (…)`` for many rows of plain values.

    Rows are dicts keyed by attribute name (``territory_id``, not ``territory``); a missing key takes
    the field's default, and ``auto_now``/``auto_now_add`` fields take the time of the call.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        meta = model._meta
        self.fields = [f for f in meta.concrete_fields if not f.primary_key or not isinstance(f, models.AutoField)]
        columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in self.fields)
        self.row_placeholders = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        # Table and column names come from the model and are quoted; values are always parameters.
        table = connection.ops.quote_name(meta.db_table)
        self.sql = f"INSERT INTO {table} ({columns}) VALUES {self.row_placeholders}"  # noqa: S608
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.converters = [(i, c) for i, f in enumerate(self.fields) if (c := _converter(f)) is not None]

        self.attnames = [f.attname for f in self.fields]
        self.automatic = [
            f.attname for f in self.fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self.defaults = {f.attname: f.get_default() for f in self.fields if f.has_default() or f.null}
        for f in self.fields:
            if f.attname not in self.defaults and isinstance(f, models.CharField | models.TextField) and f.blank:
                self.defaults[f.attname] = ""

    def values(self, rows: Iterable[dict[str, Any]], same: dict[str, Any] | None = None) -> list[Any]:
        """The rows as the database takes them: one sequence of values per row, in the order of
        :attr:`fields`. ``same`` holds values shared by every row (converted once)."""
        now = timezone.now()
        base = {**self.defaults, **dict.fromkeys(self.automatic, now), **(same or {})}
        # Defaults and timestamps are the same on every row: convert them once.
        for i, convert in self.converters:
            name = self.attnames[i]
            if name in base:
                base[name] = convert(base[name])
        converters = [(i, self.attnames[i], c) for i, c in self.converters]
        pick = operator.itemgetter(*self.attnames)
        prepared: list[Any] = []
        for row in rows:
            values = pick({**base, **row})
            if converters:
                values = list(values)
                for i, name, convert in converters:
                    if name in row:
                        values[i] = convert(values[i])
            prepared.append(values)
        return prepared

    def values_sql(self, count: int) -> str:
        """``INSERT INTO table (columns…) VALUES (…), …`` for ``count`` rows, their values as parameters."""
        return self.sql + f", {self.row_placeholders}" * (count - 1)

    def write(self, rows: Iterable[dict[str, Any]], same: dict[str, Any] | None = None) -> int:
        """Insert ``rows``; returns how many. ``same`` holds values shared by every row (converted once)."""
        prepared = self.values(rows, same)
        if prepared:
            # Database errors (a unique document taken meanwhile) surface as Django's, as from the ORM.
            with connection.wrap_database_errors, connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # COPY streams the rows in one round trip, without building a giant statement.
                    with cursor.cursor.copy(self.copy_sql) as copy:
                        for values in prepared:
                            copy.write_row(values)
                else:
                    cursor.executemany(self.sql, prepared)
        return len(prepared)

    def write_keyed(self, rows: list[dict[str, Any]], key: str | tuple[str, ...]) -> dict[Any, int]:
        """Insert ``rows`` and return ``{row[key]: new id}`` (``key`` is a unique column, or a tuple of
        columns unique together: then the dict's keys are tuples of their values).

        The new rows are read back as those above the highest id before the insert: a range of the
        primary key, cheaper than looking each key up (ids only grow, on SQLite and PostgreSQL alike;
        rows another connection adds meanwhile are left out by their key)."""
        if not rows:
            return {}
        meta = self.model._meta
        quote = connection.ops.quote_name
        assert meta.pk is not None
        names = (key,) if isinstance(key, str) else key
        table, pk = quote(meta.db_table), quote(str(meta.pk.column))
        columns = ", ".join(
            quote(next(str(f.column) for f in meta.concrete_fields if f.attname == name)) for name in names
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({pk}) FROM {table}")  # noqa: S608 (names are the model's own)
            before = cursor.fetchone()[0] or 0
            self.write(rows)
            cursor.execute(f"SELECT {columns}, {pk} FROM {table} WHERE {pk} > %s", [before])  # noqa: S608
            if isinstance(key, str):
                found = dict(cursor.fetchall())
                wanted = {row[key] for row in rows}
            else:
                found = {tuple(r[:-1]): r[-1] for r in cursor.fetchall()}
                wanted = {tuple(row[name] for name in key) for row in rows}
        return {k: i for k, i in found.items() if k in wanted}


def insert(
    model: type[models.Model], rows: list[dict[str, Any]], key: str | tuple[str, ...] | None = None
) -> list[int]:
    """Insert ``rows`` (attribute names to values, as for :class:`BulkInsert`) and return their new ids, in
    order: one bulk statement when every row has a value of the unique ``key`` (a column, or columns unique
    together), otherwise one ``INSERT … RETURNING`` per row through the ORM (the single records of pages
    and the API, which have no natural key). Both store the same columns: the row is the same dict either
    way."""
    if not rows:
        return []
    names = (key,) if isinstance(key, str) else key
    if names is not None and all(row.get(name) is not None for row in rows for name in names):
        ids = BulkInsert(model).write_keyed(rows, key)  # type: ignore[arg-type]
        if isinstance(key, str):
            return [ids[row[key]] for row in rows]
        return [ids[tuple(row[name] for name in names)] for row in rows]
    manager = model._base_manager
    return [manager.create(**row).pk for row in rows]


def ids_by_key(model: type[models.Model], key: str, values: Iterable[Any], chunk: int = 5000) -> dict[Any, int]:
    """``{natural key: id}`` for the rows whose ``key`` is among ``values``."""
    values = list(values)
    found: dict[Any, int] = {}
    meta = model._meta
    quote = connection.ops.quote_name
    column = next(str(f.column) for f in meta.concrete_fields if f.attname == key)
    assert meta.pk is not None
    chunk = min(chunk, 900)  # SQLite's default limit of host parameters per statement
    with connection.cursor() as cursor:
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            # Names are the model's own, quoted; the values are parameters.
            sql = (
                f"SELECT {quote(column)}, {quote(str(meta.pk.column))} FROM {quote(meta.db_table)} "  # noqa: S608
                f"WHERE {quote(column)} IN ({', '.join(['%s'] * len(part))})"
            )
            cursor.execute(sql, part)
            found.update(cursor.fetchall())
    return found


def refresh_statistics() -> None:
    """Refresh the query planner's statistics after a bulk load.

    Without them SQLite may pick a poor index for correlated subqueries (seen: indicator queries going
    from milliseconds to seconds on a few thousand children). ``analysis_limit`` keeps it quick on big
    files; PostgreSQL's ANALYZE samples by itself.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 2000")
        cursor.execute("ANALYZE")


def among(field: str, ids: Iterable[int]) -> Q:
    """A filter selecting rows whose ``field`` is one of ``ids``, or a superset of them.

    Batches of ids are usually dense (rows just imported, a recomputation in id order): then a range
    (two parameters) replaces an ``IN`` list of thousands, whose preparation costs more than the query.
    Callers drop the rows outside ``ids``."""
    ordered = sorted(set(ids))
    if not ordered:
        return Q(pk__in=[])
    low, high = ordered[0], ordered[-1]
    if high - low + 1 <= 2 * len(ordered):
        return Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return Q(**{f"{field}__in": ordered})
