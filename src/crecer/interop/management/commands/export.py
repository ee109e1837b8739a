from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.core.progress import progress_bar
from crecer.interop import analytics, fhir_export
from crecer.territories.models import Territory


class Command(BaseCommand):
    help = "Exports: fhir (FHIR R4 NDJSON, bulk-data style) and analytics (pseudonymised Parquet)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fhir = sub.add_parser("fhir", help="FHIR R4 resources of every child of a territory, one NDJSON file per type")
        fhir.add_argument("--territory", required=True, help="territory code (its whole subtree is exported)")
        fhir.add_argument("--out", type=Path, required=True, help="folder for the .ndjson files")
        fhir.add_argument("--as-user", default="", help="restrict to what this user may see (default: the system)")
        fhir.add_argument("--batch-size", type=int, default=fhir_export.BATCH_SIZE, help="children per batch")
        fhir.add_argument("--quiet", action="store_true", help="no progress bar")
        pseudo = sub.add_parser("analytics", help="pseudonymised Parquet tables of the registry and its events")
        pseudo.add_argument("--out", type=Path, required=True, help="folder for the .parquet files")
        pseudo.add_argument("--territory", default="", help="territory code (default: the whole country)")
        pseudo.add_argument(
            "--until",
            default="",
            help="last month to include, YYYY-MM (default: the previous month; the current month ends today)",
        )
        pseudo.add_argument("--quiet", action="store_true", help="no progress bars")

    def _territory(self, code: str) -> Territory:
        territory = Territory.objects.filter(code=code).first()
        if territory is None:
            raise CommandError(_("No territory has the code “%(code)s”.") % {"code": code})
        return territory

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "fhir":
            self._fhir(options)
        else:
            self._analytics(options)

    def _fhir(self, options: dict[str, Any]) -> None:
        territory = self._territory(options["territory"])
        user = None
        if options["as_user"]:
            user = User.objects.filter(username=options["as_user"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user named “%(name)s”.") % {"name": options["as_user"]})
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        with progress_bar(_("Exporting FHIR resources"), options["quiet"]) as update:
            result = fhir_export.export_ndjson(
                Actor(user, Channel.CLI),
                options["out"],
                territory,
                progress=update,
                batch_size=options["batch_size"],
            )
        for rtype, count in result.counts.items():
            self.stdout.write(f"{rtype + '.ndjson':24} {count:>12,}")
        self.stdout.write(
            _("%(children)s children, %(resources)s resources written to %(out)s in %(seconds).1f s.")
            % {
                "children": result.children,
                "resources": sum(result.counts.values()),
                "out": options["out"],
                "seconds": result.seconds,
            }
        )

    def _analytics(self, options: dict[str, Any]) -> None:
        territory = self._territory(options["territory"]) if options["territory"] else None
        try:
            until = analytics.cutoff_for(options["until"]) if options["until"] else None
            result = analytics.export(
                Actor(None, Channel.CLI),
                options["out"],
                territory,
                progress=lambda label: progress_bar(label, options["quiet"]),
                until=until,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for table in result.tables:
            self.stdout.write(f"{table.file:28} {table.rows:>12,}")
        self.stdout.write(
            _("%(rows)s rows in %(tables)s tables written to %(out)s in %(seconds).1f s (pseudonymised; key %(key)s).")
            % {
                "rows": sum(t.rows for t in result.tables),
                "tables": len(result.tables),
                "out": options["out"],
                "seconds": result.seconds,
                "key": result.fingerprint,
            }
        )
