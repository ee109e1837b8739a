"""API for the rest of the person registry: households, caregivers, their links to children,
pregnancies, births and voided records.

Every record is read through :mod:`crecer.registry.scope` (out of scope answers 404), written through
:mod:`crecer.registry.actions` (which check the user's rights and write the audit events), and every
answer that carries a person's data logs the read (:func:`crecer.registry.reads.log_reads`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from crecer.api import schemas
from crecer.api.base import actor, documented_required
from crecer.api.tracking import pregnancy_or_404
from crecer.dedup import candidates
from crecer.registry import actions, scope
from crecer.registry.models import Caregiver, CaregiverLink, CaseNote, Child, Household, Pregnancy
from crecer.registry.reads import log_reads
from crecer.tracking import actions as tracking_actions

router = Router(tags=["registry"])


# --- schemas -------------------------------------------------------------------------------------------


class HouseholdIn(Schema):
    """A household; validated by the registry's own rules, like a row of the ``households`` import."""

    model_config = ConfigDict(json_schema_extra=documented_required)
    REQUIRED: ClassVar[tuple[str, ...]] = ("code", "territory_code")

    code: str | None = None
    territory_code: str | None = None
    address: str | None = None
    vulnerability_percentile: int | None = None


class HouseholdOut(Schema):
    id: int
    code: str
    territory_code: str
    address: str
    vulnerability_percentile: int | None


class HouseholdMemberOut(Schema):
    """A caregiver living in the household (only those you may see)."""

    id: int
    registry_number: str
    given_names: str
    paternal_surname: str
    maternal_surname: str
    birth_date: dt.date | None


class HouseholdDetailOut(HouseholdOut):
    """A household with its members you may see: the twin of the household's page."""

    caregivers: list[HouseholdMemberOut]
    children: list[schemas.ChildOut]


class CaregiverIn(schemas.PersonIn):
    """A caregiver; validated by the registry's own rules, like a row of the ``caregivers`` import."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("given_names", "paternal_surname", "sex", "territory_code")

    schooling_years: int | None = None
    phone: str | None = None


class CaregiverPatch(CaregiverIn):
    REQUIRED = ()


class CaregiverChildOut(Schema):
    """A child the caregiver is linked to (only children you may see are listed)."""

    child: int
    relationship: str


class CaregiverOut(schemas.PersonOut):
    schooling_years: int | None
    phone: str
    children: list[CaregiverChildOut]


class LinkIn(Schema):
    caregiver: int
    relationship: str
    #: why the caregiver is linked (required: kept in the audit trail)
    reason: str = ""


class ChildCaregiverOut(Schema):
    """A caregiver linked to the child."""

    caregiver: int
    relationship: str


class FirstVisitIn(Schema):
    """The first prenatal visit, recorded with the pregnancy (as the entry page does): its date, the facility
    and the screenings applied, e.g. ``[{"instrument": "epsa", "inputs": {...}}]``."""

    date: str | None = None
    facility_code: str | None = None
    contact_code: str | None = None
    screenings: list[dict[str, Any]] | None = None


class NoteIn(Schema):
    """A case note filed under a data category you may record (``social``, ``violence``…)."""

    category: str = ""
    text: str = ""


class NoteOut(Schema):
    id: int
    category: str
    text: str
    author: str | None
    written_at: dt.datetime


class PregnancyIn(Schema):
    """A pregnancy; the mother is given by id (``mother``), or by ``mother_external_id`` or
    ``mother_national_id`` as in the ``pregnancies`` import."""

    external_id: str | None = None
    mother: int | None = None
    mother_external_id: str | None = None
    mother_national_id: str | None = None
    lmp_date: str | None = None
    edd_date: str | None = None
    first_visit_date: str | None = None
    first_visit_week: int | None = None
    facility_code: str | None = None
    outcome: str | None = None
    outcome_date: str | None = None
    #: optional: the first prenatal visit, recorded with the pregnancy all or nothing (problems reported
    #: under ``first_visit.<field>``)
    first_visit: FirstVisitIn | None = None


class PregnancyOut(Schema):
    id: int
    external_id: str | None
    mother: int
    lmp_date: dt.date | None
    edd_date: dt.date
    first_visit_date: dt.date | None
    first_visit_week: int | None
    facility_code: str | None
    outcome: str
    outcome_date: dt.date | None
    children: list[int]


class BirthIn(schemas.PersonIn):
    """The child born: an existing one (``child``, with at most its birth weight and gestational weeks), or
    the newborn's fields, as for ``POST /children`` (the mother is the pregnancy's; the territory defaults
    to hers)."""

    child: int | None = None
    facility_code: str | None = None
    birth_weight_g: int | None = None
    gestational_weeks: int | None = None
    #: the newborn welcome kit was given to the family at birth (a delivery on the birth date)
    welcome_kit: bool = False


class BirthOut(Schema):
    pregnancy: PregnancyOut
    child: schemas.ChildOut
    #: while the newborn has no identity document, its registry number identifies it (None once it has one)
    provisional_identity: str | None


class VoidIn(Schema):
    reason: str


class VoidOut(Schema):
    id: int
    registry_number: str
    voided_at: dt.datetime
    void_reason: str


# --- payloads ------------------------------------------------------------------------------------------


def household_payload(h: Household) -> dict[str, Any]:
    return {
        "id": h.pk,
        "code": h.code,
        "territory_code": h.territory.code,
        "address": h.address,
        "vulnerability_percentile": h.vulnerability_percentile,
    }


def caregiver_payload(c: Caregiver, user: Any) -> dict[str, Any]:
    links = (
        CaregiverLink.unscoped.filter(caregiver=c, child__in=scope.children(user))
        .order_by("child_id")
        .values_list("child_id", "relationship")
    )
    return {
        "id": c.pk,
        "registry_number": c.registry_number,
        "external_id": c.external_id,
        "given_names": c.given_names,
        "paternal_surname": c.paternal_surname,
        "maternal_surname": c.maternal_surname,
        "sex": c.sex,
        "birth_date": c.birth_date,
        "national_id_type": c.national_id_type,
        "national_id": c.national_id,
        "territory_code": c.territory.code,
        "household_code": c.household.code if c.household_id and c.household else None,
        "schooling_years": c.schooling_years,
        "phone": c.phone,
        "children": [{"child": child, "relationship": rel} for child, rel in links],
    }


def pregnancy_payload(p: Pregnancy, user: Any) -> dict[str, Any]:
    born = scope.children(user).filter(pregnancy=p).order_by("pk").values_list("pk", flat=True)
    return {
        "id": p.pk,
        "external_id": p.external_id,
        "mother": p.mother_id,
        "lmp_date": p.lmp_date,
        "edd_date": p.edd_date,
        "first_visit_date": p.first_visit_date,
        "first_visit_week": p.first_visit_week,
        "facility_code": p.facility.code if p.facility_id and p.facility else None,
        "outcome": p.outcome,
        "outcome_date": p.outcome_date,
        "children": list(born),
    }


def child_caregivers(child: Child) -> list[dict[str, Any]]:
    links = CaregiverLink.unscoped.filter(child=child).order_by("caregiver_id")
    return [{"caregiver": c, "relationship": r} for c, r in links.values_list("caregiver_id", "relationship")]


# --- households ----------------------------------------------------------------------------------------


@router.post("/households", response={201: HouseholdOut}, summary="Register a household")
def create_household(request: HttpRequest, payload: HouseholdIn) -> Status[dict[str, Any]]:
    """A household in your territory, with its code (unique), address and social-vulnerability percentile
    (1–100)."""
    household = actions.create_household(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, household_payload(household))


@router.get("/households/{household_id}", response=HouseholdDetailOut, summary="One household and its members")
def get_household(request: HttpRequest, household_id: int) -> dict[str, Any]:
    """A household of your territory (404 otherwise) with the caregivers and children living in it that you
    may see, as on its page (the read is logged)."""
    user: Any = request.user
    household = scope.get_household_or_404(user, household_id)
    caregivers = list(scope.caregivers(user).filter(household=household).order_by("search_name", "pk"))
    children = list(
        scope.children(user)
        .filter(household=household)
        .select_related("territory", "facility")
        .order_by("birth_date", "pk")
    )
    log_reads(actor(request), "household", [c.pk for c in children], caregivers=[c.pk for c in caregivers])
    return {
        **household_payload(household),
        "caregivers": [
            {
                "id": c.pk,
                "registry_number": c.registry_number,
                "given_names": c.given_names,
                "paternal_surname": c.paternal_surname,
                "maternal_surname": c.maternal_surname,
                "birth_date": c.birth_date,
            }
            for c in caregivers
        ],
        "children": [schemas.child_payload(c, scope.categories(user, c)) for c in children],
    }


# --- caregivers ----------------------------------------------------------------------------------------


class CaregiverMatchOut(Schema):
    id: int
    registry_number: str
    name: str
    birth_date: dt.date | None
    territory: str
    probability: float
    levels: dict[str, str]


class CaregiverMatchesOut(Schema):
    results: list[CaregiverMatchOut]


@router.post("/caregivers/matches", response=CaregiverMatchesOut, summary="Likely existing caregivers")
def caregiver_matches(request: HttpRequest, payload: CaregiverIn) -> dict[str, Any]:
    """Caregivers you may see who may be this person, most likely first (nothing is written): ask before
    ``POST /caregivers``, as a mother's first prenatal visit does. The read is logged."""
    if not scope.can_register(request.user):
        raise Http404
    raw = {k: str(v) for k, v in payload.model_dump(exclude_none=True).items()}
    found = candidates.find_caregivers(request.user, raw)
    log_reads(actor(request), "caregiver matches", caregivers=[c.caregiver.pk for c in found])
    return {
        "results": [
            {
                "id": c.caregiver.pk,
                "registry_number": c.caregiver.registry_number,
                "name": c.caregiver.full_name,
                "birth_date": c.caregiver.birth_date,
                "territory": c.caregiver.territory.code,
                "probability": round(c.probability, 4),
                "levels": c.levels,
            }
            for c in found
        ]
    }


@router.post("/caregivers", response={201: CaregiverOut}, summary="Register a caregiver")
def create_caregiver(request: HttpRequest, payload: CaregiverIn) -> Status[dict[str, Any]]:
    """A mother, father or other caregiver living in your territory. Children registered before their
    mother and waiting for her document are linked to her now."""
    caregiver = actions.create_caregiver(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, caregiver_payload(caregiver, request.user))


@router.get("/caregivers/{caregiver_id}", response=CaregiverOut, summary="One caregiver")
def get_caregiver(request: HttpRequest, caregiver_id: int) -> dict[str, Any]:
    """A caregiver in your scope and the children you may see they are linked to (the read is logged)."""
    caregiver = scope.get_caregiver_or_404(request.user, caregiver_id)
    log_reads(actor(request), "caregiver", caregivers=[caregiver.pk])
    return caregiver_payload(caregiver, request.user)


@router.patch("/caregivers/{caregiver_id}", response=CaregiverOut, summary="Change fields of a caregiver")
def update_caregiver(request: HttpRequest, caregiver_id: int, payload: CaregiverPatch) -> dict[str, Any]:
    """The fields sent replace the stored ones; the whole record is validated again."""
    caregiver = scope.get_caregiver_or_404(request.user, caregiver_id)
    caregiver = actions.update_caregiver(actor(request), caregiver, payload.model_dump(exclude_unset=True))
    log_reads(actor(request), "caregiver", caregivers=[caregiver.pk])
    return caregiver_payload(caregiver, request.user)


# --- links between children and caregivers -------------------------------------------------------------


@router.post(
    "/children/{child_id}/caregivers", response={201: list[ChildCaregiverOut]}, summary="Link a caregiver to a child"
)
def link_caregiver(request: HttpRequest, child_id: int, payload: LinkIn) -> Status[list[dict[str, Any]]]:
    """Link a caregiver you may see to the child as ``mother``, ``father``, ``guardian`` or ``other``.
    Answers the child's caregivers."""
    child = scope.get_child_or_404(request.user, child_id)
    caregiver = scope.get_caregiver_or_404(request.user, payload.caregiver)
    actions.link_caregiver(actor(request), child, caregiver, payload.relationship, reason=payload.reason)
    log_reads(actor(request), "caregivers of the child", [child.pk])
    return Status(201, child_caregivers(child))


@router.delete(
    "/children/{child_id}/caregivers/{caregiver_id}",
    response=list[ChildCaregiverOut],
    summary="Unlink a caregiver from a child",
)
def unlink_caregiver(request: HttpRequest, child_id: int, caregiver_id: int, reason: str = "") -> list[dict[str, Any]]:
    """Remove a link made in error, saying why in the ``reason`` query parameter (required; the removal,
    the reason and the link as it was are audited). Answers the child's remaining caregivers."""
    child = scope.get_child_or_404(request.user, child_id)
    link = CaregiverLink.unscoped.filter(child=child, caregiver_id=caregiver_id).select_related("child__territory")
    found = link.first()
    if found is None:
        raise Http404
    actions.unlink_caregiver(actor(request), found, reason=reason)
    log_reads(actor(request), "caregivers of the child", [child.pk])
    return child_caregivers(child)


# --- case notes ----------------------------------------------------------------------------------------


def note_payload(note: CaseNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "category": note.category,
        "text": note.text,
        "author": note.author.username if note.author else None,
        "written_at": note.written_at,
    }


@router.get("/children/{child_id}/notes", response=list[NoteOut], summary="A child's case notes")
def list_notes(request: HttpRequest, child_id: int) -> list[dict[str, Any]]:
    """The child's case notes in the data categories you may read (a note in a sensitive category is left
    out for those not granted it), newest first; the read is logged."""
    child = scope.get_child_or_404(request.user, child_id)
    notes = [note_payload(n) for n in scope.notes(request.user, child)]
    log_reads(actor(request), "case notes", [child.pk])
    return notes


@router.post("/children/{child_id}/notes", response={201: NoteOut}, summary="Write a case note on a child")
def add_note(request: HttpRequest, child_id: int, payload: NoteIn) -> Status[dict[str, Any]]:
    """A note filed under a data category you may record, on a child you may register in your territory
    (otherwise 403). Answers the note."""
    child = scope.get_child_or_404(request.user, child_id)
    note = actions.add_case_note(actor(request), child, payload.category, payload.text)
    log_reads(actor(request), "case note", [child.pk])
    return Status(201, note_payload(note))


# --- children: voiding -----------------------------------------------------------------------------------


@router.post("/children/{child_id}/void", response=VoidOut, summary="Void a child's record")
def void_child(request: HttpRequest, child_id: int, payload: VoidIn) -> dict[str, Any]:
    """Take a record registered in error out of use, saying why. It stays for the audit, hidden everywhere
    else: afterwards the child answers 404."""
    child = scope.get_child_or_404(request.user, child_id)
    actions.void_child(actor(request), child, payload.reason)
    voided = Child.unscoped.get(pk=child.pk)
    log_reads(actor(request), "child voided", [child.pk])
    assert voided.voided_at is not None
    return {
        "id": voided.pk,
        "registry_number": voided.registry_number,
        "voided_at": voided.voided_at,
        "void_reason": voided.void_reason,
    }


# --- pregnancies and births --------------------------------------------------------------------------------


@router.post("/pregnancies", response={201: PregnancyOut}, summary="Register a pregnancy")
def create_pregnancy(request: HttpRequest, payload: PregnancyIn) -> Status[dict[str, Any]]:
    """A pregnancy of a registered mother in your territory: the last menstrual period and/or the expected
    delivery date, the first prenatal visit, the facility. The mother is given by id (``mother``, a
    caregiver you may see: 404 otherwise) or by external id or document. With ``first_visit`` the first
    prenatal contact (and the screenings applied in it, e.g. the EPsA) is recorded with the pregnancy, all
    or nothing, as the entry page does."""
    raw = payload.model_dump(exclude_unset=True)
    mother_id = raw.pop("mother", None)
    visit = raw.pop("first_visit", None)
    mother = scope.get_caregiver_or_404(request.user, mother_id) if mother_id is not None else None
    if mother is not None:
        raw.pop("mother_external_id", None)
        raw.pop("mother_national_id", None)
    if visit is not None:
        visit = {k: v for k, v in visit.items() if v is not None}
        pregnancy = tracking_actions.register_pregnancy_with_first_visit(actor(request), raw, visit, mother=mother)
    else:
        pregnancy = actions.create_pregnancy(actor(request), raw, mother=mother)
    return Status(201, pregnancy_payload(pregnancy, request.user))


@router.get("/pregnancies/{pregnancy_id}", response=PregnancyOut, summary="One pregnancy")
def get_pregnancy(request: HttpRequest, pregnancy_id: int) -> dict[str, Any]:
    """A pregnancy in your scope and the children born of it you may see (the read is logged)."""
    pregnancy = pregnancy_or_404(request.user, pregnancy_id)
    log_reads(actor(request), "pregnancy", pregnancies=[pregnancy.pk])
    return pregnancy_payload(pregnancy, request.user)


@router.post("/pregnancies/{pregnancy_id}/birth", response={201: BirthOut}, summary="Record a birth")
def record_birth(request: HttpRequest, pregnancy_id: int, payload: BirthIn) -> Status[dict[str, Any]]:
    """The pregnancy ends as a live birth: the newborn is registered (or an existing child you may see is
    given), linked to the mother and the pregnancy, with the birth weight and gestational weeks; all or
    nothing. With ``welcome_kit`` the newborn welcome kit is recorded as given on the birth date. A newborn
    without a document is identified by its registry number (``provisional_identity``) until one is added
    (``PATCH /children/{id}``). Twins: record the birth twice."""
    pregnancy = pregnancy_or_404(request.user, pregnancy_id)
    raw = payload.model_dump(exclude_unset=True)
    child_id = raw.pop("child", None)
    welcome_kit = bool(raw.pop("welcome_kit", False))
    existing = scope.get_child_or_404(request.user, child_id) if child_id is not None else None
    child = tracking_actions.record_newborn(actor(request), pregnancy, raw, child=existing, welcome_kit=welcome_kit)
    child = scope.get_child_or_404(request.user, child.pk)
    pregnancy.refresh_from_db()
    log_reads(actor(request), "birth recorded", [child.pk], pregnancies=[pregnancy.pk])
    return Status(
        201,
        {
            "pregnancy": pregnancy_payload(pregnancy, request.user),
            "child": schemas.child_payload(child, scope.categories(request.user, child)),
            "provisional_identity": None if child.national_id else child.registry_number,
        },
    )
