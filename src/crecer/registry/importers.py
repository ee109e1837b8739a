"""Importers for households, caregivers, children, caregiver links and pregnancies.

They validate each row with the same functions as the API (:mod:`crecer.registry.inputs`), answer
lookups for a whole batch at once (:class:`~crecer.registry.resolvers.BatchResolver`), write with
bulk inserts and record one audit event per created or changed record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, record_many, snapshot
from crecer.imports.bulk import BulkInsert, ids_by_key, update_column
from crecer.imports.framework import (
    LARGE_BATCH,
    ImportResult,
    Row,
    batch_note,
    error,
    register,
    repeated_message,
)
from crecer.lib import names
from crecer.registry import numbers
from crecer.registry.actions import CAREGIVER_FIELDS, CHILD_FIELDS
from crecer.registry.inputs import (
    PersonRef,
    check_mother,
    clean_caregiver,
    clean_child,
    clean_household,
    clean_pregnancy,
)
from crecer.registry.models import Caregiver, CaregiverLink, Child, Household, Pregnancy, Relationship
from crecer.registry.resolvers import BatchResolver
from crecer.validation import Collector, InputErrors

Errors = dict[str, list[dict[str, str]]]


def out_of_scope(actor: Actor, path: str | None) -> Errors | None:
    """Rows outside the importing user's territory are refused (the command line may import anywhere)."""
    user = actor.user
    if user is None or path is None:
        return None
    if not user.can_register:
        return error("row", "forbidden", _("Your role cannot register or change people."))
    assert user.territory is not None
    if not path.startswith(user.territory.path):
        return error("territory_code", "out_of_scope", _("This territory is outside the one you work in."))
    return None


class _KeyedImporter:
    """Rows identified by a natural key column; repeated keys within one file are refused."""

    key = "external_id"
    batch_size = LARGE_BATCH

    model: Any

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.resolver = BatchResolver()
        self.insert = BulkInsert(self.model)
        self.links = BulkInsert(CaregiverLink)

    def _key_of(self, line: int, row: Row, result: ImportResult) -> str | None:
        key = (row.get(self.key) or "").strip()
        if not key:
            result.reject(line, row, error(self.key, "required", _("This column is required.")))
            return None
        if key in self.seen:
            result.reject(line, row, error(self.key, "repeated", repeated_message(self.seen[key])))
            return None
        self.seen[key] = line
        return key


class _PersonImporter(_KeyedImporter):
    model: type[Child] | type[Caregiver]
    doc_kind: str
    fields: tuple[str, ...]
    clean: Callable[..., dict[str, Any]]

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        today = timezone.localdate()
        self.resolver.prefetch([r for _, r in rows], self.doc_kind)
        keys = {k for _, r in rows if (k := (r.get(self.key) or "").strip())}
        # A first import finds none: ask for ids only, and load records just for the keys that exist.
        found = ids_by_key(self.model, "external_id", keys)
        existing: dict[str, Any] = (
            {str(p.external_id): p for p in self.model.unscoped.filter(pk__in=found.values())} if found else {}
        )
        mothers = self._current_mothers(existing)
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            key = self._key_of(line, row, result)
            if key is None:
                continue
            current = existing.get(key)
            try:
                values = type(self).clean(row, self.resolver, current_id=current.pk if current else None, today=today)
            except InputErrors as exc:
                result.reject(line, row, exc.as_dict())
                continue
            refused = out_of_scope(actor, values["territory_path"])
            if refused:
                result.reject(line, row, refused)
                continue
            if values["national_id"]:
                owner = current.pk if current else -line
                self.resolver.claim_document(self.doc_kind, values["national_id_type"], values["national_id"], owner)
            if current is None:
                creates.append(values)
            elif self._update(actor, current, values, mothers.get(current.pk)):
                result.updated += 1
                self._touch(result, current.pk)
            else:
                result.unchanged += 1
        self._create(creates, actor, result)
        result.created += len(creates)

    def _update(self, actor: Actor, current: Any, values: dict[str, Any], mother_id: int | None) -> bool:
        """Write what changed (with its audit event); False when nothing did."""
        changed = [f for f in self.fields if getattr(current, f) != values[f]]
        mother_changed = "mother_id" in values and values["mother_id"] != mother_id
        if not changed and not mother_changed:
            return False
        before = snapshot(current, changed)
        for f in changed:
            setattr(current, f, values[f])
        current.save()
        after = {f: values[f] for f in changed}
        if mother_changed:
            before["mother_id"], after["mother_id"] = mother_id, values["mother_id"]
            CaregiverLink.unscoped.filter(child_id=current.pk, relationship=Relationship.MOTHER).delete()
            if values["mother_id"]:
                CaregiverLink.unscoped.create(
                    child_id=current.pk, caregiver_id=values["mother_id"], relationship=Relationship.MOTHER
                )
        record(actor, Action.UPDATE, current, child_id=self._child_id(current.pk), before=before, after=after)
        return True

    def _current_mothers(self, existing: dict[str, Any]) -> dict[int, int]:
        return {}

    def _touch(self, result: ImportResult, pk: int) -> None:
        """Caregivers' changes reach the children's facts at the next recomputation."""

    def _child_id(self, pk: int) -> int | None:
        return None

    def _create(self, creates: list[dict[str, Any]], actor: Actor, result: ImportResult) -> None:
        if not creates:
            return
        # The cleaned values are the rows (the insert takes the model's columns and ignores the rest).
        for values, number in zip(creates, numbers.next_numbers(len(creates)), strict=True):
            values["registry_number"] = number
            values["search_name"] = names.search_key(
                values["given_names"], values["paternal_surname"], values["maternal_surname"]
            )
        ids = self.insert.write_keyed(creates, "external_id")
        self.links.write(
            {"child_id": ids[v["external_id"]], "caregiver_id": v["mother_id"], "relationship": Relationship.MOTHER}
            for v in creates
            if v.get("mother_id")
        )
        for pk in ids.values():
            self._touch(result, pk)
        entity = self.model._meta.label_lower
        record_many(
            actor,
            Action.CREATE,
            entity,
            ((pk := ids[v["external_id"]], self._child_id(pk), None, None) for v in creates),
            note=batch_note(result),
        )


class ChildImporter(_PersonImporter):
    kind = "children"
    columns = (
        "external_id",
        "given_names",
        "paternal_surname",
        "maternal_surname",
        "sex",
        "birth_date",
        "national_id",
        "mother_national_id",
        "territory_code",
        "national_id_type",
        "household_code",
        "facility_code",
        "birth_weight_g",
        "gestational_weeks",
    )
    required = columns[:9]
    model = Child
    doc_kind = "child"
    fields = CHILD_FIELDS
    clean = staticmethod(clean_child)

    def _current_mothers(self, existing: dict[str, Any]) -> dict[int, int]:
        ids = [p.pk for p in existing.values()]
        return dict(
            CaregiverLink.unscoped.filter(child_id__in=ids, relationship=Relationship.MOTHER).values_list(
                "child_id", "caregiver_id"
            )
        )

    def _child_id(self, pk: int) -> int | None:
        return pk

    def _touch(self, result: ImportResult, pk: int) -> None:
        result.touched_children.add(pk)


class CaregiverImporter(_PersonImporter):
    kind = "caregivers"
    columns = (
        "external_id",
        "given_names",
        "paternal_surname",
        "maternal_surname",
        "sex",
        "birth_date",
        "national_id_type",
        "national_id",
        "household_code",
        "territory_code",
        "schooling_years",
        "phone",
    )
    required = (
        "external_id",
        "given_names",
        "paternal_surname",
        "maternal_surname",
        "sex",
        "birth_date",
        "territory_code",
    )
    model = Caregiver
    doc_kind = "caregiver"
    fields = CAREGIVER_FIELDS
    clean = staticmethod(clean_caregiver)


class HouseholdImporter(_KeyedImporter):
    kind = "households"
    key = "code"
    model = Household
    columns = ("code", "territory_code", "address", "vulnerability_percentile")
    required = ("code", "territory_code")
    fields = ("territory_id", "address", "vulnerability_percentile")

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        existing = {h.code: h for h in Household.unscoped.filter(code__in=[r.get("code", "").strip() for _, r in rows])}
        creates = []
        for line, row in rows:
            key = self._key_of(line, row, result)
            if key is None:
                continue
            try:
                values = clean_household(row, self.resolver)
            except InputErrors as exc:
                result.reject(line, row, exc.as_dict())
                continue
            refused = out_of_scope(actor, values["territory_path"])
            if refused:
                result.reject(line, row, refused)
                continue
            current = existing.get(key)
            if current is None:
                creates.append({"code": key, **{f: values[f] for f in self.fields}})
            elif _update_fields(actor, current, values, self.fields):
                result.updated += 1
            else:
                result.unchanged += 1
        ids = self.insert.write_keyed(creates, "code")
        record_many(
            actor,
            Action.CREATE,
            "registry.household",
            ((ids[c["code"]], None, None, None) for c in creates),
            note=batch_note(result),
        )
        result.created += len(creates)


def _update_fields(actor: Actor, current: Any, values: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """Save the fields that changed, with their audit event; False when nothing did."""
    changed = [f for f in fields if getattr(current, f) != values[f]]
    if not changed:
        return False
    before = snapshot(current, changed)
    for f in changed:
        setattr(current, f, values[f])
    current.save()
    record(actor, Action.UPDATE, current, before=before, after={f: values[f] for f in changed})
    return True


class RelationshipImporter:
    kind = "relationships"
    columns = ("child_external_id", "caregiver_external_id", "relationship")
    required = columns
    batch_size = LARGE_BATCH

    def __init__(self) -> None:
        self.insert = BulkInsert(CaregiverLink)

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        child_keys = {r.get("child_external_id", "").strip() for _, r in rows}
        caregiver_keys = {r.get("caregiver_external_id", "").strip() for _, r in rows}
        children = {
            e: (i, b, path)
            for e, i, b, path in Child.unscoped.filter(external_id__in=child_keys).values_list(
                "external_id", "id", "birth_date", "territory__path"
            )
        }
        caregivers = {
            e: PersonRef(i, b, s)
            for e, i, b, s in Caregiver.unscoped.filter(external_id__in=caregiver_keys).values_list(
                "external_id", "id", "birth_date", "sex"
            )
        }
        child_ids = [c[0] for c in children.values()]
        links = {
            (c, g): rel
            for c, g, rel in CaregiverLink.unscoped.filter(child_id__in=child_ids).values_list(
                "child_id", "caregiver_id", "relationship"
            )
        }
        taken = {(c, rel) for (c, _g), rel in links.items() if rel in (Relationship.MOTHER, Relationship.FATHER)}
        creates: list[dict[str, Any]] = []
        for line, row in rows:
            errors = Collector()
            child_key = row.get("child_external_id", "").strip()
            caregiver_key = row.get("caregiver_external_id", "").strip()
            relationship = row.get("relationship", "").strip()
            child, caregiver = children.get(child_key), caregivers.get(caregiver_key)
            if child is None:
                errors.add(
                    "child_external_id", "unknown", _("No child has the external id “%(id)s”.") % {"id": child_key}
                )
            if caregiver is None:
                errors.add(
                    "caregiver_external_id",
                    "unknown",
                    _("No caregiver has the external id “%(id)s”.") % {"id": caregiver_key},
                )
            if relationship not in Relationship.values:
                errors.add(
                    "relationship",
                    "invalid_choice",
                    _("The relationship must be one of: %(choices)s.") % {"choices": ", ".join(Relationship.values)},
                )
            if child and caregiver and relationship == Relationship.MOTHER:
                check_mother(caregiver, child[1], errors, "caregiver_external_id")
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            assert child is not None and caregiver is not None
            refused = out_of_scope(actor, child[2])
            if refused:
                result.reject(line, row, refused)
                continue
            pair = (child[0], caregiver.id)
            if pair in links:
                if links[pair] == relationship:
                    result.unchanged += 1
                else:
                    result.reject(
                        line,
                        row,
                        error(
                            "relationship", "conflict", _("This caregiver is already linked with another relationship.")
                        ),
                    )
                continue
            if (child[0], relationship) in taken:
                result.reject(
                    line,
                    row,
                    error(
                        "relationship",
                        "duplicate",
                        _("This child already has a %(rel)s.") % {"rel": Relationship(relationship).label.lower()},
                    ),
                )
                continue
            links[pair] = relationship
            if relationship in (Relationship.MOTHER, Relationship.FATHER):
                taken.add((child[0], relationship))
            creates.append({"child_id": child[0], "caregiver_id": caregiver.id, "relationship": relationship})
        self.insert.write(creates)
        if creates:
            ids = {
                (c, g): pk
                for c, g, pk in CaregiverLink.unscoped.filter(
                    child_id__in={c["child_id"] for c in creates}
                ).values_list("child_id", "caregiver_id", "pk")
            }
            record_many(
                actor,
                Action.CREATE,
                "registry.caregiverlink",
                ((ids[(c["child_id"], c["caregiver_id"])], c["child_id"], None, None) for c in creates),
                note=batch_note(result),
            )
        result.created += len(creates)


class PregnancyImporter(_KeyedImporter):
    kind = "pregnancies"
    model = Pregnancy
    columns = (
        "external_id",
        "mother_external_id",
        "lmp_date",
        "edd_date",
        "first_visit_date",
        "first_visit_week",
        "facility_code",
        "outcome",
        "outcome_date",
        "child_external_id",
    )
    required = ("external_id", "lmp_date", "edd_date")
    fields = (
        "mother_id",
        "lmp_date",
        "edd_date",
        "first_visit_date",
        "first_visit_week",
        "facility_id",
        "outcome",
        "outcome_date",
    )

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        self.resolver.prefetch([r for _, r in rows], "caregiver")
        existing = {
            p.external_id: p
            for p in Pregnancy.unscoped.filter(external_id__in=[r.get("external_id", "").strip() for _, r in rows])
        }
        child_keys = {r.get("child_external_id", "").strip() for _, r in rows} - {""}
        children = dict(Child.unscoped.filter(external_id__in=child_keys).values_list("external_id", "id"))
        cleaned = []
        for line, row in rows:
            key = self._key_of(line, row, result)
            if key is None:
                continue
            try:
                values = clean_pregnancy(row, self.resolver)
            except InputErrors as exc:
                result.reject(line, row, exc.as_dict())
                continue
            child_key = row.get("child_external_id", "").strip()
            if child_key and child_key not in children:
                result.reject(
                    line,
                    row,
                    error(
                        "child_external_id", "unknown", _("No child has the external id “%(id)s”.") % {"id": child_key}
                    ),
                )
                continue
            cleaned.append((line, row, key, values, children.get(child_key)))
        mother_paths: dict[int, str] = {}
        if actor.user is not None:
            mother_ids = {values["mother_id"] for *_, values, _c in cleaned}
            mother_paths = dict(Caregiver.unscoped.filter(pk__in=mother_ids).values_list("id", "territory__path"))
        creates: list[tuple[dict[str, Any], int | None]] = []
        for line, row, key, values, child_id in cleaned:
            refused = out_of_scope(actor, mother_paths.get(values["mother_id"]))
            if refused:
                result.reject(line, row, refused)
                continue
            current = existing.get(key)
            if current is None:
                creates.append(({"external_id": key, **{f: values[f] for f in self.fields}}, child_id))
            elif _update_fields(actor, current, values, self.fields):
                result.updated += 1
            else:
                result.unchanged += 1
        ids = self.insert.write_keyed([p for p, _ in creates], "external_id")
        linked = self._link_children([(ids[p["external_id"]], p, child_id) for p, child_id in creates])
        result.touched_pregnancies.update(ids.values())
        record_many(
            actor,
            Action.CREATE,
            "registry.pregnancy",
            (
                (pk := ids[p["external_id"]], None, None, {"children": linked[pk]} if pk in linked else None)
                for p, _ in creates
            ),
            note=batch_note(result),
        )
        result.created += len(creates)

    def _link_children(self, created: list[tuple[int, dict[str, Any], int | None]]) -> dict[int, list[int]]:
        """A live birth's named child, and any twin (same mother, born the same day), point to the pregnancy."""
        births: dict[tuple[int, Any], int] = {
            (p["mother_id"], p["outcome_date"]): pk
            for pk, p, _ in created
            if p["outcome"] == "live_birth" and p["outcome_date"]
        }
        updates: dict[int, int] = {child_id: pk for pk, _, child_id in created if child_id}
        if births:
            # Two plain lookups: joining the link and child tables here makes SQLite's planner scan.
            links = list(
                CaregiverLink.unscoped.filter(
                    caregiver_id__in={m for m, _ in births}, relationship=Relationship.MOTHER
                ).values_list("child_id", "caregiver_id")
            )
            unlinked = dict(
                Child.unscoped.filter(pk__in=[c for c, _ in links], pregnancy__isnull=True).values_list(
                    "pk", "birth_date"
                )
            )
            for child_id, mother_id in links:
                if child_id in unlinked and (pregnancy_id := births.get((mother_id, unlinked[child_id]))):
                    updates.setdefault(child_id, pregnancy_id)
        update_column(Child, "pregnancy_id", updates.items())
        linked: dict[int, list[int]] = {}
        for child_id, pregnancy_id in updates.items():
            linked.setdefault(pregnancy_id, []).append(child_id)
        return linked


register("children")(ChildImporter)
register("caregivers")(CaregiverImporter)
register("households")(HouseholdImporter)
register("relationships")(RelationshipImporter)
register("pregnancies")(PregnancyImporter)
