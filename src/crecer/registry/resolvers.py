"""Lookups for input validation: one at a time (API, forms) or prefetched per batch (imports).

A resolver answers for an acting user (``actor``; ``None`` is the system): caregivers are found only in
the user's scope (an out-of-scope mother, father or guardian is answered as an unknown document), and a
document held by a record outside the scope is told apart (:meth:`DbResolver.owner_visible`), counted and
audited (:mod:`crecer.registry.existence`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection

from crecer import conf
from crecer.audit.trail import Actor
from crecer.registry import existence, scope
from crecer.registry.inputs import PersonRef, TerritoryRef, document_reading, document_readings
from crecer.registry.models import Caregiver, Child, Household
from crecer.territories.models import Facility, Territory


def _leaf_depth() -> int:
    return len(conf.profile().territory_levels) - 1


def _territory_ref(t: Any, leaf: int) -> TerritoryRef:
    return TerritoryRef(t.id, t.code, t.path, t.depth == leaf)


IN_CHUNK = 900  # below SQLite's default limit of host parameters per statement


def _date(value: Any) -> dt.date | None:
    """A date column read with a raw query (SQLite gives text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _values_in(
    table: str, key: str, columns: tuple[str, ...], values: Iterable[Any], where: str = "", params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE key IN (values…)`` in chunks, without building ORM lookups
    (at import scale the ORM's per-value preparation costs more than the query)."""
    values = list(values)
    found: list[tuple[Any, ...]] = []
    quote = connection.ops.quote_name
    select = ", ".join(quote(c) for c in columns)
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        # Table and column names are ours; every value is a parameter.
        sql = f"SELECT {select} FROM {quote(table)} WHERE {where}{quote(key)} IN ({marks})"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *chunk])
            found.extend(cursor.fetchall())
    return found


def _by_documents(
    model: type[Child] | type[Caregiver], docs: Iterable[tuple[str, str]], extra: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """Rows (id, type, number, *extra) of people holding any of ``docs``: one query per document type,
    so the (type, number) unique index is used."""
    by_type: dict[str, set[str]] = {}
    for doc_type, number in docs:
        by_type.setdefault(doc_type, set()).add(number)
    found: list[tuple[Any, ...]] = []
    table = model._meta.db_table
    for doc_type, numbers in by_type.items():
        found.extend(
            _values_in(
                table,
                "national_id",
                ("id", "national_id_type", "national_id", *extra),
                numbers,
                where=f"{connection.ops.quote_name('national_id_type')} = %s AND ",
                params=(doc_type,),
            )
        )
    return found


class DbResolver:
    """Answers each lookup with a query (with a small cache)."""

    def __init__(self, actor: Actor | None = None) -> None:
        self._territories: dict[str, TerritoryRef | None] = {}
        self._leaf = _leaf_depth()
        self.actor = actor if actor is not None and actor.user is not None else None

    @property
    def user(self) -> Any:
        """The acting user (``None``: the system, which sees everything)."""
        return self.actor.user if self.actor is not None else None

    def _caregivers(self) -> Any:
        base = Caregiver.unscoped.filter(voided_at__isnull=True)
        return base if self.user is None else base.filter(pk__in=scope.caregivers(self.user).values("pk"))

    def _visible_ids(self, kind: str, ids: Iterable[int]) -> set[int]:
        """Those of ``ids`` (children, caregivers or households) the user may see."""
        ids = set(ids)
        if self.user is None or not ids:
            return ids
        records = {"child": scope.children, "household": scope.households}.get(kind, scope.caregivers)(self.user)
        ordered, found = sorted(ids), set[int]()
        for start in range(0, len(ordered), IN_CHUNK):  # a batch may name thousands
            found.update(records.filter(pk__in=ordered[start : start + IN_CHUNK]).values_list("pk", flat=True))
        return found

    def owner_visible(self, kind: str, owner: int, doc_type: str, field: str = "national_id") -> bool:
        """Whether the record holding a document is in the user's scope; when it is not, the answer is
        counted and audited (and refused past the limit: :mod:`crecer.registry.existence`)."""
        if owner < 0 or owner in self._visible_ids(kind, [owner]):
            return True  # a row of the same file, or a record the user sees
        existence.answered(self.actor, kind, owner, doc_type, field)
        return False

    def facility_path(self, code: str) -> str | None:
        """The territory path of a facility (None when unknown)."""
        return Facility.objects.filter(code=code).values_list("territory__path", flat=True).first()

    def territory(self, code: str) -> TerritoryRef | None:
        if code not in self._territories:
            t = Territory.objects.filter(code=code).only("id", "code", "path", "depth").first()
            self._territories[code] = _territory_ref(t, self._leaf) if t else None
        return self._territories[code]

    def facility(self, code: str) -> int | None:
        return Facility.objects.filter(code=code).values_list("id", flat=True).first()

    def household(self, code: str, keep: int | None = None) -> int | None:
        """The household of ``code`` if the user may see it, or if it is ``keep`` (the one the record already
        has): another one is answered as an unknown code (a child or caregiver linked to it would show its
        address and vulnerability on their page)."""
        found = Household.unscoped.filter(code=code).values_list("id", flat=True).first()
        if found is None or found == keep:
            return found
        return found if found in self._visible_ids("household", [found]) else None

    def caregiver_by_document(self, number: str) -> PersonRef | None:
        for doc_type, canonical in document_readings(number):
            row = (
                self._caregivers()
                .filter(national_id_type=doc_type, national_id=canonical)
                .values_list("id", "birth_date", "sex")
                .first()
            )
            if row:
                return PersonRef(*row)
        return None

    def caregiver_by_external_id(self, external_id: str) -> PersonRef | None:
        row = self._caregivers().filter(external_id=external_id).values_list("id", "birth_date", "sex").first()
        return PersonRef(*row) if row else None

    def document_owner(self, kind: str, doc_type: str, number: str) -> int | None:
        # one by one (API, pages): past the limit every look-up is refused, found or not
        existence.check(self.user)
        model = Child if kind == "child" else Caregiver
        return model.unscoped.filter(national_id_type=doc_type, national_id=number).values_list("id", flat=True).first()


class BatchResolver(DbResolver):
    """Prefetches the lookups of a batch of rows in a handful of queries.

    Documents claimed by earlier rows of the same batch count as in use, so two rows of one file
    with the same document are caught even before either is saved.
    """

    def __init__(self, actor: Actor | None = None) -> None:
        super().__init__(actor)
        self._territories = {
            t.code: _territory_ref(t, self._leaf) for t in Territory.objects.only("id", "code", "path", "depth")
        }
        self._facilities = dict(Facility.objects.values_list("code", "id"))
        self._facility_paths = dict(Facility.objects.values_list("code", "territory__path"))
        self._households: dict[str, int] = {}
        self._visible_households: set[int] = set()
        self._mothers: dict[str, PersonRef] = {}
        self._caregivers_ext: dict[str, PersonRef] = {}
        self._docs: dict[tuple[str, str, str], int] = {}
        self._visible_owners: set[int] = set()

    def prefetch(self, rows: Iterable[Mapping[str, Any]], kind: str, actor: Actor | None = None) -> None:
        """Look up a batch's references for ``actor`` (the importing user; None: the system)."""
        self.actor = actor if actor is not None and actor.user is not None else None
        rows = list(rows)
        household_codes = {r.get("household_code") for r in rows if r.get("household_code")}
        self._households = dict(_values_in(Household._meta.db_table, "code", ("code", "id"), household_codes))
        # only households in the user's scope (or a record's own): another one is answered as an unknown code
        self._visible_households = self._visible_ids("household", self._households.values())
        mother_docs: dict[tuple[str, str], str] = {}
        for r in rows:
            raw = (r.get("mother_national_id") or "").strip()
            if raw:
                for reading in document_readings(raw):
                    mother_docs[reading] = raw
        self._mothers = {}
        found = _by_documents(Caregiver, mother_docs, ("birth_date", "sex"))
        # only caregivers in the user's scope: another one is answered as an unknown document
        visible = self._visible_ids("caregiver", [row[0] for row in found])
        for cid, dtype, number, bdate, sex in found:
            if cid in visible:
                self._mothers.setdefault(mother_docs[(dtype, number)], PersonRef(cid, _date(bdate), sex))
        ext = {r.get("mother_external_id") or r.get("caregiver_external_id") for r in rows} - {None, ""}
        by_ext = _values_in(Caregiver._meta.db_table, "external_id", ("external_id", "id", "birth_date", "sex"), ext)
        visible = self._visible_ids("caregiver", [row[1] for row in by_ext])
        self._caregivers_ext = {str(e): PersonRef(i, _date(b), s) for e, i, b, s in by_ext if i in visible}
        # A row's own document is read under its declared type (the profile's default when blank),
        # as the validation will read it.
        profile = conf.profile()
        default = profile.child_document if kind == "child" else profile.default_document
        own_docs: set[tuple[str, str]] = set()
        for r in rows:
            raw = (r.get("national_id") or "").strip()
            if raw:
                doc_type = (r.get("national_id_type") or "").strip().upper() or default
                canonical = document_reading(doc_type, raw)
                if canonical is not None:
                    own_docs.add((doc_type, canonical))
        model = Child if kind == "child" else Caregiver
        self._docs = {(kind, t, n): i for i, t, n in _by_documents(model, own_docs, ())}
        self._visible_owners = self._visible_ids(kind, [i for i in self._docs.values() if i > 0])

    def territory(self, code: str) -> TerritoryRef | None:
        return self._territories.get(code)

    def facility(self, code: str) -> int | None:
        return self._facilities.get(code)

    def facility_path(self, code: str) -> str | None:
        return self._facility_paths.get(code)

    def owner_visible(self, kind: str, owner: int, doc_type: str, field: str = "national_id") -> bool:
        if owner < 0 or self.user is None or owner in self._visible_owners:
            return True
        existence.answered(self.actor, kind, owner, doc_type, field)
        return False

    def household(self, code: str, keep: int | None = None) -> int | None:
        found = self._households.get(code)
        return found if found is not None and (found == keep or found in self._visible_households) else None

    def caregiver_by_document(self, number: str) -> PersonRef | None:
        return self._mothers.get(number.strip())

    def caregiver_by_external_id(self, external_id: str) -> PersonRef | None:
        return self._caregivers_ext.get(external_id)

    def document_owner(self, kind: str, doc_type: str, number: str) -> int | None:
        # an import is limited on the answers about records elsewhere only (:meth:`owner_visible`)
        return self._docs.get((kind, doc_type, number))

    def claim_document(self, kind: str, doc_type: str, number: str, owner: int) -> None:
        """Mark a document as used by a row of this batch (owner: negative row marker or id)."""
        self._docs[(kind, doc_type, number)] = owner
        if owner > 0:
            self._visible_owners.add(owner)  # a record this import writes
