"""Importer for indicator targets: ``crecer import targets FILE`` (indicator, territory_code, period,
baseline, target). Re-importing the same file changes nothing; a new value updates the target."""

from __future__ import annotations

from crecer.audit.trail import Actor
from crecer.imports.framework import ImportResult, Row, error, register, repeated_message
from crecer.monitoring.actions import TARGET_FIELDS, clean_target, save_target, target_refusal
from crecer.territories.models import Territory
from crecer.validation import Collector, InputErrors


class TargetImporter:
    kind = "targets"
    columns = TARGET_FIELDS
    required = TARGET_FIELDS
    batch_size = 1000

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], int] = {}

    def import_batch(self, rows: list[tuple[int, Row]], actor: Actor, result: ImportResult) -> None:
        territories = {t.code: t for t in Territory.objects.all()}
        for line, row in rows:
            errors = Collector()
            cleaned = clean_target(row, territories, errors)
            if errors.errors:
                result.reject(line, row, InputErrors(errors.errors).as_dict())
                continue
            key = (cleaned["indicator"], cleaned["territory"].code, cleaned["period"])
            if key in self.seen:
                result.reject(line, row, error("indicator", "repeated", repeated_message(self.seen[key])))
                continue
            self.seen[key] = line
            refusal = target_refusal(actor.user, cleaned["territory"])
            if refusal is not None:
                result.reject(line, row, refusal.as_errors())
                continue
            _, outcome = save_target(actor, cleaned)
            setattr(result, outcome, getattr(result, outcome) + 1)


register("targets")(TargetImporter)
