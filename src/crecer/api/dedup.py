"""API for deduplication: likely existing records before registering, the review queue, merges."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from crecer.api import schemas
from crecer.api.base import actor, paginate
from crecer.dedup import candidates, merging
from crecer.dedup.models import DuplicatePair, MergeRecord
from crecer.registry import scope
from crecer.registry.reads import log_reads
from crecer.validation import Collector

router = Router(tags=["deduplication"])
PAGE_SIZE = 50


class MergeIn(Schema):
    keep: str  # "a" or "b"
    reason: str


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


def _pair(p: DuplicatePair) -> dict[str, Any]:
    return {
        "id": p.pk,
        "a": {
            "id": p.child_a_id,
            "registry_number": p.child_a.registry_number,
            "name": p.child_a.full_name,
            "birth_date": p.child_a.birth_date,
        },
        "b": {
            "id": p.child_b_id,
            "registry_number": p.child_b.registry_number,
            "name": p.child_b.full_name,
            "birth_date": p.child_b.birth_date,
        },
        "probability": p.probability,
        "decision": p.decision,
        "status": p.status,
    }


def _merge(m: MergeRecord) -> dict[str, Any]:
    return {
        "id": m.pk,
        "survivor": m.survivor_id,
        "merged": m.merged_id,
        "reason": m.reason,
        "moved": {label: len(ids) for label, ids in m.moved.items()},
        "kept": {label: len(ids) for label, ids in m.before.get("kept", {}).items()},
        "created_at": m.created_at,
        "undone_at": m.undone_at,
    }


@router.post("/matches")
def child_matches(request: HttpRequest, payload: schemas.ChildIn) -> dict[str, Any]:
    """Records the user may see that may be this child, most likely first (nothing is written)."""
    if not scope.can_register(request.user):
        raise Http404
    raw = {k: str(v) for k, v in payload.model_dump(exclude_none=True).items()}
    found = candidates.find(request.user, raw)
    log_reads(actor(request), "matches", [c.child.pk for c in found])
    return {
        "results": [
            {
                "id": c.child.pk,
                "registry_number": c.child.registry_number,
                "name": c.child.full_name,
                "birth_date": c.child.birth_date,
                "territory": c.child.territory.code,
                "probability": round(c.probability, 4),
                "levels": c.levels,
            }
            for c in found
        ]
    }


@router.get("/duplicates")
def list_pairs(request: HttpRequest, status: str = "open", decision: str = "", page: int = 1) -> dict[str, Any]:
    if not merging.may_merge(request.user):
        raise Http404
    pairs = merging.pairs_for(request.user).filter(status=status).select_related("child_a", "child_b")
    if decision:
        pairs = pairs.filter(decision=decision)
    pairs = pairs.order_by("-probability", "pk")
    items, pages = paginate(pairs, page, PAGE_SIZE)
    log_reads(actor(request), "duplicates", [pk for p in items for pk in (p.child_a_id, p.child_b_id)])
    return {**pages, "results": [_pair(p) for p in items]}


def _get_pair(request: HttpRequest, pair_id: int) -> DuplicatePair:
    pair = merging.pairs_for(request.user).select_related("child_a", "child_b").filter(pk=pair_id).first()
    if pair is None:
        raise Http404
    return pair


@router.post("/duplicates/{pair_id}/merge")
def merge_pair(request: HttpRequest, pair_id: int, payload: MergeIn) -> dict[str, Any]:
    pair = _get_pair(request, pair_id)
    if payload.keep not in ("a", "b"):
        errors = Collector()
        errors.add("keep", "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": "a, b"})
        errors.raise_if_any()
    survivor, folded = (pair.child_a_id, pair.child_b_id) if payload.keep == "a" else (pair.child_b_id, pair.child_a_id)
    merge = merging.merge(actor(request), survivor, folded, payload.reason, pair=pair)
    log_reads(actor(request), "merge", [survivor, folded])
    return _merge(merge)


@router.post("/duplicates/{pair_id}/distinct")
def distinct_pair(request: HttpRequest, pair_id: int, payload: NoteIn) -> dict[str, Any]:
    pair = merging.mark_distinct(actor(request), _get_pair(request, pair_id), payload.note)
    log_reads(actor(request), "duplicate pair", [pair.child_a_id, pair.child_b_id])
    return _pair(pair)


@router.post("/merges/{merge_id}/undo")
def undo_merge(request: HttpRequest, merge_id: int, payload: ReasonIn) -> dict[str, Any]:
    merge = merging.merges_for(request.user).filter(pk=merge_id).first()
    if merge is None:
        raise Http404
    undone = merging.unmerge(actor(request), merge, payload.reason)
    log_reads(actor(request), "merge undone", [undone.survivor_id, undone.merged_id])
    return _merge(undone)
