"""Writes of the monitoring module: targets. Each write is audited in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, snapshot
from crecer.lib.periods import PeriodError
from crecer.lib.periods import parse as parse_period
from crecer.monitoring import definitions, quality
from crecer.monitoring.models import Target
from crecer.territories.models import Territory
from crecer.tracking.inputs import parse_float
from crecer.validation import Collector

TARGET_FIELDS = ("indicator", "territory_code", "period", "baseline", "target")


def _indicator(code: str) -> definitions.Indicator | None:
    try:
        return definitions.get(code)
    except KeyError:
        try:
            return quality.get(code)
        except KeyError:
            return None


def clean_target(raw: Mapping[str, Any], territories: Mapping[str, Territory], errors: Collector) -> dict[str, Any]:
    """Check one target (indicator, territory_code, period, baseline, target); problems go to ``errors``."""
    code = str(raw.get("indicator") or "").strip()
    indicator = _indicator(code)
    if indicator is None:
        errors.add("indicator", "unknown", _("Unknown indicator “%(code)s”.") % {"code": code})
    territory_code = str(raw.get("territory_code") or "").strip()
    territory = territories.get(territory_code)
    if territory is None:
        errors.add("territory_code", "unknown", _("Unknown territory “%(code)s”.") % {"code": territory_code})
    period = str(raw.get("period") or "").strip()
    try:
        period = parse_period(period).code
    except PeriodError:
        errors.add("period", "invalid", _("Use a year (2025), a quarter (2025-Q2) or a month (2025-07)."))
    high = 100.0 if indicator is not None and indicator.unit == "percent" else 1e9
    values = {}
    for name in ("baseline", "target"):
        value = parse_float(raw.get(name), name, errors, 0.0, high)
        if value is None and name not in errors.errors:
            errors.add(name, "required", _("This column is required."))
        values[name] = value
    return {"indicator": code, "territory": territory, "period": period, **values}


def target_refusal(user: Any, territory: Territory) -> permissions.Refusal | None:
    """Why ``user`` may not set a target of ``territory`` (None: may): managers, for their territory and below."""
    if user is None:
        return None
    if not permissions.has(user, permissions.SET_TARGETS):
        return permissions.Refusal("row", "forbidden", _("Your role cannot set targets."))
    if not permissions.within(user, territory.path):
        return permissions.Refusal(
            "territory_code", "other_territory", _("This territory is outside the one you work in.")
        )
    return None


def save_target(actor: Actor, cleaned: Mapping[str, Any]) -> tuple[Target, str]:
    """Create or change the target of (indicator, territory, period); returns it and "created",
    "updated" or "unchanged"."""
    refusal = target_refusal(actor.user, cleaned["territory"])
    if refusal is not None:
        refusal.raise_()
    with transaction.atomic():
        current = (
            Target.objects.select_for_update()
            .filter(indicator=cleaned["indicator"], territory=cleaned["territory"], period=cleaned["period"])
            .first()
        )
        if current is None:
            target = Target.objects.create(
                indicator=cleaned["indicator"],
                territory=cleaned["territory"],
                period=cleaned["period"],
                baseline=cleaned["baseline"],
                target=cleaned["target"],
            )
            record(actor, Action.CREATE, target, after=snapshot(target))
            return target, "created"
        changed = [k for k in ("baseline", "target") if getattr(current, k) != cleaned[k]]
        if not changed:
            return current, "unchanged"
        before = snapshot(current, changed)
        for k in changed:
            setattr(current, k, cleaned[k])
        current.save()
        record(actor, Action.UPDATE, current, before=before, after=snapshot(current, changed))
        return current, "updated"
