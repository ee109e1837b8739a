"""Permits about to expire, and expired ones, as of a moment: run by ``crecer sweep``.

1. A valid permit whose expiry falls within the profile's warning days is marked warned (a compare-and-set
   on ``expiry_warned_at``, so each permit is warned once even with several sweeps running at once), and
   its operator's users and the authority over its territory are notified.
2. A valid permit past its expiry becomes expired (compare-and-set on its state); its centre, if it was
   authorised, goes back to applying (it must renew), and the same people are told.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.access.models import Role, User
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record
from crecer.centres import actions
from crecer.centres.models import CentreStatus, Permit, PermitState
from crecer.referrals.actions import notify_plain


def recipients(permit: Permit) -> list[User]:
    """The operator's users and the authority (holders of the permit-issuing role) over the centre."""
    centre = permit.centre
    ancestors = [t.pk for t in centre.territory.ancestors()] + [centre.territory_id]
    return list(
        User.objects.filter(is_active=True, role=Role.OPERATOR, organisation_id=centre.operator_id).order_by("pk")
    ) + list(User.objects.filter(is_active=True, role=Role.NATIONAL_MANAGER, territory_id__in=ancestors).order_by("pk"))


def _notify(actor: Actor, permit: Permit, kind: str) -> int:
    subject = _("Crecer: childcare permit %(number)s — %(what)s") % {
        "number": permit.number,
        "what": _("expires on %(date)s") % {"date": permit.valid_until.isoformat()}
        if kind == "permit_expiring"
        else _("expired"),
    }
    return notify_plain(recipients(permit), kind, {"permit": permit.pk, "centre": permit.centre_id}, subject, actor)


def sweep(actor: Any, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    warning = dt.timedelta(days=actions.config().expiry_warning_days) if _configured() else None
    counts = {"warned": 0, "expired": 0, "notified": 0}
    if warning is None:
        return counts
    soon = Permit.objects.filter(
        state=PermitState.VALID, valid_until__gte=today, valid_until__lte=today + warning, expiry_warned_at__isnull=True
    ).select_related("centre__territory")
    for permit in soon:
        with transaction.atomic():
            if Permit.objects.filter(pk=permit.pk, expiry_warned_at__isnull=True).update(expiry_warned_at=now):
                record(
                    actor,
                    Action.UPDATE,
                    permit,
                    before={"expiry_warned": False},
                    after={"expiry_warned": True},
                    note="sweep",
                )
                counts["notified"] += _notify(actor, permit, "permit_expiring")
                counts["warned"] += 1
    past = Permit.objects.filter(state=PermitState.VALID, valid_until__lt=today).select_related("centre__territory")
    for permit in past:
        with transaction.atomic():
            if Permit.objects.filter(pk=permit.pk, state=PermitState.VALID).update(state=PermitState.EXPIRED):
                record(
                    actor, Action.UPDATE, permit, before={"state": "valid"}, after={"state": "expired"}, note="sweep"
                )
                if permit.centre.status == CentreStatus.AUTHORISED:
                    actions._set_status(actor, permit.centre, CentreStatus.APPLYING, "permit expired")
                counts["notified"] += _notify(actor, permit, "permit_expired")
                counts["expired"] += 1
    return counts


def _configured() -> bool:
    from crecer import conf

    return conf.profile().centres is not None
