"""``crecer audit verify``: check the audit trail's hash chain (exit 0 intact, 1 broken)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crecer.audit.chain import verify


class Command(BaseCommand):
    help = (
        "The audit trail: `crecer audit verify` walks the hash chain of every event and reports the first "
        "broken link (exit status 1), or the number of events and the last hash when it is intact (0)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Check the hash chain of the audit trail")

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = verify()
        if verdict.intact:
            self.stdout.write(f"Audit trail intact: {verdict.count} events, last hash {verdict.last_hash}.")
            return
        self.stderr.write(
            f"Audit trail broken at event {verdict.event_id}: {verdict.problem} "
            f"({verdict.count} events before it are intact)."
        )
        sys.exit(1)
