from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crecer.access.actions import create_token
from crecer.access.models import User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor


class Command(BaseCommand):
    help = "API tokens: `crecer token create USERNAME` prints a new bearer token and nothing else."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it")
        create.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {options['username']!r}.")
        self.stdout.write(create_token(Actor(None, Channel.CLI), user))
