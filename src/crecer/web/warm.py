"""Work every process would otherwise do on its first requests, done once before the server forks.

``crecer serve`` loads the application in gunicorn's master process (``preload_app``) and calls
:func:`warm` there: the URLconf and every view module, the reverse-URL tables, the country profile, the
translation catalogues, the compiled templates and the WHO growth tables. The worker processes are
forked from it and share all of that (copy-on-write) instead of each paying about a second of CPU on
its first page (``bench/bench_serve.py``). No database connection is left open: a forked worker must
never share one.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver, reverse
from django.utils import translation

from crecer import conf
from crecer.lib.growth import tables


def _template_names() -> list[str]:
    names = []
    for app_dir in Path(settings.PACKAGE_DIR).glob("*/templates"):
        names += [str(p.relative_to(app_dir)) for p in app_dir.rglob("*.html")]
    return sorted(names)


def warm() -> None:
    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            reverse("login")  # fills the resolver's reverse tables for this language
    conf.profile()
    engine = engines["django"]
    for name in _template_names():
        try:
            engine.get_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError):  # pragma: no cover - a page would say so itself
            continue
    for name in tables.TABLE_FILES:
        tables.load_table(name)
    connections.close_all()
