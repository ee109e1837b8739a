from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.core.progress import progress_bar
from crecer.imports.framework import FileError, kinds, run_import, unfinished

#: rejected rows printed before the listing is cut (the report file has them all)
SHOW_REJECTED = 50


class Command(BaseCommand):
    help = "Import a CSV or Excel file: crecer import KIND FILE. Exit status 0 if every row loaded, 3 if some were rejected."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=kinds())
        parser.add_argument("file", type=Path)
        parser.add_argument("--report", type=Path, help="where to write rejected rows (default: FILE.rejected.csv)")
        parser.add_argument("--as-user", default="", help="import as this user (their territory limits the rows)")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument(
            "--batch-rows",
            type=int,
            default=None,
            help="rows per transaction (default: the kind's own, at most 25,000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["as_user"]:
            user = User.objects.filter(username=options["as_user"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user named “%(name)s”.") % {"name": options["as_user"]})
        for batch in unfinished():
            self.stderr.write(
                _(
                    "Unfinished import %(id)s (%(kind)s, %(file)s, started %(when)s): the rows it stored are kept; "
                    "import the same file again to complete it."
                )
                % {
                    "id": batch.pk,
                    "kind": batch.kind,
                    "file": batch.filename,
                    "when": f"{batch.started_at:%Y-%m-%d %H:%M}",
                }
            )
        if options["batch_rows"] is not None and options["batch_rows"] < 1:
            raise CommandError(_("--batch-rows must be at least 1."))
        try:
            with progress_bar(_("Importing %(kind)s") % {"kind": options["kind"]}, options["quiet"]) as update:
                result = run_import(
                    options["kind"],
                    options["file"],
                    Actor(user, Channel.CLI),
                    progress=update,
                    report_path=options["report"],
                    batch_rows=options["batch_rows"],
                )
        except FileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _(
                "%(rows)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(rejected)s rejected."
            )
            % {
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": len(result.rejected),
            }
        )
        if result.resumed:
            self.stdout.write(
                _("This import completed the interrupted import %(ids)s of the same file.")
                % {"ids": ", ".join(str(i) for i in result.resumed)}
            )
        for rejection in result.rejected[:SHOW_REJECTED]:
            self.stdout.write(_("line %(line)s: %(reason)s") % {"line": rejection.line, "reason": rejection.message()})
        if len(result.rejected) > SHOW_REJECTED:
            self.stdout.write(_("… and %(more)s more.") % {"more": len(result.rejected) - SHOW_REJECTED})
        if result.report_path:
            self.stdout.write(_("Rejected rows, with their reasons: %(path)s") % {"path": result.report_path})
        sys.stdout.flush()
        if result.exit_code:
            raise SystemExit(result.exit_code)
