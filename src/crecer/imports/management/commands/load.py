from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.core.progress import progress_bar
from crecer.imports.framework import FileError
from crecer.imports.loading import load_folder


class Command(BaseCommand):
    help = "Load a country folder (territories.csv, facilities.csv, households.csv, caregivers.csv, children.csv, …)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--quiet", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            loaded = load_folder(
                options["folder"],
                Actor(None, Channel.CLI),
                progress=lambda kind: progress_bar(_("Loading %(kind)s") % {"kind": kind}, options["quiet"]),
            )
        except FileError as exc:
            raise CommandError(str(exc)) from exc
        rejected = 0
        for r in loaded.results:
            rejected += len(r.rejected)
            self.stdout.write(
                _(
                    "%(kind)s: %(rows)s rows, %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
                    "%(rejected)s rejected (%(seconds).1f s)"
                )
                % {
                    "kind": r.kind,
                    "rows": r.rows,
                    "created": r.created,
                    "updated": r.updated,
                    "unchanged": r.unchanged,
                    "rejected": len(r.rejected),
                    "seconds": r.seconds,
                }
            )
            if r.report_path:
                self.stdout.write(_("  rejected rows: %(path)s") % {"path": r.report_path})
        self.stdout.write(
            _("risk rules: %(flags)s flags raised (%(seconds).1f s)")
            % {"flags": loaded.risk_flags_raised, "seconds": loaded.risk_seconds}
        )
        self.stdout.write(_("Loaded in %(seconds).1f s.") % {"seconds": time.perf_counter() - started})
        if rejected:
            raise SystemExit(3)
