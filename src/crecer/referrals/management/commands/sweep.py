from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.referrals.sweep import sweep


class Command(BaseCommand):
    help = "Referral deadlines: expire, mark overdue, escalate and remind. Safe to run often and in parallel."

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
        result = sweep(Actor(None, Channel.SYSTEM), now)
        self.stdout.write(
            _("%(expired)s expired, %(overdue)s overdue and escalated, %(reminded)s reminders.")
            % {"expired": result.expired, "overdue": result.overdue, "reminded": result.reminded}
        )
