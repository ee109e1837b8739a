"""Likely existing records of a child about to be registered, ranked, within the user's scope.

Candidates are the children the user may see born on the same date or a date a typist could have
produced instead (:func:`crecer.lib.linkage.date_variants`), those of the same mother and the holder of
the same document; each is scored with :func:`crecer.lib.linkage.score`. Records outside the user's
scope are never shown (the batch deduplication, run by managers, finds those).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from crecer.lib import documents, linkage
from crecer.registry import scope
from crecer.registry.models import CaregiverLink, Child, Relationship

#: shown from this probability up
SHOW = 0.30
LIMIT = 10
SCAN = 5000


@dataclass(frozen=True)
class Candidate:
    child: Child
    probability: float
    levels: dict[str, str]


def _document(raw: str) -> str:
    for doc_type in documents.known_types():
        try:
            return documents.validate(doc_type, raw)
        except documents.InvalidDocument:
            continue
    return raw.strip()


def find(user: Any, raw: Mapping[str, Any]) -> list[Candidate]:
    """Ranked candidates for ``raw`` (the registration form's or API's fields)."""
    mother_doc = _document(str(raw.get("mother_national_id") or "")) if raw.get("mother_national_id") else ""
    wanted = linkage.keys(
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
        where |= Q(national_id=_document(document))
    rows = list(scope.children(user).filter(where, voided_at__isnull=True).select_related("territory")[:SCAN])
    if not rows:
        return []
    mothers = dict(
        CaregiverLink.unscoped.filter(child__in=rows, relationship=Relationship.MOTHER).values_list(
            "child_id", "caregiver__national_id"
        )
    )
    found = []
    for child in rows:
        theirs = linkage.keys(
            {
                "given_names": child.given_names,
                "paternal_surname": child.paternal_surname,
                "maternal_surname": child.maternal_surname,
                "birth_date": child.birth_date,
                "sex": child.sex,
                "mother_document": mothers.get(child.pk) or "",
                "territory": child.territory.code,
            }
        )
        result = linkage.score(wanted, theirs)
        same_document = bool(document) and child.national_id == _document(document)
        if result.probability >= SHOW or same_document:
            found.append(Candidate(child, 1.0 if same_document else result.probability, result.levels))
    found.sort(key=lambda c: -c.probability)
    return found[:LIMIT]
