from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from crecer import conf
from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.core.downloads import SafeWriter
from crecer.lib import periods
from crecer.monitoring import definitions, engine, snapshots
from crecer.territories.models import Territory


class Command(BaseCommand):
    help = "Indicators: compute (live, to CSV), snapshot (freeze a period), list (the definitions)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        compute = sub.add_parser("compute", help="compute figures for every territory of a level into a CSV file")
        compute.add_argument("--period", required=True, help="2025, 2025-Q2 or 2025-07")
        compute.add_argument("--level", required=True, help="a territory level key of the profile, e.g. municipality")
        compute.add_argument("--indicator", default="", help="one indicator code (default: all)")
        compute.add_argument("--by", default="", help="a disaggregation (sex, age_band, vulnerability, service)")
        compute.add_argument("--out", type=Path, required=True)
        snap = sub.add_parser("snapshot", help="freeze every figure of a period (a new revision if one exists)")
        snap.add_argument("--period", required=True)
        snap.add_argument("--reason", default="")
        snap.add_argument("--as-user", default="", help="who asks (recorded in the audit)")
        sub.add_parser("list", help="the indicator definitions of the active profile")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for i in definitions.indicators():
                self.stdout.write(f"{i.key:40} {i.axis:26} {i.unit:12} {i.name_es}")
            return
        try:
            period = periods.parse(options["period"])
        except periods.PeriodError as exc:
            raise CommandError(_("--period must be a year (2025), a quarter (2025-Q2) or a month (2025-07).")) from exc
        if options["action"] == "snapshot":
            user = None
            if options["as_user"]:
                user = User.objects.filter(username=options["as_user"], is_active=True).first()
                if user is None:
                    raise CommandError(_("No active user named “%(name)s”.") % {"name": options["as_user"]})
            snapshot = snapshots.take(Actor(user, Channel.CLI), period, options["reason"])
            self.stdout.write(
                _(
                    "Snapshot %(period)s revision %(revision)s: %(figures)s figures in %(seconds).1f s, fingerprint %(fp)s"
                )
                % {
                    "period": snapshot.period,
                    "revision": snapshot.revision,
                    "figures": snapshot.values.count(),
                    "seconds": snapshot.seconds,
                    "fp": snapshot.fingerprint[:16],
                }
            )
            return
        self._compute(period, options)

    def _compute(self, period: periods.Period, options: dict[str, Any]) -> None:
        if options["level"] not in conf.profile().level_keys:
            raise CommandError(
                _("Unknown level “%(level)s”; this country uses: %(levels)s.")
                % {"level": options["level"], "levels": ", ".join(conf.profile().level_keys)}
            )
        chosen = definitions.indicators()
        if options["indicator"]:
            try:
                chosen = (definitions.get(options["indicator"]),)
            except KeyError as exc:
                raise CommandError(_("Unknown indicator “%(code)s”.") % {"code": options["indicator"]}) from exc
        territories = dict(Territory.objects.filter(level=options["level"]).values_list("pk", "code"))
        by = options["by"]
        started = time.perf_counter()
        rows = 0
        with options["out"].open("w", encoding="utf-8", newline="") as fh:
            writer = SafeWriter(fh)
            writer.writerow(
                [
                    "indicator",
                    "territory_code",
                    "period",
                    *(["group"] if by else []),
                    "numerator",
                    "denominator",
                    "value",
                ]
            )
            # All the chosen indicators at once: one pass per population, on parallel connections.
            computed: dict[str, dict[int, list[Any]]] = {i.code: {} for i in chosen}
            for f in engine.compute_many(chosen, period, disaggregate=bool(by)):
                if f.territory_id in territories and (f.group == "" or (by and f.group.startswith(f"{by}="))):
                    computed[f.indicator].setdefault(f.territory_id, []).append(f)
            for indicator in chosen:
                figures = computed[indicator.code]
                # Every territory of the level has a line, with zeros when nothing counts there.
                for territory_id, code in sorted(territories.items(), key=lambda item: item[1]):
                    found = sorted(figures.get(territory_id, []), key=lambda f: f.group)
                    if not found or found[0].group != "":
                        zero = engine.Figure(
                            indicator.code, indicator.version, territory_id, period.code, "", 0, 0, None
                        )
                        found.insert(0, zero if indicator.unit != "count" else replace(zero, value=0))
                    for f in found:
                        value = "" if f.value is None else f.value
                        writer.writerow(
                            [
                                f.indicator,
                                code,
                                period.code,
                                *([f.group] if by else []),
                                _n(f.numerator),
                                _n(f.denominator),
                                value,
                            ]
                        )
                        rows += 1
        self.stdout.write(
            _("%(rows)s figures for %(n)s indicators written to %(out)s in %(seconds).1f s.")
            % {"rows": rows, "n": len(chosen), "out": options["out"], "seconds": time.perf_counter() - started}
        )


def _n(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
