"""``crecer serve``: the production server.

gunicorn (maintained, the usual choice for Django) runs several worker processes, so requests use
every core instead of sharing one interpreter's lock; each worker runs a few threads (gthread) so a
request waiting on the database does not hold its process. waitress, one pure-Python process, stays
available with ``--server waitress`` for machines without ``fork`` (Windows) and as the baseline of
``bench/bench_serve.py``. See docs/deployment.md.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils.translation import gettext as _

from crecer.accounts.addresses import trusted_networks
from crecer.web.warm import warm


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """One worker process per core (at least two). Each request costs the server CPU, not waiting: on 2
    cores, with the database on the same machine, 2 processes answered the child API faster than 3, 4 or
    5 (gunicorn's usual 2 × cores + 1), which only competed with each other and with the database
    (docs/benchmarks.md, "The server under load"). With the database on another machine, more may pay."""
    return int(os.environ.get("CRECER_WORKERS") or max(2, cores()))


def gunicorn_options(options: dict[str, Any]) -> dict[str, Any]:
    """The gunicorn settings ``crecer serve`` uses (a function so the tests can read them)."""
    return {
        "bind": [f"{options['host']}:{options['port']}"],
        "workers": options["workers"],
        "worker_class": "gthread",
        "threads": options["threads"],
        # Only the configured proxies may say the request came over HTTPS (gunicorn sets
        # wsgi.url_scheme from them); TrustedProxyMiddleware applies the same list inside Django.
        "forwarded_allow_ips": ",".join(str(n) for n in trusted_networks()),
        # Long exports stream for a while; the gthread worker's heartbeat does not wait on them.
        "timeout": options["timeout"],
        "graceful_timeout": 30,
        # A worker takes a connection only when one of its threads is free, and closes it after the
        # answer: otherwise a busy worker would accept (and queue) connections that an idle one could
        # serve at once, and kept-alive connections would stay stuck to their worker. The proxy in
        # front keeps the browsers' connections alive.
        "worker_connections": options["threads"],
        "keepalive": 0,
        "accesslog": options["access_log"],
        "errorlog": "-",
        "proc_name": "crecer",
        # The application is loaded and warmed once in the master; the workers are forked from it
        # (crecer.web.warm). A code upgrade therefore needs a restart, not a reload (HUP).
        "preload_app": True,
        # No control socket: its default path is per user, so two servers of one user would collide.
        "control_socket_disable": True,
    }


class Command(BaseCommand):
    help = "Serve Crecer: gunicorn with several worker processes (or waitress, one process, with --server waitress)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--server",
            choices=["gunicorn", "waitress"],
            default=os.environ.get("CRECER_SERVER", "gunicorn" if hasattr(os, "fork") else "waitress"),
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="worker processes (gunicorn; default CRECER_WORKERS or one per core, at least 2)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("CRECER_THREADS") or 0),
            help="threads per worker (default CRECER_THREADS, else 2 for gunicorn, 8 for waitress)",
        )
        parser.add_argument("--timeout", type=int, default=120, help="seconds before a silent worker is restarted")
        parser.add_argument("--access-log", default=None, help="file for gunicorn's access log ('-': the console)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError(_("--workers must be at least 1."))
        try:
            trusted_networks()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        # Fingerprinted, compressed static files (crecer.web.staticfiles), before WhiteNoise indexes
        # STATIC_ROOT as the application loads: a new version's stylesheet gets a new name at once.
        call_command("collectstatic", interactive=False, verbosity=0)
        # Workers are forked from this process: none may inherit its database connection.
        connections.close_all()
        if options["server"] == "waitress":
            self._waitress(options)
        else:
            self._gunicorn(options)

    def _waitress(self, options: dict[str, Any]) -> None:
        from waitress import serve

        from crecer.wsgi import application

        self.stdout.write(_("Serving on http://%(host)s:%(port)s/ (Ctrl+C to stop)") % options)
        self.stdout.flush()
        serve(application, host=options["host"], port=options["port"], threads=options["threads"] or 8)

    def _gunicorn(self, options: dict[str, Any]) -> None:
        from gunicorn.app.base import BaseApplication

        from crecer.wsgi import application

        settings = gunicorn_options({**options, "threads": options["threads"] or 2})

        class Server(BaseApplication):
            def load_config(self) -> None:
                for name, value in settings.items():
                    self.cfg.set(name, value)

            def load(self) -> Any:
                warm()  # in the master, before the workers are forked
                return application

        self.stdout.write(
            _("Serving on http://%(host)s:%(port)s/ with %(workers)s worker processes (Ctrl+C to stop)")
            % {**options, "workers": settings["workers"]}
        )
        self.stdout.flush()
        Server().run()
