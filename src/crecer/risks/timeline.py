"""Risk flags on the child's timeline (open ones, and urgent ones awaiting action, are alerts), and the
action taken on an urgent result."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from crecer import conf
from crecer.access.categories import category_of
from crecer.registry.models import Child
from crecer.risks.models import RiskFlag
from crecer.tracking.timeline import Item, add_source, timezone_date


@add_source
def flag_items(user: Any, child: Child, language: str) -> list[Item]:
    rules = {r.id: r for r in conf.profile().rules}
    items = []
    for f in RiskFlag.unscoped.filter(child=child).select_related("acted_by"):
        label = rules[f.rule_id].flag.label(language) if f.rule_id in rules else f.rule_id
        detail = (
            _("open")
            if f.status == "open"
            else _("resolved on %(date)s") % {"date": f.resolved_at.date() if f.resolved_at else ""}
        )
        if f.awaiting_action:
            detail = _("%(state)s; urgent: the action taken is not recorded yet") % {"state": detail}
        items.append(
            Item(
                timezone_date(f.raised_at),
                "risk",
                label,
                category_of(f),
                detail,
                alert=f.status == "open" or f.awaiting_action,
                data={
                    "id": f.pk,
                    "rule": f"{f.rule_id}@{f.rule_version}",
                    "severity": f.severity,
                    "status": f.status,
                    "urgent": f.urgent,
                },
            )
        )
        if f.urgent and f.acted_at is not None:
            who = f.acted_by.username if f.acted_by else ""
            items.append(
                Item(
                    timezone_date(f.acted_at),
                    "risk",
                    _("Action taken: %(result)s") % {"result": label},
                    category_of(f),
                    f"{f.action_taken} ({who})" if who else f.action_taken,
                    data={"id": f.pk, "action_taken": f.action_taken, "acted_by": who},
                )
            )
    return items
