from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crecer.access.actions import create_token, revoke_token
from crecer.access.models import ApiToken, User
from crecer.audit.models import Channel
from crecer.audit.trail import Actor


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = (
        "API tokens: `crecer token create USERNAME` prints a new bearer token and nothing else; "
        "`crecer token list USERNAME` lists the user's tokens; `crecer token revoke USERNAME` revokes them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it")
        create.add_argument("username")
        listing = sub.add_parser("list", help="List a user's tokens: prefix, created, expires, last used, revoked")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="Revoke every token of a user that is not revoked yet")
        revoke.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(None, Channel.CLI)
        if options["action"] == "create":
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"No active user named {options['username']!r}.")
            self.stdout.write(create_token(actor, user))
            return
        # Listing and revoking work for deactivated users too: their tokens must be closable.
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        tokens = ApiToken.objects.filter(user=user).order_by("created_at", "pk")
        if options["action"] == "list":
            self.stdout.write("prefix\tcreated\texpires\tlast used\trevoked")
            for token in tokens:
                self.stdout.write(
                    f"{token.prefix}\t{_when(token.created_at)}\t{_when(token.expires_at)}\t{_when(token.last_used_at)}\t{_when(token.revoked_at)}"
                )
            return
        revoked = sum(revoke_token(actor, token) for token in tokens.filter(revoked_at__isnull=True))
        self.stdout.write(f"Revoked {revoked} token(s) of {user.username}.")
