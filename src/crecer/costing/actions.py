"""Writes of the costing: a new version of a unit cost, a coverage target. Each checks the user's right
(:func:`crecer.access.permissions.plan_costs_refusal`), validates its fields (errors named by field, data
unchanged) and writes the change with its audit event in one transaction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, record, snapshot
from crecer.costing.compute import costed_services
from crecer.costing.models import CoverageTarget, UnitCost
from crecer.territories.models import Territory
from crecer.validation import Collector

_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = Decimal("999999999999.99")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name, "")
    return value.strip() if isinstance(value, str) else str(value).strip() if value is not None else ""


def _service(raw: Mapping[str, Any], errors: Collector) -> str:
    code = _text(raw, "service")
    if code not in {s.code for s in costed_services()}:
        errors.add("service", "invalid_choice", _("Choose a service of the catalogue that is costed."))
    return code


def _year(raw: Mapping[str, Any], name: str, errors: Collector) -> int:
    try:
        year = int(_text(raw, name))
    except ValueError:
        year = 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        errors.add(
            name, "invalid", _("Write a year between %(low)s and %(high)s.") % {"low": FIRST_YEAR, "high": LAST_YEAR}
        )
    return year


def _decimal(raw: Mapping[str, Any], name: str, errors: Collector) -> Decimal | None:
    text = _text(raw, name).replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors.add(name, "invalid", _("Write a number, such as 12500.50."))
        return None
    return value


def clean_unit_cost(raw: Mapping[str, Any]) -> dict[str, Any]:
    errors = Collector()
    service = _service(raw, errors)
    product = _text(raw, "product")
    if len(product) > 80:
        errors.add("product", "too_long", _("At most 80 characters."))
    amount = _decimal(raw, "amount", errors)
    if amount is not None and (amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01"))):
        errors.add("amount", "invalid", _("Write an amount of zero or more, with at most two decimals."))
    currency = _text(raw, "currency").upper()
    if not _CURRENCY.match(currency):
        errors.add("currency", "invalid", _("Write the currency's three-letter code, such as CLP."))
    else:
        other = UnitCost.objects.exclude(currency=currency).values_list("currency", flat=True).first()
        if other:
            errors.add(
                "currency",
                "other_currency",
                _("Unit costs are in %(currency)s: write this one in the same currency.") % {"currency": other},
            )
    price_year = _year(raw, "price_year", errors)
    try:
        valid_from = dt.date.fromisoformat(_text(raw, "valid_from"))
    except ValueError:
        valid_from = None
        errors.add("valid_from", "invalid", _("Write a date as YYYY-MM-DD."))
    note = _text(raw, "note")
    if len(note) > 300:
        errors.add("note", "too_long", _("At most 300 characters."))
    if (
        not errors.errors
        and valid_from is not None
        and UnitCost.objects.filter(service=service, product=product, valid_from=valid_from).exists()
    ):
        errors.add("valid_from", "duplicate", _("This service and product already have a price from this date."))
    errors.raise_if_any()
    return {
        "service": service,
        "product": product,
        "amount": amount,
        "currency": currency,
        "price_year": price_year,
        "valid_from": valid_from,
        "note": note,
    }


def add_unit_cost(actor: Actor, raw: Mapping[str, Any]) -> UnitCost:
    """A new version of a unit cost (national planners). Versions are never edited: a new price is a new
    row valid from its date."""
    refusal = permissions.plan_costs_refusal(actor.user, None)
    if refusal is not None:
        refusal.raise_()
    cleaned = clean_unit_cost(raw)
    with transaction.atomic():
        cost = UnitCost.objects.create(**cleaned, created_by=actor.user)
        record(actor, Action.CREATE, cost, after=snapshot(cost))
    return cost


def clean_coverage(raw: Mapping[str, Any]) -> dict[str, Any]:
    errors = Collector()
    service = _service(raw, errors)
    territory = Territory.objects.filter(code=_text(raw, "territory")).first()
    if territory is None:
        errors.add("territory", "unknown", _("Choose a territory."))
    year = _year(raw, "year", errors)
    coverage = _decimal(raw, "coverage", errors)
    if coverage is not None:
        # written as a percentage (85 or 85.5), kept as a share with four decimals
        share = coverage / 100
        if not 0 <= share <= 1 or share != share.quantize(Decimal("0.0001")):
            errors.add("coverage", "invalid", _("Write a percentage between 0 and 100, with at most two decimals."))
        coverage = share
    errors.raise_if_any()
    return {"service": service, "territory": territory, "year": year, "coverage": coverage}


def set_coverage(actor: Actor, raw: Mapping[str, Any]) -> tuple[CoverageTarget, str]:
    """Create or change the coverage target of (service, territory, year); "created", "updated" or
    "unchanged"."""
    cleaned = clean_coverage(raw)
    refusal = permissions.plan_costs_refusal(actor.user, cleaned["territory"].path)
    if refusal is not None:
        refusal.raise_()
    with transaction.atomic():
        current = (
            CoverageTarget.objects.select_for_update()
            .filter(service=cleaned["service"], territory=cleaned["territory"], year=cleaned["year"])
            .first()
        )
        if current is None:
            target = CoverageTarget.objects.create(**cleaned)
            record(actor, Action.CREATE, target, after=snapshot(target))
            return target, "created"
        if current.coverage == cleaned["coverage"]:
            return current, "unchanged"
        before = snapshot(current, ["coverage"])
        current.coverage = cleaned["coverage"]
        current.save()
        record(actor, Action.UPDATE, current, before=before, after=snapshot(current, ["coverage"]))
        return current, "updated"
