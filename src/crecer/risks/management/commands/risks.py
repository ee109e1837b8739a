from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.core.progress import progress_bar
from crecer.risks import engine


class Command(BaseCommand):
    help = "Risk rules: `crecer risks recompute` re-runs the profile's rules over every child and pregnancy."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recompute = sub.add_parser("recompute", help="re-run the rules over existing data")
        recompute.add_argument("--batch", type=int, default=5000)
        recompute.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with progress_bar(_("Evaluating rules"), options["quiet"]) as update:
            outcome = engine.recompute(Actor(None, Channel.CLI), batch=options["batch"], progress=update)
        seconds = time.perf_counter() - started
        self.stdout.write(
            _(
                "%(subjects)s subjects, %(evaluations)s rule evaluations in %(seconds).1f s: "
                "%(raised)s flags raised, %(resolved)s resolved, %(errors)s evaluation errors."
            )
            % {
                "subjects": outcome.subjects,
                "evaluations": outcome.evaluations,
                "seconds": seconds,
                "raised": outcome.raised,
                "resolved": outcome.resolved,
                "errors": len(outcome.errors),
            }
        )
        for error in outcome.errors[:20]:
            self.stdout.write(f"  {error}")
