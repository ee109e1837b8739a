"""Transfers of a person's record between territories (``docs/transfers.md``).

A user registering a person whose document is held by a record outside their scope is told so without any
data of that person (:mod:`crecer.registry.existence`) and may request a transfer. A coordinator of the
territory where the record lives (right :data:`~crecer.access.permissions.DECIDE_TRANSFERS`) approves or
refuses it. Approval moves the record to the requester's territory (a family that moved): the person's
territory becomes the requester's, the household (territorial) is left, and a child's facility is kept only
if it lies in the new territory. Every step is audited; the requester learns nothing of the person until
the record is theirs.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, save_changes
from crecer.core.signals import facts_changed
from crecer.registry.inputs import clean_document
from crecer.registry.models import Caregiver, Child, TransferRequest, TransferState
from crecer.registry.resolvers import DbResolver
from crecer.validation import Collector

KINDS = ("child", "caregiver")


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def visible(user: Any) -> QuerySet[TransferRequest]:
    """Requests the user made, and requests about records in the territory the user decides for."""
    if not _active(user) or user.territory is None:
        return TransferRequest.objects.none()
    condition = Q(requested_by=user)
    if permissions.has(user, permissions.DECIDE_TRANSFERS):
        condition |= Q(from_territory__path__startswith=user.territory.path)
    return TransferRequest.objects.filter(condition)


def may_decide(user: Any, transfer: TransferRequest) -> bool:
    return (
        transfer.state == TransferState.PENDING
        and permissions.has(user, permissions.DECIDE_TRANSFERS)
        and permissions.within(user, transfer.from_territory.path)
    )


def get_or_404(user: Any, transfer_id: Any) -> TransferRequest:
    try:
        pk = int(transfer_id)
    except (TypeError, ValueError):
        raise Http404 from None
    found = (
        visible(user)
        .select_related("from_territory", "to_territory", "child", "caregiver", "requested_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def request_transfer(actor: Actor, raw: dict[str, Any]) -> TransferRequest:
    """Ask for the record holding a document (``kind``, ``national_id_type``, ``national_id``) outside the
    user's scope to be moved to the user's territory, saying why (``reason``)."""
    user = actor.user
    if user is None or not permissions.has(user, permissions.REGISTER):
        raise PermissionDenied(_("Your role cannot register or change people."))
    errors = Collector()
    kind = str(raw.get("kind") or "")
    if kind not in KINDS:
        errors.add("kind", "invalid_choice", _("Choose one of: %(choices)s.") % {"choices": ", ".join(KINDS)})
    reason = str(raw.get("reason") or "").strip()
    if not reason:
        errors.add("reason", "required", _("Say why the record should move to your territory."))
    profile = conf.profile()
    default = profile.child_document if kind == "child" else profile.default_document
    doc_type, number = clean_document(
        str(raw.get("national_id_type") or ""), str(raw.get("national_id") or ""), default, errors
    )
    if number is None and not errors.errors.get("national_id"):
        errors.add("national_id", "required", _("The document number is required."))
    errors.raise_if_any()
    assert number is not None
    resolver = DbResolver(actor)
    owner = resolver.document_owner(kind, doc_type, number)
    if owner is None or resolver.owner_visible(kind, owner, doc_type):
        errors.add("national_id", "unknown", _("No record registered outside your territory has this document."))
        errors.raise_if_any()
    assert owner is not None and user.territory is not None
    territory = user.territory
    person = (Child if kind == "child" else Caregiver).unscoped.select_related("territory").get(pk=owner)
    subject = {"child_id": owner} if kind == "child" else {"caregiver_id": owner}
    if TransferRequest.objects.filter(requested_by=user, state=TransferState.PENDING, **subject).exists():
        errors.add("national_id", "duplicate", _("You already requested this transfer; it awaits a decision."))
        errors.raise_if_any()
    with transaction.atomic():
        transfer = TransferRequest.objects.create(
            requested_by=user,
            from_territory=person.territory,
            to_territory=territory,
            reason=reason[:300],
            **subject,
        )
        record(
            actor,
            Action.CREATE,
            transfer,
            child_id=transfer.child_id,
            after={"kind": kind, "from": person.territory.code, "to": territory.code, "reason": reason[:300]},
        )
    return transfer


def decide(actor: Actor, transfer: TransferRequest, approve: bool, note: str = "") -> TransferRequest:
    """Approve (the record moves to the requester's territory) or refuse a pending request."""
    if actor.user is not None and not may_decide(actor.user, transfer):
        raise PermissionDenied(_("Only a coordinator of the record's territory decides this request, once."))
    now = timezone.now()
    state = TransferState.APPROVED if approve else TransferState.REFUSED
    with transaction.atomic():
        # compare-and-set: decided once
        if not TransferRequest.objects.filter(pk=transfer.pk, state=TransferState.PENDING).update(
            state=state, decided_by=actor.user, decided_at=now, decision_note=note.strip()[:300]
        ):
            raise PermissionDenied(_("This request was decided already."))
        record(
            actor,
            Action.UPDATE,
            transfer,
            child_id=transfer.child_id,
            before={"state": TransferState.PENDING},
            after={"state": state, "note": note.strip()[:300]},
        )
        if approve:
            _move(actor, transfer)
    return TransferRequest.objects.select_related("from_territory", "to_territory").get(pk=transfer.pk)


def _move(actor: Actor, transfer: TransferRequest) -> None:
    target = transfer.to_territory
    note = f"transfer {transfer.pk}"
    if transfer.child_id:
        child = Child.unscoped.select_related("facility__territory").get(pk=transfer.child_id)
        facility = child.facility
        keep = facility is not None and facility.territory.path.startswith(target.path)
        values = {"territory_id": target.pk, "household_id": None, "facility_id": child.facility_id if keep else None}
        save_changes(
            actor, child, values, ("territory_id", "household_id", "facility_id"), child_id=child.pk, note=note
        )
        facts_changed(actor, child_ids=[child.pk])
    else:
        assert transfer.caregiver_id is not None
        caregiver = Caregiver.unscoped.get(pk=transfer.caregiver_id)
        values = {"territory_id": target.pk, "household_id": None}
        save_changes(actor, caregiver, values, ("territory_id", "household_id"), note=note)
