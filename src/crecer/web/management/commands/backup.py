from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer.core import backup


class Command(BaseCommand):
    help = (
        "Back up the whole database to a file: SQLite's online backup, or pg_dump's custom format on "
        "PostgreSQL (see docs/deployment.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="the backup file to write (must not exist)")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        try:
            backup.backup(out)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Backup of the %(engine)s database written to %(file)s (%(size)s bytes).")
            % {"engine": backup.engine(), "file": out, "size": f"{out.stat().st_size:,}"}
        )
