from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.centres.demo import ensure_centres
from crecer.costing.demo import ensure_costing
from crecer.funds.demo import ensure_funds
from crecer.monitoring.demo import ensure_snapshots, ensure_targets
from crecer.planning.demo import ensure_planning
from crecer.referrals.demo import ensure_network
from crecer.results.demo import ensure_results
from crecer.web.demo import DEMO_PASSWORD, ensure_country, ensure_users, showcase_child, showcase_family
from crecer.web.management.commands.serve import default_workers


class Command(BaseCommand):
    help = "Migrate, load a synthetic demo country if the database is empty, create demo users and serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-serve", action="store_true", help="prepare everything but do not serve")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(_("Database ready."))
        if ensure_country(options["children"], options["seed"]):
            self.stdout.write(
                _("Loaded a SYNTHETIC demo country with %(n)s children (not real people).") % {"n": options["children"]}
            )
        users = ensure_users()
        self.stdout.write(_("Demo users (password for all: %(password)s):") % {"password": DEMO_PASSWORD})
        for u in users:
            self.stdout.write(f"  {u.username:<12} {u.role:<22} {u.what}")
        if settings.CRECER_TWO_FACTOR_ROLES:
            self.stdout.write(
                _(
                    "These roles set up two-step sign-in at their first sign-in: %(roles)s "
                    "(to try the demo without it, start it with CRECER_TWO_FACTOR_ROLES=none)."
                )
                % {"roles": ", ".join(str(Role(r).label) for r in settings.CRECER_TWO_FACTOR_ROLES if r in Role.values)}
            )
        referrals = ensure_network(User.objects.get(username="coordinador"))
        if referrals:
            self.stdout.write(_("Referral network: %(n)s referrals in every state.") % {"n": referrals})
        coordinator = User.objects.select_related("territory__parent").get(username="coordinador")
        assert coordinator.territory is not None and coordinator.territory.parent is not None
        centre_users = ensure_centres(coordinator.territory.code, coordinator.territory.parent.code, DEMO_PASSWORD)
        if centre_users:
            self.stdout.write(_("Childcare centres in every status, and an application half-way through its reviews."))
            self.stdout.write(_("Their inspectors, one per reviewing institution (same password):"))
        listed = {user.username for user in users}
        for username, role, what in centre_users:
            if username not in listed:  # the operator is in the list above
                self.stdout.write(f"  {username:<18} {role:<22} {what}")
        child = showcase_child(User.objects.get(username="salud"))
        if child is not None:
            self.stdout.write(
                _("Try %(number)s as “salud”: growth chart, an overdue check-up and a screening in risk.")
                % {"number": child.registry_number}
            )
        family = showcase_family(User.objects.get(username="salud"))
        if family is not None and family.newborn is not None:
            self.stdout.write(
                _(
                    "Try the mother %(mother)s as “salud” or “coordinador”: a pregnancy with a psychosocial risk, "
                    "her newborn %(newborn)s and an urgent Edinburgh result."
                )
                % {"mother": family.mother.registry_number, "newborn": family.newborn.registry_number}  # type: ignore[attr-defined]
            )
        manager = Actor(User.objects.get(username="nacional"), Channel.SYSTEM)
        taken = ensure_snapshots(manager)
        targets = ensure_targets(manager)
        if taken or targets:
            self.stdout.write(
                _("Indicators: %(snapshots)s frozen snapshots and %(targets)s synthetic targets.")
                % {"snapshots": taken, "targets": targets}
            )
        results = ensure_results(manager)
        if results:
            self.stdout.write(
                _(
                    "Money on results: %(agreements)s agreements (one per municipality) with %(evaluations)s tranches "
                    "evaluated on frozen snapshots, %(appeals)s appeal open, an incentive programme and an award edition."
                )
                % results
            )
        funds = ensure_funds(manager)
        if funds:
            self.stdout.write(
                _(
                    "Funds: this year's network fund allocated to %(municipalities)s municipalities, with some spending; "
                    "an innovation call with %(proposals)s proposals, the panel's scores and an award (synthetic)."
                )
                % funds
            )
        costing = ensure_costing(manager)
        if costing:
            self.stdout.write(
                _(
                    "Costing: %(prices)s synthetic unit costs and %(coverage)s coverage targets; the country's planned "
                    "cost for %(year)s is %(total)s CLP (Costing page), and the projections to 2030 (Projections page)."
                )
                % costing
            )
        planned = ensure_planning(manager)
        if planned:
            self.stdout.write(
                _(
                    "Planning: the early-childhood index on last year's snapshot and a phasing plan with "
                    "%(phases)s phases over %(territories)s territories, a coordinator's proposal awaiting a decision."
                )
                % planned
            )
        if not options["no_serve"]:
            # A laptop needs no more than a few workers (each is a Python process of its own).
            workers = int(os.environ.get("CRECER_WORKERS") or min(default_workers(), 4))
            call_command("serve", port=options["port"], host=options["host"], workers=workers)
