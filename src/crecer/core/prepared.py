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

This is for hot, simple look-ups by key only; everything else is an ordinary query set.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

_numbers = itertools.count()

#: the operators a condition may use: SQL text with one parameter (or none, for ``isnull``)
OPERATORS = {"=": "= %s", ">": "> %s", ">=": ">= %s", "<": "< %s", "isnull": "IS NULL"}


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

    def first(self, *values: Any) -> Any:
        """The first instance matching the conditions with these values, its related instances cached."""
        connection = connections[DEFAULT_DB_ALIAS]  # this thread's connection
        sql, converters = self._prepared(connection)
        nodes, where = self._plan()
        params = []
        taking = iter(values)
        for field, operator in where:
            if operator != "isnull":
                params.append(field.get_db_prep_value(next(taking), connection, prepared=False))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
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
