from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Serve Crecer with waitress (a production-grade pure-Python WSGI server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        from waitress import serve

        from crecer.wsgi import application

        self.stdout.write(_("Serving on http://%(host)s:%(port)s/ (Ctrl+C to stop)") % options)
        self.stdout.flush()
        serve(application, host=options["host"], port=options["port"], threads=options["threads"])
