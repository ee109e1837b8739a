from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer import conf
from crecer.lib import profiles, rules
from crecer.monitoring import definitions


class Command(BaseCommand):
    help = "Country profiles: `crecer profile test` loads the profile and runs every rule's example cases."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        test = sub.add_parser("test", help="validate the profile and run the rules' example cases")
        test.add_argument("--profile", default="", help="a profile id (default: the active one); 'all' for every one")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = options["profile"] or conf.profile().id
        ids = profiles.available() if wanted == "all" else [wanted]
        failed = 0
        for profile_id in ids:
            try:
                profile = profiles.load(profile_id)
            except profiles.ProfileError as exc:
                raise CommandError(str(exc)) from exc
            try:
                indicators = definitions.indicators(profile_id)
            except profiles.ProfileError as exc:
                raise CommandError(str(exc)) from exc
            count, failures = rules.run_examples(profile.rules)
            failed += len(failures)
            self.stdout.write(
                _(
                    "%(profile)s %(version)s: %(rules)s rules, %(cases)s example cases, %(failures)s failed; %(indicators)s indicators valid."
                )
                % {
                    "profile": profile.id,
                    "version": profile.version,
                    "rules": len(profile.rules),
                    "cases": count,
                    "failures": len(failures),
                    "indicators": len(indicators),
                }
            )
            for f in failures:
                self.stdout.write(
                    _("  %(rule)s — %(example)s: expected %(expected)s, got %(got)s")
                    % {"rule": f.rule, "example": f.example, "expected": f.expected, "got": f.got}
                )
        if failed:
            raise CommandError(_("%(n)s example cases failed.") % {"n": failed})
