"""Importers for territories, facilities and organisations (see crecer.imports.framework)."""

from __future__ import annotations

from crecer import conf
from crecer.audit.trail import Actor
from crecer.imports.framework import ImportResult, Row, error, register, repeated_message
from crecer.places.actions import (
    TerritoryRow,
    places_refusal,
    save_place,
    save_territory,
    validate_place,
    validate_territory,
)
from crecer.territories.models import Facility, FacilityKind, Organisation, Sector, Territory


def reject_all(rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> bool:
    """Every row is refused when the user may not manage places (the same check as the actions)."""
    refusal = places_refusal(actor)
    if refusal is None:
        return False
    for line, row in rows:
        result.reject(line, row, refusal.as_errors())
    return True


class TerritoryImporter:
    kind = "territories"
    columns = ("code", "name", "level", "parent_code")
    required = columns
    # A territory file is small and its rows refer to each other: take it in one batch.
    batch_size = 1_000_000

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        if reject_all(rows, actor, result):
            return
        profile = conf.profile()
        depth = {key: i for i, key in enumerate(profile.level_keys)}
        parsed = [(line, row, TerritoryRow(*(str(row.get(c, "")).strip() for c in self.columns))) for line, row in rows]
        # Parents before children whatever the file's order; unknown levels go last and get rejected.
        parsed.sort(key=lambda item: depth.get(item[2].level, len(depth)))
        stored = {t.code: t for t in Territory.objects.all()}
        seen: dict[str, int] = {}
        for line, row, trow in parsed:
            if trow.code in seen:
                result.reject(line, row, error("code", "repeated", repeated_message(seen[trow.code])))
                continue
            seen[trow.code] = line
            parent = stored.get(trow.parent_code) if trow.parent_code else None
            existing = stored.get(trow.code)
            errors = validate_territory(trow, parent, existing)
            if errors:
                result.reject(line, row, errors)
                continue
            outcome = save_territory(actor, trow, parent, existing)
            setattr(result, outcome, getattr(result, outcome) + 1)
            if outcome == "created":
                stored[trow.code] = Territory.objects.get(code=trow.code)


class PlaceImporter:
    model: type[Facility] | type[Organisation]
    kind_field: str
    choices: type
    batch_size = 5000

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        if reject_all(rows, actor, result):
            return
        territories = dict(Territory.objects.values_list("code", "id"))
        existing = {o.code: o for o in self.model.objects.filter(code__in=[r.get("code") for _, r in rows])}
        seen: dict[str, int] = {}
        for line, raw in rows:
            row = {k: (v or "").strip() for k, v in raw.items()}
            errors = validate_place(row, self.kind_field, self.choices, territories)
            if not errors and row["code"] in seen:
                errors = error("code", "repeated", repeated_message(seen[row["code"]]))
            if errors:
                result.reject(line, raw, errors)
                continue
            seen[row["code"]] = line
            outcome = save_place(
                actor, self.model, self.kind_field, row, territories[row["territory_code"]], existing.get(row["code"])
            )
            setattr(result, outcome, getattr(result, outcome) + 1)


class FacilityImporter(PlaceImporter):
    kind = "facilities"
    columns = ("code", "name", "kind", "territory_code")
    required = columns
    model = Facility
    kind_field = "kind"
    choices = FacilityKind


class OrganisationImporter(PlaceImporter):
    kind = "organisations"
    columns = ("code", "name", "sector", "territory_code")
    required = columns
    model = Organisation
    kind_field = "sector"
    choices = Sector


register("territories")(TerritoryImporter)
register("facilities")(FacilityImporter)
register("organisations")(OrganisationImporter)
