from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crecer.access.actions import create_user
from crecer.access.models import Role
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.validation import InputErrors


class Command(BaseCommand):
    help = "Manage users: crecer user add USERNAME --role ROLE --territory CODE [--facility CODE] [--organisation CODE] --password PW"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create a user")
        add.add_argument("username")
        add.add_argument("--role", required=True, choices=Role.values)
        add.add_argument("--territory", required=True, help="territory code")
        add.add_argument("--facility", default="", help="facility code (health workers)")
        add.add_argument("--organisation", default="", help="organisation code (provider staff, operators)")
        add.add_argument("--institution", default="", help="institution code of centres.toml (inspectors)")
        add.add_argument("--password", required=True)
        add.add_argument("--categories", default="", help="extra sensitive data categories, comma-separated")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = create_user(
                Actor(None, Channel.CLI),
                options["username"],
                options["role"],
                options["territory"],
                options["password"],
                facility_code=options["facility"],
                organisation_code=options["organisation"],
                institution=options["institution"],
                extra_categories=[c for c in options["categories"].split(",") if c],
            )
        except InputErrors as exc:
            raise CommandError("\n".join(f"{f}: {e.message}" for f, errs in exc.errors.items() for e in errs)) from exc
        self.stdout.write(f"{user.username} ({user.role}, {user.territory})")
