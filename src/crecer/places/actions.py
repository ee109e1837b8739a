"""Writes to territories, facilities and organisations (validated, audited, one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access import permissions
from crecer.audit.models import Action
from crecer.audit.trail import Actor, diff, record, snapshot
from crecer.territories.models import Facility, Organisation, Territory
from crecer.validation import FieldError, InputErrors

Errors = dict[str, list[dict[str, str]]]


def _err(errors: Errors, name: str, code: str, message: str) -> None:
    errors.setdefault(name, []).append({"code": code, "message": message})


@dataclass
class TerritoryRow:
    code: str
    name: str
    level: str
    parent_code: str


def validate_territory(row: TerritoryRow, parent: Territory | None, existing: Territory | None) -> Errors:
    """Problems with a territory row given its (already stored) parent; empty when valid."""
    errors: Errors = {}
    profile = conf.profile()
    if not row.code:
        _err(errors, "code", "required", _("The code is required."))
    elif len(row.code) > 40 or "/" in row.code:
        _err(errors, "code", "invalid", _("A code has at most 40 characters and no “/”."))
    if not row.name:
        _err(errors, "name", "required", _("The name is required."))
    if row.level not in profile.level_keys:
        _err(
            errors,
            "level",
            "unknown",
            _("Unknown level “%(level)s”; this country uses: %(levels)s.")
            % {"level": row.level, "levels": ", ".join(profile.level_keys)},
        )
        return errors
    depth = profile.depth_of(row.level)
    if depth == 0:
        if row.parent_code:
            _err(errors, "parent_code", "root_has_parent", _("The top level has no parent."))
        elif existing is None and Territory.objects.filter(depth=0).exists():
            _err(errors, "level", "second_root", _("There is already a top-level territory."))
    elif not row.parent_code:
        _err(errors, "parent_code", "required", _("The parent code is required below the top level."))
    elif parent is None:
        _err(errors, "parent_code", "unknown", _("No territory has the code “%(code)s”.") % {"code": row.parent_code})
    elif parent.depth != depth - 1:
        _err(
            errors,
            "parent_code",
            "wrong_level",
            _("A %(level)s must sit directly under a %(parent_level)s.")
            % {"level": row.level, "parent_level": profile.level_keys[depth - 1]},
        )
    if existing is not None and (existing.level != row.level or existing.parent_id != (parent.pk if parent else None)):
        _err(errors, "parent_code", "move", _("Moving a territory or changing its level is not supported."))
    return errors


def places_refusal(actor: Actor) -> permissions.Refusal | None:
    """Why ``actor`` may not load territories, facilities, organisations or the provider directory."""
    if permissions.has(actor.user, permissions.MANAGE_PLACES):
        return None
    return permissions.Refusal(
        "row", "forbidden", _("Your role cannot change territories, facilities or organisations.")
    )


def _check_places(actor: Actor) -> None:
    refusal = places_refusal(actor)
    if refusal is not None:
        refusal.raise_()


def save_territory(actor: Actor, row: TerritoryRow, parent: Territory | None, existing: Territory | None) -> str:
    """Create or rename a validated territory; returns 'created', 'updated' or 'unchanged'."""
    _check_places(actor)
    if existing is not None:
        if existing.name == row.name:
            return "unchanged"
        before = snapshot(existing)
        existing.name = row.name
        existing.save(update_fields=["name"])
        old, new = diff(before, snapshot(existing))
        record(actor, Action.UPDATE, existing, before=old, after=new)
        return "updated"
    territory = Territory(
        code=row.code,
        name=row.name,
        level=row.level,
        parent=parent,
        depth=(parent.depth + 1) if parent else 0,
        path=f"{parent.path if parent else ''}{row.code}/",
    )
    territory.save()
    record(actor, Action.CREATE, territory, after=snapshot(territory))
    return "created"


def create_territory(actor: Actor, code: str, name: str, level: str, parent_code: str = "") -> Territory:
    row = TerritoryRow(code.strip(), name.strip(), level.strip(), parent_code.strip())
    parent = Territory.objects.filter(code=row.parent_code).first() if row.parent_code else None
    existing = Territory.objects.filter(code=row.code).first()
    errors = validate_territory(row, parent, None)
    if existing is not None:
        _err(errors, "code", "duplicate", _("A territory with this code exists."))
    if errors:
        raise InputErrors({k: [FieldError(e["code"], e["message"]) for e in v] for k, v in errors.items()})
    with transaction.atomic():
        save_territory(actor, row, parent, None)
    return Territory.objects.get(code=row.code)


def validate_place(row: dict[str, str], kind_field: str, choices: Any, territories: dict[str, int]) -> Errors:
    """Shared checks for a facility or organisation row (code, name, kind/sector, territory)."""
    errors: Errors = {}
    if not row.get("code"):
        _err(errors, "code", "required", _("The code is required."))
    if not row.get("name"):
        _err(errors, "name", "required", _("The name is required."))
    if row.get(kind_field) not in choices.values:
        _err(
            errors,
            kind_field,
            "invalid_choice",
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": row.get(kind_field, ""), "choices": ", ".join(choices.values)},
        )
    if row.get("territory_code") not in territories:
        _err(
            errors,
            "territory_code",
            "unknown",
            _("No territory has the code “%(code)s”.") % {"code": row.get("territory_code", "")},
        )
    return errors


def save_place(
    actor: Actor,
    model: type[Facility] | type[Organisation],
    kind_field: str,
    row: dict[str, str],
    territory_id: int,
    existing: Facility | Organisation | None,
) -> str:
    """Create or change a validated facility or organisation; returns 'created', 'updated' or 'unchanged'."""
    _check_places(actor)
    values = {"name": row["name"], kind_field: row[kind_field], "territory_id": territory_id}
    if existing is not None:
        if all(getattr(existing, k) == v for k, v in values.items()):
            return "unchanged"
        before = snapshot(existing)
        for k, v in values.items():
            setattr(existing, k, v)
        existing.save()
        old, new = diff(before, snapshot(existing))
        record(actor, Action.UPDATE, existing, before=old, after=new)
        return "updated"
    obj = model.objects.create(code=row["code"], **values)
    record(actor, Action.CREATE, obj, after=snapshot(obj))
    return "created"
