from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.dedup import batch

STAGES = {
    "reading": "Reading the registry…",
    "training": "Estimating the model…",
    "scoring": "Scoring pairs…",
    "saving": "Saving the review queue…",
}


class Command(BaseCommand):
    help = "Score the whole registry for duplicates (probabilistic linkage); pairs go to the review queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", type=Path, help="also write external_id_a,external_id_b,score,decision to this CSV file"
        )
        parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: every core)")
        parser.add_argument("--as-user", default="", help="who asks (recorded in the audit)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["as_user"]:
            user = User.objects.filter(username=options["as_user"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user named “%(name)s”.") % {"name": options["as_user"]})
        started = time.perf_counter()

        def say(stage: str) -> None:
            if not options["quiet"]:
                self.stdout.write(f"{time.perf_counter() - started:7.1f} s  {_(STAGES.get(stage, stage))}")

        outcome = batch.run(Actor(user, Channel.CLI), options["out"], progress=say, threads=options["threads"])
        run = outcome.run
        self.stdout.write(
            _(
                "%(records)s children, %(compared)s pairs compared: %(matches)s likely the same child, %(reviews)s to "
                "review (%(excluded)s twins or siblings set aside, %(reviewed)s already reviewed) in %(seconds).1f s."
            )
            % {
                "records": run.records,
                "compared": run.compared,
                "matches": run.matches,
                "reviews": run.reviews,
                "excluded": run.excluded,
                "reviewed": outcome.skipped_reviewed,
                "seconds": time.perf_counter() - started,
            }
        )
        if options["out"]:
            self.stdout.write(_("Pairs written to %(path)s.") % {"path": options["out"]})
