from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from crecer import conf
from crecer.core.progress import progress_bar
from crecer.lib import profiles
from crecer.lib.synthetic import generate


class Command(BaseCommand):
    help = "Write a deterministic SYNTHETIC country as CSV files: crecer generate --children N --seed S --out DIR"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--profile", default="", help="country profile (default: CRECER_PROFILE)")
        parser.add_argument("--as-of", default="", help="reference date YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--no-trajectories",
            action="store_true",
            help="only the registry (no encounters, screenings, referral network)",
        )
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["children"] < 1:
            raise CommandError(_("--children must be at least 1."))
        try:
            profile = profiles.load(options["profile"]) if options["profile"] else conf.profile()
        except profiles.ProfileError as exc:
            raise CommandError(str(exc)) from exc
        try:
            as_of = dt.date.fromisoformat(options["as_of"]) if options["as_of"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(_("--as-of must be a date YYYY-MM-DD.")) from exc
        started = time.perf_counter()
        with progress_bar(_("Generating"), options["quiet"]) as update:
            manifest = generate(
                options["out"],
                children=options["children"],
                seed=options["seed"],
                profile=profile,
                as_of=as_of,
                progress=lambda stage, done, total: update(done, total),
                trajectories=not options["no_trajectories"],
            )
        self.stdout.write(
            _("SYNTHETIC country (%(profile)s) written to %(out)s in %(seconds).1f s:")
            % {"profile": profile.id, "out": options["out"], "seconds": time.perf_counter() - started}
        )
        for name, rows in manifest.counts.items():
            self.stdout.write(f"  {name:<22} {rows:>12,}")
