from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer.core import backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `crecer backup` into this database (same engine). Refuses a database that "
        "already holds data unless --force. Stop the server first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a file written by crecer backup")
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup.restore(options["file"], force=options["force"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Restored %(file)s. Run `crecer migrate` if this Crecer is newer than the backup.")
            % {"file": options["file"]}
        )
