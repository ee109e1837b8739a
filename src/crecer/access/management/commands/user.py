from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crecer.access.actions import create_user, deactivate_user
from crecer.access.models import Role, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor
from crecer.validation import InputErrors


def read_password(stdin: Any) -> str:
    """The new password: asked twice without echo on a terminal, else the first line of standard input.

    Never an argument: a command line is visible to every user of the machine and kept in shell history."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The two passwords differ.")
        return first
    line = stdin.readline()
    if not line:
        raise CommandError("No password on standard input.")
    return line.rstrip("\r\n")


class Command(BaseCommand):
    help = (
        "Manage users: `crecer user add USERNAME --role ROLE --territory CODE [--facility CODE] "
        "[--organisation CODE]` (the password is asked for, or read from standard input); "
        "`crecer user deactivate USERNAME` (no more sign-in; API tokens revoked)."
    )

    # Tests pass standard input as call_command("user", ..., stdin=io.StringIO("password\n")).
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create a user; the password is prompted for or read from standard input")
        add.add_argument("username")
        add.add_argument("--role", required=True, choices=Role.values)
        add.add_argument("--territory", required=True, help="territory code")
        add.add_argument("--facility", default="", help="facility code (health workers)")
        add.add_argument("--organisation", default="", help="organisation code (provider staff, operators)")
        add.add_argument("--institution", default="", help="institution code of centres.toml (inspectors)")
        add.add_argument("--categories", default="", help="extra sensitive data categories, comma-separated")
        deactivate = sub.add_parser("deactivate", help="Deactivate a user and revoke their API tokens")
        deactivate.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(None, Channel.CLI)
        if options["action"] == "deactivate":
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No user named {options['username']!r}.")
            if deactivate_user(actor, user):
                self.stdout.write(f"{user.username} deactivated; API tokens revoked.")
            else:
                self.stdout.write(f"{user.username} was already deactivated.")
            return
        password = read_password(options.get("stdin") or sys.stdin)
        try:
            user = create_user(
                actor,
                options["username"],
                options["role"],
                options["territory"],
                password,
                facility_code=options["facility"],
                organisation_code=options["organisation"],
                institution=options["institution"],
                extra_categories=[c for c in options["categories"].split(",") if c],
            )
        except InputErrors as exc:
            raise CommandError("\n".join(f"{f}: {e.message}" for f, errs in exc.errors.items() for e in errs)) from exc
        self.stdout.write(f"{user.username} ({user.role}, {user.territory})")
