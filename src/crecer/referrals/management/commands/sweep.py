from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.core import sweeps
from crecer.referrals.sweep import sweep


class Command(BaseCommand):
    help = (
        "Referral deadlines (expire, mark overdue, escalate, remind) and every other registered sweep "
        "(childcare permits about to expire). Safe to run often and in parallel."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", default="", help="ISO date-time to sweep as of (default: now)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(_("--now must be an ISO date-time, e.g. 2026-05-01T08:00")) from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        actor = Actor(None, Channel.SYSTEM)
        result = sweep(actor, now)
        self.stdout.write(
            _("%(expired)s expired, %(overdue)s overdue and escalated, %(reminded)s reminders.")
            % {"expired": result.expired, "overdue": result.overdue, "reminded": result.reminded}
        )
        # The other apps' sweeps (e.g. childcare permits about to expire), registered when they are ready.
        for name, other in sweeps.registered():
            counts = other(actor, now)
            self.stdout.write(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
