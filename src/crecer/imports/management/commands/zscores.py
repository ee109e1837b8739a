from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer.core.progress import progress_bar
from crecer.lib.growth.csvio import process_csv


def row_messages() -> dict[str, str]:
    """The library's row errors, translated (same keys and placeholders)."""
    return {
        "not_a_number": _("%(field)s: not a number (%(value)r)"),
        "not_positive": _("%(field)s: must be > 0 (%(value)r)"),
        "negative": _("%(field)s: must be >= 0 (%(value)r)"),
        "unexpected": _("%(field)s: %(value)r is not %(expected)s"),
        "missing": _("%(field)s: missing (expected %(expected)s)"),
        "field_count": _("row has %(got)s fields, the header has %(want)s"),
    }


class Command(BaseCommand):
    help = "WHO growth z-scores for a CSV of measurements: crecer zscores IN.csv OUT.csv"
    # File in, file out: no database, URL or model is touched, so the system checks (which import
    # every URL and view, ~0.6 s) are skipped.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path)
        parser.add_argument("output", type=Path)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["input"].is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": options["input"]})
        try:
            with progress_bar(_("Computing z-scores"), options["quiet"]) as update:
                summary = process_csv(options["input"], options["output"], progress=update, messages=row_messages())
        except ValueError as exc:  # a file that is not a measurement table at all (no header, wrong columns)
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("%(rows)s rows written to %(out)s; %(errors)s with an error (see the error column).")
            % {"rows": summary.rows, "out": options["output"], "errors": summary.errors}
        )
