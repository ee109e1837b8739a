"""Likely existing records of a child (or a caregiver) about to be registered, ranked, within the user's
scope.

Candidates are the children the user may see born on the same date or a date a typist could have
produced instead (:func:`crecer.lib.linkage.date_variants`), those of the same mother and the holder of
the same document; each is scored with :func:`crecer.lib.linkage.score`. Caregivers (a mother at her
first prenatal visit) are found the same way, by birth date, document and surname, without the mother's
document, and scored by the same function (:func:`find_caregivers`). Records outside the user's scope
are never shown (the batch deduplication, run by managers, finds those).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from crecer.lib import documents, linkage, names
from crecer.registry import scope
from crecer.registry.inputs import document_readings
from crecer.registry.models import Caregiver, CaregiverLink, Child, Relationship

#: shown from this probability up
SHOW = 0.30
LIMIT = 10
SCAN = 5000


@dataclass(frozen=True)
class Candidate:
    child: Child
    probability: float
    levels: dict[str, str]


@dataclass(frozen=True)
class CaregiverCandidate:
    caregiver: Caregiver
    probability: float
    levels: dict[str, str]


def document_key(raw: str) -> str:
    """The canonical form of a document number of any type used here (as typed when none fits)."""
    for doc_type in documents.known_types():
        try:
            return documents.validate(doc_type, raw)
        except documents.InvalidDocument:
            continue
    return raw.strip()


def document_keys(raw: str) -> list[str]:
    """The canonical forms of a document number under each type the profile uses (as typed when none
    fits)."""
    readings = sorted({canonical for _type, canonical in document_readings(raw)})
    return readings or [raw.strip()]


def find(user: Any, raw: Mapping[str, Any]) -> list[Candidate]:
    """Ranked candidates for ``raw`` (the registration form's or API's fields)."""
    mother_doc = document_key(str(raw.get("mother_national_id") or "")) if raw.get("mother_national_id") else ""
    wanted = _wanted(raw, mother_doc)
    where = Q(pk__in=[])
    if wanted.birth_date is not None:
        where |= Q(birth_date__in=linkage.date_variants(wanted.birth_date))
    if mother_doc:
        where |= Q(
            pk__in=CaregiverLink.unscoped.filter(
                relationship=Relationship.MOTHER, caregiver__national_id=mother_doc
            ).values("child_id")
        )
    document = str(raw.get("national_id") or "").strip()
    if document:
        where |= Q(national_id=document_key(document))
    rows = list(scope.children(user).filter(where, voided_at__isnull=True).select_related("territory")[:SCAN])
    if not rows:
        return []
    mothers = dict(
        CaregiverLink.unscoped.filter(child__in=rows, relationship=Relationship.MOTHER).values_list(
            "child_id", "caregiver__national_id"
        )
    )
    ranked = _rank(
        wanted, [document_key(document)] if document else [], [(child, mothers.get(child.pk) or "") for child in rows]
    )
    return [Candidate(child, probability, levels) for child, probability, levels in ranked]


def _wanted(raw: Mapping[str, Any], mother_doc: str = "") -> linkage.Keys:
    return linkage.keys(
        {
            "given_names": raw.get("given_names"),
            "paternal_surname": raw.get("paternal_surname"),
            "maternal_surname": raw.get("maternal_surname"),
            "birth_date": raw.get("birth_date"),
            "sex": raw.get("sex"),
            "mother_document": mother_doc,
            "territory": raw.get("territory_code"),
        }
    )


def _rank(
    wanted: linkage.Keys, held: list[str], rows: list[tuple[Any, str]]
) -> list[tuple[Any, float, dict[str, str]]]:
    """``(person, probability, levels)`` of the rows (each with its mother's document) worth showing, most
    likely first: a score from :data:`SHOW` up, or the holder of one of the documents ``held``."""
    found = []
    for person, mother_document in rows:
        theirs = linkage.keys(
            {
                "given_names": person.given_names,
                "paternal_surname": person.paternal_surname,
                "maternal_surname": person.maternal_surname,
                "birth_date": person.birth_date,
                "sex": person.sex,
                "mother_document": mother_document,
                "territory": person.territory.code,
            }
        )
        result = linkage.score(wanted, theirs)
        same_document = person.national_id is not None and person.national_id in held
        if result.probability >= SHOW or same_document:
            found.append((person, 1.0 if same_document else result.probability, result.levels))
    found.sort(key=lambda c: -c[1])
    return found[:LIMIT]


def find_caregivers(user: Any, raw: Mapping[str, Any]) -> list[CaregiverCandidate]:
    """Ranked caregivers the user may see that may be the person of ``raw`` (the caregiver form's or API's
    fields): born on the same date or a typist's variant of it, holding the same document, or sharing the
    first given name and paternal surname."""
    wanted = _wanted(raw)
    where = Q(pk__in=[])
    if wanted.birth_date is not None:
        where |= Q(birth_date__in=linkage.date_variants(wanted.birth_date))
    document = str(raw.get("national_id") or "").strip()
    held = document_keys(document) if document else []
    if held:
        where |= Q(national_id__in=held)
    paternal = names.fold(str(raw.get("paternal_surname") or "")).strip()
    first = names.fold(str(raw.get("given_names") or "")).split()[:1]
    if paternal and first:
        where |= Q(search_name__startswith=first[0] + " ", search_name__contains=f" {paternal}")
    rows = list(scope.caregivers(user).filter(where, voided_at__isnull=True).select_related("territory")[:SCAN])
    ranked = _rank(wanted, held, [(caregiver, "") for caregiver in rows])
    return [CaregiverCandidate(caregiver, probability, levels) for caregiver, probability, levels in ranked]
