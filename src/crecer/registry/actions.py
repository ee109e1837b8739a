"""Every write to the person registry goes through these functions.

Each one validates its input (:mod:`crecer.registry.inputs`), checks that the acting user may make
the change, and writes the change and its audit event in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access.models import DataCategory, Role
from crecer.audit.models import Action
from crecer.audit.trail import Actor, diff, record, snapshot
from crecer.registry import numbers
from crecer.registry.inputs import (
    PersonRef,
    Resolver,
    check_mother,
    clean_caregiver,
    clean_child,
    clean_household,
    clean_pregnancy,
)
from crecer.registry.models import (
    AccessGrant,
    Caregiver,
    CaregiverLink,
    CaseNote,
    Child,
    Household,
    Pregnancy,
    PregnancyOutcome,
    Relationship,
)
from crecer.registry.resolvers import DbResolver
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


def _evaluate_risks(actor: Actor, **subjects: Any) -> None:
    """The facts changed: the risk rules run in the same transaction (imported late: risks read the registry)."""
    from crecer.risks import engine

    engine.evaluate(actor, **subjects)


def check_may_register(actor: Actor, territory_path: str | None) -> None:
    """A registering role, and the record's territory inside the user's own; CLI/system may always."""
    user = actor.user
    if user is None:
        return
    if not (user.is_active and user.can_register):
        raise PermissionDenied(_("Your role cannot register or change people."))
    assert user.territory is not None
    if territory_path is not None and not territory_path.startswith(user.territory.path):
        errors = Collector()
        errors.add("territory_code", "out_of_scope", _("This territory is outside the one you work in."))
        errors.raise_if_any()


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


# --- children ------------------------------------------------------------------------------------


def create_child(actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None) -> Child:
    """Register a child (born or unborn), optionally linked to a registered mother."""
    values = clean_child(raw, resolver or DbResolver())
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            child = Child(**{f: values[f] for f in CHILD_FIELDS})
            child.registry_number = numbers.next_numbers(1)[0]
            child.save()
            after = snapshot(child)
            if values["mother_id"]:
                CaregiverLink.unscoped.create(child=child, caregiver_id=values["mother_id"], relationship="mother")
                after["mother_id"] = values["mother_id"]
            record(actor, Action.CREATE, child, child_id=child.pk, after=after)
            _evaluate_risks(actor, children=[child])
    except IntegrityError as exc:
        raise _duplicate_document(exc, "child") from exc
    return child


def child_raw(child: Child) -> dict[str, Any]:
    """A child's current values in input form (codes, ISO dates) so updates re-validate the whole record."""
    mother = (
        CaregiverLink.unscoped.filter(child=child, relationship=Relationship.MOTHER)
        .values_list("caregiver__national_id", flat=True)
        .first()
    )
    return {
        "external_id": child.external_id or "",
        "given_names": child.given_names,
        "paternal_surname": child.paternal_surname,
        "maternal_surname": child.maternal_surname,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat() if child.birth_date else "",
        "national_id_type": child.national_id_type,
        "national_id": child.national_id or "",
        "territory_code": child.territory.code,
        "facility_code": child.facility.code if child.facility_id and child.facility else "",
        "household_code": child.household.code if child.household_id and child.household else "",
        "birth_weight_g": child.birth_weight_g if child.birth_weight_g is not None else "",
        "gestational_weeks": child.gestational_weeks if child.gestational_weeks is not None else "",
        "mother_national_id": mother or "",
    }


def update_child(actor: Actor, child: Child, changes: dict[str, Any], resolver: Resolver | None = None) -> Child:
    """Change some fields of a child; the merged record is validated as a whole."""
    current = child_raw(child)
    unknown = set(changes) - set(current)
    if unknown:
        raise InputErrors({k: [FieldError("unknown_field", _("This field does not exist."))] for k in sorted(unknown)})
    merged = {**current, **changes}
    if "national_id" in changes and "national_id_type" not in changes and changes["national_id"]:
        merged["national_id_type"] = ""  # a new number is read as the profile's default type
    values = clean_child(merged, resolver or DbResolver(), current_id=child.pk)
    check_may_register(actor, child.territory.path)
    check_may_register(actor, values["territory_path"])
    before = snapshot(child)
    old_mother = (
        CaregiverLink.unscoped.filter(child=child, relationship="mother").values_list("caregiver_id", flat=True).first()
    )
    before["mother_id"] = old_mother
    for f in CHILD_FIELDS:
        setattr(child, f, values[f])
    try:
        with transaction.atomic():
            child.save()
            after = snapshot(child)
            after["mother_id"] = values["mother_id"]
            if values["mother_id"] != old_mother:
                CaregiverLink.unscoped.filter(child=child, relationship="mother").delete()
                if values["mother_id"]:
                    CaregiverLink.unscoped.create(child=child, caregiver_id=values["mother_id"], relationship="mother")
            old, new = diff(before, after)
            old.pop("updated_at", None)
            new.pop("updated_at", None)
            if new:
                record(actor, Action.UPDATE, child, child_id=child.pk, before=old, after=new)
                _evaluate_risks(actor, children=[child])
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


# --- caregivers, links, households -------------------------------------------------------------


def create_caregiver(actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None) -> Caregiver:
    values = clean_caregiver(raw, resolver or DbResolver())
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            caregiver = Caregiver(**{f: values[f] for f in CAREGIVER_FIELDS})
            caregiver.registry_number = numbers.next_numbers(1)[0]
            caregiver.save()
            record(actor, Action.CREATE, caregiver, after=snapshot(caregiver))
    except IntegrityError as exc:
        raise _duplicate_document(exc, "caregiver") from exc
    return caregiver


def link_caregiver(actor: Actor, child: Child, caregiver: Caregiver, relationship: str) -> CaregiverLink:
    if relationship not in Relationship.values:
        raise InputErrors({"relationship": [FieldError("invalid_choice", _("Unknown relationship."))]})
    check_may_register(actor, child.territory.path)
    errors = Collector()
    if relationship == Relationship.MOTHER:
        check_mother(
            PersonRef(caregiver.pk, caregiver.birth_date, caregiver.sex), child.birth_date, errors, "caregiver"
        )
    errors.raise_if_any()
    try:
        with transaction.atomic():
            link = CaregiverLink.unscoped.create(child=child, caregiver=caregiver, relationship=relationship)
            record(actor, Action.CREATE, link, child_id=child.pk, after=snapshot(link))
    except IntegrityError as exc:
        raise InputErrors(
            {"relationship": [FieldError("duplicate", _("This child already has this caregiver or relationship."))]}
        ) from exc
    return link


def unlink_caregiver(actor: Actor, link: CaregiverLink) -> None:
    check_may_register(actor, link.child.territory.path)
    with transaction.atomic():
        before = snapshot(link)
        link.delete()
        record(
            actor,
            Action.DELETE,
            entity="registry.caregiverlink",
            entity_id=before["id"],
            child_id=before["child_id"],
            before=before,
        )


def create_household(actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None) -> Household:
    values = clean_household(raw, resolver or DbResolver())
    check_may_register(actor, values["territory_path"])
    try:
        with transaction.atomic():
            household = Household.unscoped.create(
                code=values["code"],
                territory_id=values["territory_id"],
                address=values["address"],
                vulnerability_percentile=values["vulnerability_percentile"],
            )
            record(actor, Action.CREATE, household, after=snapshot(household))
    except IntegrityError as exc:
        raise InputErrors({"code": [FieldError("duplicate", _("A household with this code exists."))]}) from exc
    return household


# --- notes and sharing -----------------------------------------------------------------------------


def add_case_note(actor: Actor, child: Child, category: str, text: str) -> CaseNote:
    """File a note under a data category; the author must be allowed to see that category."""
    if category not in DataCategory.values:
        raise InputErrors({"category": [FieldError("invalid_choice", _("Unknown data category."))]})
    if not text.strip():
        raise InputErrors({"text": [FieldError("required", _("The note is empty."))]})
    if actor.user is not None and category not in actor.user.data_categories():
        raise PermissionDenied(_("You may not record data of this category."))
    check_may_register(actor, child.territory.path)
    with transaction.atomic():
        note = CaseNote.unscoped.create(child=child, category=category, text=text.strip(), author=actor.user)
        record(actor, Action.CREATE, note, child_id=child.pk, after={"category": category})
    return note


def grant_access(
    actor: Actor,
    child: Child,
    organisation: Organisation,
    categories: list[str],
    purpose: str,
    valid_until: dt.datetime | None = None,
) -> AccessGrant:
    """Share a child's record with an organisation for a purpose, limited to the consented categories."""
    unknown = set(categories) - set(DataCategory.values)
    if unknown:
        raise InputErrors(
            {
                "categories": [
                    FieldError("invalid_choice", _("Unknown data category: %(c)s") % {"c": ", ".join(sorted(unknown))})
                ]
            }
        )
    if actor.user is not None and actor.user.role not in (Role.HEALTH_WORKER, Role.MUNICIPAL_COORDINATOR):
        raise PermissionDenied(_("Your role cannot share records."))
    with transaction.atomic():
        grant = AccessGrant.objects.create(
            child=child,
            organisation=organisation,
            categories=sorted(set(categories)),
            purpose=purpose[:200],
            granted_by=actor.user,
            valid_until=valid_until,
        )
        record(actor, Action.CREATE, grant, child_id=child.pk, after=snapshot(grant))
    return grant


def revoke_access(actor: Actor, grant: AccessGrant) -> None:
    with transaction.atomic():
        if AccessGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            record(actor, Action.UPDATE, grant, child_id=grant.child_id, after={"revoked": True})


# --- pregnancies -------------------------------------------------------------------------------------

PREGNANCY_FIELDS = (
    "external_id",
    "mother_id",
    "lmp_date",
    "edd_date",
    "first_visit_date",
    "first_visit_week",
    "facility_id",
    "outcome",
    "outcome_date",
)


def create_pregnancy(actor: Actor, raw: dict[str, Any], resolver: Resolver | None = None) -> Pregnancy:
    """Register a pregnancy of a registered mother (LMP and/or expected delivery date, first visit)."""
    values = clean_pregnancy(raw, resolver or DbResolver())
    mother = Caregiver.unscoped.select_related("territory").get(pk=values["mother_id"])
    check_may_register(actor, mother.territory.path)
    try:
        with transaction.atomic():
            pregnancy = Pregnancy.unscoped.create(**{f: values[f] for f in PREGNANCY_FIELDS})
            record(actor, Action.CREATE, pregnancy, after=snapshot(pregnancy))
            _evaluate_risks(actor, pregnancies=[pregnancy])
    except IntegrityError as exc:
        raise InputErrors(
            {"external_id": [FieldError("duplicate", _("Another record already has this external id."))]}
        ) from exc
    return pregnancy


def record_birth(actor: Actor, pregnancy: Pregnancy, child: Child) -> Pregnancy:
    """Close a pregnancy as a live birth of ``child`` (born on the child's birth date)."""
    errors = Collector()
    if child.birth_date is None:
        errors.add("child", "unborn", _("The child has no birth date yet."))
    if pregnancy.outcome not in (PregnancyOutcome.ONGOING, PregnancyOutcome.LIVE_BIRTH):
        errors.add("outcome", "closed", _("This pregnancy already ended otherwise."))
    mother_link = CaregiverLink.unscoped.filter(child=child, relationship=Relationship.MOTHER).first()
    if mother_link is not None and mother_link.caregiver_id != pregnancy.mother_id:
        errors.add("child", "other_mother", _("The child is registered with another mother."))
    errors.raise_if_any()
    check_may_register(actor, child.territory.path)
    with transaction.atomic():
        before = snapshot(pregnancy, ("outcome", "outcome_date"))
        pregnancy.outcome, pregnancy.outcome_date = PregnancyOutcome.LIVE_BIRTH, child.birth_date
        pregnancy.save(update_fields=["outcome", "outcome_date", "updated_at"])
        Child.unscoped.filter(pk=child.pk).update(pregnancy=pregnancy)
        if mother_link is None:
            CaregiverLink.unscoped.create(
                child=child, caregiver_id=pregnancy.mother_id, relationship=Relationship.MOTHER
            )
        record(
            actor,
            Action.UPDATE,
            pregnancy,
            child_id=child.pk,
            before=before,
            after={"outcome": pregnancy.outcome, "outcome_date": pregnancy.outcome_date, "child_id": child.pk},
        )
        _evaluate_risks(actor, children=[child], pregnancies=[pregnancy])
    return pregnancy
