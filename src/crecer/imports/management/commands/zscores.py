from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from crecer import zscores_command


class Command(BaseCommand):
    help = "WHO growth z-scores for a CSV of measurements: crecer zscores IN.csv OUT.csv"
    # File in, file out: no database, URL or model is touched, so the system checks (which import
    # every URL and view, ~0.6 s) are skipped. The console script runs it without Django at all.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path)
        parser.add_argument("output", type=Path)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            zscores_command.run(options["input"], options["output"], options["quiet"], gettext, self.stdout)
        except zscores_command.Failed as exc:
            raise CommandError(str(exc)) from exc
