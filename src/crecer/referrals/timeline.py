"""Referrals and counter-referrals on the child's timeline: those the user may see
(:func:`crecer.referrals.scope.visible`), in the data category of their service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from crecer.access.categories import category_of
from crecer.referrals import scope
from crecer.registry.models import Child
from crecer.tracking.timeline import Item, add_source, timezone_date


@add_source
def referral_items(user: Any, child: Child, language: str) -> list[Item]:
    items = []
    for r in reversed(scope.of_child(user, child)):  # oldest first, as the timeline reads
        category = category_of(r)
        items.append(
            Item(
                timezone_date(r.sent_at or r.created_at),
                "referral",
                _("Referral to %(service)s") % {"service": r.service.name(language)},
                category,
                f"{r.organisation.name} · {r.get_state_display()}",
                alert=r.overdue_at is not None or r.state == "expired",
                data={"id": r.pk, "state": r.state},
            )
        )
        if r.counter_referral:
            cr = r.counter_referral
            items.append(
                Item(
                    dt.date.fromisoformat(cr.get("date")) if cr.get("date") else timezone_date(r.finished_at),
                    "counter_referral",
                    _("Counter-referral from %(organisation)s") % {"organisation": r.organisation.name},
                    category,
                    " · ".join(p for p in (", ".join(cr.get("services_given", [])), cr.get("follow_up", "")) if p),
                    data={"referral": r.pk, "outcome": cr.get("outcome")},
                )
            )
    return items
