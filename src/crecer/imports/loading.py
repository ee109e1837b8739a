"""Loading a whole country folder (as written by ``crecer generate``) in dependency order."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from crecer.audit.trail import Actor
from crecer.core.bulk import refresh_statistics
from crecer.core.signals import facts_changed
from crecer.imports.framework import FileError, ImportResult, Progress, finish, run_import

#: (kind, file) in the order their references require
ORDER = (
    ("territories", "territories.csv"),
    ("facilities", "facilities.csv"),
    ("organisations", "organisations.csv"),
    ("services", "services.csv"),
    ("providers", "providers.csv"),
    ("households", "households.csv"),
    ("caregivers", "caregivers.csv"),
    ("children", "children.csv"),
    ("relationships", "relationships.csv"),
    ("pregnancies", "pregnancies.csv"),
    ("encounters", "encounters.csv"),
    ("measurements", "measurements.csv"),
    ("screenings", "screenings.csv"),
    ("deliveries", "deliveries.csv"),
    ("groups", "groups.csv"),
    ("group_members", "group_members.csv"),
)


@dataclass
class Loaded:
    results: list[ImportResult]
    risk_flags_raised: int = 0
    risk_seconds: float = 0.0


def load_folder(
    folder: Path,
    actor: Actor,
    progress: Callable[[str], AbstractContextManager[Progress]] | None = None,
) -> Loaded:
    """Import every known file present in ``folder``; ``territories.csv`` is required. The risk rules
    run once at the end, for every child and pregnancy the files touched."""
    if not (folder / "territories.csv").is_file():
        raise FileError(_("%(folder)s has no territories.csv: nothing to load.") % {"folder": folder})
    results = []
    for kind, filename in ORDER:
        path = folder / filename
        if not path.is_file():
            continue
        if progress is None:
            results.append(run_import(kind, path, actor, evaluate_risks=False))
        else:
            with progress(kind) as update:
                results.append(run_import(kind, path, actor, progress=update, evaluate_risks=False))
    refresh_statistics()
    loaded = Loaded(results)
    children = set().union(*(r.touched_children for r in results))
    pregnancies = set().union(*(r.touched_pregnancies for r in results))
    started = time.perf_counter()
    loaded.risk_flags_raised = facts_changed(actor, children, pregnancies)
    loaded.risk_seconds = time.perf_counter() - started
    finish(results)
    return loaded
