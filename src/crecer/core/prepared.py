"""The few look-ups every request makes, in SQL built once per process.

Django compiles a query set into SQL anew at every call. For the queries that every request runs — the
API token with its user, the child with its places — compiling costs several times what the database
takes to answer (``bench/profile_requests.py``). A :class:`Lookup` declares one such query: a model, the
foreign keys it follows (as ``select_related``: LEFT JOINs) and fixed conditions on the model's own
fields. Its SQL is written once per database connection from the models' metadata; each call only
passes the values, always as parameters. Rows become model instances through the fields' own converters
(the same ones Django's compiler applies) with each related instance cached on its parent, exactly as
``select_related`` leaves them, so the code reading them cannot tell the difference
(``tests/test_prepared.py`` compares the two on every field).

On PostgreSQL these statements also skip the server's parsing and planning (:func:`cursor`): Django
binds every query's values into its text on the client, so the server parses and plans each query anew,
which for the child with its places costs more than answering it. The hot statements here bind their
values on the server instead, and each connection prepares a statement the first time it runs it.

This is for hot, simple look-ups by key only; everything else is an ordinary query set.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

_numbers = itertools.count()

#: the operators a condition may use: SQL text with one parameter (or none, for ``isnull``)
OPERATORS = {"=": "= %s", ">": "> %s", ">=": ">= %s", "<": "< %s", "isnull": "IS NULL"}


def cursor(connection: Any) -> CursorWrapper:
    """A cursor of ``connection`` for the hot statements: on PostgreSQL one that binds values on the server
    (``psycopg.Cursor``, not Django's client-binding cursor), so that the connection prepares each statement
    the first time it runs it and afterwards sends only the values (settings: ``prepare_threshold`` 0, which
    Django's own client-binding cursors ignore). Elsewhere, the connection's ordinary cursor. Either way it
    is wrapped as Django wraps its cursors (errors as Django's, queries logged and counted as any other)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        connection.validate_thread_sharing()
        raw = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
        if connection.queries_logged:
            return _Logged(raw, connection)
        return connection.make_cursor(raw)


class _Logged(CursorDebugWrapper):
    """Django's logging cursor, logging the statement with its values in place: Django reads that text back
    from client-binding cursors only, and would log nothing for these. The statement runs as in any
    cursor of Django's (its execute wrappers, its errors)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


@dataclass(frozen=True)
class _Node:
    model: type[models.Model]
    alias: str
    fields: tuple[Any, ...]  # concrete fields, in the order of the row
    start: int  # where its columns begin in the row
    parent: int | None  # the node it hangs from (None for the root)
    via: Any  # the foreign key of the parent that leads here
    pk: int  # where its primary key is among its fields
    attnames: tuple[str, ...]


class Lookup:
    """One query: ``model`` with the foreign keys of ``related`` (paths such as ``"facility__territory"``)
    where each of ``where`` (``(field name, operator)``, operators in :data:`OPERATORS`) holds.

    ``first(*values)`` gives the first matching instance or None; the values fill the conditions that
    take one, in order. Rows are ordered by primary key."""

    def __init__(
        self, model: type[models.Model], related: Sequence[str] = (), where: Sequence[tuple[str, str]] = ()
    ) -> None:
        for _name, operator in where:
            if operator not in OPERATORS:
                raise ValueError(f"unknown operator {operator!r}")
        self.model = model
        self.related = tuple(related)
        self.conditions = tuple(where)
        self._planned: tuple[list[_Node], tuple[tuple[Any, str], ...]] | None = None
        self._lock = threading.Lock()
        # where each connection keeps this look-up's SQL: a number of its own (an id() could be reused)
        self.key = f"_crecer_lookup_{next(_numbers)}"

    def _plan(self) -> tuple[list[_Node], tuple[tuple[Any, str], ...]]:
        """The joined models and the conditions' fields. Made on first use, not at declaration (the
        models a foreign key names are all loaded by then), built aside and published whole under a lock:
        the server's threads may ask at the same moment."""
        planned = self._planned
        if planned is not None:
            return planned
        with self._lock:
            if self._planned is None:
                nodes: list[_Node] = []
                self._add(nodes, self.model, None, None)
                for path in self.related:
                    self._follow(nodes, path)
                where = tuple((self.model._meta.get_field(n), op) for n, op in self.conditions)
                self._planned = (nodes, where)
            return self._planned

    @staticmethod
    def _add(nodes: list[_Node], model: type[models.Model], parent: int | None, via: Any) -> int:
        start = sum(len(n.fields) for n in nodes)
        fields = tuple(model._meta.concrete_fields)
        pk = next(i for i, f in enumerate(fields) if f.primary_key)
        attnames = tuple(f.attname for f in fields)
        nodes.append(_Node(model, f"T{len(nodes)}", fields, start, parent, via, pk, attnames))
        return len(nodes) - 1

    def _follow(self, nodes: list[_Node], path: str) -> None:
        at = 0
        for name in path.split("__"):
            node = nodes[at]
            field = node.model._meta.get_field(name)
            target = field.related_model
            if not (field.many_to_one or field.one_to_one) or not field.concrete or not isinstance(target, type):
                raise ValueError(f"{path!r}: {name!r} is not a foreign key of {node.model.__name__}")
            found = next((i for i, n in enumerate(nodes) if n.parent == at and n.via is field), None)
            at = found if found is not None else self._add(nodes, target, at, field)

    def _prepared(self, connection: Any) -> tuple[str, list[tuple[int, list[Any], Any]]]:
        """The SQL and the converters of each column, for this connection (kept on it)."""
        cached = connection.__dict__.get(self.key)
        if cached is not None:
            return cached
        nodes, where = self._plan()
        quote = connection.ops.quote_name
        columns: list[str] = []
        converters: list[tuple[int, list[Any], Any]] = []
        for node in nodes:
            for field in node.fields:
                column = field.get_col(node.alias)
                found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if found:
                    converters.append((len(columns), found, column))
                columns.append(f"{node.alias}.{quote(field.column)}")
        root = nodes[0]
        # Table and column names come from the models and are quoted; values are always parameters.
        sql = [f"SELECT {', '.join(columns)} FROM {quote(root.model._meta.db_table)} {root.alias}"]  # noqa: S608
        for node in nodes[1:]:
            parent = nodes[node.parent or 0]
            target = node.via.target_field
            sql.append(
                f"LEFT JOIN {quote(node.model._meta.db_table)} {node.alias} "
                f"ON {node.alias}.{quote(target.column)} = {parent.alias}.{quote(node.via.column)}"
            )
        if where:
            conditions = [f"{root.alias}.{quote(field.column)} {OPERATORS[op]}" for field, op in where]
            sql.append("WHERE " + " AND ".join(conditions))
        sql.append(f"ORDER BY {root.alias}.{quote(root.model._meta.pk.column)} LIMIT 1")
        prepared = (" ".join(sql), converters)
        connection.__dict__[self.key] = prepared
        return prepared

    def params(self, values: Sequence[Any], connection: Any) -> list[Any]:
        """The statement's parameters for these values of the conditions (in order)."""
        _nodes, where = self._plan()
        params = []
        taking = iter(values)
        for field, operator in where:
            if operator != "isnull":
                params.append(field.get_db_prep_value(next(taking), connection, prepared=False))
        return params

    def instance(self, row: Sequence[Any], connection: Any) -> Any:
        """The instance of a row of this look-up's columns (None for a row of NULLs: no match), its related
        instances cached on it."""
        nodes, _where = self._plan()
        if row[nodes[0].pk] is None:
            return None
        _sql, converters = self._prepared(connection)
        row = list(row)
        for index, functions, column in converters:
            value = row[index]
            for convert in functions:
                value = convert(value, column, connection)
            row[index] = value
        instances: list[Any] = []
        db = connection.alias
        for node in nodes:
            values_ = row[node.start : node.start + len(node.fields)]
            # A foreign key left empty (LEFT JOIN): its columns are all NULL, and the cached value is None.
            instance = node.model.from_db(db, node.attnames, values_) if values_[node.pk] is not None else None
            instances.append(instance)
            if node.parent is not None:
                owner = instances[node.parent]
                if owner is not None:
                    node.via.set_cached_value(owner, instance)
        return instances[0]

    def width(self) -> int:
        """How many columns a row of this look-up has."""
        nodes, _where = self._plan()
        return sum(len(n.fields) for n in nodes)

    def first(self, *values: Any) -> Any:
        """The first instance matching the conditions with these values, its related instances cached."""
        connection = connections[DEFAULT_DB_ALIAS]  # this thread's connection
        sql, _converters = self._prepared(connection)
        with cursor(connection) as cursor_:
            cursor_.execute(sql, self.params(values, connection))
            row = cursor_.fetchone()
        return None if row is None else self.instance(row, connection)


def first_of_each(*asks: tuple[Lookup, Sequence[Any]]) -> list[Any]:
    """What each ``(look-up, values)`` of ``asks`` finds (as :meth:`Lookup.first`: an instance or None),
    all in one statement: each look-up a subquery of its own, side by side on one row. For look-ups that
    every request makes together (the bad-token throttle and the token): one round trip instead of two."""
    connection = connections[DEFAULT_DB_ALIAS]
    key = "_crecer_together_" + "_".join(lookup.key for lookup, _values in asks)
    sql = connection.__dict__.get(key)
    if sql is None:
        parts = ["SELECT * FROM (SELECT 1 AS crecer_one) one"]
        for i, (lookup, _values) in enumerate(asks):
            parts.append(f"LEFT JOIN ({lookup._prepared(connection)[0]}) L{i} ON 1 = 1")
        sql = connection.__dict__[key] = " ".join(parts)
    params = [p for lookup, values in asks for p in lookup.params(values, connection)]
    with cursor(connection) as cursor_:
        cursor_.execute(sql, params)
        row = cursor_.fetchone()
    found = []
    at = 1  # after crecer_one
    for lookup, _values in asks:
        width = lookup.width()
        found.append(lookup.instance(row[at : at + width], connection))
        at += width
    return found
