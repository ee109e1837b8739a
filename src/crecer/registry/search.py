"""Search of people by name, registry number or identity document (accent- and case-insensitive).

Always applied to an already scoped query set (:mod:`crecer.registry.scope`).
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Q, QuerySet

from crecer.lib import names
from crecer.registry import numbers
from crecer.registry.inputs import document_readings
from crecer.registry.models import Caregiver, Child

P = TypeVar("P", Child, Caregiver)


def search(queryset: QuerySet[P], query: str) -> QuerySet[P]:
    """People of ``queryset`` matching ``query``: the start of every word of a name, a registry number or a document."""
    query = (query or "").strip()
    if not query:
        return queryset.order_by("search_name", "pk")
    if numbers.looks_like_registry_number(query):
        return queryset.filter(registry_number=query.upper())
    condition = Q()
    readings = document_readings(query) if any(ch.isdigit() for ch in query) else []
    for doc_type, number in readings:
        condition |= Q(national_id_type=doc_type, national_id=number)
    if readings:
        return queryset.filter(condition).order_by("search_name", "pk")
    # Each word must start a word of the name: "ana" finds "Ana María", not "Mariana".
    for word in names.fold(query).split():
        queryset = queryset.filter(Q(search_name__startswith=word) | Q(search_name__contains=f" {word}"))
    return queryset.order_by("search_name", "pk")
