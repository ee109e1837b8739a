"""Importers for households, caregivers, children, caregiver links and pregnancies.

The rules are those of the actions: each row is validated with the same ``clean_*`` functions as the
API (:mod:`crecer.registry.inputs`), allowed or refused by the same permission checks
(:mod:`crecer.access.permissions`), and written by the same writers (:mod:`crecer.registry.actions`),
which record the same audit events. What an importer adds is batching: the lookups of a whole batch are
answered at once (:class:`~crecer.registry.resolvers.BatchResolver`), new records are written with bulk
inserts, and a row that breaks a rule is rejected with its reasons instead of stopping the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.trail import Actor, save_changes
from crecer.core.bulk import ids_by_key
from crecer.imports.framework import (
    LARGE_BATCH,
    ImportResult,
    Row,
    batch_note,
    error,
    register,
    repeated_message,
)
from crecer.lib import pregnancy as pregnancy_dating
from crecer.registry import actions, existence, scope
from crecer.registry.actions import CAREGIVER_FIELDS, CHILD_FIELDS, BirthSubject, Link
from crecer.registry.inputs import (
    PersonRef,
    clean_caregiver,
    clean_child,
    clean_household,
    clean_pregnancy,
)
from crecer.registry.models import Caregiver, CaregiverLink, Child, Household, Pregnancy, PregnancyOutcome, Relationship
from crecer.registry.resolvers import IN_CHUNK, BatchResolver
from crecer.validation import Collector, InputErrors

Errors = dict[str, list[dict[str, str]]]


def refused(actor: Actor, path: str | None, field: str = "territory_code") -> Errors | None:
    """The row's errors when the importing user may not register or change a record living in ``path``."""
    refusal = permissions.register_refusal(actor.user, path, field)
    return refusal.as_errors() if refusal is not None else None


#: the code of a row refused because it would change or link a stored record of another territory (the web
#: refuses a whole file with such rows; a row naming another territory for a new record is only rejected)
OTHER_TERRITORY = "other_territory"


def elsewhere(actor: Actor, path: str | None, field: str, message: str) -> Errors | None:
    """A stored record the row would change or link lives outside the importing user's territory."""
    if actor.user is None or permissions.within(actor.user, path):
        return None
    return error(field, OTHER_TERRITORY, message)


SCOPES = {"child": scope.children, "caregiver": scope.caregivers, "pregnancy": scope.pregnancies}


def visible(actor: Actor, kind: str, ids: Iterable[int]) -> set[int]:
    """Of the ids of ``kind`` records (``child``, ``caregiver``, ``pregnancy``), those the importing user
    may see (the system sees all). A row naming a record by its external id finds it only in the user's
    scope: one outside is answered as an unknown external id — the same code, message and outcome — so a
    file cannot probe which external ids exist elsewhere."""
    ids = set(ids)
    if actor.user is None or not ids:
        return ids
    people = SCOPES[kind](actor.user)
    found: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), IN_CHUNK):
        found.update(people.filter(pk__in=ordered[start : start + IN_CHUNK]).values_list("pk", flat=True))
    return found


def key_elsewhere(
    actor: Actor, kind: str, owner_id: int, field: str = "external_id", in_scope: bool | None = None
) -> Errors | None:
    """The row's own key (external id) is held by a record outside the importing user's scope. That cannot
    be answered as an unknown key (the row would then create a second record with it), so it is an
    existence answer (:mod:`crecer.registry.existence`): no data of the record, audited, counted per user
    and refused past the limit. None when the record is in scope (or for the system); ``in_scope`` says it
    for a record whose scope is its subject's (an encounter, a screening, a delivery)."""
    if actor.user is None:
        return None
    if in_scope if in_scope is not None else owner_id in visible(actor, kind, [owner_id]):
        return None
    try:
        existence.answered(actor, kind, owner_id, "", field, identifier=field)
    except InputErrors as exc:
        return exc.as_dict()
    return error(field, existence.ELSEWHERE, existence.key_message())


def record_elsewhere() -> str:
    return _("This record belongs to a territory outside the one you work in; it cannot be changed from here.")


def person_elsewhere() -> str:
    return _("This person lives in a territory outside the one you work in.")


class _KeyedImporter:
    """Rows identified by a natural key column; repeated keys within one file are refused."""

    key = "external_id"
    batch_size = LARGE_BATCH

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.resolver = BatchResolver()

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
        self.resolver.prefetch([r for _, r in rows], self.doc_kind, actor)
        keys = {k for _, r in rows if (k := (r.get(self.key) or "").strip())}
        # A first import finds none: ask for ids only, and load records just for the keys that exist.
        found = ids_by_key(self.model, "external_id", keys)
        existing: dict[str, Any] = (
            {
                str(p.external_id): p
                for p in self.model.unscoped.filter(pk__in=found.values()).select_related("territory")
            }
            if found
            else {}
        )
        mothers = actions.current_mothers(p.pk for p in existing.values()) if self.model is Child else {}
        creates: list[dict[str, Any]] = []
        note = batch_note(result)
        for line, row in rows:
            key = self._key_of(line, row, result)
            if key is None:
                continue
            current = existing.get(key)
            if current is not None and (problem := key_elsewhere(actor, self.doc_kind, current.pk)):
                result.reject(line, row, problem)
                continue
            try:
                kept = {"current_household_id": current.household_id} if current is not None else {}
                if isinstance(current, Child):
                    kept["current_facility_id"] = current.facility_id
                values = type(self).clean(
                    row, self.resolver, current_id=current.pk if current else None, today=today, **kept
                )
            except InputErrors as exc:
                result.reject(line, row, exc.as_dict())
                continue
            problem = (
                elsewhere(actor, current.territory.path, "external_id", record_elsewhere()) if current else None
            ) or refused(actor, values["territory_path"])
            if problem:
                result.reject(line, row, problem)
                continue
            if values["national_id"]:
                owner = current.pk if current else -line
                self.resolver.claim_document(self.doc_kind, values["national_id_type"], values["national_id"], owner)
            if current is None:
                creates.append(values)
            elif actions.update_person(actor, current, values, mothers.get(current.pk), note=note):
                result.updated += 1
                self._touch(result, current.pk)
            else:
                result.unchanged += 1
        ids = actions.add_people(actor, self.model, creates, note=note)
        for pk in ids:
            self._touch(result, pk)
        result.created += len(ids)

    def _touch(self, result: ImportResult, pk: int) -> None:
        """Caregivers' changes reach the children's facts at the next recomputation."""


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
    columns = ("code", "territory_code", "address", "vulnerability_percentile")
    required = ("code", "territory_code")

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        existing = {
            h.code: h
            for h in Household.unscoped.filter(code__in=[r.get("code", "").strip() for _, r in rows]).select_related(
                "territory"
            )
        }
        creates = []
        note = batch_note(result)
        for line, row in rows:
            key = self._key_of(line, row, result)
            if key is None:
                continue
            try:
                values = clean_household(row, self.resolver)
            except InputErrors as exc:
                result.reject(line, row, exc.as_dict())
                continue
            current = existing.get(key)
            problem = (
                elsewhere(actor, current.territory.path, "code", record_elsewhere()) if current else None
            ) or refused(actor, values["territory_path"])
            if problem:
                result.reject(line, row, problem)
                continue
            if current is None:
                creates.append(values)
            elif actions.update_household(actor, current, values, note=note):
                result.updated += 1
            else:
                result.unchanged += 1
        result.created += len(actions.add_households(actor, creates, note=note))


class RelationshipImporter:
    kind = "relationships"
    columns = ("child_external_id", "caregiver_external_id", "relationship")
    required = columns
    batch_size = LARGE_BATCH

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        child_keys = {r.get("child_external_id", "").strip() for _, r in rows}
        caregiver_keys = {r.get("caregiver_external_id", "").strip() for _, r in rows}
        found_children = list(
            Child.unscoped.filter(external_id__in=child_keys).values_list(
                "external_id", "id", "birth_date", "territory__path"
            )
        )
        # children and caregivers in the importing user's scope only: another is an unknown external id
        seen = visible(actor, "child", [row[1] for row in found_children])
        children = {e: (i, b, path) for e, i, b, path in found_children if i in seen}
        found = Caregiver.unscoped.filter(external_id__in=caregiver_keys)
        if actor.user is not None:
            found = found.filter(pk__in=scope.caregivers(actor.user).values("pk"))
        caregivers = {
            e: (PersonRef(i, b, s), path)
            for e, i, b, s, path in found.values_list("external_id", "id", "birth_date", "sex", "territory__path")
        }
        links = actions.links_of(c[0] for c in children.values())
        creates: list[Link] = []
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
            if child is not None and caregiver is not None:
                existing = links.setdefault(child[0], {})
                if existing.get(caregiver[0].id) == relationship:
                    result.unchanged += 1  # the same link again: an idempotent re-import
                    continue
                actions.link_errors(
                    child[1], caregiver[0], relationship, existing, errors, caregiver_field="caregiver_external_id"
                )
            elif relationship not in Relationship.values:
                actions.link_errors(None, PersonRef(0, None, ""), relationship, {}, errors)
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            assert child is not None and caregiver is not None
            problem = elsewhere(actor, caregiver[1], "caregiver_external_id", person_elsewhere()) or refused(
                actor, child[2], "child_external_id"
            )
            if problem:
                result.reject(line, row, problem)
                continue
            links[child[0]][caregiver[0].id] = relationship
            creates.append(Link(child[0], caregiver[0].id, relationship))
        result.created += len(actions.add_links(actor, creates, note=batch_note(result)))


class PregnancyImporter(_KeyedImporter):
    kind = "pregnancies"
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

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        self.resolver.prefetch([r for _, r in rows], "caregiver", actor)
        keys = [r.get("external_id", "").strip() for _, r in rows]
        existing = {
            p.external_id: p
            for p in Pregnancy.unscoped.filter(external_id__in=keys).select_related("mother__territory")
        }
        child_keys = {r.get("child_external_id", "").strip() for _, r in rows} - {""}
        children, child_paths = {}, {}
        found_children = list(
            Child.unscoped.filter(external_id__in=child_keys).values_list("external_id", "id", "territory__path")
        )
        seen = visible(actor, "child", [pk for _e, pk, _p in found_children])
        for external_id, pk, path in found_children:
            if pk in seen:  # a child outside the user's scope is an unknown external id
                children[external_id], child_paths[external_id] = pk, path
        named = actions.birth_subjects(children.values())
        cleaned = []
        for line, row in rows:
            key = self._key_of(line, row, result)
            if key is None:
                continue
            held = existing.get(key)
            if held is not None and (problem := key_elsewhere(actor, "pregnancy", held.pk)):
                result.reject(line, row, problem)
                continue
            try:
                values = clean_pregnancy(row, self.resolver)
            except InputErrors as exc:
                result.reject(line, row, exc.as_dict())
                continue
            child_key = row.get("child_external_id", "").strip()
            errors = Collector()
            if child_key and child_key not in children:
                errors.add(
                    "child_external_id", "unknown", _("No child has the external id “%(id)s”.") % {"id": child_key}
                )
            elif child_key and values["outcome"] != PregnancyOutcome.LIVE_BIRTH:
                errors.add(
                    "child_external_id",
                    "not_born",
                    _("A child is named only for a pregnancy that ended in a live birth."),
                )
            elif child_key and (
                problem := elsewhere(actor, child_paths[child_key], "child_external_id", person_elsewhere())
            ):
                result.reject(line, row, problem)
                continue
            elif child_key:
                subject = named[children[child_key]]
                if existing.get(key) is not None and subject.pregnancy_id == existing[key].pk:
                    pass  # linked by an earlier import of this row
                else:
                    actions.birth_errors(
                        values["mother_id"],
                        values["outcome"],
                        values["outcome_date"],
                        subject,
                        errors,
                        field="child_external_id",
                        origin=pregnancy_dating.origin(values["lmp_date"], values["edd_date"]),
                    )
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            cleaned.append((line, row, key, values, named.get(children.get(child_key, 0))))
        mother_paths = dict(
            Caregiver.unscoped.filter(pk__in={values["mother_id"] for *_, values, _c in cleaned}).values_list(
                "id", "territory__path"
            )
        )
        creates: list[dict[str, Any]] = []
        births: list[tuple[str, BirthSubject]] = []
        note = batch_note(result)
        for line, row, key, values, named_child in cleaned:
            current = existing.get(key)
            problem = (
                elsewhere(actor, current.mother.territory.path, "external_id", record_elsewhere()) if current else None
            ) or refused(actor, mother_paths.get(values["mother_id"]), "mother_external_id")
            if problem:
                result.reject(line, row, problem)
                continue
            if named_child is not None and named_child.pregnancy_id is None:
                births.append((key, named_child))
            if current is None:
                creates.append({**values, "external_id": key})
            elif save_changes(actor, current, values, actions.PREGNANCY_FIELDS, note=note):
                result.updated += 1
                result.touched_pregnancies.add(current.pk)
            else:
                result.unchanged += 1
        ids = actions.add_pregnancies(actor, creates, note=note)
        result.created += len(ids)
        result.touched_pregnancies.update(ids)
        self._link_births(actor, births, [key for *_, key, _v, _s in cleaned], note, result)

    def _link_births(
        self,
        actor: Actor,
        named: list[tuple[str, BirthSubject]],
        keys: list[str],
        note: str,
        result: ImportResult,
    ) -> None:
        """A live birth's named child, and its twins (the mother's other children born that day and not yet
        linked to a pregnancy), are recorded as born of the pregnancy through the birth rule."""
        ended = Pregnancy.unscoped.filter(
            external_id__in=keys,
            outcome=PregnancyOutcome.LIVE_BIRTH,
            outcome_date__isnull=False,
        )
        pregnancies = {p.external_id: p for p in ended}
        births: dict[int, tuple[Any, BirthSubject]] = {}
        for key, subject in named:
            if key in pregnancies:
                births[subject.id] = (pregnancies[key], subject)
        by_mother_day = {(p.mother_id, p.outcome_date): p for p in pregnancies.values()}
        if by_mother_day:
            # Two plain lookups: joining the link and child tables here makes SQLite's planner scan.
            links = list(
                CaregiverLink.unscoped.filter(
                    caregiver_id__in={m for m, _ in by_mother_day}, relationship=Relationship.MOTHER
                ).values_list("child_id", "caregiver_id")
            )
            subjects = actions.birth_subjects(c for c, _ in links)
            for child_id, mother_id in links:
                subject = subjects[child_id]
                twin_of = by_mother_day.get((mother_id, subject.birth_date))
                if twin_of is not None and subject.pregnancy_id is None and child_id not in births:
                    births[child_id] = (twin_of, subject)
        actions.link_births(actor, list(births.values()), note=note)
        result.touched_children.update(births)


register("children")(ChildImporter)
register("caregivers")(CaregiverImporter)
register("households")(HouseholdImporter)
register("relationships")(RelationshipImporter)
register("pregnancies")(PregnancyImporter)
