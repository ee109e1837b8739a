"""Every write to the person registry goes through these functions.

Each one validates its input (:mod:`crecer.registry.inputs`), asks :mod:`crecer.access.permissions`
whether the acting user may make the change, and writes the change and its audit event in one
transaction.

Pages and the API write one record at a time; importers (:mod:`crecer.registry.importers`) validate a
whole batch with the same ``clean_*`` functions and the same permission checks, then call the same
writers with many records at once (:func:`add_people`, :func:`update_person`, :func:`add_households`,
:func:`add_links`, :func:`add_pregnancies`, :func:`link_births`). The rules live here and in the
inputs; an importer only batches (prefetching lookups, writing with bulk inserts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.access.models import DataCategory
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, record_created, save_changes, snapshot
from crecer.core import bulk
from crecer.core.signals import facts_changed
from crecer.lib import names
from crecer.lib import pregnancy as pregnancy_dating
from crecer.registry import numbers
from crecer.registry.inputs import (
    PersonRef,
    Resolver,
    check_mother,
    clean_caregiver,
    clean_child,
    clean_household,
    clean_pregnancy,
    document_readings,
)
from crecer.registry.models import (
    AccessGrant,
    Caregiver,
    CaregiverLink,
    CaseNote,
    Child,
    Household,
    PendingMother,
    Pregnancy,
    PregnancyOutcome,
    Relationship,
)
from crecer.registry.resolvers import IN_CHUNK, DbResolver
from crecer.territories.models import Organisation
from crecer.validation import Collector, FieldError, InputErrors

CHILD_FIELDS = (
    "external_id",
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "sex",
    "birth_date",
    "national_id_type",
    "national_id",
    "territory_id",
    "facility_id",
    "household_id",
    "birth_weight_g",
    "gestational_weeks",
)
CAREGIVER_FIELDS = (
    "external_id",
    "given_names",
    "paternal_surname",
    "maternal_surname",
    "sex",
    "birth_date",
    "national_id_type",
    "national_id",
    "territory_id",
    "household_id",
    "schooling_years",
    "phone",
)
HOUSEHOLD_FIELDS = ("territory_id", "address", "vulnerability_percentile")
PREGNANCY_FIELDS = (
    "mother_id",
    "lmp_date",
    "edd_date",
    "first_visit_date",
    "first_visit_week",
    "facility_id",
    "outcome",
    "outcome_date",
)


def check_may_register(actor: Actor, territory_path: str | None) -> None:
    """A registering role, and the record's territory inside the user's own; CLI/system may always."""
    permissions.check_register(actor.user, territory_path)


def _duplicate_document(exc: IntegrityError, kind: str) -> InputErrors:
    message = (
        _("Another child is already registered with this document.")
        if kind == "child"
        else _("Another caregiver is already registered with this document.")
    )
    text = str(exc).lower()
    name = "external_id" if "external_id" in text else "national_id"
    if name == "external_id":
        message = _("Another record already has this external id.")
    return InputErrors({name: [FieldError("duplicate", message)]})


# --- people: children and caregivers, one or many -----------------------------------------------------


def _fields(model: type[Child] | type[Caregiver]) -> tuple[str, ...]:
    return CHILD_FIELDS if model is Child else CAREGIVER_FIELDS


def _child_of(model: type[Child] | type[Caregiver], pk: int) -> int | None:
    """The child an event about this person concerns (caregivers' events concern no single child)."""
    return pk if model is Child else None


def add_people(
    actor: Actor, model: type[Child] | type[Caregiver], people: Sequence[dict[str, Any]], note: str = ""
) -> list[int]:
    """Store validated children or caregivers (``clean_child``/``clean_caregiver`` values, already allowed
    for the actor) and everything their registration implies: a registry number and search name each, the
    mother link of a child or the pending link to a mother not registered yet, the children waiting for a
    caregiver's document, and one audit event per record. Returns the new ids in order.

    The mother link made with a child is part of its registration: the child's creation event covers it
    (the link then holds its values until it is removed, whose event has them); a link made later has an
    event of its own."""
    if not people:
        return []
    # The cleaned values are the rows (the bulk insert takes the model's columns and ignores the rest).
    for values, number in zip(people, numbers.next_numbers(len(people)), strict=True):
        values["registry_number"] = number
        values["search_name"] = names.search_key(
            values["given_names"], values["paternal_surname"], values["maternal_surname"]
        )
    new = bulk.BulkInsert(model).write_keyed(list(people), "registry_number")
    ids = [new[v["registry_number"]] for v in people]
    record_created(actor, model._meta.label_lower, ((pk, _child_of(model, pk)) for pk in ids), note=note)
    if model is Child:
        add_links(
            actor,
            [
                Link(pk, v["mother_id"], Relationship.MOTHER)
                for pk, v in zip(ids, people, strict=True)
                if v["mother_id"]
            ],
            note=note,
            audited=False,
        )
        _hold_pending_mothers(actor, [(pk, v["mother_document"]) for pk, v in zip(ids, people, strict=True)], note)
    else:
        link_pending_children(actor, [(pk, v) for pk, v in zip(ids, people, strict=True)], note)
    return ids


def update_person(
    actor: Actor, person: Child | Caregiver, values: dict[str, Any], mother_id: int | None = None, note: str = ""
) -> bool:
    """Write what changed in a person's record (validated ``values`` of the whole record), with its audit
    events; for a child, ``mother_id`` is the current mother's id and a change of mother replaces the link.
    False when nothing changed."""
    model = type(person)
    changed = save_changes(actor, person, values, _fields(model), child_id=_child_of(model, person.pk), note=note)
    if isinstance(person, Child):
        if values["mother_id"] != mother_id:
            _remove_links(actor, CaregiverLink.unscoped.filter(child=person, relationship=Relationship.MOTHER), note)
            if values["mother_id"]:
                add_links(actor, [Link(person.pk, values["mother_id"], Relationship.MOTHER)], note=note)
            changed = True
        if values["mother_document"] and not values["mother_id"]:
            changed |= _hold_pending_mothers(actor, [(person.pk, values["mother_document"])], note) > 0
    elif "national_id" in values:
        changed |= link_pending_children(actor, [(person.pk, values)], note) > 0
    return changed


def _stop_waiting(
    child_ids: Iterable[int],
    mothers: dict[int, int] | None = None,
    but: AbstractSet[tuple[int, str, str]] = frozenset(),
) -> None:
    """These children wait no longer for the mother's document they were registered with: they got a mother
    (``mothers``: child -> caregiver) or another document (the readings in ``but`` keep waiting)."""
    now = timezone.now()
    for child_id in set(child_ids):
        waiting = PendingMother.unscoped.filter(child_id=child_id, linked_at__isnull=True)
        for pk, doc_type, number in waiting.values_list("pk", "document_type", "document_number"):
            if (child_id, doc_type, number) not in but:
                PendingMother.unscoped.filter(pk=pk).update(linked_at=now, caregiver_id=(mothers or {}).get(child_id))


def _hold_pending_mothers(actor: Actor, documents: Iterable[tuple[int, str]], note: str) -> int:
    """Keep the mother's document of children whose mother is not registered yet (one row per reading); a
    child registered with another document before waits for the new one only."""
    rows: list[dict[str, Any]] = [
        {"child_id": child_id, "document": document, "document_type": doc_type, "document_number": number}
        for child_id, document in documents
        if document
        for doc_type, number in document_readings(document)
    ]
    if not rows:
        return 0
    readings = {(r["child_id"], r["document_type"], r["document_number"]) for r in rows}
    waiting = PendingMother.unscoped.filter(
        child_id__in={r["child_id"] for r in rows}, linked_at__isnull=True
    ).values_list("pk", "child_id", "document_type", "document_number")
    held, stale = set(), []
    for pk, child_id, doc_type, number in waiting:
        if (child_id, doc_type, number) in readings:
            held.add((child_id, doc_type, number))
        else:
            stale.append(pk)  # registered with another document before: it is no longer awaited
    if stale:
        PendingMother.unscoped.filter(pk__in=stale).update(linked_at=timezone.now())
    rows = [r for r in rows if (r["child_id"], r["document_type"], r["document_number"]) not in held]
    if not rows:
        return 0
    ids = bulk.insert(PendingMother, rows, key=("child_id", "document_type", "document_number"))
    children = [r["child_id"] for r in rows]
    record_created(actor, "registry.pendingmother", zip(ids, children, strict=True), note)
    return len(rows)


def link_pending_children(actor: Actor, caregivers: Iterable[tuple[int, dict[str, Any]]], note: str = "") -> int:
    """Children registered before their mother: link those waiting for these caregivers' documents.

    ``caregivers`` are (id, values with ``national_id_type``, ``national_id``, ``birth_date``, ``sex``). A
    child who got a mother meanwhile stops waiting; a caregiver who cannot be the child's mother (not
    female, too young at the birth) leaves the child waiting, listed by the data-quality panel."""
    documents = {(v["national_id_type"], v["national_id"]): (pk, v) for pk, v in caregivers if v.get("national_id")}
    if not documents or not PendingMother.unscoped.filter(linked_at__isnull=True).exists():
        return 0
    by_type: dict[str, list[str]] = {}
    for doc_type, number in documents:
        by_type.setdefault(doc_type, []).append(number)
    waiting: list[tuple[int, str, str, dt.date | None]] = []
    for doc_type, all_numbers in by_type.items():
        for start in range(0, len(all_numbers), IN_CHUNK):
            waiting += PendingMother.unscoped.filter(
                document_type=doc_type,
                document_number__in=all_numbers[start : start + IN_CHUNK],
                linked_at__isnull=True,
            ).values_list("child_id", "document_type", "document_number", "child__birth_date")
    if not waiting:
        return 0
    has_mother = set(
        CaregiverLink.unscoped.filter(
            child_id__in={w[0] for w in waiting}, relationship=Relationship.MOTHER
        ).values_list("child_id", flat=True)
    )
    links: list[Link] = []
    closed: dict[int, int | None] = {}
    for child_id, doc_type, number, birth_date in waiting:
        if child_id in closed:
            continue
        mother_id, values = documents[(doc_type, number)]
        if child_id in has_mother:
            closed[child_id] = None
            continue
        errors = Collector()
        check_mother(PersonRef(mother_id, values["birth_date"], values["sex"]), birth_date, errors, "mother")
        if errors.errors:
            continue
        links.append(Link(child_id, mother_id, Relationship.MOTHER))
        closed[child_id] = mother_id
    add_links(actor, links, note=note or "mother registered after the child")  # they stop waiting
    _stop_waiting([child_id for child_id, mother in closed.items() if mother is None])
    if links:
        facts_changed(actor, child_ids=[link.child_id for link in links])
    return len(links)


def create_child(actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None) -> Child:
    """Register a child (born or unborn), optionally linked to a registered mother."""
    values = clean_child(raw, resolver or DbResolver(actor))
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            (pk,) = add_people(actor, Child, [values])
            facts_changed(actor, child_ids=[pk])
    except IntegrityError as exc:
        raise _duplicate_document(exc, "child") from exc
    return Child.unscoped.get(pk=pk)


def _merged(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A person's current values (input form) with ``changes`` over them, to validate as a whole; a field
    that does not exist is refused, and a new number without its type is read as the default type."""
    unknown = set(changes) - set(current)
    if unknown:
        raise InputErrors({k: [FieldError("unknown_field", _("This field does not exist."))] for k in sorted(unknown)})
    merged = {**current, **changes}
    if "national_id" in changes and "national_id_type" not in changes and changes["national_id"]:
        merged["national_id_type"] = ""  # a new number is read as the profile's default type
    return merged


def _person_raw(person: Child | Caregiver) -> dict[str, Any]:
    """What children and caregivers share, in input form (codes, ISO dates)."""
    return {
        "external_id": person.external_id or "",
        "given_names": person.given_names,
        "paternal_surname": person.paternal_surname,
        "maternal_surname": person.maternal_surname,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "national_id_type": person.national_id_type,
        "national_id": person.national_id or "",
        "territory_code": person.territory.code,
        "household_code": person.household.code if person.household_id and person.household else "",
    }


def child_raw(child: Child) -> dict[str, Any]:
    """A child's current values in input form (codes, ISO dates) so updates re-validate the whole record."""
    mother = (
        CaregiverLink.unscoped.filter(child=child, relationship=Relationship.MOTHER)
        .values_list("caregiver__national_id", flat=True)
        .first()
    )
    return {
        **_person_raw(child),
        "facility_code": child.facility.code if child.facility_id and child.facility else "",
        "birth_weight_g": child.birth_weight_g if child.birth_weight_g is not None else "",
        "gestational_weeks": child.gestational_weeks if child.gestational_weeks is not None else "",
        "mother_national_id": mother or "",
    }


def current_mothers(child_ids: Iterable[int]) -> dict[int, int]:
    """``{child id: mother's caregiver id}`` for the children that have one."""
    return dict(
        CaregiverLink.unscoped.filter(child_id__in=list(child_ids), relationship=Relationship.MOTHER).values_list(
            "child_id", "caregiver_id"
        )
    )


def _reason(reason: str | None, message: str) -> str:
    """A person's reason for a change: required (blank is an error), kept in the audit event. ``None`` is
    passed explicitly only by importers and system paths, which ask no one for a reason."""
    if reason is None:
        return ""
    if not reason.strip():
        raise InputErrors({"reason": [FieldError("required", message)]})
    return reason.strip()[:300]


def update_child(
    actor: Actor,
    child: Child,
    changes: dict[str, Any],
    resolver: Resolver | None = None,
    *,
    reason: str | None,
) -> Child:
    """Change some fields of a child; the merged record is validated as a whole. ``reason`` is required of
    people (pages and API) and noted on the audit events; importers and system paths pass ``None``
    explicitly (their own audit note names the import)."""
    note = _reason(reason, _("Say why the record is changed."))
    merged = _merged(child_raw(child), changes)
    values = clean_child(
        merged,
        resolver or DbResolver(actor),
        current_id=child.pk,
        current_facility_id=child.facility_id,
        current_household_id=child.household_id,
    )
    check_may_register(actor, child.territory.path)
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            if update_person(actor, child, values, current_mothers([child.pk]).get(child.pk), note=note):
                facts_changed(actor, child_ids=[child.pk])
    except IntegrityError as exc:
        child.refresh_from_db()
        raise _duplicate_document(exc, "child") from exc
    return child


def void_child(actor: Actor, child: Child, reason: str) -> None:
    """Take a record out of use (registered in error); it stays for the audit, hidden everywhere."""
    check_may_register(actor, child.territory.path)
    if not reason.strip():
        raise InputErrors({"reason": [FieldError("required", _("Say why the record is voided."))]})
    with transaction.atomic():
        Child.unscoped.filter(pk=child.pk).update(voided_at=timezone.now(), void_reason=reason[:300])
        record(actor, Action.DELETE, child, child_id=child.pk, note=reason)


def create_caregiver(actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None) -> Caregiver:
    values = clean_caregiver(raw, resolver or DbResolver(actor))
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            (pk,) = add_people(actor, Caregiver, [values])
    except IntegrityError as exc:
        raise _duplicate_document(exc, "caregiver") from exc
    return Caregiver.unscoped.get(pk=pk)


def caregiver_raw(caregiver: Caregiver) -> dict[str, Any]:
    """A caregiver's current values in input form, so that updates re-validate the whole record."""
    return {
        **_person_raw(caregiver),
        "schooling_years": caregiver.schooling_years if caregiver.schooling_years is not None else "",
        "phone": caregiver.phone,
    }


def update_caregiver(
    actor: Actor, caregiver: Caregiver, changes: dict[str, Any], resolver: Resolver | None = None
) -> Caregiver:
    """Change some fields of a caregiver; the merged record is validated as a whole. The facts of the
    children linked to them and of their pregnancies change with them (a mother's age and schooling)."""
    merged = _merged(caregiver_raw(caregiver), changes)
    values = clean_caregiver(
        merged, resolver or DbResolver(actor), current_id=caregiver.pk, current_household_id=caregiver.household_id
    )
    check_may_register(actor, caregiver.territory.path)
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            if update_person(actor, caregiver, values):
                facts_changed(
                    actor,
                    child_ids=CaregiverLink.unscoped.filter(caregiver=caregiver).values_list("child_id", flat=True),
                    pregnancy_ids=Pregnancy.unscoped.filter(mother=caregiver).values_list("pk", flat=True),
                )
    except IntegrityError as exc:
        caregiver.refresh_from_db()
        raise _duplicate_document(exc, "caregiver") from exc
    return caregiver


# --- caregiver links ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    child_id: int
    caregiver_id: int
    relationship: str


def add_links(actor: Actor, links: Sequence[Link], note: str = "", *, audited: bool = True) -> list[int]:
    """Store caregiver links (already checked with :func:`link_errors`), one audit event each (unless the
    caller's event names them: the mother linked when a child is registered)."""
    if not links:
        return []
    found = bulk.BulkInsert(CaregiverLink).write_keyed(
        [{"child_id": x.child_id, "caregiver_id": x.caregiver_id, "relationship": x.relationship} for x in links],
        ("child_id", "caregiver_id"),
    )
    ids = [found[(x.child_id, x.caregiver_id)] for x in links]
    if audited:
        record_created(
            actor, "registry.caregiverlink", ((pk, x.child_id) for pk, x in zip(ids, links, strict=True)), note
        )
    mothers = {x.child_id: x.caregiver_id for x in links if x.relationship == Relationship.MOTHER}
    if mothers and PendingMother.unscoped.filter(linked_at__isnull=True).exists():
        waiting = PendingMother.unscoped.filter(linked_at__isnull=True).values_list("child_id", flat=True)
        _stop_waiting(set(waiting) & set(mothers), mothers)  # a child with a mother waits for no document
    return ids


def _remove_links(actor: Actor, links: Iterable[CaregiverLink], note: str = "") -> None:
    for link in links:
        before = snapshot(link)
        CaregiverLink.unscoped.filter(pk=link.pk).delete()
        record(
            actor,
            Action.DELETE,
            entity="registry.caregiverlink",
            entity_id=before["id"],
            child_id=before["child_id"],
            before=before,
            note=note,
        )


def link_errors(
    child_birth_date: dt.date | None,
    caregiver: PersonRef,
    relationship: str,
    existing: dict[int, str],
    errors: Collector,
    *,
    caregiver_field: str = "caregiver",
) -> None:
    """Problems with linking a caregiver to a child whose current links are ``existing``
    (``{caregiver id: relationship}``): an unknown relationship, a second mother or father, the same
    caregiver twice, a mother who cannot be one."""
    if relationship not in Relationship.values:
        errors.add(
            "relationship",
            "invalid_choice",
            _("The relationship must be one of: %(choices)s.") % {"choices": ", ".join(Relationship.values)},
        )
        return
    if caregiver.id in existing:
        if existing[caregiver.id] == relationship:
            errors.add("relationship", "duplicate", _("This child already has this caregiver or relationship."))
        else:
            errors.add("relationship", "conflict", _("This caregiver is already linked with another relationship."))
        return
    if relationship in (Relationship.MOTHER, Relationship.FATHER) and relationship in existing.values():
        errors.add(
            "relationship",
            "duplicate",
            _("This child already has a %(rel)s.") % {"rel": Relationship(relationship).label.lower()},
        )
    if relationship == Relationship.MOTHER:
        check_mother(caregiver, child_birth_date, errors, caregiver_field)


def links_of(child_ids: Iterable[int]) -> dict[int, dict[int, str]]:
    """``{child id: {caregiver id: relationship}}``."""
    found: dict[int, dict[int, str]] = {}
    for child_id, caregiver_id, relationship in CaregiverLink.unscoped.filter(child_id__in=list(child_ids)).values_list(
        "child_id", "caregiver_id", "relationship"
    ):
        found.setdefault(child_id, {})[caregiver_id] = relationship
    return found


def link_caregiver(
    actor: Actor, child: Child, caregiver: Caregiver, relationship: str, *, reason: str | None
) -> CaregiverLink:
    """Link a caregiver (father, guardian…) to a child; ``reason`` as in :func:`update_child`."""
    note = _reason(reason, _("Say why the caregiver is linked."))
    errors = Collector()
    link_errors(
        child.birth_date,
        PersonRef(caregiver.pk, caregiver.birth_date, caregiver.sex),
        relationship,
        links_of([child.pk]).get(child.pk, {}),
        errors,
    )
    errors.raise_if_any()
    check_may_register(actor, child.territory.path)
    try:
        with transaction.atomic():
            (pk,) = add_links(actor, [Link(child.pk, caregiver.pk, relationship)], note=note)
    except IntegrityError as exc:  # linked meanwhile by someone else
        raise InputErrors(
            {"relationship": [FieldError("duplicate", _("This child already has this caregiver or relationship."))]}
        ) from exc
    return CaregiverLink.unscoped.get(pk=pk)


def unlink_caregiver(actor: Actor, link: CaregiverLink, *, reason: str | None) -> None:
    """Remove a caregiver's link to a child; ``reason`` as in :func:`update_child`."""
    note = _reason(reason, _("Say why the link is removed."))
    check_may_register(actor, link.child.territory.path)
    with transaction.atomic():
        _remove_links(actor, [link], note)


# --- households ---------------------------------------------------------------------------------------


def add_households(actor: Actor, households: Sequence[dict[str, Any]], note: str = "") -> list[int]:
    """Store validated households (``clean_household`` values), one audit event each."""
    rows = [{"code": v["code"], **{f: v[f] for f in HOUSEHOLD_FIELDS}} for v in households]
    ids = bulk.insert(Household, rows, key="code")
    record_created(actor, "registry.household", ((pk, None) for pk in ids), note)
    return ids


def create_household(actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None) -> Household:
    values = clean_household(raw, resolver or DbResolver(actor))
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            (pk,) = add_households(actor, [values])
    except IntegrityError as exc:
        raise InputErrors({"code": [FieldError("duplicate", _("A household with this code exists."))]}) from exc
    return Household.unscoped.get(pk=pk)


def update_household(actor: Actor, household: Household, values: dict[str, Any], note: str = "") -> bool:
    """Write what changed in a household (validated values), with its audit event."""
    return save_changes(actor, household, values, HOUSEHOLD_FIELDS, note=note)


# --- notes -------------------------------------------------------------------------------------------------


def add_case_note(actor: Actor, child: Child, category: str, text: str) -> CaseNote:
    """File a note under a data category; the author must be allowed to see that category."""
    if category not in DataCategory.values:
        raise InputErrors({"category": [FieldError("invalid_choice", _("Unknown data category."))]})
    if not text.strip():
        raise InputErrors({"text": [FieldError("required", _("The note is empty."))]})
    permissions.check_record(actor.user, category)
    check_may_register(actor, child.territory.path)
    with transaction.atomic():
        note = CaseNote.unscoped.create(child=child, category=category, text=text.strip(), author=actor.user)
        record(actor, Action.CREATE, note, child_id=child.pk, after={"category": category})
    return note


# --- access grants: every change of an organisation's access to a child goes through here ------------------


def _write_access(actor: Actor, grant: AccessGrant, changes: dict[str, Any], still: dict[str, Any], note: str) -> bool:
    """The one writer of a change to an existing grant: compare-and-set on what it must still have (a grant
    already ended or revoked keeps what it has: the fields changed were empty) and its audit event in the
    same transaction."""
    with transaction.atomic():
        if not AccessGrant.objects.filter(pk=grant.pk, **still).update(**changes):
            return False
        record(
            actor,
            Action.UPDATE,
            entity="registry.accessgrant",
            entity_id=grant.pk,
            child_id=grant.child_id,
            before=dict.fromkeys(changes),
            after=changes,
            note=note,
        )
    for name, value in changes.items():
        setattr(grant, name, value)
    return True


def grant_access(
    actor: Actor,
    child: Child,
    organisation: Organisation,
    categories: list[str],
    purpose: str,
    valid_until: dt.datetime | None = None,
) -> AccessGrant:
    """Open a child's record to an organisation for a purpose (a referral, a case), limited to the consented
    categories; identity is always shared with them (the receiver must know whom the data is about)."""
    unknown = set(categories) - set(DataCategory.values)
    if unknown:
        raise InputErrors(
            {
                "categories": [
                    FieldError("invalid_choice", _("Unknown data category: %(c)s") % {"c": ", ".join(sorted(unknown))})
                ]
            }
        )
    permissions.check(actor.user, permissions.SHARE_RECORDS, _("Your role cannot share records."))
    with transaction.atomic():
        grant = AccessGrant.objects.create(
            child=child,
            organisation=organisation,
            categories=[DataCategory.IDENTITY, *sorted(set(categories) - {DataCategory.IDENTITY})],
            purpose=purpose[:200],
            granted_by=actor.user,
            valid_until=valid_until,
        )
        record(actor, Action.CREATE, grant, child_id=child.pk, after=snapshot(grant))
    return grant


def end_access(actor: Actor, grant: AccessGrant, until: dt.datetime, note: str = "") -> bool:
    """Set when an open-ended grant ends (a referral closed: the receiver keeps access for a grace period).
    True when this call ended it."""
    return _write_access(
        actor, grant, {"valid_until": until}, {"valid_until__isnull": True, "revoked_at__isnull": True}, note
    )


def revoke_access(actor: Actor, grant: AccessGrant, note: str = "") -> bool:
    """Close a grant now (a referral reassigned to another organisation, consent withdrawn). True when this
    call revoked it."""
    return _write_access(actor, grant, {"revoked_at": timezone.now()}, {"revoked_at__isnull": True}, note)


# --- pregnancies and births ------------------------------------------------------------------------------


def add_pregnancies(actor: Actor, pregnancies: Sequence[dict[str, Any]], note: str = "") -> list[int]:
    """Store validated pregnancies (``clean_pregnancy`` values), one audit event each."""
    rows = [{"external_id": v["external_id"], **{f: v[f] for f in PREGNANCY_FIELDS}} for v in pregnancies]
    ids = bulk.insert(Pregnancy, rows, key="external_id")
    record_created(actor, "registry.pregnancy", ((pk, None) for pk in ids), note)
    return ids


def create_pregnancy(
    actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None, *, mother: Caregiver | None = None
) -> Pregnancy:
    """Register a pregnancy of a registered mother (LMP and/or expected delivery date, first visit); the
    mother is named in ``raw`` (external id or document) or given as ``mother``."""
    ref = PersonRef(mother.pk, mother.birth_date, mother.sex) if mother is not None else None
    values = clean_pregnancy(raw, resolver or DbResolver(actor), mother=ref)
    mother = Caregiver.unscoped.select_related("territory").get(pk=values["mother_id"])
    permissions.check_register(actor.user, mother.territory.path, "mother" if ref else "mother_external_id")
    try:
        with transaction.atomic():
            (pk,) = add_pregnancies(actor, [values])
            facts_changed(actor, pregnancy_ids=[pk])
    except IntegrityError as exc:
        raise InputErrors(
            {"external_id": [FieldError("duplicate", _("Another record already has this external id."))]}
        ) from exc
    return Pregnancy.unscoped.get(pk=pk)


@dataclass(frozen=True)
class BirthSubject:
    """What the birth rule needs to know of a child."""

    id: int
    birth_date: dt.date | None
    mother_id: int | None
    pregnancy_id: int | None


def birth_errors(
    pregnancy_mother_id: int,
    outcome: str,
    outcome_date: dt.date | None,
    child: BirthSubject,
    errors: Collector,
    field: str = "child",
    origin: dt.date | None = None,
) -> None:
    """Problems with recording ``child`` as born of a pregnancy: the child must be born, not the child of
    another mother or pregnancy, (once the pregnancy has ended) born on its outcome date, and born when the
    pregnancy's dating allows a birth (:data:`crecer.lib.pregnancy.BIRTH_WEEKS`, from ``origin``, the day
    gestational age counts from)."""
    if child.birth_date is None:
        errors.add(field, "unborn", _("The child has no birth date yet."))
    elif (
        origin is not None and (week := pregnancy_dating.birth_week_out_of_range(origin, child.birth_date)) is not None
    ):
        errors.add(
            field if field != "child" else "birth_date",
            "not_this_pregnancy",
            _(
                "This birth date does not fit the pregnancy: on that day it was in week %(week)s by its last "
                "period or due date. Check the birth date or the pregnancy's dates."
            )
            % {"week": week},
        )
    if outcome not in (PregnancyOutcome.ONGOING, PregnancyOutcome.LIVE_BIRTH):
        errors.add("outcome", "closed", _("This pregnancy already ended otherwise."))
    if child.mother_id is not None and child.mother_id != pregnancy_mother_id:
        errors.add(field, "other_mother", _("The child is registered with another mother."))
    if child.pregnancy_id is not None:
        errors.add(field, "other_pregnancy", _("The child is already linked to a pregnancy."))
    if (
        outcome == PregnancyOutcome.LIVE_BIRTH
        and outcome_date is not None
        and child.birth_date is not None
        and child.birth_date != outcome_date
    ):
        errors.add(
            field,
            "other_day",
            _("The child was born on %(birth)s, not on the day the pregnancy ended (%(end)s).")
            % {"birth": child.birth_date.isoformat(), "end": outcome_date.isoformat()},
        )


def birth_subjects(child_ids: Iterable[int]) -> dict[int, BirthSubject]:
    ids = list(child_ids)
    mothers = current_mothers(ids)
    return {
        pk: BirthSubject(pk, birth, mothers.get(pk), pregnancy)
        for pk, birth, pregnancy in Child.unscoped.filter(pk__in=ids).values_list("pk", "birth_date", "pregnancy_id")
    }


def link_births(actor: Actor, births: Sequence[tuple[Pregnancy, BirthSubject]], note: str = "") -> None:
    """Record children as born of pregnancies (already checked with :func:`birth_errors`): the pregnancy
    ends as a live birth on the child's birth date, the child points to it and gets its mother link.
    Every change is audited."""
    mothers: list[Link] = []
    for pregnancy, child in births:
        assert child.birth_date is not None
        values = {"outcome": PregnancyOutcome.LIVE_BIRTH, "outcome_date": child.birth_date}
        save_changes(actor, pregnancy, values, ("outcome", "outcome_date"), note=note)
        Child.unscoped.filter(pk=child.id).update(pregnancy=pregnancy, updated_at=timezone.now())
        record(
            actor,
            Action.UPDATE,
            entity="registry.child",
            entity_id=child.id,
            child_id=child.id,
            before={"pregnancy_id": None},
            after={"pregnancy_id": pregnancy.pk},
            note=note,
        )
        if child.mother_id is None:
            mothers.append(Link(child.id, pregnancy.mother_id, Relationship.MOTHER))
    add_links(actor, mothers, note=note)


def record_birth(actor: Actor, pregnancy: Pregnancy, child: Child, *, field: str = "child") -> Pregnancy:
    """Close a pregnancy as a live birth of ``child`` (born on the child's birth date); problems with the
    child are reported under ``field``."""
    subject = birth_subjects([child.pk])[child.pk]
    errors = Collector()
    birth_errors(
        pregnancy.mother_id, pregnancy.outcome, pregnancy.outcome_date, subject, errors, field, pregnancy.origin
    )
    errors.raise_if_any()
    check_may_register(actor, child.territory.path)
    with transaction.atomic():
        link_births(actor, [(pregnancy, subject)])
        facts_changed(actor, child_ids=[child.pk], pregnancy_ids=[pregnancy.pk])
    pregnancy.refresh_from_db()
    return pregnancy


#: what a birth records about an existing child besides the link (``register_birth``)
BIRTH_FIELDS = ("birth_weight_g", "gestational_weeks")


def register_birth(actor: Actor, pregnancy: Pregnancy, raw: dict[str, Any], child: Child | None = None) -> Child:
    """The birth of a pregnancy, all or nothing: the newborn registered from ``raw`` (as :func:`create_child`,
    living where the mother lives unless ``territory_code`` says otherwise; the mother is the pregnancy's),
    or an existing ``child`` given the birth weight and gestational weeks of ``raw``; then linked to the
    pregnancy and its mother (:func:`record_birth`). Problems with a newborn's birth are reported under
    ``birth_date``."""
    given = {k: v for k, v in raw.items() if v is not None and v != ""}
    if child is not None and set(given) - set(BIRTH_FIELDS):
        message = _("Only the birth weight and gestational weeks of an existing child are recorded with the birth.")
        raise InputErrors({k: [FieldError("not_allowed", message)] for k in sorted(set(given) - set(BIRTH_FIELDS))})
    if child is None and "mother_national_id" in given:
        raise InputErrors(
            {"mother_national_id": [FieldError("not_allowed", _("The mother of a birth is the pregnancy's mother."))]}
        )
    with transaction.atomic():
        if child is None:
            child = create_child(actor, {"territory_code": pregnancy.mother.territory.code, **given})
            field = "birth_date"
        else:
            if given:
                # the birth is the reason: its own event names it, no one is asked for another
                child = update_child(actor, child, given, reason=None)
            field = "child"
        record_birth(actor, pregnancy, child, field=field)
    return child
