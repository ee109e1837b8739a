"""Transfer requests of a person's record between territories (``docs/transfers.md``).

The requester's answers carry no data of the person (not even where they live) until the record is moved
to their territory; the deciding coordinator sees the person (a read of the child)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from crecer.api.base import actor
from crecer.registry import scope, transfers
from crecer.registry.models import Caregiver, Child, TransferRequest
from crecer.registry.reads import log_reads

router = Router(tags=["registry"])


class TransferIn(Schema):
    #: ``child`` or ``caregiver``
    kind: str
    national_id_type: str = ""
    national_id: str
    #: why the record should move to your territory
    reason: str


class DecisionIn(Schema):
    note: str = ""


def payload(user: Any, t: TransferRequest) -> dict[str, Any]:
    """A request as ``user`` may see it: the person (and territories) only for the deciders, or for the
    requester once the record is in their scope."""
    row: dict[str, Any] = {
        "id": t.pk,
        "kind": t.kind,
        "state": t.state,
        "reason": t.reason,
        "requested_by": t.requested_by.username,
        "created_at": t.created_at,
        "decided_at": t.decided_at,
        "decision_note": t.decision_note,
        "may_decide": transfers.may_decide(user, t),
        "person": None,
    }
    person: Child | Caregiver | None = None
    if t.child_id:
        person = scope.children(user).filter(pk=t.child_id).first()
    elif t.caregiver_id:
        person = scope.caregivers(user).filter(pk=t.caregiver_id).first()
    if person is not None:
        row["person"] = {"id": person.pk, "registry_number": person.registry_number, "name": person.full_name}
        row["from_territory"] = t.from_territory.code
        row["to_territory"] = t.to_territory.code
    return row


def _read(request: HttpRequest, items: list[dict[str, Any]], found: list[TransferRequest]) -> None:
    shown = {row["id"] for row in items if row["person"] is not None}
    children = [t.child_id for t in found if t.pk in shown and t.child_id]
    caregivers = [t.caregiver_id for t in found if t.pk in shown and t.caregiver_id]
    log_reads(actor(request), "transfer requests", children, caregivers=caregivers)


@router.get("/transfers", summary="Transfer requests: yours and those you decide")
def list_transfers(request: HttpRequest, state: str = "") -> list[dict[str, Any]]:
    found = (
        transfers.visible(request.user)
        .select_related("from_territory", "to_territory", "requested_by")
        .order_by("-created_at", "-pk")
    )
    if state:
        found = found.filter(state=state)
    items = list(found[:200])
    rows = [payload(request.user, t) for t in items]
    _read(request, rows, items)
    return rows


@router.post("/transfers", response={201: dict[str, Any]}, summary="Request the transfer of a record")
def request_transfer(request: HttpRequest, body: TransferIn) -> Status[dict[str, Any]]:
    """Ask for the record holding this document, registered outside your territory, to be moved to your
    territory. Answers the request without any data of the person; a coordinator of the record's territory
    decides. Look-ups of documents registered elsewhere are limited per hour (429 beyond)."""
    t = transfers.request_transfer(actor(request), body.model_dump())
    return Status(201, payload(request.user, transfers.get_or_404(request.user, t.pk)))


def _decide(request: HttpRequest, transfer_id: int, approve: bool, body: DecisionIn) -> dict[str, Any]:
    t = transfers.get_or_404(request.user, transfer_id)
    decided = transfers.get_or_404(request.user, transfers.decide(actor(request), t, approve, body.note).pk)
    row = payload(request.user, decided)
    _read(request, [row], [decided])
    return row


@router.post("/transfers/{transfer_id}/approve", summary="Approve a transfer: the record moves")
def approve_transfer(request: HttpRequest, transfer_id: int, body: DecisionIn) -> dict[str, Any]:
    return _decide(request, transfer_id, True, body)


@router.post("/transfers/{transfer_id}/refuse", summary="Refuse a transfer")
def refuse_transfer(request: HttpRequest, transfer_id: int, body: DecisionIn) -> dict[str, Any]:
    return _decide(request, transfer_id, False, body)
