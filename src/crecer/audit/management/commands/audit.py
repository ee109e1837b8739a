"""``crecer audit verify``: check the audit trail's hash chain (exit 0 intact, 1 broken)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crecer.audit.chain import verify


class Command(BaseCommand):
    help = (
        "The audit trail: `crecer audit verify` walks the hash chain of every event and reports the first "
        "broken link (exit status 1), or the number of events, the last hash and an anchor per lane of the chain when "
        "it is intact (0)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify_ = sub.add_parser("verify", help="Check the hash chain of the audit trail")
        verify_.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="ID:HASH",
            help="an event id and hash printed by an earlier run and kept outside the server: the chain must "
            "still pass through it (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        anchors: dict[int, str] = {}
        for anchor in options["anchor"]:
            pk, _sep, digest = anchor.partition(":")
            if not pk.isdigit() or len(digest) != 64:
                raise CommandError(f"--anchor takes ID:HASH (an event id and its 64-character hash), not {anchor!r}.")
            anchors[int(pk)] = digest.lower()
        verdict = verify(anchors=anchors)
        if verdict.intact:
            if verdict.last_id is None:
                self.stdout.write(f"Audit trail intact: 0 events, last hash {verdict.last_hash}.")
            else:
                self.stdout.write(
                    f"Audit trail intact: {verdict.count} events, last hash {verdict.last_hash}.\n"
                    # One anchor per lane of the chain (its last event): pass them all back with --anchor.
                    "Keep these anchors outside the server: "
                    + " ".join(f"{pk}:{digest}" for pk, digest in verdict.ends)
                )
            return
        self.stderr.write(
            f"Audit trail broken at event {verdict.event_id}: {verdict.problem} "
            f"({verdict.count} events before it are intact)."
        )
        sys.exit(1)
